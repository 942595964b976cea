//! Webhook secrets: rotation (a warm cache, the overlap) and KMS ciphertext at rest.

use aws_sdk_dynamodb::types::AttributeValue;

use super::*;

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
