//! No mail token or password in any log line.

use super::*;

#[tokio::test]
async fn captured_logs_hold_no_token() {
    let (logs, _guard) = CapturedLogs::install();

    let api = mail_api(&[]).await;
    let failing = mail_api_from(&[], Some("unverified@nowhere.example")).await;
    let owner = api.user().await;
    let invitee = unique_email("logged");
    let sent = api
        .call(post(
            &format!("/api/orgs/{}/invites", owner.slug),
            Some(&owner.cookie),
            json!({"email": invitee, "role": "member"}),
        ))
        .await;
    assert_eq!(sent.json()["mailSent"], true);
    let unsent = failing
        .call(post(
            &format!("/api/orgs/{}/invites", owner.slug),
            Some(&owner.cookie),
            json!({"email": unique_email("unsent"), "role": "member"}),
        ))
        .await;
    assert_eq!(unsent.json()["mailSent"], false);
    assert_eq!(
        api.call(post("/api/auth/password-reset", None, json!({"email": owner.email})))
            .await
            .status,
        202
    );
    let owner_mail = inbox(&owner.email).await;
    let verify_token = token_in(
        owner_mail.iter().find(|m| m.subject.contains("Verify")).unwrap(),
        "verify-email",
    );
    let reset_token = token_in(
        owner_mail.iter().find(|m| m.subject.contains("Reset")).unwrap(),
        "reset-password",
    );
    let invite_token = token_in(&inbox(&invitee).await[0], "invite");
    let unsent_token = unsent.json()["acceptUrl"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.call(post("/api/auth/verify-email", None, json!({"token": verify_token})))
            .await
            .status,
        200
    );
    let reset = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": reset_token, "password": "a brand new long password"}),
        ))
        .await;
    assert_eq!(reset.status, 200);
    assert_eq!(
        api.call(post(
            "/api/auth/accept-invite",
            None,
            json!({"token": invite_token, "password": PASSWORD})
        ))
        .await
        .status,
        201
    );

    let text = logs.text();
    assert!(text.contains("mail sent"), "logs were captured");
    assert!(text.contains("mail not sent"), "the failure was logged");
    for (what, token) in [
        ("verification token", &verify_token),
        ("reset token", &reset_token),
        ("invitation token", &invite_token),
        ("unsent invitation token", &unsent_token),
    ] {
        assert_eq!(token.len(), 43, "{what} is a 256-bit token");
        assert!(!text.contains(token.as_str()), "the {what} appears in the logs");
    }
    assert!(
        !text.contains("a brand new long password"),
        "a password appears in the logs"
    );
}
