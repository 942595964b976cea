//! API keys: bound to one org and role, revocable, stored only hashed, following their maker.

use super::*;

#[tokio::test]
async fn api_keys_are_bound_to_one_org_and_role_and_die_on_revocation() {
    let (api, _queue, _esm) = setup(&[]).await;
    let alice = api.user().await;
    let bob = api.user().await;
    let create = |role: &str| {
        Call::post(&format!("/api/orgs/{}/api-keys", alice.slug))
            .cookie(&alice.cookie)
            .json(&json!({"name": format!("ci {role}"), "role": role}))
    };
    let admin_key = api.call(create("admin")).await;
    assert_eq!(admin_key.status, 201, "{:?}", admin_key.json());
    let key = admin_key.json()["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("agn_"));
    let key_id = admin_key.json()["apiKey"]["id"].as_str().unwrap().to_owned();
    let member_key = api.call(create("member")).await.json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = |k: &str| format!("Bearer {k}");

    // Works on org-scoped routes, without a cookie.
    let repos = api
        .call(Call::get("/api/repos").header("authorization", &bearer(&key)))
        .await;
    assert_eq!(repos.status, 200);
    let members = api
        .call(Call::get(&format!("/api/orgs/{}/members", alice.slug)).header("authorization", &bearer(&key)))
        .await;
    assert_eq!(members.status, 200);
    let keyed_repo = unique_repo();
    review::shared_standin()
        .grant("github", &keyed_repo, "ghp_keyed", "write")
        .await;
    let connected = api
        .call(
            Call::post("/api/repos")
                .header("authorization", &bearer(&key))
                .json(&json!({"provider":"github","fullName": keyed_repo, "token": "ghp_keyed"})),
        )
        .await;
    assert_eq!(connected.status, 201, "admin key administers");
    // Org A's key on org B's routes.
    let foreign = api
        .call(Call::get(&format!("/api/orgs/{}/members", bob.slug)).header("authorization", &bearer(&key)))
        .await;
    assert_eq!(foreign.status, 404);
    let foreign_repos = api
        .call(
            Call::get("/api/repos")
                .header("authorization", &bearer(&key))
                .header("x-org-slug", &bob.slug),
        )
        .await;
    assert_eq!(foreign_repos.status, 404);
    // A member-role key cannot do admin actions.
    let as_member = api
        .call(
            Call::post("/api/repos")
                .header("authorization", &bearer(&member_key))
                .json(&json!({"provider":"github","fullName": unique_repo()})),
        )
        .await;
    assert_eq!(as_member.status, 403);
    let invite = api
        .call(
            Call::post(&format!("/api/orgs/{}/api-keys", alice.slug))
                .header("authorization", &bearer(&member_key))
                .json(&json!({"name":"x","role":"admin"})),
        )
        .await;
    assert_eq!(invite.status, 403);
    // Keys are not for account routes.
    assert_eq!(
        api.call(Call::get("/api/orgs/me").header("authorization", &bearer(&key)))
            .await
            .status,
        403
    );
    // A typo in the key is a 401 before any lookup; so is an unknown one.
    let mut typo = key.clone();
    typo.replace_range(10..11, if &key[10..11] == "a" { "b" } else { "a" });
    assert_eq!(
        api.call(Call::get("/api/repos").header("authorization", &bearer(&typo)))
            .await
            .status,
        401
    );

    // Listing shows previews and last use, never the key.
    let list = api
        .call(Call::get(&format!("/api/orgs/{}/api-keys", alice.slug)).cookie(&alice.cookie))
        .await;
    let text = String::from_utf8_lossy(&list.body).to_string();
    assert!(!text.contains(&key));
    let listed = list.json()["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .unwrap()
        .clone();
    assert!(listed["lastUsedAt"].as_i64().is_some());
    assert_eq!(listed["preview"], format!("agn_…{}", &key[key.len() - 4..]));

    // Revocation takes effect on the very next request.
    let revoke = Call::new("DELETE", &format!("/api/orgs/{}/api-keys/{key_id}", alice.slug))
        .cookie(&alice.cookie)
        .header("content-type", "application/json");
    assert_eq!(api.call(revoke).await.status, 204);
    assert_eq!(
        api.call(Call::get("/api/repos").header("authorization", &bearer(&key)))
            .await
            .status,
        401
    );
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
    assert!(
        actions.contains(&"api_key.created") && actions.contains(&"api_key.revoked"),
        "{actions:?}"
    );
    let by_key = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "repo.connected")
        .unwrap()
        .clone();
    assert_eq!(by_key["actor"]["type"], "api_key");
}

#[tokio::test]
async fn repo_tokens_and_api_keys_exist_only_sealed_or_hashed() {
    let (api, _queue, _esm) = setup(&[]).await;
    let alice = api.user().await;
    let token = format!("ghp_{}", uuid::Uuid::new_v4().simple());
    assert_eq!(connect(&api, &alice, &unique_repo(), Some(&token)).await.status, 201);
    let key = api
        .call(
            Call::post(&format!("/api/orgs/{}/api-keys", alice.slug))
                .cookie(&alice.cookie)
                .json(&json!({"name":"k","role":"member"})),
        )
        .await
        .json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let dump = format!("{:?}", scan_all().await);
    assert!(!dump.contains(&token), "repo token in plaintext");
    assert!(!dump.contains(&key), "API key in plaintext");
}

/// SECURITY #28: a key never outlives its maker's rights, and keys never manage keys,
/// members or invitations (those need a person's session).
#[tokio::test]
async fn keys_follow_their_maker_and_never_manage_people_or_keys() {
    let (api, _queue, _esm) = setup(&[]).await;
    let owner = api.user().await;
    let admin = api.user().await;
    let other = api.user().await;
    let s = owner.slug.clone();
    api.add_member(&owner, &s, &admin, "admin").await;
    let bearer = |k: &str| format!("Bearer {k}");
    let make_key = |who: &TestUser, role: &str| {
        Call::post(&format!("/api/orgs/{s}/api-keys"))
            .cookie(&who.cookie)
            .json(&json!({"name": format!("made by {}", who.email), "role": role}))
    };
    let made = api.call(make_key(&admin, "admin")).await;
    assert_eq!(made.status, 201, "{:?}", made.json());
    let key = made.json()["key"].as_str().unwrap().to_owned();
    let as_key = |call: Call| call.header("authorization", &bearer(&key));

    // Keys cannot mint keys, revoke keys, invite, add, change or remove members.
    let refused = [
        as_key(Call::post(&format!("/api/orgs/{s}/api-keys")).json(&json!({"name":"child","role":"admin"}))),
        as_key(Call::get(&format!("/api/orgs/{s}/api-keys"))),
        as_key(Call::new(
            "DELETE",
            &format!(
                "/api/orgs/{s}/api-keys/{}",
                made.json()["apiKey"]["id"].as_str().unwrap()
            ),
        )),
        as_key(Call::post(&format!("/api/orgs/{s}/invites")).json(&json!({"email": other.email, "role": "admin"}))),
        as_key(Call::post(&format!("/api/orgs/{s}/members")).json(&json!({"email": other.email, "role": "admin"}))),
        as_key(Call::new("PATCH", &format!("/api/orgs/{s}/members/{}", admin.id)).json(&json!({"role": "member"}))),
        as_key(Call::new("DELETE", &format!("/api/orgs/{s}/members/{}", admin.id))),
        as_key(Call::post(&format!("/api/orgs/{s}/transfer")).json(&json!({"userId": admin.id}))),
    ];
    for call in refused {
        let desc = format!("{} {}", call.method, call.path);
        let a = api.call(call).await;
        assert_eq!((a.status, a.error_code().as_str()), (403, "session_required"), "{desc}");
    }
    // It still reads what an admin key may read.
    assert_eq!(
        api.call(as_key(Call::get(&format!("/api/orgs/{s}/audit"))))
            .await
            .status,
        200
    );

    // Demoting the maker reduces the key to member rights, in the same transaction.
    let demote = api
        .call(
            Call::new("PATCH", &format!("/api/orgs/{s}/members/{}", admin.id))
                .cookie(&owner.cookie)
                .json(&json!({"role": "member"})),
        )
        .await;
    assert_eq!(demote.status, 200, "{:?}", demote.json());
    assert_eq!(
        api.call(as_key(Call::get(&format!("/api/orgs/{s}/audit"))))
            .await
            .status,
        403
    );
    assert_eq!(
        api.call(as_key(Call::get("/api/repos"))).await.status,
        200,
        "still a member key"
    );

    // Removing the maker revokes the key at once.
    let remove = api
        .call(
            Call::new("DELETE", &format!("/api/orgs/{s}/members/{}", admin.id))
                .cookie(&owner.cookie)
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(remove.status, 204, "{:?}", String::from_utf8_lossy(&remove.body));
    assert_eq!(api.call(as_key(Call::get("/api/repos"))).await.status, 401);
    let listed = api
        .call(Call::get(&format!("/api/orgs/{s}/api-keys")).cookie(&owner.cookie))
        .await
        .json();
    assert!(listed["apiKeys"].as_array().unwrap().is_empty(), "{listed}");

    // A key the owner made survives other people's removal, and a body-less DELETE with a
    // cookie needs no content type.
    let owner_key = api.call(make_key(&owner, "member")).await.json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    api.add_member(&owner, &s, &other, "admin").await;
    let remove_other = api
        .call(Call::new("DELETE", &format!("/api/orgs/{s}/members/{}", other.id)).cookie(&owner.cookie))
        .await;
    assert_eq!(remove_other.status, 204);
    assert_eq!(
        api.call(Call::get("/api/repos").header("authorization", &bearer(&owner_key)))
            .await
            .status,
        200
    );
}
