//! Outgoing mail and verified addresses, against the emulator: the functions send through
//! SESv2 (moto's, or LocalStack's with the project's provider), and the tests read what was
//! sent from the emulator's listing (`/_agnus/ses/messages`, `/_aws/ses` or
//! `/moto-api/data.json`: the same reader as `agnus mail`), then follow the links.
//! Membership changes (joined, removed, ownership transferred) mail the people concerned.

use std::sync::Arc;

use agnus_auth::AuthState;
use agnus_cli::mail::SentMail;
use agnus_invites::InvitesState;
use agnus_orgs::OrgsState;
use agnus_shared::config::{AuthConfig, InvitesConfig, OrgsConfig};
use agnus_shared::email::EmailSender;
use agnus_tests::*;
use serde_json::{Value, json};

mod invitations;
mod logs;
mod membership;
mod reset;
mod timing;
mod verification;
mod voided;

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
    verify_address(api, &user.email).await
}

/// Follows the newest verification link mailed to `address`.
async fn verify_address(api: &Api, address: &str) -> Answer {
    let mails = inbox(address).await;
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
