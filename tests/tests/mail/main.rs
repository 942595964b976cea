//! Outgoing mail and verified addresses, against the emulator: the functions send through
//! SESv2 (moto), and the tests read what was sent from the emulator's state dump
//! (`/moto-api/data.json`, the same reader as `agnus mail`), then follow the links.
//! Membership changes (joined, removed, ownership transferred) mail the people concerned.

use std::io::Write;
use std::sync::{Arc, Mutex};

use agnus_auth::AuthState;
use agnus_cli::mail::SentMail;
use agnus_invites::InvitesState;
use agnus_orgs::OrgsState;
use agnus_shared::config::{AuthConfig, InvitesConfig, OrgsConfig};
use agnus_shared::email::EmailSender;
use agnus_tests::*;
use serde_json::{Value, json};

const APP: &str = "http://console.test";
const PASSWORD: &str = "correct horse battery staple";

/// The API with auth and invites sending mail through the emulator's SES from `from`
/// (`None`: the provisioned, verified identity).
async fn mail_api_from(overrides: &[(&str, &str)], from: Option<&str>) -> Api {
    let mut all = vec![("AGNUS_APP_BASE_URL", APP)];
    all.extend_from_slice(overrides);
    let mut api = Api::new(&all).await;
    let env = env_map(&all);
    let sdk = sdk().await;
    let from = from.map_or_else(|| env["AGNUS_MAIL_FROM"].clone(), str::to_owned);
    let mailer: Arc<dyn EmailSender> = agnus_shared::email::sender(&sdk, Some(&from));
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    api.auth = Arc::new(
        AuthState::new(
            AuthConfig::from_source(&env).unwrap(),
            ddb.clone(),
            aws_sdk_kms::Client::new(&sdk),
        )
        .with_mailer(Arc::clone(&mailer)),
    );
    api.invites = Arc::new(InvitesState::new(
        InvitesConfig::from_source(&env).unwrap(),
        ddb.clone(),
        Arc::clone(&mailer),
    ));
    api.orgs = Arc::new(
        OrgsState::new(
            OrgsConfig::from_source(&env).unwrap(),
            ddb,
            aws_sdk_kms::Client::new(&sdk),
        )
        .with_mailer(mailer),
    );
    api
}

async fn mail_api(overrides: &[(&str, &str)]) -> Api {
    mail_api_from(overrides, None).await
}

/// Every message the emulator's SES accepted for `to`, oldest first.
async fn inbox(to: &str) -> Vec<SentMail> {
    agnus_cli::mail::sent(&endpoint())
        .await
        .expect("the emulator's mailbox")
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .collect()
}

/// The token of the `{APP}/{page}/{token}` link in a message.
fn token_in(mail: &SentMail, page: &str) -> String {
    let prefix = format!("{APP}/{page}/");
    mail.links
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {page} link in {:?}", mail.links))
        .to_owned()
}

fn post(path: &str, cookie: Option<&str>, body: Value) -> Call {
    let call = Call::post(path).json(&body);
    match cookie {
        Some(c) => call.cookie(c),
        None => call,
    }
}

async fn me(api: &Api, cookie: &str) -> Answer {
    api.call(Call::get("/api/auth/me").cookie(cookie)).await
}

async fn verify(api: &Api, user: &TestUser) -> Answer {
    let mails = inbox(&user.email).await;
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.subject.contains("Verify"))
        .expect("a verification mail");
    api.call(post(
        "/api/auth/verify-email",
        None,
        json!({"token": token_in(mail, "verify-email")}),
    ))
    .await
}

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

    // Accepting with a new account: the invitee proved the address by receiving the link.
    let accepted = api
        .call(post(
            "/api/auth/accept-invite",
            None,
            json!({"token": new_token, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.json());
    let who = me(&api, &accepted.session_cookie().unwrap()).await.json();
    assert_eq!(who["user"]["emailVerified"], true);
    assert_eq!(who["orgs"][0]["slug"], owner.slug.as_str());
}

#[tokio::test]
async fn accepting_with_an_existing_account_verifies_its_address() {
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
    assert_eq!(me(&api, &member.cookie).await.json()["user"]["emailVerified"], true);
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
async fn a_password_reset_ends_every_session() {
    let api = mail_api(&[]).await;
    let user = api.user().await;
    let second = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": user.email, "password": user.password}),
        ))
        .await
        .session_cookie()
        .unwrap();
    let asked = api
        .call(post("/api/auth/password-reset", None, json!({"email": user.email})))
        .await;
    let nobody = unique_email("nobody");
    let asked_for_nobody = api
        .call(post("/api/auth/password-reset", None, json!({"email": nobody})))
        .await;
    assert_eq!((asked.status, asked_for_nobody.status), (202, 202));
    assert_eq!(
        asked.body, asked_for_nobody.body,
        "same answer whether or not the account exists"
    );
    assert!(inbox(&nobody).await.is_empty());
    let mail = inbox(&user.email)
        .await
        .into_iter()
        .find(|m| m.subject.contains("Reset"))
        .expect("a reset mail");
    let token = token_in(&mail, "reset-password");

    let short = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": "short"}),
        ))
        .await;
    assert_eq!(short.status, 400, "password rules apply; the token is not spent");
    let new_password = "a brand new long password";
    let reset = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": new_password}),
        ))
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json());
    assert_eq!(
        reset.json()["user"]["emailVerified"],
        true,
        "the link reached the address"
    );
    assert!(reset.set_cookie().unwrap().contains("Max-Age=0"));
    for cookie in [&user.cookie, &second] {
        assert_eq!(me(&api, cookie).await.status, 401, "every session ended");
    }
    let old = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": user.email, "password": user.password}),
        ))
        .await;
    assert_eq!(old.status, 401);
    let new = api
        .call(post(
            "/api/auth/login",
            None,
            json!({"email": user.email, "password": new_password}),
        ))
        .await;
    assert_eq!(new.status, 200);
    let reused = api
        .call(post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": "yet another long password"}),
        ))
        .await;
    assert_eq!((reused.status, reused.error_code().as_str()), (410, "token_gone"));
}

#[tokio::test]
async fn a_reset_kills_the_other_reset_links() {
    let api = mail_api(&[]).await;
    let user = api.user().await;
    for _ in 0..2 {
        let a = api
            .call(post("/api/auth/password-reset", None, json!({"email": user.email})))
            .await;
        assert_eq!(a.status, 202);
    }
    let tokens: Vec<String> = inbox(&user.email)
        .await
        .iter()
        .filter(|m| m.subject.contains("Reset"))
        .map(|m| token_in(m, "reset-password"))
        .collect();
    assert_eq!(tokens.len(), 2);
    let confirm = |t: &str| {
        post(
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": t, "password": "a brand new long password"}),
        )
    };
    assert_eq!(api.call(confirm(&tokens[1])).await.status, 200);
    assert_eq!(
        api.call(confirm(&tokens[0])).await.status,
        410,
        "issued before the reset"
    );
}

#[tokio::test]
async fn reset_requests_are_limited_per_address_and_per_ip() {
    let api = mail_api(&[
        ("AGNUS_PASSWORD_RESET_PER_EMAIL", "2"),
        ("AGNUS_PASSWORD_RESET_PER_IP", "3"),
    ])
    .await;
    let user = api.user().await;
    let ip = random_ip();
    let ask = |ip: &str| post("/api/auth/password-reset", None, json!({"email": user.email})).from_ip(ip);
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let a = api.call(ask(&ip)).await;
        assert_eq!(a.status, 202);
        bodies.push(a.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "the answer never changes");
    let limited = api.call(ask(&ip)).await;
    assert_eq!(limited.status, 429, "per source IP");
    assert!(limited.headers.contains_key("retry-after"));
    // From elsewhere: still 202, but the address gets no more than its limit.
    assert_eq!(api.call(ask(&random_ip())).await.status, 202);
    let resets = inbox(&user.email)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Reset"))
        .count();
    assert_eq!(resets, 2, "per address");
    let invalid = api
        .call(post("/api/auth/password-reset", None, json!({"email": "not an email"})))
        .await;
    assert_eq!(invalid.status, 400);
}

/// Collects log output for inspection.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn captured_logs_hold_no_token() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,aws_smithy_runtime=info,aws_smithy_runtime_api=info,hyper=info,aws_config=info",
        ))
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
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

/// The one message to `to` whose subject contains `subject`.
async fn the_mail(to: &str, subject: &str) -> SentMail {
    let found: Vec<SentMail> = inbox(to)
        .await
        .into_iter()
        .filter(|m| m.subject.contains(subject))
        .collect();
    assert_eq!(found.len(), 1, "one \"{subject}\" mail to {to}: {found:?}");
    found.into_iter().next().unwrap()
}

/// `member` joins `owner`'s org as `role` by accepting an invitation with their session.
async fn join(api: &Api, owner: &TestUser, member: &TestUser, role: &str) {
    api.add_member(owner, &owner.slug, member, role).await;
}

#[tokio::test]
async fn joining_mails_the_new_member_you_were_added() {
    let api = mail_api(&[]).await;
    let owner = api.user().await;
    // A new account, by the link in the invitation mail.
    let newcomer = unique_email("newcomer");
    let created = api
        .call(post(
            &format!("/api/orgs/{}/invites", owner.slug),
            Some(&owner.cookie),
            json!({"email": newcomer, "role": "admin"}),
        ))
        .await;
    assert_eq!(created.status, 201);
    assert!(
        inbox(&newcomer).await.iter().all(|m| !m.subject.contains("added")),
        "not before accepting"
    );
    let token = token_in(&the_mail(&newcomer, "Join").await, "invite");
    let accepted = api
        .call(post(
            "/api/auth/accept-invite",
            None,
            json!({"token": token, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.json());
    let added = the_mail(&newcomer, "You were added to Test Org").await;
    assert!(
        added.body.contains("You are now a member of Test Org as admin."),
        "{}",
        added.body
    );
    assert!(
        added.links.contains(&format!("{APP}/orgs/{}", owner.slug)),
        "{:?}",
        added.links
    );
    assert!(
        added.links.iter().all(|l| !l.contains("/invite/")),
        "no invitation link in it"
    );
    // An existing account, accepting with its session.
    let member = api.user().await;
    join(&api, &owner, &member, "member").await;
    let added = the_mail(&member.email, "You were added to Test Org").await;
    assert!(added.body.contains("as member."), "{}", added.body);
    // The owner is not told twice (the invitation was theirs).
    assert!(inbox(&owner.email).await.iter().all(|m| !m.subject.contains("added")));
}

#[tokio::test]
async fn removing_a_member_mails_them_and_only_them() {
    let api = mail_api(&[]).await;
    let owner = api.user().await;
    let member = api.user().await;
    join(&api, &owner, &member, "member").await;
    let removed = api
        .call(Call::new("DELETE", &format!("/api/orgs/{}/members/{}", owner.slug, member.id)).cookie(&owner.cookie))
        .await;
    assert_eq!(removed.status, 204, "{:?}", removed.json());
    let mail = the_mail(&member.email, "You were removed from Test Org").await;
    assert!(
        mail.body.contains("You are no longer a member of Test Org."),
        "{}",
        mail.body
    );
    assert!(inbox(&owner.email).await.iter().all(|m| !m.subject.contains("removed")));
    // Leaving on one's own is not a removal: no mail.
    let leaver = api.user().await;
    join(&api, &owner, &leaver, "member").await;
    let left = api
        .call(post(
            &format!("/api/orgs/{}/leave", owner.slug),
            Some(&leaver.cookie),
            json!({}),
        ))
        .await;
    assert_eq!(left.status, 204);
    assert!(
        inbox(&leaver.email)
            .await
            .iter()
            .all(|m| !m.subject.contains("removed"))
    );
}

#[tokio::test]
async fn a_transfer_mails_the_new_and_the_old_owner() {
    let api = mail_api(&[]).await;
    let owner = api.user().await;
    let heir = api.user().await;
    join(&api, &owner, &heir, "admin").await;
    let moved = api
        .call(post(
            &format!("/api/orgs/{}/transfer", owner.slug),
            Some(&owner.cookie),
            json!({"userId": heir.id}),
        ))
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
    let new_owner = the_mail(&heir.email, "You are now the owner of Test Org").await;
    assert!(
        new_owner.body.contains("Ownership of Test Org was transferred to you."),
        "{}",
        new_owner.body
    );
    assert!(new_owner.links.contains(&format!("{APP}/orgs/{}", owner.slug)));
    let old_owner = the_mail(&owner.email, "You transferred ownership of Test Org").await;
    assert!(
        old_owner.body.contains(&heir.email),
        "names the new owner: {}",
        old_owner.body
    );
    assert!(old_owner.body.contains("as admin"), "{}", old_owner.body);
}

#[tokio::test]
async fn a_failed_membership_mail_never_fails_the_change() {
    // An unverified sender: SES (and the emulator) refuse every message.
    let api = mail_api_from(&[], Some("unverified@nowhere.example")).await;
    let owner = api.user().await;
    let heir = api.user().await;
    let gone = api.user().await;
    join(&api, &owner, &heir, "admin").await;
    join(&api, &owner, &gone, "member").await;
    let removed = api
        .call(Call::new("DELETE", &format!("/api/orgs/{}/members/{}", owner.slug, gone.id)).cookie(&owner.cookie))
        .await;
    assert_eq!(removed.status, 204);
    let moved = api
        .call(post(
            &format!("/api/orgs/{}/transfer", owner.slug),
            Some(&owner.cookie),
            json!({"userId": heir.id}),
        ))
        .await;
    assert_eq!(moved.status, 200);
    for user in [&owner, &heir, &gone] {
        assert!(inbox(&user.email).await.is_empty(), "nothing was sent");
    }
    let members = api
        .call(Call::get(&format!("/api/orgs/{}/members", owner.slug)).cookie(&heir.cookie))
        .await
        .json();
    let role = |id: &str| {
        members["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["userId"] == id)
            .map(|m| m["role"].as_str().unwrap().to_owned())
    };
    assert_eq!(role(&heir.id).as_deref(), Some("owner"));
    assert_eq!(role(&owner.id).as_deref(), Some("admin"));
    assert_eq!(role(&gone.id), None, "removed although the mail failed");
}
