//! One review job's own CPU work for a 50-file pull request, excluding provider and LLM
//! latency — everything a job does between its network calls: decoding the provider's
//! file list (diff parse), leaving out the org's ignored paths and lock/generated files
//! (filtering), rendering the diff within the budget and building the prompt and the LLM
//! request body (prompt build), parsing and validating a 25-comment answer (answer
//! validation), and the review body plus every comment's request body as GitLab wants them
//! (payload build: positions with old-side lines). Shared by `benches/review.rs` (CPU) and
//! `examples/review_peak_rss.rs` (peak memory).

use agnus_reviewer::diff::{ChangedFile, build_view};
use agnus_reviewer::gitlab::Gitlab;
use agnus_reviewer::llm::Llm;
use agnus_reviewer::prompt::{PrFacts, user_prompt};
use agnus_reviewer::provider::{CommentHost, Posting, PullRequest, review_body};
use agnus_reviewer::validate::{Limits, parse, validate};
use agnus_shared::review_settings::{Depth, ReviewSettings, Severity};
use agnus_shared::rules::PathGlob;

/// GitHub's `pulls/{n}/files` answer for a 50-file PR, each file a 40-line hunk (and two
/// of them in paths the org ignores).
pub fn files_json() -> String {
    let files: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            let mut patch = String::from("@@ -10,20 +10,40 @@ impl Engine {\n");
            for l in 0..40 {
                let sign = if l % 2 == 0 { '+' } else { ' ' };
                patch.push_str(&format!(
                    "{sign}    let value_{l} = compute_{i}(input, {l}).unwrap_or_default();\n"
                ));
            }
            let filename = match i {
                48 => "docs/generated/api.md".to_owned(),
                49 => "Cargo.lock".to_owned(),
                _ => format!("src/module_{i}/engine.rs"),
            };
            serde_json::json!({
                "sha": "bbcd538c8e72b8c175046e27cc8f907076331401",
                "filename": filename,
                "status": "modified", "additions": 20, "deletions": 0, "changes": 20,
                "blob_url": "https://github.com/o/r/blob/x/f", "raw_url": "https://github.com/o/r/raw/x/f",
                "contents_url": "https://api.github.com/repos/o/r/contents/f", "patch": patch,
            })
        })
        .collect();
    serde_json::to_string(&files).unwrap()
}

/// The model's answer: 25 comments on diff lines.
pub fn answer_json() -> String {
    let comments: Vec<serde_json::Value> = (0..25)
        .map(|i| serde_json::json!({"path": format!("src/module_{}/engine.rs", i * 2), "line": 10 + i, "body": format!("`unwrap_or_default` hides an error here ({i}); return it to the caller instead."), "severity": "major", "ruleId": null}))
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

/// What a job needs besides its input: the LLM client (request bodies), a host client
/// (payloads), the org's settings.
#[derive(Debug)]
pub struct Fixture {
    pub files: String,
    pub answer: String,
    pub llm: Llm,
    pub gitlab: Gitlab,
    pub settings: ReviewSettings,
}

impl Fixture {
    pub fn new() -> Self {
        let http = reqwest::Client::new();
        Self {
            files: files_json(),
            answer: answer_json(),
            llm: Llm::new(http.clone(), "http://127.0.0.1:9/v1", "gpt-4o-mini", None),
            gitlab: Gitlab::new(http, "http://127.0.0.1:9"),
            settings: ReviewSettings {
                auto_review: true,
                review_on_push: true,
                skip_drafts: true,
                ignored_paths: vec![PathGlob::parse("docs/generated/**").unwrap()],
                max_comments: 25,
                min_severity: Severity::Nit,
                depth: Depth::Standard,
                mention: "@agnus".into(),
                min_confidence: agnus_shared::review_settings::DEFAULT_MIN_CONFIDENCE,
                context_tokens: agnus_shared::review_settings::DEFAULT_CONTEXT_TOKENS,
            },
        }
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// One job's pure work; returns the bytes produced (so nothing is optimized away).
pub fn job(fx: &Fixture) -> usize {
    // Diff parse.
    let files: Vec<File> = serde_json::from_str(&fx.files).unwrap();
    let files: Vec<ChangedFile> = files
        .into_iter()
        .map(|f| ChangedFile {
            path: f.filename,
            status: f.status,
            patch: f.patch,
            old_path: None,
        })
        .collect();
    // Filtering: the org's ignored paths, then lock/generated files inside the view.
    let reviewable: Vec<ChangedFile> = files
        .iter()
        .filter(|f| !fx.settings.ignores(&f.path))
        .cloned()
        .collect();
    let budget = fx.settings.depth.diff_budget(60_000);
    let view = build_view(&reviewable, budget, &[]);
    // Prompt build.
    let facts = PrFacts {
        title: "Refactor the engine".into(),
        description: "Moves every module onto the new engine API.".into(),
        author: "octocat".into(),
        base_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into(),
        head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
        since_sha: None,
    };
    let prompt = user_prompt(&facts, &view, budget);
    let ask = agnus_reviewer::task::Ask::full(25, view.files_shown);
    let request = serde_json::to_vec(&fx.llm.request_body(&prompt, &ask)).unwrap();
    // Answer validation.
    let review = validate(
        parse(&fx.answer).unwrap(),
        &view,
        Limits {
            max_comments: 25,
            max_per_file: 5,
            min_severity: Severity::Nit,
            min_confidence: agnus_shared::review_settings::DEFAULT_MIN_CONFIDENCE,
            rules: &[],
        },
    );
    // Payload build: the summary and one request body per inline comment.
    let body = review_body(
        &review,
        "gpt-4o-mini",
        &facts.head_sha,
        "0f8fad5bd9cb469fa16570867728950e",
    );
    let pr = PullRequest {
        head_sha: facts.head_sha.clone(),
        base_sha: facts.base_sha.clone(),
        start_sha: facts.base_sha.clone(),
        ..PullRequest::default()
    };
    let posting = Posting {
        pr: &pr,
        files: &reviewable,
        review: &review,
        body: &body,
        job_id: "0f8fad5bd9cb469fa16570867728950e",
        resumed: false,
    };
    let mut payload_bytes = 0;
    for c in &review.comments {
        let payload = fx.gitlab.comment_payload(&posting, Some(c), &c.body);
        payload_bytes += serde_json::to_vec(&payload).unwrap().len();
    }
    payload_bytes += serde_json::to_vec(&fx.gitlab.comment_payload(&posting, None, &body))
        .unwrap()
        .len();
    request.len() + payload_bytes + review.comments.len()
}
