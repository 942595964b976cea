//! Black-box tests of the org management function (product §4, §5) against the emulator.

use agnus_tests::*;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

fn get(path: &str, who: &TestUser) -> Call {
    Call::get(path).cookie(&who.cookie)
}
fn post(path: &str, who: &TestUser, body: Value) -> Call {
    Call::post(path).cookie(&who.cookie).json(&body)
}
fn patch(path: &str, who: &TestUser, body: Value) -> Call {
    Call::new("PATCH", path).cookie(&who.cookie).json(&body)
}
fn delete(path: &str, who: &TestUser) -> Call {
    Call::new("DELETE", path)
        .cookie(&who.cookie)
        .header("content-type", "application/json")
}

async fn members(api: &Api, slug: &str, who: &TestUser) -> Vec<Value> {
    let a = api.call(get(&format!("/api/orgs/{slug}/members?limit=100"), who)).await;
    assert_eq!(a.status, 200, "{:?}", a.json());
    a.json()["members"].as_array().unwrap().clone()
}

fn role_of(members: &[Value], user: &TestUser) -> Option<String> {
    members
        .iter()
        .find(|m| m["userId"] == user.id.as_str())
        .map(|m| m["role"].as_str().unwrap().to_owned())
}

fn owners(members: &[Value]) -> usize {
    members.iter().filter(|m| m["role"] == "owner").count()
}

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
    // Stands for the verification link (the mailed flow is tested in tests/tests/mail.rs).
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
async fn system_admin_reads_any_org_and_each_access_is_audited() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let root = api.system_admin().await;
    let a = api.call(get(&format!("/api/orgs/{}", owner.slug), &root)).await;
    assert_eq!(a.status, 200);
    assert!(a.json()["org"]["role"].is_null(), "not a member");
    let audit = api
        .call(get(&format!("/api/orgs/{}/audit", owner.slug), &owner))
        .await
        .json();
    let reads: Vec<&Value> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "system_admin.read")
        .collect();
    assert!(!reads.is_empty());
    assert_eq!(reads[0]["actor"]["email"], root.email.as_str());
    // Not listed among the orgs of the admin, nor as a member.
    let mine = api.call(get("/api/orgs/me", &root)).await.json();
    assert_eq!(mine["orgs"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn membership_management_and_its_invariants() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let admin = api.user().await;
    let member = api.user().await;
    let s = owner.slug.clone();
    api.add_member(&owner, &s, &admin, "admin").await;
    api.add_member(&admin, &s, &member, "member").await;
    let again = api
        .call(post(
            &format!("/api/orgs/{s}/members"),
            &owner,
            json!({"email": member.email, "role": "member"}),
        ))
        .await;
    assert_eq!((again.status, again.error_code().as_str()), (409, "already_member"));
    // Adding someone is an invitation: the same answer whether or not the address has an
    // account (no enumeration), and no membership until they accept (SECURITY #30).
    let outsider = api.user().await;
    let add = |email: String| {
        post(
            &format!("/api/orgs/{s}/members"),
            &owner,
            json!({"email": email, "role": "member"}),
        )
    };
    let known = api.call(add(outsider.email.clone())).await;
    let nobody = api.call(add(unique_email("ghost"))).await;
    assert_eq!((known.status, nobody.status), (201, 201));
    let shape = |a: &agnus_tests::Answer| {
        let mut keys: Vec<String> = a.json()["invite"].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        (keys, a.json().as_object().unwrap().keys().cloned().collect::<Vec<_>>())
    };
    assert_eq!(shape(&known), shape(&nobody));
    let theirs = api.call(get("/api/orgs/me", &outsider)).await.json();
    assert!(
        theirs["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["slug"] != s.as_str()),
        "added without consent: {theirs}"
    );
    // Adding yourself is a clear 409, not a 500.
    let myself = api.call(add(owner.email.clone())).await;
    assert_eq!((myself.status, myself.error_code().as_str()), (409, "already_member"));
    let as_owner = api
        .call(post(
            &format!("/api/orgs/{s}/members"),
            &owner,
            json!({"email": member.email, "role": "owner"}),
        ))
        .await;
    assert_eq!(as_owner.status, 400);

    // The owner cannot be demoted, removed, or leave.
    let demote = api
        .call(patch(
            &format!("/api/orgs/{s}/members/{}", owner.id),
            &admin,
            json!({"role": "member"}),
        ))
        .await;
    assert_eq!((demote.status, demote.error_code().as_str()), (409, "owner_protected"));
    let remove = api
        .call(delete(&format!("/api/orgs/{s}/members/{}", owner.id), &admin))
        .await;
    assert_eq!((remove.status, remove.error_code().as_str()), (409, "owner_protected"));
    let leave = api.call(post(&format!("/api/orgs/{s}/leave"), &owner, json!({}))).await;
    assert_eq!((leave.status, leave.error_code().as_str()), (409, "owner_protected"));
    // Nobody changes their own role.
    let own = api
        .call(patch(
            &format!("/api/orgs/{s}/members/{}", admin.id),
            &admin,
            json!({"role": "member"}),
        ))
        .await;
    assert_eq!(own.status, 403);
    // Unknown member.
    let ghost = api
        .call(patch(
            &format!("/api/orgs/{s}/members/{}", uuid::Uuid::new_v4()),
            &owner,
            json!({"role": "admin"}),
        ))
        .await;
    assert_eq!((ghost.status, ghost.error_code().as_str()), (404, "member_not_found"));

    // Promote, then demote: rights follow at once, with the same cookie.
    assert_eq!(
        api.call(patch(
            &format!("/api/orgs/{s}/members/{}", member.id),
            &owner,
            json!({"role": "admin"})
        ))
        .await
        .status,
        200
    );
    assert_eq!(
        api.call(get(&format!("/api/orgs/{s}/audit"), &member)).await.status,
        200
    );
    assert_eq!(
        api.call(patch(
            &format!("/api/orgs/{s}/members/{}", member.id),
            &owner,
            json!({"role": "member"})
        ))
        .await
        .status,
        200
    );
    assert_eq!(
        api.call(get(&format!("/api/orgs/{s}/audit"), &member)).await.status,
        403,
        "demoted: rights gone"
    );

    // Removal: access gone at once.
    assert_eq!(
        api.call(delete(&format!("/api/orgs/{s}/members/{}", member.id), &admin))
            .await
            .status,
        204
    );
    let gone = api.call(get(&format!("/api/orgs/{s}"), &member)).await;
    assert_eq!(gone.status, 404);
    let mine = api.call(get("/api/orgs/me", &member)).await.json();
    assert!(!mine["orgs"].as_array().unwrap().iter().any(|o| o["slug"] == s.as_str()));

    // Leaving.
    assert_eq!(
        api.call(post(&format!("/api/orgs/{s}/leave"), &admin, json!({})))
            .await
            .status,
        204
    );
    assert_eq!(api.call(get(&format!("/api/orgs/{s}"), &admin)).await.status, 404);
    let list = members(&api, &s, &owner).await;
    assert_eq!(list.len(), 1);
    assert_eq!(owners(&list), 1);

    // The audit log recorded it all, newest first, paginated.
    let page1 = api
        .call(get(&format!("/api/orgs/{s}/audit?limit=3"), &owner))
        .await
        .json();
    let actions: Vec<&str> = page1["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["member.left", "member.removed", "member.role_changed"]);
    let cursor = page1["nextCursor"].as_str().unwrap();
    let page2 = api
        .call(get(&format!("/api/orgs/{s}/audit?limit=100&cursor={cursor}"), &owner))
        .await
        .json();
    let rest: Vec<&str> = page2["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // Members join by accepting an invitation (adding someone invites them).
    assert_eq!(
        rest,
        [
            "member.role_changed",
            "invite.created",
            "invite.created",
            "invite.accepted",
            "invite.created",
            "invite.accepted",
            "invite.created",
            "org.created"
        ]
    );
    let removed = &page1["events"][1];
    assert_eq!(removed["actor"]["id"], admin.id.as_str());
    assert_eq!(removed["target"], member.id.as_str());
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

#[tokio::test]
async fn transfer_moves_ownership_in_one_step() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let heir = api.user().await;
    let stranger = api.user().await;
    let s = owner.slug.clone();
    api.add_member(&owner, &s, &heir, "member").await;
    let not_member = api
        .call(post(
            &format!("/api/orgs/{s}/transfer"),
            &owner,
            json!({"userId": stranger.id}),
        ))
        .await;
    assert_eq!(
        (not_member.status, not_member.error_code().as_str()),
        (404, "member_not_found")
    );
    let bad = api
        .call(post(
            &format!("/api/orgs/{s}/transfer"),
            &owner,
            json!({"userId": "nope"}),
        ))
        .await;
    assert_eq!(bad.status, 400);
    let ok = api
        .call(post(
            &format!("/api/orgs/{s}/transfer"),
            &owner,
            json!({"userId": heir.id}),
        ))
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json());
    let list = members(&api, &s, &owner).await;
    assert_eq!(role_of(&list, &heir).as_deref(), Some("owner"));
    assert_eq!(role_of(&list, &owner).as_deref(), Some("admin"));
    assert_eq!(owners(&list), 1);
    // The old owner's cookie no longer carries owner rights.
    let again = api
        .call(post(
            &format!("/api/orgs/{s}/transfer"),
            &owner,
            json!({"userId": owner.id}),
        ))
        .await;
    assert_eq!(again.status, 403);
    assert_eq!(api.call(delete(&format!("/api/orgs/{s}"), &owner)).await.status, 403);
    // Mirrors follow: "my orgs" shows the new roles.
    let mine = api.call(get("/api/orgs/me", &heir)).await.json();
    let org = mine["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["slug"] == s.as_str())
        .unwrap()
        .clone();
    assert_eq!(org["role"], "owner");
}

/// Races two conflicting operations and checks a consistent state afterwards.
#[tokio::test]
async fn concurrent_transfer_remove_and_leave_keep_exactly_one_owner() {
    let api = Api::new(&[]).await;
    for round in 0..4 {
        let owner = api.user().await;
        let b = api.user().await;
        let c = api.user().await;
        let s = owner.slug.clone();
        api.add_member(&owner, &s, &b, "admin").await;
        api.add_member(&owner, &s, &c, "admin").await;
        let (first, second) = match round % 2 {
            // Transfer to B while C removes B.
            0 => (
                post(&format!("/api/orgs/{s}/transfer"), &owner, json!({"userId": b.id})),
                delete(&format!("/api/orgs/{s}/members/{}", b.id), &c),
            ),
            // Transfer to B while B leaves.
            _ => (
                post(&format!("/api/orgs/{s}/transfer"), &owner, json!({"userId": b.id})),
                post(&format!("/api/orgs/{s}/leave"), &b, json!({})),
            ),
        };
        let (api1, api2) = (api.clone(), api.clone());
        let (r1, r2) = tokio::join!(
            tokio::spawn(async move { api1.call(first).await.status }),
            tokio::spawn(async move { api2.call(second).await.status })
        );
        let (r1, r2) = (r1.unwrap(), r2.unwrap());
        let list = members(&api, &s, &owner).await;
        assert_eq!(owners(&list), 1, "round {round}: {list:?} after {r1}/{r2}");
        match role_of(&list, &b).as_deref() {
            Some("owner") => {
                assert_eq!(r1, 200);
                assert_eq!(role_of(&list, &owner).as_deref(), Some("admin"));
            }
            None => {
                assert_eq!(role_of(&list, &owner).as_deref(), Some("owner"));
                assert!(r2 == 204 && r1 != 200, "round {round}: {r1}/{r2}");
            }
            other => panic!("round {round}: B is {other:?} after {r1}/{r2}"),
        }
    }
    // Two transfers at once from the same owner: one wins.
    let owner = api.user().await;
    let b = api.user().await;
    let c = api.user().await;
    let s = owner.slug.clone();
    api.add_member(&owner, &s, &b, "member").await;
    api.add_member(&owner, &s, &c, "member").await;
    let (api1, api2) = (api.clone(), api.clone());
    let t1 = post(&format!("/api/orgs/{s}/transfer"), &owner, json!({"userId": b.id}));
    let t2 = post(&format!("/api/orgs/{s}/transfer"), &owner, json!({"userId": c.id}));
    let (r1, r2) = tokio::join!(
        tokio::spawn(async move { api1.call(t1).await.status }),
        tokio::spawn(async move { api2.call(t2).await.status })
    );
    let statuses = [r1.unwrap(), r2.unwrap()];
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(owners(&members(&api, &s, &b).await), 1);
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

#[tokio::test]
async fn system_admin_can_delete_and_restore_any_org() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let root = api.system_admin().await;
    let s = owner.slug.clone();
    assert_eq!(api.call(delete(&format!("/api/orgs/{s}"), &root)).await.status, 200);
    assert_eq!(
        api.call(post(&format!("/api/orgs/{s}/restore"), &root, json!({})))
            .await
            .status,
        200
    );
    let audit = api.call(get(&format!("/api/orgs/{s}/audit"), &owner)).await.json();
    let by_root: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["viaSystemAdmin"] == true)
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        by_root.contains(&"org.deleted") && by_root.contains(&"org.restored"),
        "{by_root:?}"
    );
}

#[tokio::test]
async fn review_rules_are_admin_written_member_read_and_org_scoped() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let mallory = api.user().await;
    api.add_member(&alice, &alice.slug, &bob, "member").await;
    let rules = format!("/api/orgs/{}/rules", alice.slug);

    let created = api
        .call(post(
            &rules,
            &alice,
            json!({"name": "Parameterised SQL", "description": "No SQL built by string concatenation.\nUse bind parameters.",
                   "category": "security", "pathGlob": "src/db/**"}),
        ))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let rule = created.json()["rule"].clone();
    let id = rule["id"].as_str().unwrap().to_owned();
    assert_eq!(rule["enabled"], true);
    assert_eq!(rule["pathGlob"], "src/db/**");
    assert_eq!(rule["repoId"], Value::Null);
    assert_eq!(rule["createdBy"], alice.id.as_str());

    // Members read; they cannot write.
    let listed = api.call(get(&rules, &bob)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["rules"][0]["id"], id.as_str());
    let one = format!("{rules}/{id}");
    assert_eq!(api.call(get(&one, &bob)).await.status, 200);
    for call in [
        post(
            &rules,
            &bob,
            json!({"name": "x", "description": "y", "category": "style"}),
        ),
        patch(&one, &bob, json!({"enabled": false})),
        delete(&one, &bob),
    ] {
        let a = api.call(call).await;
        assert_eq!(a.status, 403, "{:?}", a.json());
    }

    // Another org's member sees nothing, with the same 404 as for a missing org.
    for call in [
        get(&rules, &mallory),
        get(&one, &mallory),
        patch(&one, &mallory, json!({"enabled": false})),
    ] {
        let a = api.call(call).await;
        assert_eq!(a.status, 404);
        assert_eq!(a.error_code(), "org_not_found");
    }
    // An id from another org is not found in one's own.
    let other = api
        .call(get(&format!("/api/orgs/{}/rules/{id}", mallory.slug), &mallory))
        .await;
    assert_eq!(other.status, 404);
    assert_eq!(other.error_code(), "rule_not_found");

    // Validation: clear 4xx, nothing written.
    for (body, code) in [
        (
            json!({"name": "n", "description": "d", "category": "sql"}),
            "invalid_category",
        ),
        (
            json!({"name": "n", "description": "x".repeat(2001), "category": "style"}),
            "invalid_description",
        ),
        (
            json!({"name": "n", "description": "hidden\u{202e}text", "category": "style"}),
            "invalid_description",
        ),
        (
            json!({"name": "n", "description": "d", "category": "style", "pathGlob": "/abs"}),
            "invalid_path_glob",
        ),
        (json!({"description": "d", "category": "style"}), "missing_field"),
        (
            json!({"name": "n", "description": "d", "category": "style", "owner": "me"}),
            "unknown_field",
        ),
    ] {
        let a = api.call(post(&rules, &alice, body)).await;
        assert_eq!(a.status, 400, "{:?}", a.json());
        assert_eq!(a.error_code(), code);
    }
    let a = api
        .call(post(
            &rules,
            &alice,
            json!({"name": "n", "description": "d", "category": "style", "repoId": "0123456789abcdef0123456789abcdef"}),
        ))
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.error_code(), "repo_not_found");

    // Disable, edit, delete — each audited.
    let disabled = api.call(patch(&one, &alice, json!({"enabled": false}))).await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.json()["rule"]["enabled"], false);
    assert_eq!(
        disabled.json()["rule"]["pathGlob"],
        "src/db/**",
        "untouched fields stay"
    );
    let edited = api
        .call(patch(
            &one,
            &alice,
            json!({"pathGlob": null, "category": "correctness"}),
        ))
        .await;
    assert_eq!(edited.json()["rule"]["pathGlob"], Value::Null);
    assert_eq!(edited.json()["rule"]["category"], "correctness");
    assert_eq!(api.call(delete(&one, &alice)).await.status, 204);
    assert_eq!(api.call(get(&one, &alice)).await.status, 404);
    assert_eq!(api.call(delete(&one, &alice)).await.status, 404);
    let actions = api.audit_actions(&alice.slug, &alice).await;
    for action in ["rule.created", "rule.disabled", "rule.updated", "rule.deleted"] {
        assert!(actions.iter().any(|a| a == action), "{action} missing from {actions:?}");
    }
}

#[tokio::test]
async fn the_rule_limit_is_enforced_in_the_write() {
    let api = Api::new(&[("AGNUS_RULES_PER_ORG", "2")]).await;
    let alice = api.user().await;
    let rules = format!("/api/orgs/{}/rules", alice.slug);
    let body = json!({"name": "n", "description": "d", "category": "style"});
    let first = api.call(post(&rules, &alice, body.clone())).await;
    assert_eq!(first.status, 201);
    assert_eq!(api.call(post(&rules, &alice, body.clone())).await.status, 201);
    let third = api.call(post(&rules, &alice, body.clone())).await;
    assert_eq!(third.status, 409);
    assert_eq!(third.error_code(), "too_many_rules");
    // Deleting one frees its place.
    let id = first.json()["rule"]["id"].as_str().unwrap().to_owned();
    assert_eq!(api.call(delete(&format!("{rules}/{id}"), &alice)).await.status, 204);
    assert_eq!(api.call(post(&rules, &alice, body)).await.status, 201);
    assert_eq!(
        api.call(get(&rules, &alice)).await.json()["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn review_settings_are_admin_written_layered_and_validated() {
    let api = Api::new(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let mallory = api.user().await;
    api.add_member(&alice, &alice.slug, &bob, "member").await;
    let path = format!("/api/orgs/{}/review-settings", alice.slug);

    let empty = api.call(get(&path, &bob)).await;
    assert_eq!(empty.status, 200);
    assert_eq!(
        empty.json()["settings"],
        json!({}),
        "nothing set: the system's defaults apply"
    );

    let set = api
        .call(patch(
            &path,
            &alice,
            json!({"maxComments": 10, "depth": "deep", "ignoredPaths": ["docs/**", "**/*.lock"], "skipDrafts": false, "mention": "@reviewbot"}),
        ))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.json());
    let read = api.call(get(&path, &bob)).await.json()["settings"].clone();
    assert_eq!(read["maxComments"], 10);
    assert_eq!(read["depth"], "deep");
    assert_eq!(read["ignoredPaths"], json!(["docs/**", "**/*.lock"]));
    assert_eq!(read["skipDrafts"], false);
    assert_eq!(read["mention"], "@reviewbot");

    // null clears one field; the others stay.
    api.call(patch(&path, &alice, json!({"maxComments": null}))).await;
    let read = api.call(get(&path, &alice)).await.json()["settings"].clone();
    assert!(read.get("maxComments").is_none(), "{read}");
    assert_eq!(read["depth"], "deep");

    // Members read only; other orgs see nothing; bad values are 400 and change nothing.
    assert_eq!(api.call(patch(&path, &bob, json!({"depth": "fast"}))).await.status, 403);
    let outside = api.call(get(&path, &mallory)).await;
    assert_eq!((outside.status, outside.error_code().as_str()), (404, "org_not_found"));
    for bad in [
        json!({"maxComments": 0}),
        json!({"depth": "bottomless"}),
        json!({"colour": "blue"}),
    ] {
        assert_eq!(api.call(patch(&path, &alice, bad)).await.status, 400);
    }
    assert_eq!(api.call(get(&path, &alice)).await.json()["settings"]["depth"], "deep");

    // A repository override needs a repository of this org.
    let unknown = api
        .call(patch(
            &format!("{path}/0123456789abcdef0123456789abcdef"),
            &alice,
            json!({"depth": "fast"}),
        ))
        .await;
    assert_eq!((unknown.status, unknown.error_code().as_str()), (404, "repo_not_found"));
    let actions = api.audit_actions(&alice.slug, &alice).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "review_settings.updated").count(),
        2,
        "{actions:?}"
    );
}

#[tokio::test]
async fn system_admins_list_every_org_with_search_and_pages() {
    let api = Api::new(&[]).await;
    let root = api.system_admin().await;
    let owner = api.user().await;
    let tag = unique_slug("every");
    // Found by name only: the slug does not contain it.
    let marker = format!("Named{}", &unique_slug("x")[2..]);
    for (slug, name) in [
        (format!("{tag}-one"), marker.as_str()),
        (format!("{tag}-two"), "Listed Two"),
    ] {
        let made = api
            .call(post("/api/orgs", &owner, json!({"name": name, "slug": slug})))
            .await;
        assert_eq!(made.status, 201, "{:?}", made.json());
    }
    // Deleted orgs are listed too (with their purge date), for a restore.
    let gone = api
        .call(Call::new("DELETE", &format!("/api/orgs/{tag}-two")).cookie(&owner.cookie))
        .await;
    assert_eq!(gone.status, 200, "{:?}", gone.json());

    let list = |query: String| api.call(get(&format!("/api/admin/orgs{query}"), &root));
    let all = list(format!("?q={tag}")).await;
    assert_eq!(all.status, 200, "{:?}", all.json());
    let slugs: Vec<String> = all.json()["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slugs.len(), 2, "{slugs:?}");
    assert!(slugs.contains(&format!("{tag}-one")) && slugs.contains(&format!("{tag}-two")));
    let deleted = all.json()["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["slug"] == format!("{tag}-two").as_str())
        .unwrap()
        .clone();
    assert!(deleted["purgeAfter"].as_i64().is_some(), "{deleted}");
    assert!(deleted["role"].is_null(), "the admin is no member");

    // One at a time: the cursor leads to the other, then to nothing more.
    let first = list(format!("?q={tag}&limit=1")).await.json();
    assert_eq!(first["orgs"].as_array().unwrap().len(), 1);
    let cursor = first["nextCursor"].as_str().expect("a next page").to_owned();
    let second = list(format!("?q={tag}&limit=1&cursor={cursor}")).await.json();
    assert_eq!(second["orgs"].as_array().unwrap().len(), 1);
    assert_ne!(first["orgs"][0]["slug"], second["orgs"][0]["slug"]);
    if let Some(c) = second["nextCursor"].as_str() {
        let third = list(format!("?q={tag}&limit=1&cursor={c}")).await.json();
        assert!(third["orgs"].as_array().unwrap().is_empty());
    }
    assert_eq!(list("?cursor=%21%21".into()).await.status, 400, "a bad cursor");
    // Search by name too.
    let by_name = list(format!("?q={marker}")).await.json();
    assert_eq!(by_name["orgs"].as_array().unwrap().len(), 1, "{by_name}");
    assert_eq!(by_name["orgs"][0]["slug"], format!("{tag}-one").as_str());

    // Not for members, owners or API keys.
    let refused = api.call(get("/api/admin/orgs", &owner)).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), "system_admin_required");
    assert_eq!(api.call(Call::get("/api/admin/orgs")).await.status, 401);
}
