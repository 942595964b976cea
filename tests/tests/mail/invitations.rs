//! Invitation mail: its link previews the invitation, accepting never verifies an address (a
//! new account gets a verification mail, as at signup), a failed send keeps the invitation.

use super::*;

#[tokio::test]
async fn invitation_mail_reaches_the_invitee_and_its_link_previews_the_invite() {
    let api = mail_api(&[]).await;
    let owner = api.user().await;
    let invitee = unique_email("invitee");
    let created = api
        .call(post(
            &format!("/api/orgs/{}/invites", owner.slug),
            Some(&owner.cookie),
            json!({"email": invitee, "role": "admin"}),
        ))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    assert_eq!(created.json()["mailSent"], true);
    assert_eq!(created.json()["invite"]["mailStatus"], "sent");

    let mails = inbox(&invitee).await;
    assert_eq!(mails.len(), 1, "one invitation mail to the invitee");
    assert!(mails[0].subject.contains("Join Test Org"), "{}", mails[0].subject);
    assert!(mails[0].from.contains("noreply@agnus.local"));
    let token = token_in(&mails[0], "invite");
    let preview = api.call(Call::get(&format!("/api/invites/{token}"))).await;
    assert_eq!(preview.status, 200);
    assert_eq!(preview.json()["email"], invitee.as_str());
    assert_eq!(preview.json()["orgSlug"], owner.slug.as_str());
    assert_eq!(preview.json()["role"], "admin");

    let listed = api
        .call(Call::get(&format!("/api/orgs/{}/invites", owner.slug)).cookie(&owner.cookie))
        .await
        .json();
    assert_eq!(listed["invites"][0]["mailStatus"], "sent");

    // A resend mails a new link; the old one stops working.
    let id = created.json()["invite"]["id"].as_str().unwrap().to_owned();
    let resent = api
        .call(post(
            &format!("/api/orgs/{}/invites/{id}/resend", owner.slug),
            Some(&owner.cookie),
            json!({}),
        ))
        .await;
    assert_eq!(resent.status, 200);
    assert_eq!(resent.json()["mailSent"], true);
    let mails = inbox(&invitee).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].subject.starts_with("Reminder"));
    let new_token = token_in(&mails[1], "invite");
    assert_ne!(new_token, token);
    assert_eq!(api.call(Call::get(&format!("/api/invites/{token}"))).await.status, 410);

    // Accepting with a new account: the accept link also reached the admin, so it proves
    // nothing about the address; the new account gets a verification mail, as at signup.
    let accepted = api
        .call(post(
            "/api/auth/accept-invite",
            None,
            json!({"token": new_token, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.json());
    assert_eq!(accepted.json()["emailVerification"]["mailStatus"], "sent");
    let cookie = accepted.session_cookie().unwrap();
    let who = me(&api, &cookie).await.json();
    assert_eq!(who["user"]["emailVerified"], false);
    assert_eq!(who["orgs"][0]["slug"], owner.slug.as_str());
    assert_eq!(verify_address(&api, &invitee).await.status, 200);
    assert_eq!(me(&api, &cookie).await.json()["user"]["emailVerified"], true);
}

#[tokio::test]
async fn accepting_with_an_existing_account_leaves_its_address_unverified() {
    let api = mail_api(&[]).await;
    let owner = api.user().await;
    let member = api.user().await;
    assert_eq!(me(&api, &member.cookie).await.json()["user"]["emailVerified"], false);
    let created = api
        .call(post(
            &format!("/api/orgs/{}/invites", owner.slug),
            Some(&owner.cookie),
            json!({"email": member.email, "role": "member"}),
        ))
        .await;
    assert_eq!(created.status, 201);
    let mail = inbox(&member.email)
        .await
        .into_iter()
        .find(|m| m.subject.contains("Join"))
        .unwrap();
    let accepted = api
        .call(post(
            "/api/auth/accept-invite",
            Some(&member.cookie),
            json!({"token": token_in(&mail, "invite")}),
        ))
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.json());
    assert_eq!(me(&api, &member.cookie).await.json()["user"]["emailVerified"], false);
    assert_eq!(user_item(&member.email).await["email_verified"].as_bool(), Ok(&false));
}

#[tokio::test]
async fn an_invitation_never_verifies_an_address_its_invitee_has_not_proved() {
    // An admin invites an address whose inbox they do not have, takes the accept link from
    // the answer and accepts it with a password of their choosing.
    let allow = [("AGNUS_ACCESS_ALLOWED_DOMAINS", "example.com")];
    let api = mail_api(&allow).await;
    let admin = api.user().await;
    let ceo = unique_email("ceo");
    let created = api
        .call(post(
            &format!("/api/orgs/{}/invites", admin.slug),
            Some(&admin.cookie),
            json!({"email": ceo, "role": "member"}),
        ))
        .await;
    assert_eq!(created.status, 201);
    let url = created.json()["acceptUrl"].as_str().unwrap().to_owned();
    let accepted = api
        .call(post(
            "/api/auth/accept-invite",
            None,
            json!({"token": url.rsplit('/').next().unwrap(), "password": PASSWORD}),
        ))
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.json());
    let cookie = accepted.session_cookie().unwrap();
    assert_eq!(me(&api, &cookie).await.json()["user"]["emailVerified"], false);
    assert_eq!(user_item(&ceo).await["email_verified"].as_bool(), Ok(&false));

    // The verified-address rules hold: no org under the allow list…
    let refused = api
        .call(post("/api/orgs", Some(&cookie), json!({"name": "Squat"})))
        .await;
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (403, "email_not_verified")
    );
    // …and no system admin from an `ADMIN_EMAIL` seed naming that address.
    let seeded = mail_api(&[
        allow[0],
        ("ADMIN_EMAIL", &ceo),
        ("ADMIN_PASSWORD", "the operator's password"),
    ])
    .await;
    agnus_auth::bootstrap_admin(&seeded.auth).await.unwrap();
    assert_eq!(me(&seeded, &cookie).await.json()["user"]["isSystemAdmin"], false);

    // The address's owner, with the mail sent only to it, verifies it (and is the admin).
    let verified = verify_address(&seeded, &ceo).await;
    assert_eq!(verified.status, 200);
    assert_eq!(verified.json()["user"]["isSystemAdmin"], true);
}

#[tokio::test]
async fn a_failed_send_keeps_the_invitation_and_says_resend() {
    // The emulator's SES, like SES, refuses a sender that is not a verified identity.
    let api = mail_api_from(&[], Some("unverified@nowhere.example")).await;
    let owner = api.user().await;
    assert!(inbox(&owner.email).await.is_empty(), "the verification mail failed too");
    assert_eq!(
        api.call(post("/api/auth/resend-verification", Some(&owner.cookie), json!({})))
            .await
            .json()["mailStatus"],
        "failed"
    );
    let invitee = unique_email("unsent");
    let created = api
        .call(post(
            &format!("/api/orgs/{}/invites", owner.slug),
            Some(&owner.cookie),
            json!({"email": invitee, "role": "member"}),
        ))
        .await;
    assert_eq!(created.status, 201, "the invitation exists although the mail failed");
    assert_eq!(created.json()["mailSent"], false);
    assert_eq!(created.json()["invite"]["mailStatus"], "failed");
    let listed = api
        .call(Call::get(&format!("/api/orgs/{}/invites", owner.slug)).cookie(&owner.cookie))
        .await
        .json();
    assert_eq!(listed["invites"][0]["email"], invitee.as_str());
    assert_eq!(listed["invites"][0]["mailStatus"], "failed");
    assert!(inbox(&invitee).await.is_empty());
    // The admin's link still works.
    let url = created.json()["acceptUrl"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap();
    assert_eq!(api.call(Call::get(&format!("/api/invites/{token}"))).await.status, 200);
}
