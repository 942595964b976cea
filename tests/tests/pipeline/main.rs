//! The review pipeline end to end against the emulator (product §7 second half, §8):
//! intake → SQS → event-source mapping → worker → review jobs; repos; API keys.

use agnus_cli::esm::EventSourceMapping;
use agnus_shared::domain::{Provider, RepoRef};
use agnus_tests::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

mod api_keys;
mod repos;
mod worker;

const OPENED_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures").join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The published `pull_request.opened` example, for a repository name unique to the test
/// (repository identities are global, and the emulator outlives test runs).
fn opened_for(full_name: &str) -> Vec<u8> {
    let mut v = fixture("github/pull_request.opened.json");
    v["repository"]["full_name"] = Value::from(full_name);
    serde_json::to_vec(&v).unwrap()
}

fn github_delivery(slug: &str, secret: &str, delivery: &str, event: &str, body: &[u8]) -> Call {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    Call::post(&format!("/api/webhooks/github/{slug}"))
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header(
            "x-hub-signature-256",
            &format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        )
        .raw_body(body.to_vec())
}

fn unique_repo() -> String {
    format!(
        "codertocat/hello-world-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// Connects `full_name` (GitHub) for `who`'s org with `token`, or by default a token of
/// that org; either way the provider stand-in lets the token write to the repository
/// (connecting proves access there first).
async fn connect(api: &Api, who: &TestUser, full_name: &str, token: Option<&str>) -> Answer {
    let token = token.map_or_else(|| format!("ghp_{}", who.slug), str::to_owned);
    if let Ok(r) = RepoRef::parse(Provider::Github, full_name) {
        review::shared_standin()
            .grant("github", &r.full_name, &token, "write")
            .await;
    }
    connect_with(api, who, "github", full_name, &token).await
}

async fn connect_with(api: &Api, who: &TestUser, provider: &str, full_name: &str, token: &str) -> Answer {
    api.call(
        Call::post("/api/repos")
            .cookie(&who.cookie)
            .header("x-org-slug", &who.slug)
            .json(&json!({"provider": provider, "fullName": full_name, "token": token})),
    )
    .await
}

async fn setup(extra: &[(&str, &str)]) -> (Api, String, EventSourceMapping) {
    let queue = fresh_queue().await;
    // The worker hands jobs to the review engine's queue: a fresh one per test, too.
    let jobs = fresh_queue().await;
    let mut overrides = vec![
        ("AGNUS_REVIEW_QUEUE_URL", queue.as_str()),
        ("AGNUS_REVIEW_JOBS_QUEUE_URL", jobs.as_str()),
        ("AGNUS_WEBHOOK_CACHE_TTL_SECS", "0"),
    ];
    overrides.extend_from_slice(extra);
    let api = Api::new(&overrides).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let esm = EventSourceMapping::new(sqs, &queue, 10, 0).await.unwrap();
    (api, queue, esm)
}

async fn reviews(api: &Api, who: &TestUser, repo_id: &str) -> Vec<Value> {
    let a = api
        .call(
            Call::get(&format!("/api/repos/{repo_id}/reviews"))
                .cookie(&who.cookie)
                .header("x-org-slug", &who.slug),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json());
    a.json()["reviews"].as_array().unwrap().clone()
}
