//! The review pipeline end to end against the emulator (product §7 second half, §8):
//! intake → SQS → event-source mapping → worker → review jobs; repos; API keys.

use std::time::Duration;

use agnus_cli::esm::EventSourceMapping;
use agnus_shared::domain::{Provider, RepoRef};
use agnus_tests::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

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

#[tokio::test]
async fn signed_pull_request_opened_becomes_a_review_job() {
    let (api, _queue, esm) = setup(&[]).await;
    let alice = api.user().await;
    let name = unique_repo();
    let repo = connect(&api, &alice, &name, Some("ghp_exampletoken123456")).await;
    assert_eq!(repo.status, 201, "{:?}", repo.json());
    let repo_id = repo.json()["repo"]["id"].as_str().unwrap().to_owned();
    assert_eq!(repo.json()["repo"]["tokenPreview"], "…3456");

    let delivery = uuid::Uuid::new_v4().to_string();
    let a = api
        .call(github_delivery(
            &alice.slug,
            &alice.secrets["github"],
            &delivery,
            "pull_request",
            &opened_for(&name),
        ))
        .await;
    assert_eq!(a.status, 202);
    let report = esm.poll_once(&InProcessWorker(api.worker.clone())).await.unwrap();
    assert_eq!((report.received, report.deleted, report.failed), (1, 1, 0));

    let history = reviews(&api, &alice, &repo_id).await;
    assert_eq!(history.len(), 1);
    let job = &history[0];
    assert_eq!(job["prNumber"], 2);
    assert_eq!(job["headSha"], OPENED_SHA);
    assert_eq!(job["action"], "opened");
    assert_eq!(job["status"], "queued", "waiting for the review engine");
    let jobs = drain(&api.worker.config.review_jobs_queue_url).await;
    assert_eq!(jobs.len(), 1, "handed to the review engine once");
    let message: Value = serde_json::from_str(jobs[0].body().unwrap()).unwrap();
    assert_eq!(message["jobId"], job["id"]);
    assert_eq!(job["deliveryId"], delivery.as_str());
    assert_eq!(job["source"], "webhook");
}

#[tokio::test]
async fn the_same_delivery_processed_twice_makes_one_job() {
    let (api, queue, esm) = setup(&[]).await;
    let alice = api.user().await;
    let name = unique_repo();
    let repo_id = connect(&api, &alice, &name, None).await.json()["repo"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delivery = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        api.call(github_delivery(
            &alice.slug,
            &alice.secrets["github"],
            &delivery,
            "pull_request",
            &opened_for(&name)
        ))
        .await
        .status,
        202
    );
    // Take the message, hand the same event to the worker twice (a redelivery).
    let messages = drain(&queue).await;
    assert_eq!(messages.len(), 1);
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    for _ in 0..2 {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(messages[0].body().unwrap())
            .set_message_attributes(messages[0].message_attributes().cloned())
            .send()
            .await
            .unwrap();
    }
    esm.poll_once(&InProcessWorker(api.worker.clone())).await.unwrap();
    esm.poll_once(&InProcessWorker(api.worker.clone())).await.unwrap();
    assert_eq!(reviews(&api, &alice, &repo_id).await.len(), 1);
}

#[tokio::test]
async fn a_poison_message_is_retried_then_dead_lettered_while_the_rest_succeed() {
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let dlq = fresh_queue().await;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let queue = sqs
        .create_queue()
        .queue_name(format!("test-redrive-{}", uuid::Uuid::new_v4().simple()))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "1")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let api = Api::new(&[("AGNUS_REVIEW_QUEUE_URL", queue.as_str())]).await;
    let esm = EventSourceMapping::new(sqs.clone(), &queue, 10, 0).await.unwrap();
    let alice = api.user().await;
    let names = [unique_repo(), unique_repo()];
    let mut repo_ids = Vec::new();
    for name in &names {
        repo_ids.push(
            connect(&api, &alice, name, None).await.json()["repo"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let d = uuid::Uuid::new_v4().to_string();
        let a = api
            .call(github_delivery(
                &alice.slug,
                &alice.secrets["github"],
                &d,
                "pull_request",
                &opened_for(name),
            ))
            .await;
        assert_eq!(a.status, 202);
    }
    // A message the worker can never process: no attributes.
    sqs.send_message()
        .queue_url(&queue)
        .message_body("{\"garbage\":true}")
        .send()
        .await
        .unwrap();

    let worker = InProcessWorker(api.worker.clone());
    let first = esm.poll_once(&worker).await.unwrap();
    assert_eq!(
        (first.received, first.deleted, first.failed),
        (3, 2, 1),
        "partial batch response"
    );
    let mut dead = Vec::new();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        esm.poll_once(&worker).await.unwrap();
        dead = drain(&dlq).await;
        if !dead.is_empty() {
            break;
        }
    }
    assert_eq!(dead.len(), 1, "the poison message reached the DLQ");
    assert_eq!(dead[0].body().unwrap(), "{\"garbage\":true}");
    assert!(drain(&queue).await.is_empty());
    for id in &repo_ids {
        assert_eq!(
            reviews(&api, &alice, id).await.len(),
            1,
            "good messages processed once, not again"
        );
    }
}

#[tokio::test]
async fn an_event_for_another_orgs_repo_is_skipped_and_written_nowhere() {
    let (api, _queue, esm) = setup(&[]).await;
    let a = api.user().await;
    let b = api.user().await;
    let name = unique_repo();
    let b_repo = connect(&api, &b, &name, None).await.json()["repo"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Org B's repository, through org A's URL, signed with A's secret.
    let d = uuid::Uuid::new_v4().to_string();
    let sent = api
        .call(github_delivery(
            &a.slug,
            &a.secrets["github"],
            &d,
            "pull_request",
            &opened_for(&name),
        ))
        .await;
    assert_eq!(sent.status, 202);
    let report = esm.poll_once(&InProcessWorker(api.worker.clone())).await.unwrap();
    assert_eq!(report.deleted, 1, "skipped, not failed");
    assert!(reviews(&api, &b, &b_repo).await.is_empty(), "nothing in B's history");
    let a_repos = api
        .call(Call::get("/api/repos").cookie(&a.cookie).header("x-org-slug", &a.slug))
        .await
        .json();
    assert!(a_repos["repos"].as_array().unwrap().is_empty());
    let a_org: agnus_shared::domain::OrgId = api.call(Call::get("/api/auth/me").cookie(&a.cookie)).await.json()["orgs"]
        [0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Read A's partition the way the worker does: through the org named by a queue message.
    let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
    let mut attribute = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
    attribute.string_value = Some(a_org.to_string());
    attribute.data_type = Some("String".to_owned());
    message
        .message_attributes
        .insert(agnus_shared::queue::ATTR_ORG_ID.to_owned(), attribute);
    let queued = agnus_shared::queue::QueuedOrg::of_message(&message).unwrap();
    let a_scope = api.worker.store.queue_scope(&queued).await.unwrap().unwrap();
    assert_eq!(
        api.worker.store.review_count_for_delivery(&a_scope, &d).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn skips_and_manual_reviews() {
    let (api, _queue, esm) = setup(&[]).await;
    let alice = api.user().await;
    let name = unique_repo();
    let repo_id = connect(&api, &alice, &name, None).await.json()["repo"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let worker = InProcessWorker(api.worker.clone());
    // Unknown repository, draft PR, closed PR, unsupported event: skipped, not retried.
    let mut draft = fixture("github/pull_request.opened.json");
    draft["repository"]["full_name"] = Value::from(name.as_str());
    draft["pull_request"]["draft"] = Value::Bool(true);
    let mut closed = fixture("github/pull_request.closed.json");
    closed["repository"]["full_name"] = Value::from(name.as_str());
    let cases = [
        ("pull_request", opened_for(&unique_repo())),
        ("pull_request", serde_json::to_vec(&draft).unwrap()),
        ("pull_request", serde_json::to_vec(&closed).unwrap()),
        (
            "star",
            serde_json::to_vec(&json!({"action": "created", "repository": {"full_name": name}})).unwrap(),
        ),
    ];
    for (event, body) in cases {
        let d = uuid::Uuid::new_v4().to_string();
        assert_eq!(
            api.call(github_delivery(&alice.slug, &alice.secrets["github"], &d, event, &body))
                .await
                .status,
            202
        );
    }
    let report = esm.poll_once(&worker).await.unwrap();
    assert_eq!((report.received, report.deleted, report.failed), (4, 4, 0));
    assert!(reviews(&api, &alice, &repo_id).await.is_empty());

    // A manual review request is enqueued like a webhook and becomes a job.
    let m = api
        .call(
            Call::post(&format!("/api/repos/{repo_id}/review"))
                .cookie(&alice.cookie)
                .header("x-org-slug", &alice.slug)
                .json(&json!({"prNumber": 41, "headSha": "abc123"})),
        )
        .await;
    assert_eq!(m.status, 202, "{:?}", m.json());
    esm.poll_once(&worker).await.unwrap();
    let history = reviews(&api, &alice, &repo_id).await;
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0]["prNumber"].as_u64(), history[0]["action"].as_str()),
        (Some(41), Some("manual"))
    );
    assert_eq!(history[0]["source"], "manual");
}

#[tokio::test]
async fn repos_are_exclusive_validated_and_org_scoped() {
    let (api, _queue, _esm) = setup(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let member = api.user().await;
    api.add_member(&alice, &alice.slug, &member, "member").await;
    let name = unique_repo();
    let created = connect(&api, &alice, &name.to_uppercase(), None).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["repo"]["fullName"], name, "identity is case-insensitive");
    let repo_id = created.json()["repo"]["id"].as_str().unwrap().to_owned();
    let taken = connect(&api, &bob, &format!("https://github.com/{name}.git"), None).await;
    assert_eq!((taken.status, taken.error_code().as_str()), (409, "repo_taken"));
    let bad = connect(&api, &alice, "not a repo", None).await;
    assert_eq!((bad.status, bad.error_code().as_str()), (400, "invalid_repo"));
    let by_member = api
        .call(
            Call::post("/api/repos")
                .cookie(&member.cookie)
                .header("x-org-slug", &alice.slug)
                .json(&json!({"provider":"github","fullName": unique_repo()})),
        )
        .await;
    assert_eq!(by_member.status, 403);
    // Members read; other orgs see nothing.
    let get = |who: &TestUser, slug: &str| {
        Call::get(&format!("/api/repos/{repo_id}"))
            .cookie(&who.cookie)
            .header("x-org-slug", slug)
    };
    assert_eq!(api.call(get(&member, &alice.slug)).await.status, 200);
    assert_eq!(api.call(get(&bob, &bob.slug)).await.status, 404);
    assert_eq!(
        api.call(get(&bob, &alice.slug)).await.status,
        404,
        "not a member of alice's org"
    );
    // Without X-Org-Slug and with several orgs: asked to choose.
    let several = api.call(Call::get("/api/repos").cookie(&member.cookie)).await;
    assert_eq!((several.status, several.error_code().as_str()), (400, "org_required"));
    // Disconnect (admin) frees the identity.
    let del = Call::new("DELETE", &format!("/api/repos/{repo_id}"))
        .cookie(&alice.cookie)
        .header("x-org-slug", &alice.slug)
        .header("content-type", "application/json");
    assert_eq!(api.call(del).await.status, 204);
    assert_eq!(connect(&api, &bob, &name, None).await.status, 201);
    let audit = api
        .call(Call::get(&format!("/api/orgs/{}/audit", alice.slug)).cookie(&alice.cookie))
        .await
        .json();
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"repo.connected") && actions.contains(&"repo.deleted"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn api_keys_are_bound_to_one_org_and_role_and_die_on_revocation() {
    let (api, _queue, _esm) = setup(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let create = |role: &str| {
        Call::post(&format!("/api/orgs/{}/api-keys", alice.slug))
            .cookie(&alice.cookie)
            .json(&json!({"name": format!("ci {role}"), "role": role}))
    };
    let admin_key = api.call(create("admin")).await;
    assert_eq!(admin_key.status, 201, "{:?}", admin_key.json());
    let key = admin_key.json()["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("agn_"));
    let key_id = admin_key.json()["apiKey"]["id"].as_str().unwrap().to_owned();
    let member_key = api.call(create("member")).await.json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = |k: &str| format!("Bearer {k}");

    // Works on org-scoped routes, without a cookie.
    let repos = api
        .call(Call::get("/api/repos").header("authorization", &bearer(&key)))
        .await;
    assert_eq!(repos.status, 200);
    let members = api
        .call(Call::get(&format!("/api/orgs/{}/members", alice.slug)).header("authorization", &bearer(&key)))
        .await;
    assert_eq!(members.status, 200);
    let keyed_repo = unique_repo();
    review::shared_standin()
        .grant("github", &keyed_repo, "ghp_keyed", "write")
        .await;
    let connected = api
        .call(
            Call::post("/api/repos")
                .header("authorization", &bearer(&key))
                .json(&json!({"provider":"github","fullName": keyed_repo, "token": "ghp_keyed"})),
        )
        .await;
    assert_eq!(connected.status, 201, "admin key administers");
    // Org A's key on org B's routes.
    let foreign = api
        .call(Call::get(&format!("/api/orgs/{}/members", bob.slug)).header("authorization", &bearer(&key)))
        .await;
    assert_eq!(foreign.status, 404);
    let foreign_repos = api
        .call(
            Call::get("/api/repos")
                .header("authorization", &bearer(&key))
                .header("x-org-slug", &bob.slug),
        )
        .await;
    assert_eq!(foreign_repos.status, 404);
    // A member-role key cannot do admin actions.
    let as_member = api
        .call(
            Call::post("/api/repos")
                .header("authorization", &bearer(&member_key))
                .json(&json!({"provider":"github","fullName": unique_repo()})),
        )
        .await;
    assert_eq!(as_member.status, 403);
    let invite = api
        .call(
            Call::post(&format!("/api/orgs/{}/api-keys", alice.slug))
                .header("authorization", &bearer(&member_key))
                .json(&json!({"name":"x","role":"admin"})),
        )
        .await;
    assert_eq!(invite.status, 403);
    // Keys are not for account routes.
    assert_eq!(
        api.call(Call::get("/api/orgs/me").header("authorization", &bearer(&key)))
            .await
            .status,
        403
    );
    // A typo in the key is a 401 before any lookup; so is an unknown one.
    let mut typo = key.clone();
    typo.replace_range(10..11, if &key[10..11] == "a" { "b" } else { "a" });
    assert_eq!(
        api.call(Call::get("/api/repos").header("authorization", &bearer(&typo)))
            .await
            .status,
        401
    );

    // Listing shows previews and last use, never the key.
    let list = api
        .call(Call::get(&format!("/api/orgs/{}/api-keys", alice.slug)).cookie(&alice.cookie))
        .await;
    let text = String::from_utf8_lossy(&list.body).to_string();
    assert!(!text.contains(&key));
    let listed = list.json()["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .unwrap()
        .clone();
    assert!(listed["lastUsedAt"].as_i64().is_some());
    assert_eq!(listed["preview"], format!("agn_…{}", &key[key.len() - 4..]));

    // Revocation takes effect on the very next request.
    let revoke = Call::new("DELETE", &format!("/api/orgs/{}/api-keys/{key_id}", alice.slug))
        .cookie(&alice.cookie)
        .header("content-type", "application/json");
    assert_eq!(api.call(revoke).await.status, 204);
    assert_eq!(
        api.call(Call::get("/api/repos").header("authorization", &bearer(&key)))
            .await
            .status,
        401
    );
    let audit = api
        .call(Call::get(&format!("/api/orgs/{}/audit", alice.slug)).cookie(&alice.cookie))
        .await
        .json();
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"api_key.created") && actions.contains(&"api_key.revoked"),
        "{actions:?}"
    );
    let by_key = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "repo.connected")
        .unwrap()
        .clone();
    assert_eq!(by_key["actor"]["type"], "api_key");
}

#[tokio::test]
async fn repo_tokens_and_api_keys_exist_only_sealed_or_hashed() {
    let (api, _queue, _esm) = setup(&[]).await;
    let alice = api.user().await;
    let token = format!("ghp_{}", uuid::Uuid::new_v4().simple());
    assert_eq!(connect(&api, &alice, &unique_repo(), Some(&token)).await.status, 201);
    let key = api
        .call(
            Call::post(&format!("/api/orgs/{}/api-keys", alice.slug))
                .cookie(&alice.cookie)
                .json(&json!({"name":"k","role":"member"})),
        )
        .await
        .json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let dump = format!("{:?}", scan_all().await);
    assert!(!dump.contains(&token), "repo token in plaintext");
    assert!(!dump.contains(&key), "API key in plaintext");
}

/// SECURITY #28: a key never outlives its maker's rights, and keys never manage keys,
/// members or invitations (those need a person's session).
#[tokio::test]
async fn keys_follow_their_maker_and_never_manage_people_or_keys() {
    let (api, _queue, _esm) = setup(&[]).await;
    let owner = api.user().await;
    let admin = api.user().await;
    let other = api.user().await;
    let s = owner.slug.clone();
    api.add_member(&owner, &s, &admin, "admin").await;
    let bearer = |k: &str| format!("Bearer {k}");
    let make_key = |who: &TestUser, role: &str| {
        Call::post(&format!("/api/orgs/{s}/api-keys"))
            .cookie(&who.cookie)
            .json(&json!({"name": format!("made by {}", who.email), "role": role}))
    };
    let made = api.call(make_key(&admin, "admin")).await;
    assert_eq!(made.status, 201, "{:?}", made.json());
    let key = made.json()["key"].as_str().unwrap().to_owned();
    let as_key = |call: Call| call.header("authorization", &bearer(&key));

    // Keys cannot mint keys, revoke keys, invite, add, change or remove members.
    let refused = [
        as_key(Call::post(&format!("/api/orgs/{s}/api-keys")).json(&json!({"name":"child","role":"admin"}))),
        as_key(Call::get(&format!("/api/orgs/{s}/api-keys"))),
        as_key(Call::new(
            "DELETE",
            &format!(
                "/api/orgs/{s}/api-keys/{}",
                made.json()["apiKey"]["id"].as_str().unwrap()
            ),
        )),
        as_key(Call::post(&format!("/api/orgs/{s}/invites")).json(&json!({"email": other.email, "role": "admin"}))),
        as_key(Call::post(&format!("/api/orgs/{s}/members")).json(&json!({"email": other.email, "role": "admin"}))),
        as_key(Call::new("PATCH", &format!("/api/orgs/{s}/members/{}", admin.id)).json(&json!({"role": "member"}))),
        as_key(Call::new("DELETE", &format!("/api/orgs/{s}/members/{}", admin.id))),
        as_key(Call::post(&format!("/api/orgs/{s}/transfer")).json(&json!({"userId": admin.id}))),
    ];
    for call in refused {
        let desc = format!("{} {}", call.method, call.path);
        let a = api.call(call).await;
        assert_eq!((a.status, a.error_code().as_str()), (403, "session_required"), "{desc}");
    }
    // It still reads what an admin key may read.
    assert_eq!(
        api.call(as_key(Call::get(&format!("/api/orgs/{s}/audit"))))
            .await
            .status,
        200
    );

    // Demoting the maker reduces the key to member rights, in the same transaction.
    let demote = api
        .call(
            Call::new("PATCH", &format!("/api/orgs/{s}/members/{}", admin.id))
                .cookie(&owner.cookie)
                .json(&json!({"role": "member"})),
        )
        .await;
    assert_eq!(demote.status, 200, "{:?}", demote.json());
    assert_eq!(
        api.call(as_key(Call::get(&format!("/api/orgs/{s}/audit"))))
            .await
            .status,
        403
    );
    assert_eq!(
        api.call(as_key(Call::get("/api/repos"))).await.status,
        200,
        "still a member key"
    );

    // Removing the maker revokes the key at once.
    let remove = api
        .call(
            Call::new("DELETE", &format!("/api/orgs/{s}/members/{}", admin.id))
                .cookie(&owner.cookie)
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(remove.status, 204, "{:?}", String::from_utf8_lossy(&remove.body));
    assert_eq!(api.call(as_key(Call::get("/api/repos"))).await.status, 401);
    let listed = api
        .call(Call::get(&format!("/api/orgs/{s}/api-keys")).cookie(&owner.cookie))
        .await
        .json();
    assert!(listed["apiKeys"].as_array().unwrap().is_empty(), "{listed}");

    // A key the owner made survives other people's removal, and a body-less DELETE with a
    // cookie needs no content type.
    let owner_key = api.call(make_key(&owner, "member")).await.json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    api.add_member(&owner, &s, &other, "admin").await;
    let remove_other = api
        .call(Call::new("DELETE", &format!("/api/orgs/{s}/members/{}", other.id)).cookie(&owner.cookie))
        .await;
    assert_eq!(remove_other.status, 204);
    assert_eq!(
        api.call(Call::get("/api/repos").header("authorization", &bearer(&owner_key)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn connecting_proves_write_access_before_a_repository_is_claimed() {
    let (api, _queue, _esm) = setup(&[]).await;
    let owner = api.user().await;
    let squatter = api.user().await;
    let standin = review::shared_standin();
    let name = unique_repo();
    let owner_token = format!("ghp_owner_{}", owner.slug);
    standin.grant("github", &name, &owner_token, "write").await;
    let reader = format!("ghp_reader_{}", squatter.slug);
    standin.grant("github", &name, &reader, "read").await;

    // Another org with a made-up token, with none, or with a read-only one: refused, nothing claimed.
    let denied = |a: &Answer| (a.status, a.error_code());
    let fake = connect_with(&api, &squatter, "github", &name, "not-a-real-token").await;
    assert_eq!(denied(&fake), (403, "repo_access_denied".to_owned()));
    let read_only = connect_with(&api, &squatter, "github", &name, &reader).await;
    assert_eq!(denied(&read_only), (403, "repo_access_denied".to_owned()));
    let none = api
        .call(
            Call::post("/api/repos")
                .cookie(&squatter.cookie)
                .header("x-org-slug", &squatter.slug)
                .json(&json!({"provider": "github", "fullName": name})),
        )
        .await;
    assert_eq!(denied(&none), (400, "token_required".to_owned()));
    let listed = api
        .call(
            Call::get("/api/repos")
                .cookie(&squatter.cookie)
                .header("x-org-slug", &squatter.slug),
        )
        .await;
    assert_eq!(listed.json()["repos"], json!([]), "nothing written for the squatter");

    // The owner connects (no 409: nobody claimed it).
    let owned = connect_with(&api, &owner, "github", &name, &owner_token).await;
    assert_eq!(owned.status, 201, "{:?}", owned.json());
    // Now taken: a stranger still learns only that the token proves nothing (no 409 leak).
    let probe = connect_with(&api, &squatter, "github", &name, "not-a-real-token").await;
    assert_eq!(denied(&probe), (403, "repo_access_denied".to_owned()));
    let probe = connect_with(&api, &squatter, "github", &name, &reader).await;
    assert_eq!(denied(&probe), (403, "repo_access_denied".to_owned()));
    // The token was used as GitHub's credential on GET /repos/{owner}/{repo}.
    let checks: Vec<Value> = standin
        .requests_to("GET", &format!("/repos/{name}"))
        .await
        .into_iter()
        .filter(|r| r["path"] == format!("/repos/{name}").as_str())
        .collect();
    assert!(
        checks
            .iter()
            .any(|r| r["headers"]["authorization"] == format!("Bearer {owner_token}").as_str())
    );
}

#[tokio::test]
async fn gitlab_azure_and_bitbucket_connections_prove_write_access_too() {
    let (api, _queue, _esm) = setup(&[]).await;
    let admin = api.user().await;
    let standin = review::shared_standin();
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
    for (provider, name) in [
        ("gitlab", format!("group/sub/proj-{tag}")),
        ("azure", format!("fabrikam/proj-{tag}/repo")),
        ("bitbucket", format!("workspace/repo-{tag}")),
    ] {
        let reader = format!("{provider}-reader-{tag}");
        let writer = format!("{provider}-writer-{tag}");
        standin.grant(provider, &name, &reader, "read").await;
        standin.grant(provider, &name, &writer, "write").await;
        let unknown = connect_with(&api, &admin, provider, &name, "unknown-token").await;
        assert_eq!(
            (unknown.status, unknown.error_code().as_str()),
            (403, "repo_access_denied"),
            "{provider}"
        );
        if provider != "azure" {
            // Azure DevOps shows a token no per-repository write permission: seeing it is the proof.
            let read = connect_with(&api, &admin, provider, &name, &reader).await;
            assert_eq!(
                (read.status, read.error_code().as_str()),
                (403, "repo_access_denied"),
                "{provider}"
            );
        }
        let ok = connect_with(&api, &admin, provider, &name, &writer).await;
        assert_eq!(ok.status, 201, "{provider}: {:?}", ok.json());
    }
}
