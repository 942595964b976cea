//! The access policy at signup and login; the system admin bootstrap.

use super::*;

#[tokio::test]
async fn access_policy_applies_at_signup_and_login() {
    let domain = format!("{}.example.org", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let owner = format!("boss@{domain}");
    let open = auth_state(&[]).await;
    // An account in a domain that later becomes disallowed.
    let outsider = unique_email("out");
    assert_eq!(
        call_auth(
            &open,
            Call::post("/api/auth/signup").json(&json!({"email": outsider, "password": PASSWORD, "orgName": "Out"}))
        )
        .await
        .status,
        201
    );

    let strict = auth_state(&[
        ("AGNUS_ACCESS_ALLOWED_DOMAINS", &domain),
        ("AGNUS_ACCESS_ALLOWED_OWNER_EMAILS", &owner),
        ("AGNUS_ACCESS_BLOCKED_EMAILS", &format!("mallory@{domain}")),
    ])
    .await;
    let signup_as = |email: String| {
        Call::post("/api/auth/signup").json(&json!({"email": email, "password": PASSWORD, "orgName": "P"}))
    };
    let a = call_auth(&strict, signup_as(format!("dev@{domain}"))).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.error_code(), "org_creation_not_allowed");
    assert!(a.json()["error"]["message"].as_str().unwrap().contains("invitation"));
    let b = call_auth(&strict, signup_as(unique_email("elsewhere"))).await;
    assert_eq!(b.status, 403);
    assert_eq!(b.error_code(), "domain_not_allowed");
    let c = call_auth(&strict, signup_as(format!("mallory@{domain}"))).await;
    assert_eq!(c.error_code(), "access_blocked");
    assert_eq!(call_auth(&strict, signup_as(owner.to_uppercase())).await.status, 201);
    let d = call_auth(
        &strict,
        Call::post("/api/auth/login").json(&json!({"email": outsider, "password": PASSWORD})),
    )
    .await;
    assert_eq!(d.status, 403);
    assert_eq!(d.error_code(), "domain_not_allowed");
}

#[tokio::test]
async fn system_admin_bootstrap_is_idempotent() {
    let email = unique_email("root");
    let state = auth_state(&[("ADMIN_EMAIL", &email), ("ADMIN_PASSWORD", "admin password 123")]).await;
    agnus_auth::bootstrap_admin(&state).await.unwrap();
    agnus_auth::bootstrap_admin(&state).await.unwrap();
    let again = auth_state(&[("ADMIN_EMAIL", &email), ("ADMIN_PASSWORD", "a different password")]).await;
    agnus_auth::bootstrap_admin(&again).await.unwrap();
    assert_eq!(items_with_email(&email).await, 2, "one user item and one email claim");
    let a = call_auth(
        &state,
        Call::post("/api/auth/login").json(&json!({"email": email, "password": "admin password 123"})),
    )
    .await;
    assert_eq!(a.status, 200, "the original password still works");
    assert_eq!(a.json()["user"]["isSystemAdmin"], true);
    assert_eq!(a.json()["orgs"].as_array().unwrap().len(), 0, "not a member of any org");

    // An existing ordinary account named as admin is NOT promoted while its address is
    // unverified (whoever registers ADMIN_EMAIL first must not become system admin);
    // tests/tests/mail/verification.rs shows it is promoted once its owner verifies the address.
    let (user_email, password, _, _) = signup(&state).await;
    let promote = auth_state(&[("ADMIN_EMAIL", &user_email), ("ADMIN_PASSWORD", "ignored password 1")]).await;
    agnus_auth::bootstrap_admin(&promote).await.unwrap();
    let b = call_auth(
        &promote,
        Call::post("/api/auth/login").json(&json!({"email": user_email, "password": password})),
    )
    .await;
    assert_eq!(b.status, 200, "its own password still works");
    assert_eq!(b.json()["user"]["isSystemAdmin"], false);
    assert_eq!(b.json()["user"]["emailVerified"], false);
}
