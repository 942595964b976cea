//! Black-box tests of webhook secrets and the intake function (product §7, SECURITY 1–14,
//! 18–20) against the emulator: real KMS, real SQS, real S3, real DynamoDB.

use agnus_tests::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

mod delivery;
mod logs;
mod secrets;
mod signatures;

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
