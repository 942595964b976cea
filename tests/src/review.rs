//! Harness for the review engine's tests: the provider/LLM stand-in process
//! (`tests/standins/standin.py`) and the reviewer run in process.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use crate::repo_root;

/// The provider base-URL settings and the stand-in path each one points at.
pub const PROVIDER_URLS: [(&str, &str); 4] = [
    ("AGNUS_GITHUB_API_URL", ""),
    ("AGNUS_GITLAB_URL", ""),
    ("AGNUS_AZURE_DEVOPS_URL", ""),
    ("AGNUS_BITBUCKET_API_URL", "/2.0"),
];

/// One stand-in for the whole test process (tests that connect repositories through
/// [`crate::Api`] without a stand-in of their own); it stops when the process ends.
pub fn shared_standin() -> &'static Standin {
    static SHARED: OnceLock<Standin> = OnceLock::new();
    SHARED.get_or_init(Standin::start)
}

/// A running stand-in (provider REST APIs + OpenAI-compatible LLM); stopped on drop, or
/// when the test process ends (it exits when its standard input closes).
#[derive(Debug)]
pub struct Standin {
    child: Child,
    _stdin: Option<ChildStdin>,
    pub url: String,
}

impl Standin {
    pub fn start() -> Self {
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/standins/standin.py"))
            .args(["--port", "0", "--exit-with-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the stand-in reports its port");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected stand-in output {line:?}"))
            .to_owned();
        Self {
            _stdin: child.stdin.take(),
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A client per call: the shared stand-in outlives each test's runtime.
    fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    async fn control(&self, path: &str, body: Value) {
        let r = self
            .http()
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .expect("stand-in control");
        assert!(r.status().is_success(), "stand-in control {path}: {}", r.status());
    }

    /// A new commit of a repository's default branch, served by the stand-in's source APIs
    /// (archive, compare, contents: tests/standins/sources.py); `body` as documented there.
    /// Returns the commit id.
    pub async fn source(&self, body: Value) -> String {
        let r = self
            .http()
            .post(format!("{}/_control/source", self.url))
            .json(&body)
            .send()
            .await
            .expect("stand-in control");
        assert!(r.status().is_success(), "stand-in source: {}", r.status());
        let v: Value = r.json().await.expect("json");
        v["sha"].as_str().expect("sha").to_owned()
    }

    /// Serves a pull request: `pr` overrides fields of the documented example
    /// (`head_sha`, `base_sha`, `draft`, `state`, `title`, `body`, `user_login`, `user_type`);
    /// `files` override fields of the documented file example.
    pub async fn pr(&self, repo: &str, number: u64, pr: Value, files: Value) {
        self.control(
            "/_control/pr",
            json!({"repo": repo, "number": number, "pr": pr, "files": files}),
        )
        .await;
    }

    /// Serves a pull request of another provider (`gitlab`, `azure`, `bitbucket`) in that
    /// provider's documented shapes; see tests/standins/standin.py for the fields.
    pub async fn pr_for(&self, provider: &str, repo: &str, number: u64, pr: Value, files: Value) {
        self.pr_history(provider, repo, number, pr, files, json!({})).await;
    }

    /// Like [`Standin::pr_for`], with the PR's history: `since` (`{"from": sha, "files"}`:
    /// the head descends from `from`, `files` changed since) and `rewritten` (commits the
    /// head no longer descends from: a force push).
    pub async fn pr_history(&self, provider: &str, repo: &str, number: u64, pr: Value, files: Value, history: Value) {
        let mut body = json!({"provider": provider, "repo": repo, "number": number, "pr": pr, "files": files});
        for (k, v) in history.as_object().expect("history is an object") {
            body[k] = v.clone();
        }
        self.control("/_control/pr", body).await;
    }

    /// Like [`Standin::pr`], with an answer for `compare/{base}...{head}` too.
    pub async fn pr_with_compare(&self, repo: &str, number: u64, pr: Value, files: Value, compare: Value) {
        self.control(
            "/_control/pr",
            json!({"repo": repo, "number": number, "pr": pr, "files": files, "compare": compare}),
        )
        .await;
    }

    /// The next `times` requests with `method` whose path contains `contains` fail.
    pub async fn fail(&self, method: &str, contains: &str, status: u16, headers: Value, times: u32) {
        self.fail_with(method, contains, status, headers, Value::Null, times)
            .await;
    }

    /// Like [`Standin::fail`], answering `body` (e.g. an AWS error's `{"message"}`).
    pub async fn fail_with(&self, method: &str, contains: &str, status: u16, headers: Value, body: Value, times: u32) {
        self.control(
            "/_control/fail",
            json!({"method": method, "contains": contains, "status": status, "headers": headers,
                   "body": body, "times": times}),
        )
        .await;
    }

    /// Lets `token` act on `repo` at `provider` with `permission` (`read`, `write`, `admin`).
    pub async fn grant(&self, provider: &str, repo: &str, token: &str, permission: &str) {
        self.control(
            "/_control/access",
            json!({"provider": provider, "repo": repo, "token": token, "permission": permission}),
        )
        .await;
    }

    /// Queues the LLM's next answers (message contents).
    pub async fn llm_answers(&self, answers: &[Value]) {
        let answers: Vec<String> = answers
            .iter()
            .map(|a| match a {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        self.control("/_control/llm", json!({ "answers": answers })).await;
    }

    /// Queues the LLM's next answers with how each ended (`finish_reason`: `"length"` for
    /// one cut at `max_tokens`).
    pub async fn llm_answers_ending(&self, answers: &[(&str, &str)]) {
        let answers: Vec<Value> = answers
            .iter()
            .map(|(content, finish)| json!({"content": content, "finish_reason": finish}))
            .collect();
        self.control("/_control/llm", json!({ "answers": answers })).await;
    }

    /// Queues the verifier's next answers (depth `deep`: the `comment_verification` calls).
    pub async fn llm_verifications(&self, answers: &[Value]) {
        let answers: Vec<String> = answers.iter().map(Value::to_string).collect();
        self.control("/_control/llm", json!({ "verifications": answers })).await;
    }

    /// Every request received so far.
    pub async fn requests(&self) -> Vec<Value> {
        self.http()
            .get(format!("{}/_requests", self.url))
            .send()
            .await
            .expect("stand-in requests")
            .json()
            .await
            .expect("json")
    }

    /// The commit statuses posted so far, oldest first (tests/standins/statuses.py):
    /// `{"provider", "repo", "sha", "state", "name", "description", "url", "body"}`.
    pub async fn statuses(&self) -> Vec<Value> {
        self.http()
            .get(format!("{}/_control/statuses", self.url))
            .send()
            .await
            .expect("stand-in statuses")
            .json()
            .await
            .expect("json")
    }

    /// Requests whose method is `method` and whose path contains `contains`.
    pub async fn requests_to(&self, method: &str, contains: &str) -> Vec<Value> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r["method"] == method && r["path"].as_str().is_some_and(|p| p.contains(contains)))
            .collect()
    }
}

/// A GitHub App on the stand-in (tests/standins/apps.py).
#[derive(Debug, Clone)]
pub struct GithubApp {
    pub app_id: u64,
    pub slug: String,
    pub installation: u64,
    /// The private key as an admin pastes it (PKCS#8 PEM).
    pub pem: String,
    /// Its public half for the stand-in: base64 of the PKCS#1 DER.
    pub public: String,
}

/// A fresh 2048-bit app key: (PEM, base64 of the public key's PKCS#1 DER).
pub fn app_key() -> (String, String) {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use aws_lc_rs::signature::KeyPair as _;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("rsa key");
    let der = AsDer::<Pkcs8V1Der>::as_der(&pair).expect("pkcs8");
    let b64 = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ascii"))
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    (pem, STANDARD.encode(pair.public_key().as_ref()))
}

fn unique_id() -> u64 {
    u64::from_str_radix(&uuid::Uuid::new_v4().simple().to_string()[..8], 16).expect("hex") + 1
}

impl Standin {
    /// A new app with a fresh key, whose one installation (on account `octocat`) sees `repos`.
    pub async fn github_app(&self, repos: &[&str]) -> GithubApp {
        let (pem, public) = app_key();
        let app = GithubApp {
            app_id: unique_id(),
            slug: String::new(),
            installation: unique_id(),
            pem,
            public,
        };
        let app = GithubApp {
            slug: format!("agnus-{}", app.app_id),
            ..app
        };
        self.install(&app, repos).await;
        app
    }

    /// (Re)installs `app` with its installation seeing `repos`.
    pub async fn install(&self, app: &GithubApp, repos: &[&str]) {
        self.control(
            "/_control/app",
            json!({"appId": app.app_id, "slug": app.slug, "publicKey": app.public,
                   "installations": [{"id": app.installation, "account": "octocat", "repos": repos}]}),
        )
        .await;
    }

    /// Uninstalls `app` on "GitHub": its installation is gone, its tokens are refused.
    pub async fn uninstall(&self, app: &GithubApp) {
        self.control("/_control/app/remove", json!({"installationId": app.installation}))
            .await;
    }

    /// The installation tokens minted so far: `{"token", "installation", "repos"}`.
    pub async fn app_tokens(&self) -> Vec<Value> {
        self.http()
            .get(format!("{}/_control/app/tokens", self.url))
            .send()
            .await
            .expect("stand-in tokens")
            .json()
            .await
            .expect("json")
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the review engine in process, as the event-source mapping's invoker.
#[derive(Debug, Clone)]
pub struct InProcessReviewer(pub Arc<agnus_reviewer::ReviewerState>);

/// The indexer run in process, fed by `agnus esm` as in `make dev`.
#[derive(Debug)]
pub struct InProcessIndexer(pub Arc<agnus_indexer::IndexerState>);

impl agnus_cli::esm::Invoker for InProcessIndexer {
    fn invoke(&self, event: aws_lambda_events::sqs::SqsEvent) -> agnus_cli::esm::InvokeFuture<'_> {
        Box::pin(async move { Ok(agnus_indexer::handle(&self.0, event).await) })
    }
}

impl agnus_cli::esm::Invoker for InProcessReviewer {
    fn invoke(&self, event: aws_lambda_events::sqs::SqsEvent) -> agnus_cli::esm::InvokeFuture<'_> {
        Box::pin(async move { Ok(agnus_reviewer::handle(&self.0, event).await) })
    }
}

/// The SQS event Lambda would build from received messages.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message]) -> aws_lambda_events::sqs::SqsEvent {
    let mut event = aws_lambda_events::sqs::SqsEvent::default();
    for m in messages {
        let mut record = aws_lambda_events::sqs::SqsMessage::default();
        record.message_id = m.message_id.clone();
        record.receipt_handle = m.receipt_handle.clone();
        record.body = m.body.clone();
        record.event_source = Some("aws:sqs".into());
        event.records.push(record);
    }
    event
}
