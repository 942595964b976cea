//! Soft delete, restore and the purge that erases an org.

use super::*;

async fn org_id(api: &Api, slug: &str, who: &TestUser) -> String {
    api.call(get(&format!("/api/orgs/{slug}"), who)).await.json()["org"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn items_in_partition(pk: &str) -> usize {
    let ddb = dynamodb().await;
    ddb.query()
        .table_name(table_name())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .count() as usize
}

#[tokio::test]
async fn delete_hides_the_org_restore_brings_it_back_and_purge_erases_it() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let admin = api.user().await;
    let s = owner.slug.clone();
    api.add_member(&owner, &s, &admin, "admin").await;
    let id = org_id(&api, &s, &owner).await;
    assert_eq!(
        api.call(delete(&format!("/api/orgs/{s}"), &admin)).await.status,
        403,
        "admins cannot delete"
    );

    let del = api.call(delete(&format!("/api/orgs/{s}"), &owner)).await;
    assert_eq!(del.status, 200);
    assert!(del.json()["org"]["purgeAfter"].as_i64().unwrap() > 0);
    // Members (owner included) lose access at once; the org leaves "my orgs".
    for who in [&owner, &admin] {
        assert_eq!(api.call(get(&format!("/api/orgs/{s}"), who)).await.status, 404);
        let mine = api.call(get("/api/orgs/me", who)).await.json();
        assert!(!mine["orgs"].as_array().unwrap().iter().any(|o| o["slug"] == s.as_str()));
    }
    // Only the owner restores.
    let by_admin = api
        .call(post(&format!("/api/orgs/{s}/restore"), &admin, json!({})))
        .await;
    assert_eq!(by_admin.status, 404);
    let restored = api
        .call(post(&format!("/api/orgs/{s}/restore"), &owner, json!({})))
        .await;
    assert_eq!(restored.status, 200, "{:?}", restored.json());
    assert!(restored.json()["org"]["deletedAt"].is_null());
    assert_eq!(members(&api, &s, &admin).await.len(), 2, "everything is back");
    let not_deleted = api
        .call(post(&format!("/api/orgs/{s}/restore"), &owner, json!({})))
        .await;
    assert_eq!(not_deleted.status, 409);

    // Delete again; purge before the grace period ends does nothing, after it erases all.
    assert_eq!(api.call(delete(&format!("/api/orgs/{s}"), &owner)).await.status, 200);
    let store = &api.orgs.store;
    let now = api.clock.now_secs();
    agnus_purge::run(store, now).await.unwrap();
    assert!(
        items_in_partition(&format!("ORG#{id}")).await > 0,
        "grace period not over yet"
    );
    let grace = api.orgs.config.delete_grace.as_secs() as i64;
    let report = agnus_purge::run(store, now + grace + 1).await.unwrap();
    assert!(report.orgs >= 1);
    assert_eq!(
        items_in_partition(&format!("ORG#{id}")).await,
        0,
        "no item of the org remains"
    );
    assert_eq!(items_in_partition(&format!("SLUG#{s}")).await, 0, "slug claim released");
    let ddb = dynamodb().await;
    let mirror = ddb
        .get_item()
        .table_name(table_name())
        .key("pk", AttributeValue::S(format!("USER#{}", admin.id)))
        .key("sk", AttributeValue::S(format!("ORG#{id}")))
        .send()
        .await
        .unwrap();
    assert!(mirror.item.is_none(), "membership mirrors removed");
    // Past the grace period a restore is refused, and the slug can be reused.
    assert_eq!(
        api.call(post(&format!("/api/orgs/{s}/restore"), &owner, json!({})))
            .await
            .status,
        404
    );
    assert_eq!(
        api.call(post("/api/orgs", &admin, json!({"name": "Reborn", "slug": s})))
            .await
            .status,
        201
    );
}
