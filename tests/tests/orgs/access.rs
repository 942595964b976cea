//! Who may do what in an org: outsiders, sessions, members, admins of another org, renames.

use super::*;

#[tokio::test]
async fn outsiders_get_the_same_404_whether_the_org_exists_or_not() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let mallory = api.user().await;
    for path in ["", "/members", "/audit"] {
        let existing = api
            .call(get(&format!("/api/orgs/{}{path}", alice.slug), &mallory))
            .await;
        let missing = api
            .call(get(&format!("/api/orgs/no-such-org-xyz{path}"), &mallory))
            .await;
        assert_eq!(existing.status, 404, "{path}");
        assert_eq!(existing.body, missing.body, "{path}: existence must not leak");
    }
    let writes = [
        patch(&format!("/api/orgs/{}", alice.slug), &mallory, json!({"name": "pwned"})),
        delete(&format!("/api/orgs/{}", alice.slug), &mallory),
        post(
            &format!("/api/orgs/{}/members", alice.slug),
            &mallory,
            json!({"email": mallory.email, "role": "admin"}),
        ),
        post(
            &format!("/api/orgs/{}/transfer", alice.slug),
            &mallory,
            json!({"userId": mallory.id}),
        ),
        patch(
            &format!("/api/orgs/{}/members/{}", alice.slug, alice.id),
            &mallory,
            json!({"role": "member"}),
        ),
        delete(&format!("/api/orgs/{}/members/{}", alice.slug, alice.id), &mallory),
    ];
    for call in writes {
        let desc = format!("{} {}", call.method, call.path);
        let a = api.call(call).await;
        assert_eq!(a.status, 404, "{desc}");
        assert_eq!(a.error_code(), "org_not_found", "{desc}");
    }
    // Nothing changed.
    let detail = api.call(get(&format!("/api/orgs/{}", alice.slug), &alice)).await.json();
    assert_eq!(detail["org"]["name"], "Test Org");
    assert_eq!(owners(&members(&api, &alice.slug, &alice).await), 1);
}

#[tokio::test]
async fn every_org_route_needs_a_session() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let s = &alice.slug;
    let calls = [
        Call::get("/api/orgs/me"),
        Call::get(&format!("/api/orgs/{s}")),
        Call::new("PATCH", &format!("/api/orgs/{s}")).json(&json!({"name": "x"})),
        Call::new("DELETE", &format!("/api/orgs/{s}")).header("content-type", "application/json"),
        Call::post(&format!("/api/orgs/{s}/restore")).json(&json!({})),
        Call::post(&format!("/api/orgs/{s}/transfer")).json(&json!({"userId": alice.id})),
        Call::get(&format!("/api/orgs/{s}/members")),
        Call::post(&format!("/api/orgs/{s}/members")).json(&json!({"email": alice.email, "role": "member"})),
        Call::new("PATCH", &format!("/api/orgs/{s}/members/{}", alice.id)).json(&json!({"role": "member"})),
        Call::new("DELETE", &format!("/api/orgs/{s}/members/{}", alice.id)).header("content-type", "application/json"),
        Call::post(&format!("/api/orgs/{s}/leave")).json(&json!({})),
        Call::get(&format!("/api/orgs/{s}/audit")),
    ];
    for call in calls {
        let desc = format!("{} {}", call.method, call.path);
        let a = api.call(call).await;
        assert_eq!(a.status, 401, "{desc}");
    }
}

#[tokio::test]
async fn members_cannot_administer() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let member = api.user().await;
    let other = api.user().await;
    api.add_member(&owner, &owner.slug, &member, "member").await;
    let s = &owner.slug;
    let calls = [
        patch(&format!("/api/orgs/{s}"), &member, json!({"name": "mine now"})),
        delete(&format!("/api/orgs/{s}"), &member),
        post(
            &format!("/api/orgs/{s}/members"),
            &member,
            json!({"email": other.email, "role": "member"}),
        ),
        patch(
            &format!("/api/orgs/{s}/members/{}", owner.id),
            &member,
            json!({"role": "member"}),
        ),
        patch(
            &format!("/api/orgs/{s}/members/{}", member.id),
            &member,
            json!({"role": "admin"}),
        ),
        delete(&format!("/api/orgs/{s}/members/{}", owner.id), &member),
        post(
            &format!("/api/orgs/{s}/transfer"),
            &member,
            json!({"userId": member.id}),
        ),
        get(&format!("/api/orgs/{s}/audit"), &member),
    ];
    for call in calls {
        let desc = format!("{} {}", call.method, call.path);
        let a = api.call(call).await;
        assert_eq!(a.status, 403, "{desc}: {:?}", a.json());
    }
    // But a member can read the org and its members.
    assert_eq!(api.call(get(&format!("/api/orgs/{s}"), &member)).await.status, 200);
    assert_eq!(
        role_of(&members(&api, s, &member).await, &member).as_deref(),
        Some("member")
    );
}

#[tokio::test]
async fn rename_keeps_the_slug_and_plan_is_for_system_admins() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let path = format!("/api/orgs/{}", owner.slug);
    let a = api.call(patch(&path, &owner, json!({"name": "Renamed Inc"}))).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["org"]["name"], "Renamed Inc");
    assert_eq!(a.json()["org"]["slug"], owner.slug);
    let slug_change = api.call(patch(&path, &owner, json!({"slug": "new-slug"}))).await;
    assert_eq!(
        (slug_change.status, slug_change.error_code().as_str()),
        (400, "slug_immutable")
    );
    let plan = api.call(patch(&path, &owner, json!({"plan": "enterprise"}))).await;
    assert_eq!((plan.status, plan.error_code().as_str()), (403, "system_admin_only"));
    assert_eq!(
        api.call(patch(&path, &owner, json!({"plan": "gold"})))
            .await
            .error_code(),
        "invalid_plan"
    );
    assert_eq!(api.call(patch(&path, &owner, json!({}))).await.status, 400);

    let root = api.system_admin().await;
    let by_root = api.call(patch(&path, &root, json!({"plan": "team"}))).await;
    assert_eq!(by_root.status, 200, "{:?}", by_root.json());
    assert_eq!(by_root.json()["org"]["plan"], "team");
    // The system admin is not a member, and the change is audited as theirs.
    assert!(role_of(&members(&api, &owner.slug, &owner).await, &root).is_none());
    let audit = api.call(get(&format!("{path}/audit"), &owner)).await.json();
    let event = &audit["events"][0];
    assert_eq!(event["action"], "org.updated");
    assert_eq!(event["actor"]["id"], root.id.as_str());
    assert_eq!(event["viaSystemAdmin"], true);
}

#[tokio::test]
async fn an_admin_of_one_org_has_no_power_in_another() {
    let api = Api::new(&[]).await;
    let a_owner = api.user().await;
    let b_owner = api.user().await;
    let b_member = api.user().await;
    api.add_member(&b_owner, &b_owner.slug, &b_member, "member").await;
    // Org A's owner addresses org B's member through org A's slug: not found there.
    let via_a = api
        .call(delete(
            &format!("/api/orgs/{}/members/{}", a_owner.slug, b_member.id),
            &a_owner,
        ))
        .await;
    assert_eq!((via_a.status, via_a.error_code().as_str()), (404, "member_not_found"));
    let via_b = api
        .call(delete(
            &format!("/api/orgs/{}/members/{}", b_owner.slug, b_member.id),
            &a_owner,
        ))
        .await;
    assert_eq!((via_b.status, via_b.error_code().as_str()), (404, "org_not_found"));
    assert_eq!(
        role_of(&members(&api, &b_owner.slug, &b_owner).await, &b_member).as_deref(),
        Some("member")
    );
}
