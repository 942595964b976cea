//! The codebase index end to end against the emulator and the provider stand-in
//! (tests/standins/sources.py serves archives, compares and file contents): connect →
//! a full index `ready` with its stats → a push to the default branch → an incremental
//! update that touches only the changed file; another org sees 404; broken archives fail
//! the job cleanly.

use std::sync::Arc;

use agnus_cli::esm::EventSourceMapping;
use agnus_indexer::IndexerState;
use agnus_shared::config::IndexerConfig;
use agnus_shared::crypto::SecretBox;
use agnus_shared::store::Store;
use agnus_tests::review::{InProcessIndexer, Standin};
use agnus_tests::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

mod catch_up;
mod failures;
mod graph_review;
mod similar_code;

const TOKEN: &str = "ghp_indexertoken0123456789";

/// Embeddings through the stand-in's OpenAI-compatible `/v1/embeddings` (its URL is set
/// by `setup` and `reviewer`).
const EMBEDDINGS: [(&str, &str); 3] = [
    ("AGNUS_EMBEDDINGS_PROVIDER", "openai"),
    ("AGNUS_EMBEDDINGS_MODEL", "standin-embed"),
    ("AGNUS_EMBEDDINGS_DIMENSIONS", "256"),
];

struct Env {
    api: Api,
    standin: Standin,
    indexer: Arc<IndexerState>,
    jobs: EventSourceMapping,
    hooks: EventSourceMapping,
    user: TestUser,
    repo: String,
    repo_id: String,
}

fn repo_name(provider: &str) -> String {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
    match provider {
        "github" => format!("octocat/index-{tag}"),
        "gitlab" => format!("gitlab-org/sub/index-{tag}"),
        "azure" => format!("fabrikam/proj-{tag}/index"),
        "bitbucket" => format!("team_name/index-{tag}"),
        other => panic!("unknown provider {other}"),
    }
}

/// A small Python package with known symbols and calls.
fn sources() -> Value {
    json!({
        "pkg/__init__.py": "",
        "pkg/util.py": "def helper(x):\n    \"\"\"Doubles x.\"\"\"\n    return x * 2\n\n\ndef unused():\n    return 0\n",
        "pkg/app.py": "from pkg.util import helper\n\n\nclass App:\n    def run(self):\n        return helper(self.size())\n\n    def size(self):\n        return 3\n",
        "web/main.ts": "import { start } from './server';\n\nexport function main(): void {\n  start();\n}\n",
        "web/server.ts": "export function start(): void {}\n",
        "node_modules/left-pad/index.js": "module.exports = function () {};\n",
        "assets/logo.png": "\u{0089}PNG\r\n\u{001a}\n\u{0000}\u{0000}",
    })
}

async fn setup(provider: &'static str, files: Value, extra: &[(&str, &str)]) -> (Env, String) {
    let jobs_queue = fresh_queue().await;
    let hooks_queue = fresh_queue().await;
    let review_jobs_queue = fresh_queue().await;
    let standin = Standin::start();
    let bitbucket_url = format!("{}/2.0", standin.url);
    let embeddings_url = format!("{}/v1", standin.url);
    let mut overrides = vec![
        ("AGNUS_EMBEDDINGS_URL", embeddings_url.as_str()),
        ("AGNUS_INDEX_JOBS_QUEUE_URL", jobs_queue.as_str()),
        ("AGNUS_REVIEW_QUEUE_URL", hooks_queue.as_str()),
        ("AGNUS_REVIEW_JOBS_QUEUE_URL", review_jobs_queue.as_str()),
        ("AGNUS_WEBHOOK_CACHE_TTL_SECS", "0"),
        ("AGNUS_GITHUB_API_URL", standin.url.as_str()),
        ("AGNUS_GITLAB_URL", standin.url.as_str()),
        ("AGNUS_AZURE_DEVOPS_URL", standin.url.as_str()),
        ("AGNUS_BITBUCKET_API_URL", bitbucket_url.as_str()),
        ("AGNUS_BITBUCKET_WEB_URL", standin.url.as_str()),
    ];
    overrides.extend_from_slice(extra);
    let api = Api::new(&overrides).await;
    let sdk = sdk().await;
    let config = IndexerConfig::from_source(&env_map(&overrides)).expect("indexer config");
    // As functions/indexer/src/main.rs builds it.
    let indexer = Arc::new(
        IndexerState::new(
            config.clone(),
            Store::new(aws_sdk_dynamodb::Client::new(&sdk), table_name()),
            SecretBox::new(aws_sdk_kms::Client::new(&sdk), config.kms_key_id.clone()),
            agnus_shared::aws::s3(&sdk, true),
            aws_sdk_sqs::Client::new(&sdk),
        )
        .with_embeddings(&sdk),
    );
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let jobs = EventSourceMapping::new(sqs.clone(), &jobs_queue, 1, 0).await.unwrap();
    let hooks = EventSourceMapping::new(sqs, &hooks_queue, 10, 0).await.unwrap();
    let user = api.user().await;
    let repo = repo_name(provider);
    standin.grant(provider, &repo, TOKEN, "write").await;
    let sha = standin
        .source(json!({"provider": provider, "repo": repo, "branch": "main", "files": files}))
        .await;
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
    let env = Env {
        api,
        standin,
        indexer,
        jobs,
        hooks,
        user,
        repo,
        repo_id,
    };
    (env, sha)
}

impl Env {
    /// `GET /api/repos/{id}/index/status` as the org's owner.
    async fn status(&self) -> Value {
        let a = self
            .api
            .call(
                Call::get(&format!("/api/repos/{}/index/status", self.repo_id))
                    .cookie(&self.user.cookie)
                    .header("x-org-slug", &self.user.slug),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.json());
        a.json()["index"].clone()
    }

    /// One poll of the index-jobs queue through the indexer: messages received.
    async fn index(&self) -> usize {
        let report = self
            .jobs
            .poll_once(&InProcessIndexer(self.indexer.clone()))
            .await
            .expect("poll");
        report.received
    }

    /// The review engine as functions/reviewer/src/main.rs builds it: index catch-ups and
    /// graph context from the indexer's bucket; LLM and provider the stand-in.
    async fn reviewer(&self) -> Arc<agnus_reviewer::ReviewerState> {
        let llm_url = format!("{}/v1", self.standin.url);
        let review_jobs = self.api.worker.config.review_jobs_queue_url.clone();
        let mut overrides = vec![
            ("AGNUS_REVIEW_JOBS_QUEUE_URL", review_jobs.as_str()),
            ("AGNUS_GITHUB_API_URL", self.standin.url.as_str()),
            ("AGNUS_LLM_BASE_URL", llm_url.as_str()),
            ("AGNUS_LLM_MODEL", "standin-model"),
            ("AGNUS_EMBEDDINGS_URL", llm_url.as_str()),
        ];
        // Embeddings for the reviewer when the indexer has them.
        if self.indexer.embedder.is_some() {
            overrides.extend_from_slice(&EMBEDDINGS);
        }
        let sdk = sdk().await;
        let config = agnus_shared::config::ReviewerConfig::from_source(&env_map(&overrides)).expect("reviewer config");
        Arc::new(
            agnus_reviewer::ReviewerState::new(
                config.clone(),
                Store::new(aws_sdk_dynamodb::Client::new(&sdk), table_name()),
                SecretBox::new(aws_sdk_kms::Client::new(&sdk), config.kms_key_id.clone()),
                aws_sdk_sqs::Client::new(&sdk),
                sdk.credentials_provider().expect("the emulator's credentials"),
            )
            .with_index_jobs(agnus_shared::index_jobs::IndexJobs::new(
                agnus_shared::aws::sqs_sender(&sdk).unwrap(),
                self.indexer.config.queue_url.clone(),
            ))
            .with_index_graphs(agnus_shared::aws::s3(&sdk, true), self.indexer.config.bucket.clone()),
        )
    }

    /// Opens pull request `number` (`base` → `head`, these files) through a signed GitHub
    /// webhook, runs the review engine once, and answers the posted review's body.
    async fn review_pr(&self, number: u64, base: &str, head: &str, files: Value) -> String {
        self.standin
            .pr(&self.repo, number, json!({"head_sha": head, "base_sha": base}), files)
            .await;
        let fixture = repo_root().join("tests/fixtures/github/pull_request.opened.json");
        let mut opened: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        opened["repository"]["full_name"] = Value::from(self.repo.as_str());
        opened["pull_request"]["number"] = Value::from(number);
        opened["number"] = Value::from(number);
        opened["pull_request"]["head"]["sha"] = Value::from(head);
        self.deliver_github("pull_request", &opened).await;
        let review_jobs = self.api.worker.config.review_jobs_queue_url.clone();
        let jobs = EventSourceMapping::new(aws_sdk_sqs::Client::new(&sdk().await), &review_jobs, 1, 0)
            .await
            .unwrap();
        let report = jobs
            .poll_once(&agnus_tests::review::InProcessReviewer(self.reviewer().await))
            .await
            .unwrap();
        assert_eq!(report.received, 1);
        let posts = self
            .standin
            .requests_to("POST", &format!("/repos/{}/pulls/{number}/reviews", self.repo))
            .await;
        posts.last().expect("a posted review")["body"]["body"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The repository's review history, newest first.
    async fn reviews(&self) -> Vec<Value> {
        let a = self
            .api
            .call(
                Call::get(&format!("/api/repos/{}/reviews", self.repo_id))
                    .cookie(&self.user.cookie)
                    .header("x-org-slug", &self.user.slug),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.json());
        a.json()["reviews"].as_array().unwrap().clone()
    }

    /// The graph object the record points at, decoded.
    async fn graph(&self) -> agnus_index::Graph {
        let sdk = sdk().await;
        let (org_id, key) = index_record_key(&self.repo_id).await;
        let object = agnus_shared::aws::s3(&sdk, true)
            .get_object()
            .bucket(&self.indexer.config.bucket)
            .key(&key)
            .send()
            .await
            .expect("graph object");
        assert_eq!(
            object.server_side_encryption().map(|s| s.as_str()),
            Some("aws:kms"),
            "graph objects are encrypted with the project key"
        );
        assert!(key.starts_with(&format!("index/{org_id}/{}/", self.repo_id)), "{key}");
        let bytes = object.body.collect().await.unwrap().into_bytes();
        agnus_index::Graph::decode(&bytes, 64 << 20).expect("a readable graph")
    }

    /// A signed GitHub `push` of the default branch to `after`, through intake and worker.
    async fn push_github(&self, after: &str) {
        let payload = json!({
            "ref": "refs/heads/main", "before": "0".repeat(40), "after": after,
            "repository": {"full_name": self.repo, "default_branch": "main"},
        });
        self.deliver_github("push", &payload).await;
    }

    /// A signed GitHub delivery through intake and worker.
    async fn deliver_github(&self, event: &str, payload: &Value) {
        let body = serde_json::to_vec(payload).unwrap();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.user.secrets["github"].as_bytes()).unwrap();
        mac.update(&body);
        let a = self
            .api
            .call(
                Call::post(&format!("/api/webhooks/github/{}", self.user.slug))
                    .header("content-type", "application/json")
                    .header("x-github-event", event)
                    .header("x-github-delivery", &uuid::Uuid::new_v4().to_string())
                    .header(
                        "x-hub-signature-256",
                        &format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
                    )
                    .raw_body(body),
            )
            .await;
        assert_eq!(a.status, 202, "{:?}", a.json());
        self.hooks
            .poll_once(&InProcessWorker(self.api.worker.clone()))
            .await
            .expect("worker poll");
    }
}

/// The org id and graph object key of a repository's index record, as stored.
async fn index_record_key(repo_id: &str) -> (String, String) {
    let item = index_item(repo_id).await.expect("the index record");
    let org = item["pk"].as_s().unwrap().trim_start_matches("ORG#").to_owned();
    (
        org,
        item.get("graph_key")
            .and_then(|k| k.as_s().ok())
            .cloned()
            .unwrap_or_default(),
    )
}

async fn index_item(
    repo_id: &str,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    // A filtered scan: only the one record comes back (not the whole table, which a
    // long-lived emulator holds in memory for every run).
    let ddb = dynamodb().await;
    let mut start = None;
    loop {
        let out = ddb
            .scan()
            .table_name(table_name())
            .filter_expression("sk = :sk")
            .expression_attribute_values(
                ":sk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("REPOINDEX#{repo_id}")),
            )
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan");
        if let Some(item) = out.items.unwrap_or_default().into_iter().next() {
            return Some(item);
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return None,
        }
    }
}

fn symbol_names(graph: &agnus_index::Graph) -> Vec<String> {
    let mut names: Vec<String> = graph
        .files
        .iter()
        .flat_map(|f| f.symbols.iter().map(|s| s.qualified.clone()))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_connected_repository_is_indexed_and_a_push_updates_only_the_changed_file() {
    let (env, first) = setup("github", sources(), &[]).await;
    let queued = env.status().await;
    assert_eq!(queued["status"], "queued", "{queued}");
    assert_eq!(queued["kind"], "full");

    assert_eq!(env.index().await, 1);
    let ready = env.status().await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["commit"], first.as_str());
    let stats = &ready["stats"];
    assert_eq!(stats["files"], 5, "vendored and binary files are left out: {stats}");
    assert_eq!(stats["languages"], json!({"python": 3, "typescript": 2}), "{stats}");
    assert!(stats["symbols"].as_u64().unwrap() >= 7, "{stats}");
    assert!(stats["edges"].as_u64().unwrap() >= 3, "{stats}");
    assert!(stats["skipped"].as_u64().unwrap() >= 2, "{stats}");
    assert_eq!(ready["progress"], json!({"filesDone": 5, "filesTotal": 5}));
    assert!(ready["error"].is_null() && ready["finishedAt"].as_i64().is_some());
    // The archive came through GitHub's 302, with the repository's token as a credential.
    let requests = env.standin.requests().await;
    let tarball = requests
        .iter()
        .find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.contains(&format!("/tarball/{first}")))
        })
        .expect("the tarball request");
    assert_eq!(tarball["headers"]["authorization"], format!("Bearer {TOKEN}"));
    assert!(
        requests
            .iter()
            .any(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/_download/")))
    );

    let graph = env.graph().await;
    let names = symbol_names(&graph);
    for want in ["pkg.util.helper", "pkg.app.App", "pkg.app.App.run", "pkg.app.App.size"] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    let helper = graph.find("pkg/util.py", 3)[0];
    let callers: Vec<String> = graph
        .callers(helper, 1)
        .into_iter()
        .map(|(id, _)| graph.symbol(id).qualified.clone())
        .collect();
    assert_eq!(callers, ["pkg.app.App.run"]);

    // A push to the default branch changes one file: an incremental job reads only it.
    let second = env
        .standin
        .source(json!({"provider": "github", "repo": env.repo, "files": {
            "pkg/util.py": "def helper(x):\n    return x * 3\n\n\ndef fresh():\n    return helper(1)\n",
        }}))
        .await;
    let before = env.standin.requests().await.len();
    env.push_github(&second).await;
    let queued = env.status().await;
    assert_eq!(
        (queued["status"].as_str(), queued["kind"].as_str()),
        (Some("queued"), Some("incremental"))
    );
    assert_eq!(
        queued["commit"],
        first.as_str(),
        "the last ready index stays until replaced"
    );
    assert_eq!(env.index().await, 1);
    let ready = env.status().await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["commit"], second.as_str());
    let requests = env.standin.requests().await;
    let paths: Vec<&str> = requests[before..].iter().filter_map(|r| r["path"].as_str()).collect();
    assert!(
        !paths.iter().any(|p| p.contains("/tarball/")),
        "no archive for an incremental job: {paths:?}"
    );
    let contents: Vec<&&str> = paths.iter().filter(|p| p.contains("/contents/")).collect();
    assert_eq!(contents.len(), 1, "only the changed file is read: {paths:?}");
    assert!(contents[0].contains("pkg/util.py"));
    let graph = env.graph().await;
    let names = symbol_names(&graph);
    assert!(
        names.iter().any(|n| n == "pkg.util.fresh") && !names.iter().any(|n| n == "pkg.util.unused"),
        "{names:?}"
    );
    let helper = graph.find("pkg/util.py", 1)[0];
    let mut callers: Vec<String> = graph
        .callers(helper, 1)
        .into_iter()
        .map(|(id, _)| graph.symbol(id).qualified.clone())
        .collect();
    callers.sort();
    assert_eq!(
        callers,
        ["pkg.app.App.run", "pkg.util.fresh"],
        "edges from unchanged files survive"
    );
}

#[tokio::test]
async fn another_org_gets_404_and_only_admins_reindex() {
    let (env, _) = setup("github", sources(), &[]).await;
    let stranger = env.api.user().await;
    for call in [
        Call::get(&format!("/api/repos/{}/index/status", env.repo_id)),
        Call::post(&format!("/api/repos/{}/index", env.repo_id)).json(&json!({})),
    ] {
        let a = env
            .api
            .call(call.cookie(&stranger.cookie).header("x-org-slug", &stranger.slug))
            .await;
        assert_eq!(a.status, 404, "{:?}", a.json());
    }
    // A member who is not an admin reads the status but cannot re-index.
    let member = env.api.user().await;
    env.api.add_member(&env.user, &env.user.slug, &member, "member").await;
    let a = env
        .api
        .call(
            Call::post(&format!("/api/repos/{}/index", env.repo_id))
                .cookie(&member.cookie)
                .header("x-org-slug", &env.user.slug)
                .json(&json!({})),
        )
        .await;
    assert_eq!(a.status, 403, "{:?}", a.json());
    // While the first job is queued, a re-index is refused; once it ran, accepted (202).
    let reindex = || {
        env.api.call(
            Call::post(&format!("/api/repos/{}/index", env.repo_id))
                .cookie(&env.user.cookie)
                .header("x-org-slug", &env.user.slug)
                .json(&json!({})),
        )
    };
    let a = reindex().await;
    assert_eq!((a.status, a.error_code()), (409, "index_in_progress".to_owned()));
    assert_eq!(env.index().await, 1);
    let a = reindex().await;
    assert_eq!(a.status, 202, "{:?}", a.json());
    assert_eq!(a.json()["index"]["status"], "queued");
    assert_eq!(a.json()["index"]["kind"], "full");
    assert_eq!(env.index().await, 1);
    assert_eq!(env.status().await["status"], "ready");
    let actions = env.api.audit_actions(&env.user.slug, &env.user).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "repo.index_requested").count(),
        1,
        "{actions:?}"
    );
}

/// A repository connected through a GitHub App installation is indexed with an installation
/// token minted for it (the archive's request carries no person's token).
#[tokio::test]
async fn a_repository_connected_through_an_installation_is_indexed_with_its_token() {
    let (mut env, _) = setup("github", sources(), &[]).await;
    assert_eq!(env.index().await, 1, "the token-connected repository's first index");
    let app_repo = repo_name("github");
    let sha = env
        .standin
        .source(json!({"provider": "github", "repo": app_repo, "branch": "main", "files": sources()}))
        .await;
    let app = env.standin.github_app(&[&app_repo]).await;
    let a = env
        .api
        .call(
            Call::post(&format!("/api/orgs/{}/installations", env.user.slug))
                .cookie(&env.user.cookie)
                .json(&json!({"appId": app.app_id, "installationId": app.installation, "privateKey": app.pem})),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    let a = env
        .api
        .call(
            Call::post("/api/repos")
                .cookie(&env.user.cookie)
                .header("x-org-slug", &env.user.slug)
                .json(&json!({"provider": "github", "fullName": app_repo, "installationId": app.installation})),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    env.repo_id = a.json()["repo"]["id"].as_str().unwrap().to_owned();
    assert_eq!(env.index().await, 1);
    let ready = env.status().await;
    assert_eq!(
        (ready["status"].as_str(), ready["commit"].as_str()),
        (Some("ready"), Some(sha.as_str())),
        "{ready}"
    );
    let tarball = env
        .standin
        .requests()
        .await
        .into_iter()
        .find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.contains(&format!("/repos/{app_repo}/tarball/{sha}")))
        })
        .expect("the tarball request");
    let auth = tarball["headers"]["authorization"].as_str().unwrap();
    let minted = env.standin.app_tokens().await;
    let token = minted
        .iter()
        .find(|m| format!("Bearer {}", m["token"].as_str().unwrap()) == auth)
        .unwrap_or_else(|| panic!("the archive was read with {auth}, not an installation token"));
    assert_eq!(token["repos"], json!([app_repo.to_lowercase()]));
}
