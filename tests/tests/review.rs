//! The review engine end to end against the emulator and the local stand-ins
//! (tests/standins/standin.py: GitHub REST + an OpenAI-compatible LLM): a signed webhook →
//! intake → worker → review-jobs queue → reviewer → a review posted to the GitHub stand-in.

use std::sync::Arc;

use agnus_cli::esm::EventSourceMapping;
use agnus_reviewer::ReviewerState;
use agnus_shared::config::ReviewerConfig;
use agnus_shared::crypto::SecretBox;
use agnus_shared::store::Store;
use agnus_tests::review::{InProcessReviewer, Standin, sqs_event};
use agnus_tests::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
const NEWER: &str = "0123456789abcdef0123456789abcdef01234567";
const TOKEN: &str = "ghp_reviewertoken0123456789";
const LLM_KEY: &str = "sk-test-llm-key-0123";
const MODEL: &str = "standin-model";

/// A patch whose new-side lines 10-13 are in the diff.
const PATCH: &str = "@@ -10,3 +10,4 @@ fn parse()\n let a = 1;\n-let b = a.unwrap();\n+let b = a.checked().unwrap();\n+let c = b + 1;\n return c;";

struct Env {
    api: Api,
    standin: Standin,
    reviewer: Arc<ReviewerState>,
    hooks: EventSourceMapping,
    jobs: EventSourceMapping,
    jobs_queue: String,
    user: TestUser,
    repo: String,
    repo_id: String,
}

async fn setup(extra: &[(&str, &str)]) -> Env {
    let hooks_queue = fresh_queue().await;
    let jobs_queue = fresh_queue().await;
    let standin = Standin::start();
    let llm_url = format!("{}/v1", standin.url);
    let mut overrides = vec![
        ("AGNUS_REVIEW_QUEUE_URL", hooks_queue.as_str()),
        ("AGNUS_REVIEW_JOBS_QUEUE_URL", jobs_queue.as_str()),
        ("AGNUS_WEBHOOK_CACHE_TTL_SECS", "0"),
        ("AGNUS_GITHUB_API_URL", standin.url.as_str()),
        ("AGNUS_LLM_BASE_URL", llm_url.as_str()),
        ("AGNUS_LLM_MODEL", MODEL),
        ("AGNUS_LLM_API_KEY", LLM_KEY),
    ];
    overrides.extend_from_slice(extra);
    let api = Api::new(&overrides).await;
    let sdk = sdk().await;
    let config = ReviewerConfig::from_source(&env_map(&overrides)).expect("reviewer config");
    let reviewer = Arc::new(ReviewerState::new(
        config,
        Store::new(aws_sdk_dynamodb::Client::new(&sdk), table_name()),
        SecretBox::new(aws_sdk_kms::Client::new(&sdk), ""),
        aws_sdk_sqs::Client::new(&sdk),
    ));
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let hooks = EventSourceMapping::new(sqs.clone(), &hooks_queue, 10, 0).await.unwrap();
    let jobs = EventSourceMapping::new(sqs, &jobs_queue, 1, 0).await.unwrap();
    let user = api.user().await;
    let repo = format!("octocat/review-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let a = api
        .call(
            Call::post("/api/repos")
                .cookie(&user.cookie)
                .header("x-org-slug", &user.slug)
                .json(&json!({"provider": "github", "fullName": repo, "token": TOKEN})),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    let repo_id = a.json()["repo"]["id"].as_str().unwrap().to_owned();
    Env {
        api,
        standin,
        reviewer,
        hooks,
        jobs,
        jobs_queue,
        user,
        repo,
        repo_id,
    }
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo_root().join("tests/fixtures/github").join(name)).unwrap())
        .unwrap()
}

impl Env {
    /// Delivers a signed `pull_request` event (the published example, for our repo) and
    /// lets the worker turn it into a job on the review-jobs queue.
    async fn deliver(&self, example: &str, head: &str) {
        let mut v = fixture(example);
        v["repository"]["full_name"] = Value::from(self.repo.as_str());
        v["pull_request"]["head"]["sha"] = Value::from(head);
        if v.get("after").is_some() {
            v["after"] = Value::from(head);
        }
        let body = serde_json::to_vec(&v).unwrap();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.user.secrets["github"].as_bytes()).unwrap();
        mac.update(&body);
        let a = self
            .api
            .call(
                Call::post(&format!("/api/webhooks/github/{}", self.user.slug))
                    .header("content-type", "application/json")
                    .header("x-github-event", "pull_request")
                    .header("x-github-delivery", &uuid::Uuid::new_v4().to_string())
                    .header(
                        "x-hub-signature-256",
                        &format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
                    )
                    .raw_body(body),
            )
            .await;
        assert_eq!(a.status, 202, "{:?}", a.json());
        let report = self
            .hooks
            .poll_once(&InProcessWorker(self.api.worker.clone()))
            .await
            .unwrap();
        assert_eq!((report.received, report.failed), (1, 0));
    }

    /// One poll of the review-jobs queue through the reviewer: (received, deleted, failed).
    async fn review(&self) -> (usize, usize, usize) {
        let r = self
            .jobs
            .poll_once(&InProcessReviewer(self.reviewer.clone()))
            .await
            .unwrap();
        (r.received, r.deleted, r.failed)
    }

    async fn history(&self) -> Vec<Value> {
        let a = self
            .api
            .call(
                Call::get(&format!("/api/repos/{}/reviews", self.repo_id))
                    .cookie(&self.user.cookie)
                    .header("x-org-slug", &self.user.slug),
            )
            .await;
        assert_eq!(a.status, 200);
        a.json()["reviews"].as_array().unwrap().clone()
    }

    async fn serve_pr(&self, pr: Value) {
        self.standin
            .pr(
                &self.repo,
                2,
                pr,
                json!([{"filename": "src/parse.rs", "status": "modified", "patch": PATCH},
                       {"filename": "Cargo.lock", "status": "modified", "patch": "@@ -1 +1 @@\n-a\n+b"}]),
            )
            .await;
    }

    async fn posted(&self) -> Vec<Value> {
        self.standin
            .requests_to("POST", &format!("/repos/{}/pulls/2/reviews", self.repo))
            .await
    }
}

fn answer() -> Value {
    json!({
        "summary": "Adds a checked parse. Ping @octocat.",
        "comments": [
            {"path": "src/parse.rs", "line": 11, "body": "`unwrap` still panics on bad input.", "severity": "major"},
            {"path": "src/parse.rs", "line": 11, "body": "`unwrap`  still panics on bad input. ", "severity": "major"},
            {"path": "src/parse.rs", "line": 400, "body": "Unrelated line.", "severity": "minor"},
            {"path": "src/other.rs", "line": 1, "body": "Not in this PR.", "severity": "nit"}
        ]
    })
}

#[tokio::test]
async fn a_pull_request_gets_one_review_posted_on_its_head_with_inline_comments_on_diff_lines() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "title": "Checked parse"}))
        .await;
    env.standin.llm_answers(&[answer()]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    let job = &env.history().await[0];
    let job_id = job["id"].as_str().unwrap();
    let posted = env.posted().await;
    assert_eq!(posted.len(), 1, "exactly one review");
    let expected_body = format!(
        "Adds a checked parse. Ping @\u{200B}octocat.\n\n**Notes on lines outside the diff:**\n\
         - `src/parse.rs` line 400: **minor**: Unrelated line.\n\
         - `src/other.rs`: **nit**: Not in this PR.\n\n\
         <sub>AgnusAI review of ec26c3e · {MODEL}</sub>\n<!-- agnus-review:{job_id} -->"
    );
    assert_eq!(
        posted[0]["body"],
        json!({
            "commit_id": HEAD,
            "body": expected_body,
            "event": "COMMENT",
            "comments": [
                {"path": "src/parse.rs", "line": 11, "side": "RIGHT", "body": "**major**: `unwrap` still panics on bad input."}
            ]
        })
    );
    // The token was opened from KMS and used only as the provider's credential.
    for r in env.standin.requests_to("GET", "/repos/").await {
        assert_eq!(r["headers"]["authorization"], format!("Bearer {TOKEN}"));
    }
    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    assert_eq!(llm.len(), 1);
    assert_eq!(llm[0]["headers"]["authorization"], format!("Bearer {LLM_KEY}"));
    let request = &llm[0]["body"];
    assert_eq!(request["model"], MODEL);
    assert_eq!(request["response_format"]["type"], "json_schema");
    assert_eq!(
        request["response_format"]["json_schema"]["schema"]["required"],
        json!(["summary", "comments"])
    );
    let prompt = request["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("    11 +let b = a.checked().unwrap();"), "{prompt}");
    assert!(prompt.contains("Checked parse"));
    assert!(
        prompt.contains("Cargo.lock") && !prompt.contains("-a\n+b"),
        "lock file named, not shown"
    );
    assert!(
        !request.to_string().contains(TOKEN),
        "the repository token never reaches the prompt"
    );

    assert_eq!(job["status"], "posted");
    assert_eq!(job["commentCount"], 1);
    assert_eq!(job["model"], MODEL);
    assert_eq!(job["promptTokens"], 1200);
    assert_eq!(job["completionTokens"], 80);
    assert_eq!(job["reviewedSha"], HEAD);
    assert!(job["durationMs"].is_u64());
    assert!(
        job["reviewUrl"]
            .as_str()
            .unwrap()
            .starts_with(&format!("https://github.com/{}/pull/2#pullrequestreview-", env.repo))
    );
}

#[tokio::test]
async fn a_redelivered_job_message_posts_nothing() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    let messages = drain(&env.jobs_queue).await;
    assert_eq!(messages.len(), 1, "one job message per delivery");
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    for _ in 0..2 {
        sqs.send_message()
            .queue_url(&env.jobs_queue)
            .message_body(messages[0].body().unwrap())
            .send()
            .await
            .unwrap();
    }
    assert_eq!(env.review().await, (1, 1, 0));
    assert_eq!(env.review().await, (1, 1, 0), "the duplicate is consumed");
    assert_eq!(env.posted().await.len(), 1, "and posts nothing");
    assert_eq!(env.standin.requests_to("POST", "/chat/completions").await.len(), 1);
    let history = env.history().await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["status"], "posted");
}

#[tokio::test]
async fn rate_limited_then_success_posts_once_after_the_requested_delay() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin
        .fail("POST", "/pulls/2/reviews", 429, json!({"Retry-After": "120"}), 1)
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    // Received with no visibility timeout of its own: only the reviewer's delay hides it.
    let received = sqs
        .receive_message()
        .queue_url(&env.jobs_queue)
        .max_number_of_messages(1)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1);
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert_eq!(response.batch_item_failures.len(), 1, "given back to the queue");
    assert_eq!(env.history().await[0]["status"], "reviewing");
    // Retry-After 120 s: the message is invisible for that long.
    let visible = sqs
        .receive_message()
        .queue_url(&env.jobs_queue)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert!(visible.is_empty(), "delayed by the Retry-After");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&env.jobs_queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "1"
    );
    // Time passes: the same receipt handed in again.
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(env.posted().await.len(), 2, "one refused, one accepted");
    assert_eq!(
        env.standin
            .requests_to("GET", &format!("/repos/{}/pulls/2/reviews", env.repo))
            .await
            .len(),
        1,
        "the retry looked for its marker before posting"
    );
    let job = &env.history().await[0];
    assert_eq!(job["status"], "posted");
}

#[tokio::test]
async fn a_refused_token_fails_the_job_with_token_invalid() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin.fail("GET", "/pulls/2", 401, json!({}), 1).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("failed"), Some("token_invalid"))
    );
    assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
    assert!(env.posted().await.is_empty());
}

#[tokio::test]
async fn a_missing_pull_request_fails_the_job_with_pr_not_found() {
    let env = setup(&[]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("failed"), Some("pr_not_found"))
    );
}

#[tokio::test]
async fn a_newer_head_skips_the_job_as_stale() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": NEWER, "base_sha": BASE})).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("skipped"), Some("stale"))
    );
    assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
    assert!(env.posted().await.is_empty());
}

#[tokio::test]
async fn drafts_and_bots_are_skipped_without_asking_the_llm() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "draft": true}))
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("skipped"), Some("draft"))
    );

    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "user_login": "dependabot[bot]", "user_type": "Bot"}))
        .await;
    env.deliver("pull_request.reopened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("skipped"), Some("bot_author"))
    );
    assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
}

#[tokio::test]
async fn a_large_diff_is_truncated_with_a_notice_and_an_unusable_answer_fails_visibly() {
    let env = setup(&[("AGNUS_REVIEW_MAX_DIFF_BYTES", "1000")]).await;
    let big = format!(
        "@@ -1,1 +1,200 @@\n{}",
        "+let line_of_new_code = compute(42);\n".repeat(200)
    );
    env.standin
        .pr(
            &env.repo,
            2,
            json!({"head_sha": HEAD, "base_sha": BASE}),
            json!([{"filename": "src/big.rs", "status": "added", "patch": big},
                   {"filename": "src/later.rs", "status": "added", "patch": PATCH}]),
        )
        .await;
    env.standin
        .llm_answers(&[json!("I think it is fine"), json!("{\"summary\": 3}")])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let llm = env.standin.requests_to("POST", "/chat/completions").await;
    assert_eq!(llm.len(), 2, "one retry");
    let prompt = llm[0]["body"]["messages"][1]["content"].as_str().unwrap();
    assert!(
        prompt.contains("NOTICE: the diff is larger than the review budget of 1000 bytes"),
        "{prompt}"
    );
    assert!(prompt.contains("Files not shown: src/later.rs"));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("failed"), Some("llm_invalid_answer"))
    );
    assert!(env.posted().await.is_empty());
}

#[tokio::test]
async fn a_new_push_is_reviewed_incrementally_from_the_last_reviewed_head() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    let only_new = "@@ -1,1 +1,2 @@\n fn main() {}\n+fn added_later() {}";
    env.standin
        .pr_with_compare(
            &env.repo,
            2,
            json!({"head_sha": NEWER, "base_sha": BASE}),
            json!([{"filename": "src/parse.rs", "status": "modified", "patch": PATCH}]),
            json!({"status": "ahead", "files": [{"filename": "src/new.rs", "status": "added", "patch": only_new}]}),
        )
        .await;
    env.standin
        .llm_answers(&[json!({"summary": "Small follow-up.", "comments": [
            {"path": "src/new.rs", "line": 2, "body": "Needs a test.", "severity": "minor"}]})])
        .await;
    env.deliver("pull_request.synchronize.json", NEWER).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let compare = env
        .standin
        .requests_to("GET", &format!("/repos/{}/compare/{HEAD}...{NEWER}", env.repo))
        .await;
    assert_eq!(compare.len(), 1);
    let llm = env.standin.requests_to("POST", "/chat/completions").await;
    let prompt = llm[1]["body"]["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("incremental review") && prompt.contains("src/new.rs"));
    assert!(
        !prompt.contains("src/parse.rs"),
        "only what changed since the last review"
    );
    let posted = env.posted().await;
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[1]["body"]["commit_id"], NEWER);
    assert_eq!(
        posted[1]["body"]["comments"],
        json!([{"path": "src/new.rs", "line": 2, "side": "RIGHT", "body": "**minor**: Needs a test."}])
    );
    let job = &env.history().await[0];
    assert_eq!(job["action"], "synchronize");
    assert_eq!(job["diffBaseSha"], HEAD);
    assert_eq!(job["status"], "posted");
}
