//! The review engine's Chat Completions request for a small pull request, as it sends it to
//! a local OpenAI-compatible server (bounded schema, sized `max_tokens`): what
//! scripts/llm-record.py sends to `llama-server` to record real answers
//! (tests/fixtures/llm/). `--smaller` prints the second, smaller request.

use agnus_reviewer::diff::{ChangedFile, build_view};
use agnus_reviewer::llm::Llm;
use agnus_reviewer::prompt::{PrFacts, user_prompt};
use agnus_reviewer::task::Ask;

/// A change with something to say about it: an unchecked index and a swallowed error.
const PATCH: &str = "@@ -1,6 +1,9 @@\n import json\n \n \n-def load(path):\n-    with open(path) as f:\n-        return json.load(f)\n+def load(path, index):\n+    try:\n+        with open(path) as f:\n+            return json.load(f)[index]\n+    except Exception:\n+        pass\n+    return None\n";

fn main() {
    let smaller = std::env::args().any(|a| a == "--smaller");
    let files = vec![ChangedFile {
        path: "app/config.py".into(),
        status: "modified".into(),
        patch: Some(PATCH.into()),
        old_path: None,
    }];
    let budget = 20_000;
    let view = build_view(&files, budget, &[]);
    let facts = PrFacts {
        title: "Load one entry of the config".into(),
        description: "`load` now takes the index of the entry to read.".into(),
        author: "octocat".into(),
        base_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into(),
        head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
        since_sha: None,
    };
    let prompt = user_prompt(&facts, &view, budget);
    let llm = Llm::new(
        reqwest::Client::new(),
        "http://127.0.0.1:8080/v1",
        "smollm2-135m-instruct",
        None,
    );
    let mut ask = Ask::full(25, view.files_shown);
    if smaller {
        ask = ask.smaller();
    }
    #[allow(clippy::print_stdout)]
    {
        println!("{}", llm.request_body(&prompt, &ask));
    }
}
