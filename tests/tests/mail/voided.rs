//! A password reset and "log out everywhere" void every mailed link issued before them:
//! an address change asked for by someone holding a session, a verification link, a reset
//! link (SECURITY #41).

use super::*;

/// The token of the newest mail to `to` whose subject contains `subject`.
async fn newest_link(to: &str, subject: &str, page: &str) -> String {
    let mails = inbox(to).await;
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.subject.contains(subject))
        .unwrap_or_else(|| panic!("no {subject:?} mail to {to}"));
    token_in(mail, page)
}

#[tokio::test]
async fn a_password_reset_voids_an_address_change_asked_for_before_it() {
    let api = mail_api(&[]).await;
    let victim = api.user().await;
    // Someone with the password and a session asks to move the account to their address.
    let thief = unique_email("thief");
    let asked = api
        .call(post(
            "/api/auth/change-email",
            Some(&victim.cookie),
            json!({"newEmail": thief, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(asked.status, 202, "{:?}", asked.json());
    let stolen_link = newest_link(&thief, "new email address", "verify-email").await;

    // The owner recovers the account with a reset.
    let reset = api
        .call(post("/api/auth/password-reset", None, json!({"email": victim.email})))
        .await;
    assert_eq!(reset.status, 202);
    let reset_link = newest_link(&victim.email, "Reset", "reset-password").await;
    let new_password = "the owner's brand new password";
    let confirmed = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": reset_link, "password": new_password}),
        ))
        .await;
    assert_eq!(confirmed.status, 200, "{:?}", confirmed.json());

    // The link asked for before the reset moves nothing.
    let used = api
        .call(post("/api/auth/verify-email", None, json!({"token": stolen_link})))
        .await;
    assert_eq!(
        (used.status, used.error_code().as_str()),
        (410, "token_gone"),
        "{:?}",
        used.json()
    );
    let login = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": victim.email, "password": new_password}),
        ))
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.json()["user"]["email"], victim.email.as_str());
    assert_eq!(user_item(&victim.email).await["email"].as_s().unwrap(), &victim.email);
    let thief_login = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": thief, "password": new_password}),
        ))
        .await;
    assert_eq!(thief_login.status, 401);
}

#[tokio::test]
async fn logging_out_everywhere_voids_every_pending_link() {
    let api = mail_api(&[]).await;
    let user = api.user().await;
    let verification = newest_link(&user.email, "Verify", "verify-email").await;
    let moved = format!("moved-{}", user.email);
    let asked = api
        .call(post(
            "/api/auth/change-email",
            Some(&user.cookie),
            json!({"newEmail": moved, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(asked.status, 202);
    let change = newest_link(&moved, "new email address", "verify-email").await;
    let asked = api
        .call(post("/api/auth/password-reset", None, json!({"email": user.email})))
        .await;
    assert_eq!(asked.status, 202);
    let reset = newest_link(&user.email, "Reset", "reset-password").await;

    let out = api
        .call(post("/api/auth/logout-all", Some(&user.cookie), json!({})))
        .await;
    assert!(out.status < 300, "{:?}", out.json());

    for (what, call) in [
        (
            "verification",
            post("/api/auth/verify-email", None, json!({"token": verification})),
        ),
        (
            "address change",
            post("/api/auth/verify-email", None, json!({"token": change})),
        ),
        (
            "reset",
            post(
                "/api/auth/password-reset/confirm",
                None,
                json!({"token": reset, "password": "a password nobody asked for"}),
            ),
        ),
    ] {
        let used = api.call(call).await;
        assert_eq!(
            (used.status, used.error_code().as_str()),
            (410, "token_gone"),
            "the {what} link was issued before logging out everywhere: {:?}",
            used.json()
        );
    }
    let item = user_item(&user.email).await;
    assert_eq!(item["email"].as_s().unwrap(), &user.email);
    assert_eq!(item["email_verified"].as_bool().unwrap(), &false);

    // A link issued afterwards works.
    let user = api.log_in_again(user).await;
    let resent = api
        .call(post("/api/auth/resend-verification", Some(&user.cookie), json!({})))
        .await;
    assert_eq!(resent.status, 202);
    assert_eq!(verify(&api, &user).await.status, 200);
}
