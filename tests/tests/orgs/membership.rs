//! Managing members and their invariants; ownership transfer, also concurrent with removal.

use super::*;

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
