//! Graph-aware reviews end to end: a pull request that changes a function called from
//! another file gets a prompt carrying that caller and a posted summary whose impact line
//! names the caller's file; the review history records the changed symbols. Without a
//! ready index the review still posts and says it is diff-only.

use serde_json::json;

use super::*;

const HEAD_UTIL: &str =
    "def helper(x):\n    \"\"\"Doubles x.\"\"\"\n    return x * 2 + 0\n\n\ndef unused():\n    return 0\n";

const PATCH: &str =
    "@@ -1,3 +1,3 @@\n def helper(x):\n     \"\"\"Doubles x.\"\"\"\n-    return x * 2\n+    return x * 2 + 0";

/// Pull request `number`: `helper`'s body changes (the stand-in serves the head commit's
/// files); the LLM answers `summary`. The posted review's body.
pub(super) async fn review_helper_change(env: &Env, base: &str, number: u64, summary: &str) -> String {
    let head = env
        .standin
        .source(json!({"provider": "github", "repo": env.repo, "files": {"pkg/util.py": HEAD_UTIL}}))
        .await;
    env.standin
        .llm_answers(&[json!({"summary": summary, "comments": []})])
        .await;
    env.review_pr(
        number,
        base,
        &head,
        json!([{"filename": "pkg/util.py", "status": "modified", "patch": PATCH}]),
    )
    .await
}

#[tokio::test]
async fn a_change_to_a_called_function_brings_its_callers_and_an_impact_line() {
    let (env, base) = setup("github", sources(), &[]).await;
    assert_eq!(env.index().await, 1);
    assert_eq!(env.status().await["status"], "ready");
    let posted = review_helper_change(&env, &base, 3, "Looks fine.").await;

    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    let prompt = llm.last().expect("an LLM call")["body"]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        prompt.contains("- modified Function pkg.util.helper (pkg/util.py:1)"),
        "the changed symbol: {prompt}"
    );
    assert!(
        prompt.contains("- pkg/app.py:5 pkg.app.App.run — calls pkg.util.helper"),
        "its caller in another file: {prompt}"
    );
    // The caller's body, read at the indexed commit.
    assert!(prompt.contains("return helper(self.size())"), "{prompt}");
    let context_at = prompt.find("Code around the change").expect("the context block");
    assert!(prompt[context_at..].contains("<untrusted>"), "inside the fence");

    assert!(
        posted.starts_with("**Impact** (codebase index at "),
        "the impact line tops the summary: {posted}"
    );
    assert!(
        posted.contains("- `helper` (`pkg/util.py`) — 1 caller in `pkg/app.py` (`App.run`)"),
        "{posted}"
    );
    assert!(posted.contains("Looks fine."));

    let history = env.reviews().await;
    let context = &history[0]["context"];
    assert_eq!(context["mode"], "graph", "{context}");
    assert_eq!(context["indexCommit"], base.as_str());
    assert_eq!(context["changed"][0]["name"], "pkg.util.helper");
    assert_eq!(context["changed"][0]["callers"], 1);
    assert_eq!(context["changed"][0]["topFiles"][0]["path"], "pkg/app.py");
    assert!(context["tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn without_a_ready_index_the_review_posts_and_says_it_is_diff_only() {
    let (env, base) = setup("github", sources(), &[]).await;
    // The index job is never run: the repository has no ready index.
    let posted = review_helper_change(&env, &base, 4, "Fine.").await;
    assert!(
        posted.starts_with(
            "<sub>Reviewed from the diff alone: no codebase index is ready for this repository yet.</sub>"
        ),
        "{posted}"
    );
    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    assert!(
        !llm.last().unwrap()["body"]
            .to_string()
            .contains("Code around the change")
    );
    let history = env.reviews().await;
    assert_eq!(history[0]["status"], "posted");
    assert_eq!(history[0]["context"]["mode"], "diff_only");
    assert_eq!(history[0]["context"]["reason"], "no_index");
}
