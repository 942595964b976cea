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
use base64::Engine as _;
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
    provider: &'static str,
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
    setup_for("github", extra).await
}

/// The repository name a test connects for `provider`.
fn repo_name(provider: &str) -> String {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
    match provider {
        "github" => format!("octocat/review-{tag}"),
        "gitlab" => format!("gitlab-org/sub/review-{tag}"),
        "azure" => format!("fabrikam/proj-{tag}/review"),
        "bitbucket" => format!("team_name/review-{tag}"),
        other => panic!("unknown provider {other}"),
    }
}

async fn setup_for(provider: &'static str, extra: &[(&str, &str)]) -> Env {
    let hooks_queue = fresh_queue().await;
    let jobs_queue = fresh_queue().await;
    let standin = Standin::start();
    let llm_url = format!("{}/v1", standin.url);
    let bitbucket_url = format!("{}/2.0", standin.url);
    let mut overrides = vec![
        ("AGNUS_REVIEW_QUEUE_URL", hooks_queue.as_str()),
        ("AGNUS_REVIEW_JOBS_QUEUE_URL", jobs_queue.as_str()),
        ("AGNUS_WEBHOOK_CACHE_TTL_SECS", "0"),
        ("AGNUS_GITHUB_API_URL", standin.url.as_str()),
        ("AGNUS_GITLAB_URL", standin.url.as_str()),
        ("AGNUS_AZURE_DEVOPS_URL", standin.url.as_str()),
        ("AGNUS_BITBUCKET_API_URL", bitbucket_url.as_str()),
        ("AGNUS_LLM_BASE_URL", llm_url.as_str()),
        ("AGNUS_LLM_MODEL", MODEL),
        ("AGNUS_LLM_API_KEY", LLM_KEY),
        // Used when a test chooses Bedrock (AGNUS_LLM_PROVIDER=bedrock): its stand-in.
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", standin.url.as_str()),
    ];
    overrides.extend_from_slice(extra);
    let api = Api::new(&overrides).await;
    let sdk = sdk().await;
    let env = env_map(&overrides);
    let config = ReviewerConfig::from_source(&env).expect("reviewer config");
    // As functions/reviewer/src/main.rs builds it.
    let sealer = SecretBox::new(aws_sdk_kms::Client::new(&sdk), config.kms_key_id.clone());
    let reviewer = Arc::new(ReviewerState::new(
        config,
        Store::new(aws_sdk_dynamodb::Client::new(&sdk), table_name()),
        sealer,
        aws_sdk_sqs::Client::new(&sdk),
        sdk.credentials_provider().expect("the emulator's credentials"),
    ));
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let hooks = EventSourceMapping::new(sqs.clone(), &hooks_queue, 10, 0).await.unwrap();
    let jobs = EventSourceMapping::new(sqs, &jobs_queue, 1, 0).await.unwrap();
    let user = api.user().await;
    let repo = repo_name(provider);
    standin.grant(provider, &repo, TOKEN, "write").await;
    let a = api
        .call(
            Call::post("/api/repos")
                .cookie(&user.cookie)
                .header("x-org-slug", &user.slug)
                .json(&json!({"provider": provider, "fullName": repo, "token": TOKEN})),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    let repo_id = a.json()["repo"]["id"].as_str().unwrap().to_owned();
    Env {
        provider,
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
    serde_json::from_str(&std::fs::read_to_string(repo_root().join("tests/fixtures").join(name)).unwrap()).unwrap()
}

impl Env {
    /// Delivers a signed `pull_request` event (the published example, for our repo) and
    /// lets the worker turn it into a job on the review-jobs queue.
    async fn deliver(&self, example: &str, head: &str) {
        let mut v = fixture(&format!("github/{example}"));
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

    /// One job reviewed, ending with `status` and `reason`.
    async fn reviewed_as(&self, status: &str, reason: &str) {
        assert_eq!(self.review().await, (1, 1, 0));
        let job = &self.history().await[0];
        assert_eq!(
            (job["status"].as_str(), job["reason"].as_str()),
            (Some(status), Some(reason)),
            "{}",
            self.provider
        );
    }

    /// The job's message delivered twice (SQS is at-least-once): both are consumed.
    async fn review_the_job_twice(&self) {
        let messages = drain(&self.jobs_queue).await;
        assert_eq!(messages.len(), 1, "one job message per delivery");
        let sqs = aws_sdk_sqs::Client::new(&sdk().await);
        for _ in 0..2 {
            sqs.send_message()
                .queue_url(&self.jobs_queue)
                .message_body(messages[0].body().unwrap())
                .send()
                .await
                .unwrap();
        }
        assert_eq!(self.review().await, (1, 1, 0));
        assert_eq!(
            self.review().await,
            (1, 1, 0),
            "{}: the duplicate is consumed",
            self.provider
        );
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
    env.review_the_job_twice().await;
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

// ---- Amazon Bedrock Converse as the LLM --------------------------------------------------

const BEDROCK_MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn bedrock() -> [(&'static str, &'static str); 2] {
    [("AGNUS_LLM_PROVIDER", "bedrock"), ("AGNUS_LLM_MODEL", BEDROCK_MODEL)]
}

#[tokio::test]
async fn bedrock_converse_gets_the_exact_request_and_its_tool_call_becomes_the_posted_review() {
    let env = setup(&bedrock()).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "title": "Checked parse"}))
        .await;
    env.standin.llm_answers(&[answer()]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
    let calls = env.standin.requests_to("POST", "/converse").await;
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["path"],
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    );
    // Signed with the function's AWS credentials for `bedrock` in the region; no API key.
    let auth = calls[0]["headers"]["authorization"].as_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=") && auth.contains("/us-east-1/bedrock/aws4_request"),
        "{auth}"
    );
    assert!(
        !calls[0].to_string().contains(LLM_KEY),
        "the OpenAI key is not sent to Bedrock"
    );
    let body = &calls[0]["body"];
    let user = body["messages"][0]["content"][0]["text"].as_str().unwrap();
    assert!(user.contains("    11 +let b = a.checked().unwrap();"), "{user}");
    assert!(
        !body.to_string().contains(TOKEN),
        "the repository token never reaches the prompt"
    );
    assert_eq!(
        body,
        &json!({
            "messages": [{"role": "user", "content": [{"text": user}]}],
            "system": [{"text": agnus_reviewer::prompt::SYSTEM_PROMPT}],
            "inferenceConfig": {"maxTokens": 4096, "temperature": 0},
            "toolConfig": {
                "tools": [{"toolSpec": {
                    "name": "code_review",
                    "description": "Record the review of the pull request: a summary and comments on new-side lines of the diff.",
                    "inputSchema": {"json": agnus_reviewer::prompt::answer_schema()}
                }}],
                "toolChoice": {"tool": {"name": "code_review"}}
            }
        })
    );

    // The tool call's input went through the same validation as an OpenAI answer.
    let job = &env.history().await[0];
    let job_id = job["id"].as_str().unwrap();
    let posted = env.posted().await;
    assert_eq!(posted.len(), 1, "exactly one review");
    assert_eq!(
        posted[0]["body"],
        json!({
            "commit_id": HEAD,
            "body": format!(
                "Adds a checked parse. Ping @\u{200B}octocat.\n\n**Notes on lines outside the diff:**\n\
                 - `src/parse.rs` line 400: **minor**: Unrelated line.\n\
                 - `src/other.rs`: **nit**: Not in this PR.\n\n\
                 <sub>AgnusAI review of ec26c3e · {BEDROCK_MODEL}</sub>\n<!-- agnus-review:{job_id} -->"
            ),
            "event": "COMMENT",
            "comments": [
                {"path": "src/parse.rs", "line": 11, "side": "RIGHT", "body": "**major**: `unwrap` still panics on bad input."}
            ]
        })
    );
    assert_eq!(job["status"], "posted");
    assert_eq!(job["model"], BEDROCK_MODEL);
    assert_eq!(
        (job["promptTokens"].as_u64(), job["completionTokens"].as_u64()),
        (Some(1200), Some(80))
    );
}

#[tokio::test]
async fn bedrock_throttling_then_success_posts_once() {
    let env = setup(&bedrock()).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin
        .fail_with(
            "POST",
            "/converse",
            429,
            json!({"x-amzn-ErrorType": "ThrottlingException"}),
            json!({"message": "Too many requests, please wait before trying again."}),
            1,
        )
        .await;
    env.standin.llm_answers(&[answer()]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    assert_eq!(env.standin.requests_to("POST", "/converse").await.len(), 2, "one retry");
    assert_eq!(env.posted().await.len(), 1, "posted once");
    let job = &env.history().await[0];
    assert_eq!(job["status"], "posted");
    assert_eq!(job["commentCount"], 1);
    assert_eq!(job["promptTokens"], 1200, "the throttled call billed nothing");
}

#[tokio::test]
async fn bedrock_prose_twice_fails_the_job_visibly() {
    let env = setup(&bedrock()).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin
        .llm_answers(&[json!("I think it is fine"), json!("Still fine")])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    env.reviewed_as("failed", "llm_invalid_answer").await;
    assert_eq!(env.standin.requests_to("POST", "/converse").await.len(), 2);
    assert!(env.posted().await.is_empty());
}

// ---- GitLab, Azure DevOps, Bitbucket Cloud ---------------------------------------------

const PROVIDERS: [&str; 3] = ["gitlab", "azure", "bitbucket"];

/// Bitbucket reports 12-character hashes, in webhooks and in its API.
fn head_for(provider: &str) -> &'static str {
    if provider == "bitbucket" { &HEAD[..12] } else { HEAD }
}

/// `src/parse.rs` before and after (Azure DevOps serves contents; the reviewer diffs them
/// into the same hunk as [`PATCH`]'s lines 10-13).
fn parse_rs(new: bool) -> String {
    let mut lines: Vec<String> = (1..=9).map(|n| format!("// line {n}")).collect();
    lines.push("let a = 1;".into());
    if new {
        lines.extend(["let b = a.checked().unwrap();".into(), "let c = b + 1;".into()]);
    } else {
        lines.push("let b = a.unwrap();".into());
    }
    lines.push("return c;".into());
    lines.join("\n") + "\n"
}

fn provider_answer() -> Value {
    json!({
        "summary": "Adds a checked parse.",
        "comments": [
            {"path": "src/parse.rs", "line": 11, "body": "`unwrap` still panics on bad input.", "severity": "major"},
            {"path": "src/parse.rs", "line": 10, "body": "Name `a` better.", "severity": "minor"},
            {"path": "src/parse.rs", "line": 400, "body": "Unrelated line.", "severity": "minor"}
        ]
    })
}

impl Env {
    /// Serves PR 2 (head `head`) in the provider's shapes: `src/parse.rs` changed, a lock file.
    async fn serve_provider_pr(&self, head: &str, overrides: Value) {
        self.serve_provider_history(head, overrides, json!({})).await;
    }

    /// [`Env::serve_provider_pr`] with the PR's history (`since`, `rewritten`).
    async fn serve_provider_history(&self, head: &str, overrides: Value, history: Value) {
        let mut pr = json!({"head_sha": head, "base_sha": BASE, "title": "Checked parse"});
        for (k, v) in overrides.as_object().unwrap() {
            pr[k] = v.clone();
        }
        let files = if self.provider == "azure" {
            json!([{"filename": "src/parse.rs", "status": "modified", "old": parse_rs(false), "new": parse_rs(true)},
                   {"filename": "Cargo.lock", "status": "modified", "old": "a\n", "new": "b\n"}])
        } else {
            json!([{"filename": "src/parse.rs", "status": "modified", "patch": PATCH},
                   {"filename": "Cargo.lock", "status": "modified", "patch": "@@ -1 +1 @@\n-a\n+b"}])
        };
        self.standin
            .pr_history(self.provider, &self.repo, 2, pr, files, history)
            .await;
    }

    /// A signed "pull request opened" delivery of the provider's published example, made
    /// to point at our repository, PR 2 and `head`; the worker turns it into a job.
    async fn deliver_opened(&self, head: &str) {
        self.deliver_pr_event(head, false).await;
    }

    /// The same for a push to the pull request (a `synchronize` job): GitLab's `update`
    /// with `oldrev`, Azure DevOps' `git.pullrequest.updated`, Bitbucket's `pullrequest:updated`.
    async fn deliver_pushed(&self, head: &str) {
        self.deliver_pr_event(head, true).await;
    }

    async fn deliver_pr_event(&self, head: &str, pushed: bool) {
        let secret = &self.user.secrets[self.provider];
        let delivery = uuid::Uuid::new_v4().to_string();
        let sign = |body: &[u8]| {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        };
        let call = Call::post(&format!("/api/webhooks/{}/{}", self.provider, self.user.slug))
            .header("content-type", "application/json");
        let call = match self.provider {
            "gitlab" => {
                let mut v = fixture("gitlab/merge_request.open.json");
                v["project"]["path_with_namespace"] = json!(self.repo);
                v["object_attributes"]["iid"] = json!(2);
                v["object_attributes"]["last_commit"]["id"] = json!(head);
                if pushed {
                    v["object_attributes"]["action"] = json!("update");
                    v["object_attributes"]["oldrev"] = json!(BASE);
                }
                call.header("x-gitlab-event", "Merge Request Hook")
                    .header("idempotency-key", &delivery)
                    .header("x-gitlab-token", secret)
                    .raw_body(serde_json::to_vec(&v).unwrap())
            }
            "azure" => {
                let mut v = fixture(if pushed {
                    "azure/git.pullrequest.updated.json"
                } else {
                    "azure/git.pullrequest.created.json"
                });
                let mut parts = self.repo.splitn(3, '/');
                let (org, project, name) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
                v["notificationId"] = json!(rand_u32());
                v["id"] = json!(delivery);
                v["resource"]["repository"]["remoteUrl"] =
                    json!(format!("https://dev.azure.com/{org}/{project}/_git/{name}"));
                v["resource"]["pullRequestId"] = json!(2);
                v["resource"]["lastMergeSourceCommit"]["commitId"] = json!(head);
                // The documented "updated" example completes the PR; a push is the same
                // event on an active one.
                v["resource"]["status"] = json!("active");
                call.header(
                    "authorization",
                    &format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("agnus:{secret}"))
                    ),
                )
                .raw_body(serde_json::to_vec(&v).unwrap())
            }
            "bitbucket" => {
                let mut v = fixture("bitbucket/pullrequest.created.json");
                v["repository"]["full_name"] = json!(self.repo);
                v["pullrequest"]["id"] = json!(2);
                v["pullrequest"]["source"]["commit"]["hash"] = json!(head);
                let body = serde_json::to_vec(&v).unwrap();
                call.header(
                    "x-event-key",
                    if pushed {
                        "pullrequest:updated"
                    } else {
                        "pullrequest:created"
                    },
                )
                .header("x-request-uuid", &delivery)
                .header("x-hub-signature", &sign(&body))
                .raw_body(body)
            }
            other => panic!("no delivery for {other}"),
        };
        let a = self.api.call(call).await;
        assert_eq!(a.status, 202, "{}: {:?}", self.provider, a.json());
        let report = self
            .hooks
            .poll_once(&InProcessWorker(self.api.worker.clone()))
            .await
            .unwrap();
        assert_eq!((report.received, report.failed), (1, 0), "{}", self.provider);
    }

    /// Every write the reviewer made to the provider stand-in (POSTs, LLM excluded).
    async fn provider_posts(&self) -> Vec<Value> {
        self.standin
            .requests()
            .await
            .into_iter()
            .filter(|r| r["method"] == "POST" && !r["path"].as_str().unwrap().contains("/chat/completions"))
            .collect()
    }
}

fn rand_u32() -> u32 {
    u32::from_str_radix(&uuid::Uuid::new_v4().simple().to_string()[..7], 16).unwrap()
}

/// The exact requests each provider must receive for [`provider_answer`]: (path, body).
fn expected_posts(env: &Env, job_id: &str) -> Vec<(String, Value)> {
    let summary = format!(
        "Adds a checked parse.\n\n**Notes on lines outside the diff:**\n\
         - `src/parse.rs` line 400: **minor**: Unrelated line.\n\n\
         <sub>AgnusAI review of ec26c3e · {MODEL}</sub>\n<!-- agnus-review:{job_id} -->"
    );
    let inline = [
        (
            11,
            None,
            format!("**major**: `unwrap` still panics on bad input.\n\n<!-- agnus-review:{job_id}:0 -->"),
        ),
        (
            10,
            Some(10),
            format!("**minor**: Name `a` better.\n\n<!-- agnus-review:{job_id}:1 -->"),
        ),
    ];
    let repo = &env.repo;
    match env.provider {
        "gitlab" => {
            let mr = format!("/api/v4/projects/{}/merge_requests/2", repo.replace('/', "%2F"));
            let mut posts: Vec<(String, Value)> = inline
                .iter()
                .map(|(line, old, body)| {
                    let mut position = json!({"position_type": "text", "base_sha": BASE, "start_sha": BASE,
                        "head_sha": HEAD, "old_path": "src/parse.rs", "new_path": "src/parse.rs", "new_line": line});
                    if let Some(old) = old {
                        position["old_line"] = json!(old);
                    }
                    (format!("{mr}/discussions"), json!({"body": body, "position": position}))
                })
                .collect();
            posts.push((format!("{mr}/notes"), json!({"body": summary})));
            posts
        }
        "azure" => {
            let (project, name) = repo.rsplit_once('/').unwrap();
            let threads = format!("/{project}/_apis/git/repositories/{name}/pullRequests/2/threads?api-version=7.1");
            let comment = |body: &str| json!([{"parentCommentId": 0, "content": body, "commentType": 1}]);
            let mut posts: Vec<(String, Value)> = inline
                .iter()
                .map(|(line, _, body)| {
                    (
                        threads.clone(),
                        json!({"comments": comment(body), "status": 1, "threadContext": {
                        "filePath": "/src/parse.rs",
                        "rightFileStart": {"line": line, "offset": 1},
                        "rightFileEnd": {"line": line, "offset": 1}}}),
                    )
                })
                .collect();
            posts.push((threads, json!({"comments": comment(&summary), "status": 1})));
            posts
        }
        "bitbucket" => {
            let comments = format!("/2.0/repositories/{repo}/pullrequests/2/comments");
            let mut posts: Vec<(String, Value)> = inline
                .iter()
                .map(|(line, _, body)| {
                    (
                        comments.clone(),
                        json!({"content": {"raw": body}, "inline": {"path": "src/parse.rs", "to": line}}),
                    )
                })
                .collect();
            posts.push((comments, json!({"content": {"raw": summary}})));
            posts
        }
        other => panic!("{other}"),
    }
}

/// A connected repository of `provider` whose PR 2 was opened (served, the LLM's
/// answer queued, the delivery made into a job).
async fn opened_pr(provider: &'static str) -> Env {
    let env = setup_for(provider, &[]).await;
    let head = head_for(provider);
    env.serve_provider_pr(head, json!({})).await;
    env.standin.llm_answers(&[provider_answer()]).await;
    env.deliver_opened(head).await;
    env
}

#[tokio::test]
async fn gitlab_azure_and_bitbucket_get_the_exact_review_posted_once() {
    for provider in PROVIDERS {
        let env = opened_pr(provider).await;
        assert_eq!(env.review().await, (1, 1, 0), "{provider}");

        let job = &env.history().await[0];
        assert_eq!(job["status"], "posted", "{provider}: {job}");
        assert_eq!(job["commentCount"], 2, "{provider}");
        let job_id = job["id"].as_str().unwrap();
        let got: Vec<(String, Value)> = env
            .provider_posts()
            .await
            .into_iter()
            .map(|r| (r["path"].as_str().unwrap().to_owned(), r["body"].clone()))
            .collect();
        assert_eq!(got, expected_posts(&env, job_id), "{provider}");

        // The token is the provider credential only, in that provider's scheme.
        let reads = env.standin.requests().await;
        let expected_auth = match provider {
            "azure" => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(":{TOKEN}"))
            ),
            _ => format!("Bearer {TOKEN}"),
        };
        for r in reads
            .iter()
            .filter(|r| !r["path"].as_str().unwrap().contains("/chat/completions"))
        {
            assert_eq!(
                r["headers"]["authorization"],
                expected_auth.as_str(),
                "{provider}: {}",
                r["path"]
            );
        }
        let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
        assert_eq!(llm.len(), 1);
        let prompt = llm[0]["body"]["messages"][1]["content"].as_str().unwrap();
        assert!(
            prompt.contains("    11 +let b = a.checked().unwrap();"),
            "{provider}: {prompt}"
        );
        assert!(prompt.contains("Cargo.lock"), "the lock file is named, not shown");
        assert!(!llm[0]["body"].to_string().contains(TOKEN));
        let url = job["reviewUrl"].as_str().unwrap_or_default();
        assert!(!url.is_empty(), "{provider}: a link to the posted summary");
    }
}

/// Bitbucket reports 12-character hashes, in webhooks and in its API.
fn newer_for(provider: &str) -> &'static str {
    if provider == "bitbucket" { &NEWER[..12] } else { NEWER }
}

/// `src/new.rs`, added by a later push, in the provider's shape.
fn new_rs(provider: &str) -> Value {
    if provider == "azure" {
        json!({"filename": "src/new.rs", "status": "added", "new": "fn main() {}\nfn added_later() {}\n"})
    } else {
        json!({"filename": "src/new.rs", "status": "added", "patch": "@@ -0,0 +1,2 @@\n+fn main() {}\n+fn added_later() {}"})
    }
}

/// The GETs a provider's incremental review makes: the ancestry check (Azure DevOps: none
/// of its own, the iteration list the PR read fetches anyway) and the changes since.
fn incremental_requests(env: &Env, head: &str, since: &str) -> (Option<String>, String) {
    match env.provider {
        "gitlab" => (
            Some(format!("/repository/merge_base?refs%5B%5D={since}&refs%5B%5D={head}")),
            format!("/repository/compare?from={since}&to={head}&straight=false"),
        ),
        "azure" => (None, "$compareTo=".into()),
        "bitbucket" => (
            Some(format!("/merge-base/{head}..{since}")),
            format!("/diff/{head}..{since}?topic=true"),
        ),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_new_push_is_reviewed_incrementally_on_gitlab_azure_and_bitbucket() {
    for provider in PROVIDERS {
        let env = opened_pr(provider).await;
        assert_eq!(env.review().await, (1, 1, 0), "{provider}");
        let (head, newer) = (head_for(provider), newer_for(provider));
        env.serve_provider_history(
            newer,
            json!({}),
            json!({"since": {"from": head, "files": [new_rs(provider)]}}),
        )
        .await;
        env.standin
            .llm_answers(&[json!({"summary": "Small follow-up.", "comments": [
                {"path": "src/new.rs", "line": 2, "body": "Needs a test.", "severity": "minor"}]})])
            .await;
        env.deliver_pushed(newer).await;
        assert_eq!(env.review().await, (1, 1, 0), "{provider}");

        let (ancestry, changes) = incremental_requests(&env, newer, head);
        if let Some(ancestry) = ancestry {
            assert_eq!(
                env.standin.requests_to("GET", &ancestry).await.len(),
                1,
                "{provider}: {ancestry}"
            );
        }
        let changes = if provider == "azure" {
            "/iterations/2/changes?$compareTo=1&".to_owned()
        } else {
            changes
        };
        assert_eq!(
            env.standin.requests_to("GET", &changes).await.len(),
            1,
            "{provider}: {changes}"
        );
        let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
        let prompt = llm[1]["body"]["messages"][1]["content"].as_str().unwrap();
        assert!(
            prompt.contains("incremental review") && prompt.contains("     2 +fn added_later() {}"),
            "{provider}: {prompt}"
        );
        assert!(
            !prompt.contains("src/parse.rs"),
            "{provider}: only what changed since the last review"
        );
        let job = &env.history().await[0];
        assert_eq!(
            (
                job["action"].as_str(),
                job["status"].as_str(),
                job["diffBaseSha"].as_str()
            ),
            (Some("synchronize"), Some("posted"), Some(head)),
            "{provider}: {job}"
        );
        let posts = env.provider_posts().await;
        assert_eq!(
            posts.len(),
            3 + 2,
            "{provider}: the first review, then one inline + summary"
        );
        assert!(posts[3]["body"].to_string().contains("Needs a test."), "{provider}");
        assert!(posts[3]["body"].to_string().contains("src/new.rs"), "{provider}");
    }
}

#[tokio::test]
async fn a_force_push_or_no_checkpoint_gives_a_full_review_on_gitlab_azure_and_bitbucket() {
    const GONE: &str = "9999999999999999999999999999999999999999";
    for provider in PROVIDERS {
        let env = setup_for(provider, &[]).await;
        let (head, newer) = (head_for(provider), newer_for(provider));
        let reviewed_in_full = |n: usize| {
            let env = &env;
            async move {
                assert_eq!(env.review().await, (1, 1, 0), "{provider}");
                let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
                let prompt = llm[n]["body"]["messages"][1]["content"].as_str().unwrap().to_owned();
                assert!(
                    prompt.contains("    11 +let b = a.checked().unwrap();") && !prompt.contains("incremental review"),
                    "{provider}: the whole pull request: {prompt}"
                );
                let job = env.history().await[0].clone();
                assert_eq!(
                    (job["action"].as_str(), job["status"].as_str()),
                    (Some("synchronize"), Some("posted")),
                    "{provider}: {job}"
                );
                assert!(job["diffBaseSha"].is_null(), "{provider}: {job}");
            }
        };
        // Any incremental diff request (GitLab compare, Azure `$compareTo`, Bitbucket revspec diff).
        let incremental_diff = match provider {
            "gitlab" => "/repository/compare",
            "azure" => "$compareTo=",
            _ => "?topic=true",
        };

        // A push before any review: no checkpoint, no question to the host.
        env.serve_provider_pr(head, json!({})).await;
        env.deliver_pushed(head).await;
        reviewed_in_full(0).await;
        let (ancestry, _) = incremental_requests(&env, head, head);
        if let Some(ancestry) = ancestry {
            assert!(env.standin.requests_to("GET", &ancestry).await.is_empty(), "{provider}");
        }

        // A force push: the reviewed head is no longer in the new head's history.
        env.serve_provider_history(newer, json!({}), json!({"rewritten": [head]}))
            .await;
        env.deliver_pushed(newer).await;
        reviewed_in_full(1).await;
        if let (Some(ancestry), _) = incremental_requests(&env, newer, head) {
            assert_eq!(
                env.standin.requests_to("GET", &ancestry).await.len(),
                1,
                "{provider}: asked"
            );
        }

        // A checkpoint the host does not know (`newer` is gone from the repository).
        let gone = if provider == "bitbucket" { &GONE[..12] } else { GONE };
        env.serve_provider_pr(gone, json!({})).await;
        env.deliver_pushed(gone).await;
        reviewed_in_full(2).await;
        assert!(
            env.standin.requests_to("GET", incremental_diff).await.is_empty(),
            "{provider}: never an incremental diff"
        );
    }
}

#[tokio::test]
async fn a_redelivered_job_posts_nothing_on_any_provider() {
    for provider in PROVIDERS {
        let env = opened_pr(provider).await;
        env.review_the_job_twice().await;
        assert_eq!(
            env.provider_posts().await.len(),
            3,
            "{provider}: two inline + the summary, once"
        );
        assert_eq!(env.standin.requests_to("POST", "/chat/completions").await.len(), 1);
        assert_eq!(env.history().await[0]["status"], "posted");
    }
}

#[tokio::test]
async fn a_refused_token_fails_the_job_with_token_invalid_on_any_provider() {
    for provider in PROVIDERS {
        let env = setup_for(provider, &[]).await;
        let head = head_for(provider);
        env.serve_provider_pr(head, json!({})).await;
        let pr_path = match provider {
            "gitlab" => "/merge_requests/2",
            "azure" => "/pullRequests/2",
            _ => "/pullrequests/2",
        };
        env.standin.fail("GET", pr_path, 401, json!({}), 1).await;
        env.deliver_opened(head).await;
        env.reviewed_as("failed", "token_invalid").await;
        assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
        assert!(env.provider_posts().await.is_empty(), "{provider}");
    }
}

#[tokio::test]
async fn stale_heads_and_drafts_are_skipped_on_other_providers() {
    for provider in PROVIDERS {
        let env = setup_for(provider, &[]).await;
        let head = head_for(provider);
        let newer = if provider == "bitbucket" { &NEWER[..12] } else { NEWER };
        env.serve_provider_pr(newer, json!({})).await;
        env.deliver_opened(head).await;
        env.reviewed_as("skipped", "stale").await;

        // A draft (after the push that made `newer` the head).
        let draft = match provider {
            "azure" => json!({"isDraft": true}),
            _ => json!({"draft": true}),
        };
        env.serve_provider_pr(newer, draft).await;
        env.deliver_opened(newer).await;
        env.reviewed_as("skipped", "draft").await;
        assert!(
            env.standin.requests_to("POST", "/chat/completions").await.is_empty(),
            "{provider}: no LLM call"
        );
        assert!(env.provider_posts().await.is_empty(), "{provider}");
    }
}

#[tokio::test]
async fn a_post_interrupted_by_a_rate_limit_resumes_without_repeating_comments() {
    let env = setup_for("gitlab", &[]).await;
    env.serve_provider_pr(HEAD, json!({})).await;
    env.standin.llm_answers(&[provider_answer()]).await;
    // The summary (posted last) is refused once: the inline discussions are already there.
    env.standin
        .fail("POST", "/merge_requests/2/notes", 429, json!({"Retry-After": "7"}), 1)
        .await;
    env.deliver_opened(HEAD).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let received = sqs
        .receive_message()
        .queue_url(&env.jobs_queue)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert_eq!(response.batch_item_failures.len(), 1, "given back to the queue");
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert!(response.batch_item_failures.is_empty());
    let discussions = env.standin.requests_to("POST", "/merge_requests/2/discussions").await;
    assert_eq!(discussions.len(), 2, "each inline comment posted once");
    let notes = env.standin.requests_to("POST", "/merge_requests/2/notes").await;
    assert_eq!(notes.len(), 2, "the refused summary, then the accepted one");
    assert_eq!(env.history().await[0]["status"], "posted");
}

#[tokio::test]
async fn reviews_llm_calls_and_provider_errors_are_in_the_metrics() {
    let (emitter, captured) = agnus_shared::metrics::Emitter::in_memory("AgnusAI/test");
    let env = opened_pr("gitlab").await;
    assert_eq!(emitter.scope(env.review()).await, (1, 1, 0));
    assert_eq!(captured.total("Reviews", &[("Outcome", "completed")]), 1.0);
    assert_eq!(captured.total("ReviewDuration", &[("Provider", "gitlab")]), 1.0);
    assert_eq!(captured.total("LlmRequests", &[("Model", MODEL)]), 1.0);
    assert_eq!(captured.total("LlmInputTokens", &[("Model", MODEL)]), 1200.0);
    assert_eq!(captured.total("LlmOutputTokens", &[("Model", MODEL)]), 80.0);

    let env = setup_for("bitbucket", &[]).await;
    env.serve_provider_pr(head_for("bitbucket"), json!({})).await;
    env.standin.fail("GET", "/pullrequests/2", 401, json!({}), 1).await;
    env.deliver_opened(head_for("bitbucket")).await;
    assert_eq!(emitter.scope(env.review()).await, (1, 1, 0));
    assert_eq!(
        captured.total("ProviderApiErrors", &[("Provider", "bitbucket"), ("Status", "401")]),
        1.0
    );
    assert_eq!(captured.total("Reviews", &[("Outcome", "failed")]), 1.0);
}

/// Issue #17: the org's settings change what the engine does, and exactly the rules that
/// apply to this repository and these paths reach the prompt; a comment the model ties to
/// one of them names it.
#[tokio::test]
async fn org_settings_and_rules_shape_the_review() {
    let env = setup(&[]).await;
    let slug = env.user.slug.clone();
    let call = |method: &str, path: String, body: Value| Call::new(method, &path).cookie(&env.user.cookie).json(&body);
    // Drafts are reviewed in this org; nits are not posted; Cargo.toml-like paths ignored.
    let set = env
        .api
        .call(call(
            "PATCH",
            format!("/api/orgs/{slug}/review-settings/{}", env.repo_id),
            json!({"skipDrafts": false, "minSeverity": "minor", "ignoredPaths": ["docs/**"]}),
        ))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.json());
    let mut ids = Vec::new();
    for (name, glob, repo) in [
        ("Parsing is total", Some("src/**"), None),
        ("Docs tone", Some("docs/**"), None),
        ("Other repository only", None, Some("0123456789abcdef0123456789abcdef")),
    ] {
        let mut body = json!({"name": name, "description": format!("{name}: check it."), "category": "correctness"});
        if let Some(g) = glob {
            body["pathGlob"] = Value::from(g);
        }
        if let Some(r) = repo {
            body["repoId"] = Value::from(r);
        }
        let created = env
            .api
            .call(call("POST", format!("/api/orgs/{slug}/rules"), body.clone()))
            .await;
        if repo.is_some() {
            // A rule for a repository this org does not have is refused.
            assert_eq!(created.status, 404);
            continue;
        }
        assert_eq!(created.status, 201, "{:?}", created.json());
        ids.push(created.json()["rule"]["id"].as_str().unwrap().to_owned());
    }
    let disabled = env
        .api
        .call(call(
            "POST",
            format!("/api/orgs/{slug}/rules"),
            json!({"name": "Switched off", "description": "never shown", "category": "style", "enabled": false}),
        ))
        .await;
    assert_eq!(disabled.status, 201);

    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "draft": true, "title": "Checked parse"}))
        .await;
    env.standin
        .llm_answers(&[json!({
            "summary": "Parse change.",
            "comments": [
                {"path": "src/parse.rs", "line": 11, "body": "`unwrap` can panic.", "severity": "major", "ruleId": ids[0]},
                {"path": "src/parse.rs", "line": 11, "body": "Name nit.", "severity": "nit", "ruleId": null}
            ]
        })])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        job["status"], "posted",
        "a draft is reviewed when the org says so: {job}"
    );

    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    let prompt = llm[0]["body"]["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains(&format!("<rule id=\"{}\"", ids[0])), "{prompt}");
    assert!(prompt.contains("Parsing is total: check it."));
    assert!(!prompt.contains("Docs tone"), "its glob matches no changed path");
    assert!(!prompt.contains("never shown"), "disabled rules stay out");
    let posted = env.posted().await;
    assert_eq!(
        posted[0]["body"]["comments"],
        json!([{"path": "src/parse.rs", "line": 11, "side": "RIGHT",
                "body": format!("**major** · rule *Parsing is total* (`{}`): `unwrap` can panic.", ids[0])}]),
        "the nit is below the org's minimum severity"
    );
}

const APP: &str = "http://localhost:3000";

/// The feedback links of every posted inline comment: (helpful, not helpful) as
/// path-and-query under `APP`.
fn feedback_links(posted: &Value) -> Vec<(String, String)> {
    posted["body"]["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let body = c["body"].as_str().unwrap();
            let links: Vec<String> = body
                .split(&format!("({APP}"))
                .skip(1)
                .map(|rest| rest.split(')').next().unwrap().to_owned())
                .collect();
            assert_eq!(links.len(), 2, "two links on {body}");
            assert!(links[0].contains("&s=helpful&") && links[1].contains("&s=not_helpful&"));
            (links[0].clone(), links[1].clone())
        })
        .collect()
}

fn query_param(link: &str, name: &str) -> String {
    link.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap()
        .to_owned()
}

impl Env {
    async fn click(&self, link: &str) -> Answer {
        self.api.call(Call::get(link)).await
    }

    async fn get_json(&self, path: String) -> Value {
        let a = self.api.call(Call::get(&path).cookie(&self.user.cookie)).await;
        assert_eq!(a.status, 200, "{path}: {:?}", a.json());
        a.json()
    }

    /// The org's id, from the review history's key owner (the org API).
    async fn org_id(&self) -> String {
        self.get_json(format!("/api/orgs/{}", self.user.slug)).await["org"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn feedback_links_record_the_last_signal_and_feed_the_next_prompt() {
    let app = [("AGNUS_APP_BASE_URL", APP)];
    let (env, other) = tokio::join!(setup(&app), setup(&app));
    let slug = env.user.slug.clone();
    let rule = env
        .api
        .call(
            Call::post(&format!("/api/orgs/{slug}/rules"))
                .cookie(&env.user.cookie)
                .json(&json!({"name": "Parsing is total", "description": "No panics on input.", "category": "correctness"})),
        )
        .await;
    assert_eq!(rule.status, 201, "{:?}", rule.json());
    let rule_id = rule.json()["rule"]["id"].as_str().unwrap().to_owned();
    for e in [&env, &other] {
        e.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "title": "Checked parse"}))
            .await;
        e.standin
            .llm_answers(&[json!({
                "summary": "Parse change.",
                "comments": [
                    {"path": "src/parse.rs", "line": 11, "body": "`unwrap` can panic.", "severity": "major", "ruleId": rule_id},
                    {"path": "src/parse.rs", "line": 12, "body": "Overflow on `b + 1`.", "severity": "minor"}
                ]
            })])
            .await;
        e.deliver("pull_request.opened.json", HEAD).await;
        assert_eq!(e.review().await, (1, 1, 0));
    }
    let posted = env.posted().await;
    assert_eq!(posted.len(), 1);
    let links = feedback_links(&posted[0]);
    assert_eq!(links.len(), 2);
    let body0 = posted[0]["body"]["comments"][0]["body"].as_str().unwrap();
    assert!(
        body0.starts_with(&format!("**major** · rule *Parsing is total* (`{rule_id}`): `unwrap` can panic.\n\n<sub>Was this comment useful? [Helpful]({APP}/api/feedback?o=")),
        "{body0}"
    );
    let org_id = env.org_id().await;
    assert_eq!(query_param(&links[0].0, "o"), org_id);

    // Helpful, no session; the same link again changes nothing.
    let first = env.click(&links[0].0).await;
    assert_eq!(
        (first.status, first.json()),
        (200, json!({"signal": "helpful", "changed": true}))
    );
    let replay = env.click(&links[0].0).await;
    assert_eq!(
        (replay.status, replay.json()),
        (200, json!({"signal": "helpful", "changed": false}))
    );
    // The last signal wins: not helpful replaces helpful (counted once).
    let changed = env.click(&links[0].1).await;
    assert_eq!(
        (changed.status, changed.json()),
        (200, json!({"signal": "not_helpful", "changed": true}))
    );
    assert_eq!(env.click(&links[1].0).await.status, 200);
    // A browser gets a page, not JSON.
    let page = env
        .api
        .call(Call::get(&links[1].0).header("accept", "text/html,*/*"))
        .await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("recorded as helpful"), "{html}");
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");

    let stats = env.get_json(format!("/api/orgs/{slug}/feedback")).await;
    assert_eq!(
        stats["repos"],
        json!([{"kind": "repo", "id": env.repo_id, "helpful": 1, "notHelpful": 1}])
    );
    assert_eq!(
        stats["rules"],
        json!([{"kind": "rule", "id": rule_id, "helpful": 0, "notHelpful": 1}])
    );

    // Tampered and foreign signatures: 401, nothing recorded.
    let sig = query_param(&links[1].1, "sig");
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered = links[1]
        .1
        .replace(&format!("sig={sig}"), &format!("sig={flipped}{}", &sig[1..]));
    assert_eq!(env.click(&tampered).await.status, 401);
    let other_links = feedback_links(&other.posted().await[0]);
    let other_sig = query_param(&other_links[1].1, "sig");
    let foreign = links[1].1.replace(&format!("sig={sig}"), &format!("sig={other_sig}"));
    let refused = env.click(&foreign).await;
    assert_eq!(
        refused.status, 401,
        "another org's key does not sign this org's comments"
    );
    assert_eq!(refused.json()["error"]["code"], "invalid_signature");
    let edited_signal = links[1].0.replace("s=helpful", "s=not_helpful");
    assert_eq!(env.click(&edited_signal).await.status, 401, "the signal is signed");
    assert_eq!(env.click("/api/feedback?o=x&c=y&s=helpful&sig=z").await.status, 400);
    let stats_after = env.get_json(format!("/api/orgs/{slug}/feedback")).await;
    assert_eq!(stats_after, stats);

    // A link older than 90 days, signed with the org's real key: 410.
    let sdk = sdk().await;
    let key_item = aws_sdk_dynamodb::Client::new(&sdk)
        .get_item()
        .table_name(table_name())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{org_id}")),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("FEEDBACKKEY".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the first review made the org's feedback key");
    let sealed = key_item["sealed"].as_b().unwrap().as_ref().to_vec();
    let org: agnus_shared::domain::OrgId = org_id.parse().unwrap();
    let key =
        agnus_shared::crypto::FeedbackKey::open(&SecretBox::new(aws_sdk_kms::Client::new(&sdk), ""), &org, &sealed)
            .await
            .unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let old = agnus_shared::feedback::CommentId::new(now_ms - 91 * 86_400_000);
    let signal = agnus_shared::feedback::Signal::Helpful;
    let expired = agnus_shared::feedback::FeedbackLink::url("", &org, &old, signal, &key.sign(&org, &old, signal));
    let gone = env.click(&expired).await;
    assert_eq!(
        (gone.status, gone.json()["error"]["code"].as_str()),
        (410, Some("feedback_link_expired"))
    );

    // The rule's violations over 30 days: members of this org only.
    let violations = env
        .get_json(format!("/api/orgs/{slug}/rules/{rule_id}/violations"))
        .await;
    let list = violations["violations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{violations}");
    assert_eq!(
        (&list[0]["repoId"], &list[0]["pr"], &list[0]["path"], &list[0]["line"]),
        (&json!(env.repo_id), &json!(2), &json!("src/parse.rs"), &json!(11))
    );
    assert_eq!(list[0]["excerpt"], "`unwrap` can panic.");
    let foreign_view = other
        .api
        .call(Call::get(&format!("/api/orgs/{slug}/rules/{rule_id}/violations")).cookie(&other.user.cookie))
        .await;
    assert_eq!(foreign_view.status, 404);

    // The next review of this repository shows the model what the developers said.
    env.standin
        .llm_answers(&[json!({"summary": "Again.", "comments": []})])
        .await;
    env.deliver("pull_request.reopened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    let prompt = llm.last().unwrap()["body"]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(prompt.contains("<team_feedback>"), "{prompt}");
    assert!(
        prompt.contains("<example rating=\"not_helpful\" path=\"src/parse.rs\">`unwrap` can panic.</example>"),
        "{prompt}"
    );
    assert!(prompt.contains("<example rating=\"helpful\" path=\"src/parse.rs\">Overflow on `b + 1`.</example>"));
    // The other org's prompt never had this org's feedback.
    let other_prompt = other.standin.requests_to("POST", "/v1/chat/completions").await[0]["body"].to_string();
    assert!(!other_prompt.contains("team_feedback"));
}
