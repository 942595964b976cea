//! Refused deliveries: tampering, wrong secrets and headers, unknown or deleted orgs, GitLab's
//! Standard Webhooks timestamps.

use super::*;

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
