//! Signed deliveries are enqueued: once each, byte exact (by claim check when large), within
//! the size cap; GitHub's specifics; a queue failure is a 503.

use super::*;

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
async fn queue_failure_is_503_and_a_retry_succeeds_later() {
    // On the emulator in use (moto or LocalStack), whatever its port and account.
    let broken_queue = format!("{}/000000000000/no-such-queue-anywhere", endpoint());
    let broken = Api::new(&[
        ("AGNUS_REVIEW_QUEUE_URL", broken_queue.as_str()),
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
async fn the_cold_start_warm_up_reaches_sqs_and_enqueues_nothing() {
    let (api, queue) = api_with_queue(&[]).await;
    // The emulator answers the warm-up request as SQS does: a refusal, nothing stored.
    let sender = agnus_shared::aws::sqs_sender(&agnus_tests::sdk().await).unwrap();
    let outcome = sender.warm_up(std::time::Duration::from_secs(5)).await;
    assert!(matches!(outcome, agnus_sqs::WarmUp::Answered), "{outcome:?}");
    api.intake.enqueuer.warm_up().await;
    assert!(drain(&queue).await.is_empty(), "the warm-up must not enqueue anything");

    // The first delivery after it goes through as usual.
    let alice = api.user().await;
    let body = payload_for("github", 1);
    let a = api
        .call(signed("github", &alice.slug, &alice.secrets["github"], "warm-1", &body))
        .await;
    assert_eq!(a.status, 202, "{:?}", a.json());
    assert_eq!(drain(&queue).await.len(), 1);
}
