//! The review engine's own CPU per job, excluding provider and LLM latency: for a
//! 50-file pull request, decoding the provider's file list, rendering the diff within the
//! budget (line numbers, commentable lines), building the prompt and the LLM request
//! body, parsing and validating a 25-comment answer, and the review body — everything a
//! job does between its network calls.

use std::hint::black_box;

use agnus_reviewer::diff::{ChangedFile, build_view};
use agnus_reviewer::llm::Llm;
use agnus_reviewer::prompt::{PrFacts, user_prompt};
use agnus_reviewer::provider::review_body;
use agnus_reviewer::validate::{Limits, parse, validate};
use criterion::{Criterion, criterion_group, criterion_main};

/// GitHub's `pulls/{n}/files` answer for a 50-file PR, each file a 40-line hunk.
fn files_json() -> String {
    let files: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            let mut patch = String::from("@@ -10,20 +10,40 @@ impl Engine {\n");
            for l in 0..40 {
                let sign = if l % 2 == 0 { '+' } else { ' ' };
                patch.push_str(&format!(
                    "{sign}    let value_{l} = compute_{i}(input, {l}).unwrap_or_default();\n"
                ));
            }
            serde_json::json!({
                "sha": "bbcd538c8e72b8c175046e27cc8f907076331401",
                "filename": format!("src/module_{i}/engine.rs"),
                "status": "modified", "additions": 20, "deletions": 0, "changes": 20,
                "blob_url": "https://github.com/o/r/blob/x/f", "raw_url": "https://github.com/o/r/raw/x/f",
                "contents_url": "https://api.github.com/repos/o/r/contents/f", "patch": patch,
            })
        })
        .collect();
    serde_json::to_string(&files).unwrap()
}

fn answer_json() -> String {
    let comments: Vec<serde_json::Value> = (0..25)
        .map(|i| serde_json::json!({"path": format!("src/module_{}/engine.rs", i * 2), "line": 10 + i, "body": format!("`unwrap_or_default` hides an error here ({i}); return it to the caller instead."), "severity": "major"}))
        .collect();
    serde_json::json!({"summary": "Refactors the engine; several errors are swallowed.", "comments": comments})
        .to_string()
}

#[derive(serde::Deserialize)]
struct File {
    filename: String,
    status: String,
    patch: Option<String>,
}

fn job(files_json: &str, answer: &str, llm: &Llm) -> usize {
    let files: Vec<File> = serde_json::from_str(files_json).unwrap();
    let files: Vec<ChangedFile> = files
        .into_iter()
        .map(|f| ChangedFile {
            path: f.filename,
            status: f.status,
            patch: f.patch,
            old_path: None,
        })
        .collect();
    let view = build_view(&files, 60_000, &[]);
    let facts = PrFacts {
        title: "Refactor the engine".into(),
        description: "Moves every module onto the new engine API.".into(),
        author: "octocat".into(),
        base_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into(),
        head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
        since_sha: None,
    };
    let prompt = user_prompt(&facts, &view, 60_000);
    let request = serde_json::to_vec(&llm.request_body(&prompt)).unwrap();
    let review = validate(
        parse(answer).unwrap(),
        &view,
        Limits {
            max_comments: 25,
            max_per_file: 5,
            min_severity: agnus_shared::review_settings::Severity::Nit,
            rules: &[],
        },
    );
    let body = review_body(
        &review,
        "gpt-4o-mini",
        &facts.head_sha,
        "0f8fad5bd9cb469fa16570867728950e",
    );
    request.len() + body.len() + review.comments.len()
}

fn bench(c: &mut Criterion) {
    let files = files_json();
    let answer = answer_json();
    let llm = Llm::new(reqwest::Client::new(), "http://127.0.0.1:9/v1", "gpt-4o-mini", None);
    c.bench_function("review/job_cpu_50_files", |b| {
        b.iter(|| black_box(job(black_box(&files), &answer, &llm)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
