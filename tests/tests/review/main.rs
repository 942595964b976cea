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

mod app;
mod bedrock;
mod feedback;
mod github;
mod limits;
mod precision;
mod providers;
mod settings;
mod similar;
mod small_models;

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
        // Used when a test turns embeddings on (AGNUS_EMBEDDINGS_PROVIDER=openai): the stand-in.
        ("AGNUS_EMBEDDINGS_URL", llm_url.as_str()),
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
        let delivery = uuid::Uuid::new_v4().to_string();
        self.deliver_github("pull_request", &v, &delivery).await;
    }

    /// Posts `payload` as a signed GitHub `event` delivery to this org's URL (202) and lets
    /// the worker process it.
    async fn deliver_github(&self, event: &str, payload: &Value, delivery: &str) {
        let body = serde_json::to_vec(payload).unwrap();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.user.secrets["github"].as_bytes()).unwrap();
        mac.update(&body);
        let a = self
            .api
            .call(
                Call::post(&format!("/api/webhooks/github/{}", self.user.slug))
                    .header("content-type", "application/json")
                    .header("x-github-event", event)
                    .header("x-github-delivery", delivery)
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
