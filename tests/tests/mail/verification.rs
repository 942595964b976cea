//! Verified addresses: the verification link, its rate limit, what waits for a verified address
//! (admin promotion, allow lists), and an address change.

use super::*;

#[tokio::test]
async fn the_verification_link_verifies_the_address_once() {
    let api = mail_api(&[]).await;
    let user = api.user().await;
    assert_eq!(me(&api, &user.cookie).await.json()["user"]["emailVerified"], false);
    let mails = inbox(&user.email).await;
    assert_eq!(mails.len(), 1, "signup sends one verification mail");
    let token = token_in(&mails[0], "verify-email");
    // `agnus mail` shows the link.
    let listing = agnus_cli::mail::render(&mails, 5, Some(&user.email));
    assert!(listing.contains(&format!("{APP}/verify-email/{token}")), "{listing}");

    let verified = api
        .call(post("/api/auth/verify-email", None, json!({"token": token})))
        .await;
    assert_eq!(verified.status, 200, "{:?}", verified.json());
    assert_eq!(verified.json()["user"]["emailVerified"], true);
    assert_eq!(verified.json()["user"]["email"], user.email.as_str());
    assert_eq!(me(&api, &user.cookie).await.json()["user"]["emailVerified"], true);

    let again = api
        .call(post("/api/auth/verify-email", None, json!({"token": token})))
        .await;
    assert_eq!((again.status, again.error_code().as_str()), (410, "token_gone"));
    let unknown = api
        .call(post("/api/auth/verify-email", None, json!({"token": "never-issued"})))
        .await;
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (404, "token_not_found")
    );
    let empty = api
        .call(post("/api/auth/verify-email", None, json!({"token": ""})))
        .await;
    assert_eq!(empty.status, 400);
    // A verification token is not a reset token.
    let wrong = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": "another long password"}),
        ))
        .await;
    assert_eq!(wrong.status, 404);
}

#[tokio::test]
async fn resending_the_verification_is_rate_limited() {
    let api = mail_api(&[("AGNUS_VERIFY_RESEND_PER_HOUR", "2")]).await;
    let user = api.user().await;
    let resend = || post("/api/auth/resend-verification", Some(&user.cookie), json!({}));
    for _ in 0..2 {
        let a = api.call(resend()).await;
        assert_eq!(a.status, 202);
        assert_eq!(a.json()["mailStatus"], "sent");
    }
    let limited = api.call(resend()).await;
    assert_eq!(limited.status, 429);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(inbox(&user.email).await.len(), 3, "signup + two resends");
    let anonymous = api.call(post("/api/auth/resend-verification", None, json!({}))).await;
    assert_eq!(anonymous.status, 401);
    // Any of the links verifies; afterwards there is nothing to resend.
    assert_eq!(verify(&api, &user).await.status, 200);
    let done = api.call(resend()).await;
    assert_eq!((done.status, done.error_code().as_str()), (409, "already_verified"));
}

#[tokio::test]
async fn an_unverified_admin_email_account_is_not_promoted_until_verified() {
    let api = mail_api(&[]).await;
    let squatter = api.user().await;
    let seeded = mail_api(&[
        ("ADMIN_EMAIL", &squatter.email),
        ("ADMIN_PASSWORD", "the operator's password"),
    ])
    .await;
    agnus_auth::bootstrap_admin(&seeded.auth).await.unwrap();
    let who = me(&seeded, &squatter.cookie).await.json();
    assert_eq!(
        who["user"]["isSystemAdmin"], false,
        "registered first, but not verified"
    );
    // The operator's password was not set on the account either.
    let login = seeded
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": squatter.email, "password": "the operator's password"}),
        ))
        .await;
    assert_eq!(login.status, 401);

    // Once the address's owner verifies it, the account is the admin.
    let verified = verify(&seeded, &squatter).await;
    assert_eq!(verified.status, 200);
    assert_eq!(verified.json()["user"]["isSystemAdmin"], true);
    assert_eq!(
        me(&seeded, &squatter.cookie).await.json()["user"]["isSystemAdmin"],
        true
    );
    agnus_auth::bootstrap_admin(&seeded.auth).await.unwrap();
    assert_eq!(
        me(&seeded, &squatter.cookie).await.json()["user"]["isSystemAdmin"],
        true
    );
}

#[tokio::test]
async fn allow_lists_count_an_address_only_once_verified() {
    let strict = mail_api(&[("AGNUS_ACCESS_ALLOWED_DOMAINS", "example.com")]).await;
    // Signing up with an allowed address works (its own first org), unverified.
    let user = strict.user().await;
    let refused = strict
        .call(post("/api/orgs", Some(&user.cookie), json!({"name": "Second"})))
        .await;
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (403, "email_not_verified")
    );
    // Its own org stays usable meanwhile.
    let own = strict
        .call(Call::get(&format!("/api/orgs/{}", user.slug)).cookie(&user.cookie))
        .await;
    assert_eq!(own.status, 200);
    assert_eq!(verify(&strict, &user).await.status, 200);
    let allowed = strict
        .call(post("/api/orgs", Some(&user.cookie), json!({"name": "Second"})))
        .await;
    assert_eq!(allowed.status, 201, "{:?}", allowed.json());
}

#[tokio::test]
async fn an_address_change_waits_for_the_new_address_then_moves_everything() {
    let api = mail_api(&[]).await;
    let user = api.user().await;
    let other = api.user().await;
    let new_email = format!("moved-{}", user.email);
    let change = |body: Value| post("/api/auth/change-email", Some(&user.cookie), body);

    // The password proves the person; nothing is sent without it.
    let wrong = api
        .call(change(
            json!({"newEmail": new_email, "password": "not my password at all"}),
        ))
        .await;
    assert_eq!((wrong.status, wrong.error_code().as_str()), (403, "wrong_password"));
    assert!(inbox(&new_email).await.is_empty());
    let same = api
        .call(change(json!({"newEmail": user.email, "password": PASSWORD})))
        .await;
    assert_eq!(same.status, 400);
    let anonymous = api
        .call(post(
            "/api/auth/change-email",
            None,
            json!({"newEmail": new_email, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(anonymous.status, 401);

    let asked = api
        .call(change(json!({"newEmail": new_email, "password": PASSWORD})))
        .await;
    assert_eq!(asked.status, 202, "{:?}", asked.json());
    // Until the link is used, nothing changed.
    assert_eq!(
        me(&api, &user.cookie).await.json()["user"]["email"],
        user.email.as_str()
    );
    let mails = inbox(&new_email).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("new email address"), "{}", mails[0].subject);
    let token = token_in(&mails[0], "verify-email");

    let used = api
        .call(post("/api/auth/verify-email", None, json!({"token": token})))
        .await;
    assert_eq!(used.status, 200, "{:?}", used.json());
    assert_eq!(used.json()["user"]["email"], new_email.as_str());
    assert_eq!(used.json()["user"]["emailVerified"], true);
    // The old address is told; the member list shows the new address; login follows.
    let notices = inbox(&user.email).await;
    assert!(
        notices.iter().any(|m| m.subject.contains("address was changed")),
        "{notices:?}"
    );
    let members = api
        .call(Call::get(&format!("/api/orgs/{}/members", user.slug)).cookie(&user.cookie))
        .await
        .json();
    assert_eq!(members["members"][0]["email"], new_email.as_str());
    let old_login = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": user.email, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(old_login.status, 401);
    let new_login = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": new_email, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(new_login.status, 200);
    // The freed address can sign up again; a used link is gone.
    let again = api
        .call(post("/api/auth/verify-email", None, json!({"token": token})))
        .await;
    assert_eq!(again.status, 410);

    // A link to an address another account took meanwhile changes nothing.
    let grab = api
        .call(post(
            "/api/auth/change-email",
            Some(&other.cookie),
            json!({"newEmail": format!("late-{}", other.email), "password": PASSWORD}),
        ))
        .await;
    assert_eq!(grab.status, 202);
    let late = format!("late-{}", other.email);
    let link = token_in(&inbox(&late).await[0], "verify-email");
    let squatter = api
        .call(post(
            "/api/auth/signup",
            None,
            json!({"email": late, "password": PASSWORD, "orgName": "Squat"}),
        ))
        .await;
    assert_eq!(squatter.status, 201);
    let refused = api
        .call(post("/api/auth/verify-email", None, json!({"token": link})))
        .await;
    assert_eq!((refused.status, refused.error_code().as_str()), (409, "email_taken"));
    assert_eq!(
        me(&api, &other.cookie).await.json()["user"]["email"],
        other.email.as_str()
    );
}
