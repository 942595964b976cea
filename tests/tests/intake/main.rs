//! Black-box tests of webhook secrets and the intake function (product §7, SECURITY 1–14,
//! 18–20) against the emulator: real KMS, real SQS, real S3, real DynamoDB.

use std::sync::{Arc, Mutex};

use agnus_tests::*;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

fn hmac_hex(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn pr_payload(tag: &str) -> Vec<u8> {
    format!(r#"{{"action":"opened","number":7,"tag":"{tag}","pull_request":{{"title":"Add 🚀 support\u2028now","head":{{"sha":"abc123"}}}}}}"#)
        .into_bytes()
}

/// A delivery signed the way `provider` signs it, with `secret`.
fn signed(provider: &str, slug: &str, secret: &str, delivery: &str, body: &[u8]) -> Call {
    let call = Call::post(&format!("/api/webhooks/{provider}/{slug}"))
        .header("content-type", "application/json")
        .raw_body(body.to_vec());
    match provider {
        "github" => call
            .header("x-github-event", "pull_request")
            .header("x-github-delivery", delivery)
            .header(
                "x-hub-signature-256",
                &format!("sha256={}", hmac_hex(secret.as_bytes(), body)),
            ),
        "gitlab" => call
            .header("x-gitlab-event", "Merge Request Hook")
            .header("idempotency-key", delivery)
            .header("x-gitlab-token", secret),
        "bitbucket" => call
            .header("x-event-key", "pullrequest:created")
            .header("x-request-uuid", delivery)
            .header(
                "x-hub-signature",
                &format!("sha256={}", hmac_hex(secret.as_bytes(), body)),
            ),
        "azure" => call.header(
            "authorization",
            &format!("Basic {}", STANDARD.encode(format!("agnus:{secret}"))),
        ),
        other => panic!("unknown provider {other}"),
    }
}

/// Azure carries its delivery id in the payload.
fn azure_payload(notification: u64) -> Vec<u8> {
    json!({"subscriptionId": "sub-1", "notificationId": notification, "id": "evt", "eventType": "git.pullrequest.created",
           "resource": {"pullRequestId": 7}})
    .to_string()
    .into_bytes()
}

fn payload_for(provider: &str, n: u64) -> Vec<u8> {
    if provider == "azure" {
        azure_payload(n)
    } else {
        pr_payload(&n.to_string())
    }
}

fn expected_delivery_id(provider: &str, delivery: &str, n: u64) -> String {
    if provider == "azure" {
        format!("sub-1:{n}")
    } else {
        delivery.to_owned()
    }
}

fn attr(m: &aws_sdk_sqs::types::Message, name: &str) -> String {
    m.message_attributes()
        .and_then(|a| a.get(name))
        .and_then(|v| v.string_value())
        .unwrap_or_default()
        .to_owned()
}

async fn api_with_queue(extra: &[(&str, &str)]) -> (Api, String) {
    let queue = fresh_queue().await;
    let mut overrides = vec![
        ("AGNUS_REVIEW_QUEUE_URL", queue.as_str()),
        ("AGNUS_WEBHOOK_CACHE_TTL_SECS", "0"),
    ];
    overrides.extend_from_slice(extra);
    (Api::new(&overrides).await, queue)
}

#[tokio::test]
async fn each_provider_signed_delivery_is_enqueued_once_with_its_attributes() {
    let (api, queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    let org_id = api.call(Call::get("/api/auth/me").cookie(&alice.cookie)).await.json()["orgs"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (n, provider) in ["github", "gitlab", "azure", "bitbucket"].into_iter().enumerate() {
        let n = n as u64 + 1;
        let secret = &alice.secrets[provider];
        let delivery = uuid::Uuid::new_v4().to_string();
        let body = payload_for(provider, n);
        let a = api.call(signed(provider, &alice.slug, secret, &delivery, &body)).await;
        assert_eq!(a.status, 202, "{provider}: {:?}", a.json());
        let messages = drain(&queue).await;
        assert_eq!(messages.len(), 1, "{provider}");
        let m = &messages[0];
        assert_eq!(
            m.body().unwrap().as_bytes(),
            body.as_slice(),
            "{provider}: payload byte-exact"
        );
        assert_eq!(attr(m, "org_id"), org_id);
        assert_eq!(attr(m, "provider"), provider);
        assert_eq!(attr(m, "delivery_id"), expected_delivery_id(provider, &delivery, n));
        assert_eq!(attr(m, "encoding"), "inline");
        assert!(
            !attr(m, "event").is_empty() && attr(m, "event") != "unknown",
            "{provider}"
        );
    }
}

#[tokio::test]
async fn tampering_wrong_secrets_and_bad_headers_are_401_and_enqueue_nothing() {
    let (api, queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    let mallory = api.user().await;
    for provider in ["github", "gitlab", "azure", "bitbucket"] {
        let secret = alice.secrets[provider].clone();
        let body = payload_for(provider, 1);
        let mut flipped = body.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 0x01;
        let mut cases: Vec<(&str, Call)> = vec![
            (
                "another org's secret",
                signed(provider, &alice.slug, &mallory.secrets[provider], "d1", &body),
            ),
            (
                "no signature",
                Call::post(&format!("/api/webhooks/{provider}/{}", alice.slug))
                    .header("content-type", "application/json")
                    .raw_body(body.clone()),
            ),
        ];
        // Signed over the original, sent with one byte flipped (token/basic schemes
        // don't sign the body, so this applies to the HMAC providers).
        if provider == "github" || provider == "bitbucket" {
            let mut call = signed(provider, &alice.slug, &secret, "d2", &body);
            call.body = Some(flipped.clone());
            cases.push(("one flipped byte", call));
            let header = if provider == "github" {
                "x-hub-signature-256"
            } else {
                "x-hub-signature"
            };
            cases.push((
                "malformed",
                Call::post(&format!("/api/webhooks/{provider}/{}", alice.slug))
                    .header("content-type", "application/json")
                    .header(header, "sha256=not-hex")
                    .raw_body(body.clone()),
            ));
            let sha1 = format!("sha1={}", "0".repeat(40));
            cases.push((
                "sha1",
                Call::post(&format!("/api/webhooks/{provider}/{}", alice.slug))
                    .header("content-type", "application/json")
                    .header("x-hub-signature", &sha1)
                    .raw_body(body.clone()),
            ));
        }
        if provider == "azure" {
            cases.push((
                "basic with wrong password",
                Call::post(&format!("/api/webhooks/azure/{}", alice.slug))
                    .header("authorization", &format!("Basic {}", STANDARD.encode("agnus:guess")))
                    .raw_body(body.clone()),
            ));
        }
        for (what, call) in cases {
            let a = api.call(call).await;
            assert_eq!(a.status, 401, "{provider}: {what}");
            assert_eq!(a.error_code(), "unauthorized", "{provider}: {what}");
        }
    }
    assert!(drain(&queue).await.is_empty(), "nothing reached the queue");
}

#[tokio::test]
async fn unknown_org_deleted_org_and_bad_signature_answer_the_same() {
    let (api, queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    let body = pr_payload("x");
    let bad_sig = api.call(signed("github", &alice.slug, "wrong", "d", &body)).await;
    let unknown = api
        .call(signed("github", "no-such-org-at-all", "wrong", "d", &body))
        .await;
    assert_eq!(bad_sig.status, 401);
    assert_eq!(bad_sig.body, unknown.body);
    // Deleting the org stops its webhook URLs at once (cache TTL is 0 here).
    let good = signed("github", &alice.slug, &alice.secrets["github"], "d-del", &body);
    assert_eq!(api.call(good.clone()).await.status, 202);
    let del = Call::new("DELETE", &format!("/api/orgs/{}", alice.slug))
        .cookie(&alice.cookie)
        .header("content-type", "application/json");
    assert_eq!(api.call(del).await.status, 200);
    let after = api
        .call(signed(
            "github",
            &alice.slug,
            &alice.secrets["github"],
            "d-del-2",
            &body,
        ))
        .await;
    assert_eq!(after.status, 401);
    assert_eq!(after.body, unknown.body);
    assert_eq!(drain(&queue).await.len(), 1, "only the delivery before the delete");
}

#[tokio::test]
async fn the_same_delivery_twice_is_acknowledged_twice_and_enqueued_once() {
    let (api, queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    for provider in ["github", "gitlab", "azure", "bitbucket"] {
        let delivery = uuid::Uuid::new_v4().to_string();
        let body = payload_for(provider, 42);
        let first = api
            .call(signed(
                provider,
                &alice.slug,
                &alice.secrets[provider],
                &delivery,
                &body,
            ))
            .await;
        let second = api
            .call(signed(
                provider,
                &alice.slug,
                &alice.secrets[provider],
                &delivery,
                &body,
            ))
            .await;
        assert_eq!(first.status, 202, "{provider}");
        assert!((200..300).contains(&second.status), "{provider}: {}", second.status);
        assert_eq!(second.json()["status"], "duplicate");
        assert_eq!(drain(&queue).await.len(), 1, "{provider}: exactly one message");
    }
}

#[tokio::test]
async fn gitlab_standard_webhooks_signatures_and_their_timestamp_window() {
    let (api, queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    let secret = &alice.secrets["gitlab"];
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let body = pr_payload("sw");
    let call = |ts: i64, id: &str| {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(&body);
        let sig = STANDARD.encode(mac.finalize().into_bytes());
        Call::post(&format!("/api/webhooks/gitlab/{}", alice.slug))
            .header("content-type", "application/json")
            .header("x-gitlab-event", "Merge Request Hook")
            .header("webhook-id", id)
            .header("webhook-timestamp", &ts.to_string())
            .header("webhook-signature", &format!("v1,{sig}"))
            .raw_body(body.clone())
    };
    let now = agnus_shared::clock::Clock::system().now_secs();
    assert_eq!(api.call(call(now - 600, "msg_old")).await.status, 401, "10 minutes old");
    assert_eq!(api.call(call(now + 600, "msg_future")).await.status, 401);
    assert_eq!(api.call(call(now - 30, "msg_ok")).await.status, 202);
    // Replays of the signed delivery with unsigned ids added or changed are the same
    // delivery (SECURITY #29): acknowledged, never enqueued again.
    for (name, value) in [("idempotency-key", "fresh-1"), ("x-gitlab-event-uuid", "fresh-2")] {
        let replay = api.call(call(now - 30, "msg_ok").header(name, value)).await;
        assert_eq!(
            (replay.status, replay.json()["status"].as_str()),
            (202, Some("duplicate"))
        );
    }
    let messages = drain(&queue).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(attr(&messages[0], "delivery_id"), "msg_ok");
}

/// With the default warm cache (60 s), a rotation takes effect at once: a delivery signed
/// with the new secret reloads the cached entry instead of answering 401 (issue 12 #11).
#[tokio::test]
async fn a_rotation_is_honoured_at_once_by_a_warm_cache() {
    let (api, queue) = api_with_queue(&[("AGNUS_WEBHOOK_CACHE_TTL_SECS", "60")]).await;
    let alice = api.user().await;
    let old = alice.secrets["github"].clone();
    let body = pr_payload("warm");
    assert_eq!(
        api.call(signed("github", &alice.slug, &old, "w1", &body)).await.status,
        202
    );
    let r = api
        .call(
            Call::post(&format!("/api/orgs/{}/webhooks/rotate", alice.slug))
                .cookie(&alice.cookie)
                .json(&json!({"provider": "github"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let new = r.json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        api.call(signed("github", &alice.slug, &new, "w2", &body)).await.status,
        202
    );
    assert_eq!(drain(&queue).await.len(), 2);
    // Forged deliveries are counted once per flush window per instance, and the count
    // is exact once flushed.
    for i in 0..5 {
        let forged = api
            .call(signed("github", &alice.slug, "whsec_not-it", &format!("f{i}"), &body))
            .await;
        assert_eq!(forged.status, 401);
    }
    api.intake.flush_rejections().await;
    let hooks = api
        .call(Call::get(&format!("/api/orgs/{}/webhooks", alice.slug)).cookie(&alice.cookie))
        .await
        .json();
    let gh = hooks["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["provider"] == "github")
        .unwrap()
        .clone();
    assert_eq!(gh["rejectedCount"].as_u64(), Some(5), "{gh}");
}

#[tokio::test]
async fn oversized_bodies_are_413_before_anything_else() {
    let (api, queue) = api_with_queue(&[("AGNUS_WEBHOOK_MAX_BODY_BYTES", "1024")]).await;
    let alice = api.user().await;
    let big = vec![b'x'; 1025];
    // Unknown org and no signature: still 413, so the size check comes first.
    let a = api
        .call(Call::post("/api/webhooks/github/no-such-org").raw_body(big.clone()))
        .await;
    assert_eq!(a.status, 413);
    let b = api
        .call(signed("github", &alice.slug, &alice.secrets["github"], "big", &big))
        .await;
    assert_eq!(b.status, 413);
    assert_eq!(b.error_code(), "payload_too_large");
    assert!(drain(&queue).await.is_empty());
}

#[tokio::test]
async fn large_payloads_travel_by_claim_check_byte_exact() {
    let (api, queue) = api_with_queue(&[("AGNUS_SQS_INLINE_MAX_BYTES", "2048")]).await;
    let alice = api.user().await;
    let body = format!(r#"{{"action":"opened","padding":"{}"}}"#, "é".repeat(3000)).into_bytes();
    let a = api
        .call(signed(
            "github",
            &alice.slug,
            &alice.secrets["github"],
            "large-1",
            &body,
        ))
        .await;
    assert_eq!(a.status, 202);
    let messages = drain(&queue).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(attr(&messages[0], "encoding"), "claim-check");
    let claim: agnus_shared::queue::ClaimCheck = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    let fetched = api.intake.enqueuer.fetch_claim_check(&claim).await.unwrap();
    assert_eq!(fetched, body);
}

#[tokio::test]
async fn github_specifics_ping_form_encoding_and_base64_events() {
    let (api, queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    let secret = alice.secrets["github"].clone();
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#.to_vec();
    let ping = Call::post(&format!("/api/webhooks/github/{}", alice.slug))
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "ping-1")
        .header(
            "x-hub-signature-256",
            &format!("sha256={}", hmac_hex(secret.as_bytes(), &body)),
        )
        .raw_body(body);
    let a = api.call(ping).await;
    assert_eq!(a.status, 200);
    assert!(drain(&queue).await.is_empty(), "a ping is not enqueued");
    let hooks = api
        .call(Call::get(&format!("/api/orgs/{}/webhooks", alice.slug)).cookie(&alice.cookie))
        .await
        .json();
    let gh = hooks["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["provider"] == "github")
        .unwrap()
        .clone();
    assert_eq!(gh["lastDelivery"]["outcome"], "ping");

    let form = Call::post(&format!("/api/webhooks/github/{}", alice.slug))
        .header("content-type", "application/x-www-form-urlencoded")
        .raw_body(b"payload=%7B%7D".to_vec());
    let f = api.call(form).await;
    assert_eq!(f.status, 415);
    assert!(
        f.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );

    // An API Gateway event whose body is base64-encoded verifies over the decoded bytes.
    let payload = pr_payload("b64");
    let event = json!({
        "version": "2.0",
        "routeKey": "POST /api/webhooks/{provider}/{orgSlug}",
        "rawPath": format!("/api/webhooks/github/{}", alice.slug),
        "rawQueryString": "",
        "headers": {
            "content-type": "application/octet-stream",
            "x-github-event": "pull_request",
            "x-github-delivery": "b64-delivery",
            "x-hub-signature-256": format!("sha256={}", hmac_hex(secret.as_bytes(), &payload)),
        },
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "example.com", "domainPrefix": "example",
            "http": {"method": "POST", "path": format!("/api/webhooks/github/{}", alice.slug),
                     "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "GitHub-Hookshot"},
            "requestId": "r1", "routeKey": "$default", "stage": "$default", "time": "23/Nov/2026:00:00:00 +0000",
            "timeEpoch": 0
        },
        "body": STANDARD.encode(&payload),
        "isBase64Encoded": true
    });
    let request = lambda_http::request::from_str(&event.to_string()).expect("API Gateway event");
    let response = Answer::from_response(agnus_intake::handle(&api.intake, request).await);
    assert_eq!(response.status, 202, "{:?}", response.json());
    let messages = drain(&queue).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body().unwrap().as_bytes(), payload.as_slice());
}

#[tokio::test]
async fn rotation_keeps_the_old_secret_valid_only_during_the_overlap() {
    let (api, queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    let old = alice.secrets["github"].clone();
    let member = api.user().await;
    api.add_member(&alice, &alice.slug, &member, "member").await;
    let by_member = api
        .call(
            Call::post(&format!("/api/orgs/{}/webhooks/rotate", alice.slug))
                .cookie(&member.cookie)
                .json(&json!({"provider": "github"})),
        )
        .await;
    assert_eq!(by_member.status, 403, "members cannot rotate");
    let r = api
        .call(
            Call::post(&format!("/api/orgs/{}/webhooks/rotate", alice.slug))
                .cookie(&alice.cookie)
                .json(&json!({"provider": "github"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let new = r.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let body = pr_payload("rot");
    assert_eq!(
        api.call(signed("github", &alice.slug, &new, "r1", &body)).await.status,
        202
    );
    assert_eq!(
        api.call(signed("github", &alice.slug, &old, "r2", &body)).await.status,
        202,
        "old still valid"
    );
    // Let the overlap window (24 h by default) run out.
    let overlap_end = r.json()["previousSecretValidUntil"].as_i64().unwrap();
    assert!(overlap_end >= api.clock.now_secs() + 86_000, "default overlap is 24 h");
    api.clock.advance(std::time::Duration::from_secs(86_400 + 1));
    // (Alice's 12-hour session ended too.)
    let alice = api.log_in_again(alice).await;
    assert_eq!(
        api.call(signed("github", &alice.slug, &old, "r3", &body)).await.status,
        401,
        "overlap over"
    );
    assert_eq!(
        api.call(signed("github", &alice.slug, &new, "r4", &body)).await.status,
        202
    );
    assert_eq!(drain(&queue).await.len(), 3);

    // The listing shows previews only; rotation and the rejection are visible to admins.
    let hooks = api
        .call(Call::get(&format!("/api/orgs/{}/webhooks", alice.slug)).cookie(&alice.cookie))
        .await;
    assert_eq!(hooks.status, 200);
    let text = String::from_utf8_lossy(&hooks.body).to_string();
    assert!(
        !text.contains(&new) && !text.contains(&old),
        "no full secret in the listing"
    );
    let gh = hooks.json()["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["provider"] == "github")
        .unwrap()
        .clone();
    assert!(gh["rotatedAt"].as_i64().is_some());
    assert_eq!(gh["secretPreview"], format!("…{}", &new[new.len() - 4..]));
    assert_eq!(gh["lastRejected"]["reason"], "bad_signature");
    assert!(gh["rejectedCount"].as_u64().unwrap() >= 1);
    assert_eq!(gh["url"], format!("/api/webhooks/github/{}", alice.slug));
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
    assert!(actions.contains(&"webhook.secret_rotated"), "{actions:?}");
    assert!(actions.contains(&"webhook.delivery_rejected"), "{actions:?}");
}

#[tokio::test]
async fn queue_failure_is_503_and_a_retry_succeeds_later() {
    let broken_queue = "http://127.0.0.1:4566/123456789012/no-such-queue-anywhere";
    let broken = Api::new(&[
        ("AGNUS_REVIEW_QUEUE_URL", broken_queue),
        ("AGNUS_WEBHOOK_CACHE_TTL_SECS", "0"),
    ])
    .await;
    let alice = broken.user().await;
    let body = pr_payload("retry");
    let delivery = uuid::Uuid::new_v4().to_string();
    let a = broken
        .call(signed(
            "github",
            &alice.slug,
            &alice.secrets["github"],
            &delivery,
            &body,
        ))
        .await;
    assert_eq!(a.status, 503);
    assert!(a.headers.contains_key("retry-after"));
    // The ledger did not record the delivery as done: the provider's retry goes through.
    let (api, queue) = api_with_queue(&[]).await;
    let b = api
        .call(signed(
            "github",
            &alice.slug,
            &alice.secrets["github"],
            &delivery,
            &body,
        ))
        .await;
    assert_eq!(b.status, 202, "{:?}", b.json());
    assert_eq!(b.json()["status"], "accepted");
    assert_eq!(drain(&queue).await.len(), 1);
}

#[tokio::test]
async fn secrets_exist_at_rest_only_as_kms_ciphertext_bound_to_their_org() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let ddb = dynamodb().await;
    let dump = format!("{:?}", scan_all().await);
    for secret in alice.secrets.values().chain(bob.secrets.values()) {
        assert!(!dump.contains(secret.as_str()), "plaintext secret in the table");
        let b64 = STANDARD.encode(secret);
        assert!(!dump.contains(&b64));
    }
    // Alice's GitHub ciphertext does not open under Bob's org context.
    let me = api.call(Call::get("/api/auth/me").cookie(&alice.cookie)).await.json();
    let alice_org: agnus_shared::domain::OrgId = me["orgs"][0]["id"].as_str().unwrap().parse().unwrap();
    let bob_me = api.call(Call::get("/api/auth/me").cookie(&bob.cookie)).await.json();
    let bob_org: agnus_shared::domain::OrgId = bob_me["orgs"][0]["id"].as_str().unwrap().parse().unwrap();
    let item = ddb
        .get_item()
        .table_name(table_name())
        .key("pk", AttributeValue::S(format!("ORG#{alice_org}")))
        .key("sk", AttributeValue::S("WEBHOOK#github".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let ciphertext = item["ciphertext"].as_b().unwrap().as_ref().to_vec();
    let sealer = &api.intake.sealer;
    let opened =
        agnus_shared::webhooks::open_secret(sealer, &alice_org, agnus_shared::domain::Provider::Github, &ciphertext)
            .await
            .unwrap();
    assert_eq!(opened.expose(), alice.secrets["github"]);
    let foreign =
        agnus_shared::webhooks::open_secret(sealer, &bob_org, agnus_shared::domain::Provider::Github, &ciphertext)
            .await;
    assert!(foreign.is_err(), "another org's context must not decrypt");
    let other_provider =
        agnus_shared::webhooks::open_secret(sealer, &alice_org, agnus_shared::domain::Provider::Gitlab, &ciphertext)
            .await;
    assert!(other_provider.is_err(), "another provider's context must not decrypt");
}

/// A `tracing` writer that keeps everything written, for inspecting log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_log_line_contains_a_secret_signature_token_or_password() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,aws_smithy_runtime=info,aws_smithy_runtime_api=info,hyper=info,aws_config=info",
        ))
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (api, _queue) = api_with_queue(&[]).await;
    let alice = api.user().await;
    let login = api
        .call(Call::post("/api/auth/login").json(&json!({"email": alice.email, "password": alice.password})))
        .await;
    let session = login.session_cookie().unwrap();
    let body = pr_payload("logs");
    let sig = format!("sha256={}", hmac_hex(alice.secrets["github"].as_bytes(), &body));
    assert_eq!(
        api.call(signed("github", &alice.slug, &alice.secrets["github"], "log-1", &body))
            .await
            .status,
        202
    );
    assert_eq!(
        api.call(signed("github", &alice.slug, "wrong-secret", "log-2", &body))
            .await
            .status,
        401
    );
    assert_eq!(
        api.call(signed("gitlab", &alice.slug, &alice.secrets["gitlab"], "log-3", &body))
            .await
            .status,
        202
    );
    assert_eq!(
        api.call(signed(
            "azure",
            &alice.slug,
            &alice.secrets["azure"],
            "log-4",
            &azure_payload(9)
        ))
        .await
        .status,
        202
    );
    let rotated = api
        .call(
            Call::post(&format!("/api/orgs/{}/webhooks/rotate", alice.slug))
                .cookie(&alice.cookie)
                .json(&json!({"provider": "bitbucket"})),
        )
        .await
        .json();
    let wrong_login = api
        .call(Call::post("/api/auth/login").json(&json!({"email": alice.email, "password": "wrong password here"})))
        .await;
    assert_eq!(wrong_login.status, 401);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("delivery enqueued"), "logs were captured");
    let token = session.trim_start_matches("agnus_session=");
    let basic = STANDARD.encode(format!("agnus:{}", alice.secrets["azure"]));
    let mut forbidden: Vec<(&str, String)> = alice.secrets.iter().map(|(p, s)| (p.as_str(), s.clone())).collect();
    forbidden.push(("rotated secret", rotated["secret"].as_str().unwrap().to_owned()));
    forbidden.push(("signature", sig.trim_start_matches("sha256=").to_owned()));
    forbidden.push(("session token", token.to_owned()));
    forbidden.push(("password", alice.password.clone()));
    forbidden.push(("wrong password", "wrong password here".to_owned()));
    forbidden.push(("basic credentials", basic));
    for (what, value) in forbidden {
        assert!(!text.contains(&value), "{what} appears in the logs");
    }
}
