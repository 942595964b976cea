//! Creating orgs and switching between them: slugs, their uniqueness, the owner allow list.

use super::*;

#[tokio::test]
async fn a_user_in_three_orgs_sees_them_all_and_switches_with_the_header() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let second = unique_slug("second");
    let a = api
        .call(post("/api/orgs", &alice, json!({"name": "Second", "slug": second})))
        .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.json()["org"]["role"], "owner");
    api.add_member(&bob, &bob.slug, &alice, "member").await;

    let mine = api.call(get("/api/orgs/me", &alice)).await.json();
    let slugs: Vec<&str> = mine["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 3);
    for s in [&alice.slug, &second, &bob.slug] {
        assert!(slugs.contains(&s.as_str()), "{s} missing from {slugs:?}");
    }
    // Pagination: 2 + 1 with an opaque cursor.
    let p1 = api.call(get("/api/orgs/me?limit=2", &alice)).await.json();
    assert_eq!(p1["orgs"].as_array().unwrap().len(), 2);
    let cursor = p1["nextCursor"].as_str().expect("cursor").to_owned();
    let p2 = api
        .call(get(&format!("/api/orgs/me?limit=2&cursor={cursor}"), &alice))
        .await
        .json();
    assert_eq!(p2["orgs"].as_array().unwrap().len(), 1);
    assert_eq!(api.call(get("/api/orgs/me?limit=0", &alice)).await.status, 400);
    assert_eq!(
        api.call(get("/api/orgs/me?cursor=!!bad", &alice)).await.error_code(),
        "invalid_cursor"
    );
    // `me` is a path of its own (no org may be called `me`): a signed-in owner's DELETE or
    // PATCH there is a 405 that says GET, never the {slug} route looking for an org `me`.
    for call in [
        delete("/api/orgs/me", &alice),
        patch("/api/orgs/me", &alice, json!({"name": "x"})),
    ] {
        let r = api.call(call).await;
        assert_eq!(r.status, 405, "{:?}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.error_code(), "method_not_allowed");
        assert_eq!(r.headers["allow"], "GET");
    }

    // Switching the active org with X-Org-Slug.
    let me = api
        .call(get("/api/auth/me", &alice).header("x-org-slug", &bob.slug))
        .await
        .json();
    assert_eq!(me["activeOrg"]["slug"], bob.slug);
    assert_eq!(me["activeOrg"]["role"], "member");
    let me = api
        .call(get("/api/auth/me", &alice).header("x-org-slug", &second))
        .await
        .json();
    assert_eq!(me["activeOrg"]["role"], "owner");
    let me = api.call(get("/api/auth/me", &alice)).await.json();
    assert!(me["activeOrg"].is_null(), "several orgs and no header: no active org");
}

#[tokio::test]
async fn create_org_validates_and_enforces_unique_slugs() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let slug = unique_slug("uniq");
    assert_eq!(
        api.call(post("/api/orgs", &alice, json!({"name": "U", "slug": slug})))
            .await
            .status,
        201
    );
    let dup = api
        .call(post("/api/orgs", &alice, json!({"name": "U2", "slug": slug})))
        .await;
    assert_eq!((dup.status, dup.error_code().as_str()), (409, "slug_taken"));
    let bad = api
        .call(post("/api/orgs", &alice, json!({"name": "B", "slug": "Not A Slug"})))
        .await;
    assert_eq!((bad.status, bad.error_code().as_str()), (400, "invalid_slug"));
    let anon = api.call(Call::post("/api/orgs").json(&json!({"name": "X"}))).await;
    assert_eq!(anon.status, 401);
    let suggested = api
        .call(post("/api/orgs", &alice, json!({"name": "Suggested Name Co"})))
        .await;
    assert_eq!(suggested.status, 201);
    assert!(
        suggested.json()["org"]["slug"]
            .as_str()
            .unwrap()
            .starts_with("suggested-name-co")
    );
}

#[tokio::test]
async fn org_creation_follows_the_owner_allow_list() {
    let open = Api::new(&[]).await;
    let dev = open.user().await;
    let boss = open.user().await;
    let strict = Api::new(&[("AGNUS_ACCESS_ALLOWED_OWNER_EMAILS", &boss.email)]).await;
    let refused = strict.call(post("/api/orgs", &dev, json!({"name": "Nope"}))).await;
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (403, "org_creation_not_allowed")
    );
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invitation")
    );
    // The listed address counts only once its owner verified it.
    let unverified = strict.call(post("/api/orgs", &boss, json!({"name": "Yes"}))).await;
    assert_eq!(
        (unverified.status, unverified.error_code().as_str()),
        (403, "email_not_verified")
    );
    // Stands for the verification link (the mailed flow is tested in tests/tests/mail/verification.rs).
    let boss_id = user_item(&boss.email).await["user_id"].as_s().unwrap().clone();
    dynamodb()
        .await
        .update_item()
        .table_name(table_name())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{boss_id}")),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()))
        .update_expression("SET email_verified = :t")
        .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();
    assert_eq!(
        strict
            .call(post("/api/orgs", &boss, json!({"name": "Yes"})))
            .await
            .status,
        201
    );
    let root = strict.system_admin().await;
    assert_eq!(
        strict
            .call(post("/api/orgs", &root, json!({"name": "Admin's"})))
            .await
            .status,
        201
    );
}
