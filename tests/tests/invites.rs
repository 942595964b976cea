//! Black-box tests of org-scoped invitations (product §6, SECURITY 24) against the emulator.

use agnus_tests::*;
use serde_json::{Value, json};

fn token_of(answer: &Answer) -> String {
    let url = answer.json()["acceptUrl"].as_str().expect("acceptUrl").to_owned();
    url.rsplit('/').next().unwrap().to_owned()
}

async fn invite(api: &Api, admin: &TestUser, slug: &str, email: &str, role: &str) -> Answer {
    api.call(
        Call::post(&format!("/api/orgs/{slug}/invites"))
            .cookie(&admin.cookie)
            .json(&json!({"email": email, "role": role})),
    )
    .await
}

fn accept(token: &str, password: Option<&str>) -> Call {
    let mut body = json!({"token": token});
    if let Some(p) = password {
        body["password"] = Value::from(p);
    }
    Call::post("/api/auth/accept-invite").json(&body)
}

async fn role_in(api: &Api, slug: &str, owner: &TestUser, email: &str) -> Option<String> {
    let list = api
        .call(Call::get(&format!("/api/orgs/{slug}/members?limit=100")).cookie(&owner.cookie))
        .await
        .json();
    list["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .map(|m| m["role"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn invite_then_accept_as_a_new_user() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let email = unique_email("Newbie");
    let a = invite(&api, &owner, &owner.slug, &email.to_uppercase(), "admin").await;
    assert_eq!(a.status, 201, "{:?}", a.json());
    assert_eq!(a.json()["invite"]["email"], email.to_lowercase());
    let token = token_of(&a);
    assert!(token.len() >= 43, "256-bit token, base64url");

    let preview = api.call(Call::get(&format!("/api/invites/{token}"))).await;
    assert_eq!(preview.status, 200);
    assert_eq!(preview.json()["orgSlug"], owner.slug);
    assert_eq!(preview.json()["role"], "admin");
    assert_eq!(preview.json()["invitedBy"], owner.email);

    let missing_password = api.call(accept(&token, None)).await;
    assert_eq!(missing_password.error_code(), "password_required");
    let accepted = api.call(accept(&token, Some("a brand new password"))).await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.json());
    assert_eq!(
        accepted.json()["user"]["email"],
        email.to_lowercase(),
        "account gets the invited email"
    );
    let cookie = accepted.session_cookie().expect("logged in");
    let me = api.call(Call::get("/api/auth/me").cookie(&cookie)).await.json();
    assert_eq!(me["orgs"][0]["slug"], owner.slug);
    assert_eq!(me["orgs"][0]["role"], "admin");
    assert_eq!(
        role_in(&api, &owner.slug, &owner, &email.to_lowercase())
            .await
            .as_deref(),
        Some("admin")
    );

    // Second use of the token: gone.
    let again = api.call(accept(&token, Some("a brand new password"))).await;
    assert_eq!((again.status, again.error_code().as_str()), (410, "invite_gone"));
    assert_eq!(api.call(Call::get(&format!("/api/invites/{token}"))).await.status, 410);
    assert_eq!(api.call(Call::get("/api/invites/not-a-real-token")).await.status, 404);
}

#[tokio::test]
async fn invite_then_accept_as_an_existing_logged_in_user() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let bob = api.user().await;
    let a = invite(&api, &owner, &owner.slug, &bob.email, "member").await;
    let token = token_of(&a);
    // Not logged in while the account exists: log in first.
    let anon = api.call(accept(&token, Some("whatever password"))).await;
    assert_eq!((anon.status, anon.error_code().as_str()), (409, "account_exists"));
    // Logged in as someone else: refused with guidance.
    let carol = api.user().await;
    let wrong = api.call(accept(&token, None).cookie(&carol.cookie)).await;
    assert_eq!(
        (wrong.status, wrong.error_code().as_str()),
        (403, "invite_email_mismatch")
    );
    assert!(
        wrong.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another email")
    );
    // Bob himself.
    let ok = api.call(accept(&token, None).cookie(&bob.cookie)).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json());
    let mine = api.call(Call::get("/api/orgs/me").cookie(&bob.cookie)).await.json();
    assert_eq!(mine["orgs"].as_array().unwrap().len(), 2);
    assert_eq!(
        role_in(&api, &owner.slug, &owner, &bob.email).await.as_deref(),
        Some("member")
    );
    // Inviting a member again is a conflict and changes nothing.
    let dup = invite(&api, &owner, &owner.slug, &bob.email, "admin").await;
    assert_eq!((dup.status, dup.error_code().as_str()), (409, "already_member"));
}

#[tokio::test]
async fn accepting_when_already_a_member_is_409_and_changes_nothing() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let bob = api.user().await;
    let token = token_of(&invite(&api, &owner, &owner.slug, &bob.email, "admin").await);
    api.add_member(&owner, &owner.slug, &bob, "member").await;
    let a = api.call(accept(&token, None).cookie(&bob.cookie)).await;
    assert_eq!((a.status, a.error_code().as_str()), (409, "already_member"));
    assert_eq!(
        role_in(&api, &owner.slug, &owner, &bob.email).await.as_deref(),
        Some("member")
    );
    // The token was not consumed by the failed attempt.
    assert_eq!(api.call(Call::get(&format!("/api/invites/{token}"))).await.status, 200);
}

#[tokio::test]
async fn revoked_resent_and_expired_tokens_are_gone() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let first = invite(&api, &owner, &owner.slug, &unique_email("rev"), "member").await;
    let id = first.json()["invite"]["id"].as_str().unwrap().to_owned();
    let token = token_of(&first);
    let revoke = Call::new("DELETE", &format!("/api/orgs/{}/invites/{id}", owner.slug))
        .cookie(&owner.cookie)
        .header("content-type", "application/json");
    assert_eq!(api.call(revoke.clone()).await.status, 204);
    assert_eq!(
        api.call(accept(&token, Some("some password 123"))).await.status,
        410,
        "revoked"
    );
    assert_eq!(api.call(revoke).await.status, 410, "revoking twice");

    let second = invite(&api, &owner, &owner.slug, &unique_email("resend"), "member").await;
    let id = second.json()["invite"]["id"].as_str().unwrap().to_owned();
    let old_token = token_of(&second);
    let resent = api
        .call(
            Call::post(&format!("/api/orgs/{}/invites/{id}/resend", owner.slug))
                .cookie(&owner.cookie)
                .json(&json!({})),
        )
        .await;
    assert_eq!(resent.status, 200);
    let new_token = token_of(&resent);
    assert_ne!(new_token, old_token);
    assert!(
        resent.json()["invite"]["expiresAt"].as_i64().unwrap()
            >= second.json()["invite"]["expiresAt"].as_i64().unwrap()
    );
    assert_eq!(
        api.call(accept(&old_token, Some("some password 123"))).await.status,
        410,
        "old token dies"
    );
    assert_eq!(
        api.call(accept(&new_token, Some("some password 123"))).await.status,
        201
    );

    // Expired: move the invitation's deadline into the past (7 days, checked on read).
    let third = invite(&api, &owner, &owner.slug, &unique_email("exp"), "member").await;
    let id = third.json()["invite"]["id"].as_str().unwrap().to_owned();
    let token = token_of(&third);
    // A week and a minute later (the owner's 12-hour session has ended too).
    api.clock.advance(std::time::Duration::from_secs(7 * 86_400 + 60));
    let owner = api.log_in_again(owner).await;
    assert_eq!(api.call(Call::get(&format!("/api/invites/{token}"))).await.status, 410);
    assert_eq!(api.call(accept(&token, Some("some password 123"))).await.status, 410);
    let pending = api
        .call(Call::get(&format!("/api/orgs/{}/invites", owner.slug)).cookie(&owner.cookie))
        .await
        .json();
    assert!(
        pending["invites"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != id.as_str()),
        "expired not pending"
    );
}

#[tokio::test]
async fn rights_are_checked_for_the_org_in_the_path() {
    let api = Api::new(&[]).await;
    let a_owner = api.user().await;
    let b_owner = api.user().await;
    let member = api.user().await;
    api.add_member(&a_owner, &a_owner.slug, &member, "member").await;
    let b_invite = invite(&api, &b_owner, &b_owner.slug, &unique_email("b"), "member").await;
    let b_id = b_invite.json()["invite"]["id"].as_str().unwrap().to_owned();
    let s = &b_owner.slug;
    // The admin of org A, against org B, whatever the body says.
    let calls = [
        Call::post(&format!("/api/orgs/{s}/invites"))
            .cookie(&a_owner.cookie)
            .json(&json!({"email": unique_email("x"), "role": "admin", "orgSlug": a_owner.slug})),
        Call::get(&format!("/api/orgs/{s}/invites")).cookie(&a_owner.cookie),
        Call::new("DELETE", &format!("/api/orgs/{s}/invites/{b_id}"))
            .cookie(&a_owner.cookie)
            .header("content-type", "application/json"),
        Call::post(&format!("/api/orgs/{s}/invites/{b_id}/resend"))
            .cookie(&a_owner.cookie)
            .json(&json!({})),
    ];
    for call in calls {
        let desc = format!("{} {}", call.method, call.path);
        let a = api.call(call).await;
        assert!(a.status == 403 || a.status == 404, "{desc}: {}", a.status);
    }
    // B's invitation is addressed through A's slug: not found there.
    let cross = Call::new("DELETE", &format!("/api/orgs/{}/invites/{b_id}", a_owner.slug))
        .cookie(&a_owner.cookie)
        .header("content-type", "application/json");
    assert_eq!(api.call(cross).await.status, 404);
    // A member (not admin) cannot invite.
    let by_member = invite(&api, &member, &a_owner.slug, &unique_email("m"), "member").await;
    assert_eq!(by_member.status, 403);
    assert_eq!(
        api.call(Call::get(&format!("/api/orgs/{}/invites", a_owner.slug)).cookie(&member.cookie))
            .await
            .status,
        403
    );
    // B's invitation is untouched and still accepts into B only.
    let token = token_of(&b_invite);
    let joined = api.call(accept(&token, Some("password for b org"))).await;
    assert_eq!(joined.status, 201);
    assert_eq!(joined.json()["org"]["slug"], b_owner.slug);
}

#[tokio::test]
async fn fifty_first_invite_of_the_day_is_429() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    for i in 0..50 {
        let a = invite(&api, &owner, &owner.slug, &unique_email(&format!("q{i}")), "member").await;
        assert_eq!(a.status, 201, "invite {i}");
    }
    let a = invite(&api, &owner, &owner.slug, &unique_email("q51"), "member").await;
    assert_eq!(a.status, 429);
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry));
    // Another org's quota is its own.
    let other = api.user().await;
    assert_eq!(
        invite(&api, &other, &other.slug, &unique_email("o"), "member")
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn two_concurrent_accepts_of_one_token_make_one_membership() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let email = unique_email("race");
    let token = token_of(&invite(&api, &owner, &owner.slug, &email, "member").await);
    let (a1, a2) = (api.clone(), api.clone());
    let (t1, t2) = (token.clone(), token.clone());
    let (r1, r2) = tokio::join!(
        tokio::spawn(async move { a1.call(accept(&t1, Some("first password 123"))).await.status }),
        tokio::spawn(async move { a2.call(accept(&t2, Some("second password 123"))).await.status })
    );
    let statuses = [r1.unwrap(), r2.unwrap()];
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    let list = api
        .call(Call::get(&format!("/api/orgs/{}/members?limit=100", owner.slug)).cookie(&owner.cookie))
        .await
        .json();
    let joined = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["email"] == email.as_str())
        .count();
    assert_eq!(joined, 1);
}

#[tokio::test]
async fn access_policy_applies_at_acceptance() {
    let open = Api::new(&[]).await;
    let owner = open.user().await;
    let token = token_of(&invite(&open, &owner, &owner.slug, &unique_email("outside"), "member").await);
    let strict = Api::new(&[("AGNUS_ACCESS_ALLOWED_DOMAINS", "corp.example.net")]).await;
    let a = strict.call(accept(&token, Some("password 1234567"))).await;
    assert_eq!((a.status, a.error_code().as_str()), (403, "domain_not_allowed"));
    let blocked = Api::new(&[("AGNUS_ACCESS_BLOCKED_DOMAINS", "example.com")]).await;
    assert_eq!(
        blocked
            .call(accept(&token, Some("password 1234567")))
            .await
            .error_code(),
        "access_blocked"
    );
    // Still usable where the policy allows it.
    assert_eq!(open.call(accept(&token, Some("password 1234567"))).await.status, 201);
}

#[tokio::test]
async fn no_raw_token_is_stored_and_every_action_is_audited() {
    let api = Api::new(&[]).await;
    let owner = api.user().await;
    let first = invite(&api, &owner, &owner.slug, &unique_email("dump"), "member").await;
    let token = token_of(&first);
    let id = first.json()["invite"]["id"].as_str().unwrap().to_owned();
    let resent = api
        .call(
            Call::post(&format!("/api/orgs/{}/invites/{id}/resend", owner.slug))
                .cookie(&owner.cookie)
                .json(&json!({})),
        )
        .await;
    let new_token = token_of(&resent);
    let dump = format!("{:?}", scan_all().await);
    assert!(
        !dump.contains(&token) && !dump.contains(&new_token),
        "raw invite token in the table"
    );
    assert_eq!(api.call(accept(&new_token, Some("password 1234567"))).await.status, 201);
    let audit = api
        .call(Call::get(&format!("/api/orgs/{}/audit", owner.slug)).cookie(&owner.cookie))
        .await
        .json();
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["invite.created", "invite.resent", "invite.accepted"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
}
