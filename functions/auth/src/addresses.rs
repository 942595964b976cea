//! Verified addresses and password reset by mailed link: verify, resend, change of
//! address (password + a link to the new address), reset request (the same answer for any
//! address) and confirm. The use cases and their rules are in `services::account`; this
//! parses the requests and shapes the answers.

use agnus_shared::domain::Email;
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, client_ip, json_body, json_response};
use agnus_shared::session;
use agnus_shared::store::UserRecord;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde::Deserialize;

use crate::{AuthState, UserView, with_cookie};

#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

fn user_json(user: &UserRecord) -> serde_json::Value {
    serde_json::json!({ "user": UserView::from(user) })
}

/// Verifies an address: the signup's (or a re-sent) link, or the link of an address change.
pub(crate) async fn verify_email(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: TokenBody = json_body(req)?;
    let user = state.accounts().verify_email(&body.token).await?;
    Ok(json_response(StatusCode::OK, &user_json(&user)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeEmailBody {
    new_email: String,
    password: SecretString,
}

/// Asks to move the account to another address (nothing changes until the link mailed
/// there is used).
pub(crate) async fn change_email(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let (user, _) = session::require_user(&state.store, &state.tokens, req).await?;
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    let body: ChangeEmailBody = json_body(req)?;
    let new_email = Email::parse(&body.new_email)?;
    let change = state.accounts().change_email(&user, &new_email, &body.password).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "status": "verification_sent",
            "mailStatus": change.mail_status,
            "validUntil": change.valid_until,
            "message": "open the link sent to the new address to confirm it; until then your address stays as it is",
        }),
    ))
}

pub(crate) async fn resend_verification(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let (user, _) = session::require_user(&state.store, &state.tokens, req).await?;
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    let status = state.accounts().resend_verification(&user).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "mailStatus": status }),
    ))
}

#[derive(Deserialize)]
struct ResetRequestBody {
    email: String,
}

pub(crate) async fn password_reset(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: ResetRequestBody = json_body(req)?;
    let email = Email::parse(&body.email)?;
    state.accounts().request_password_reset(&email, &client_ip(req)).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "status": "accepted",
            "message": "if an account uses this address, a link to reset its password is on its way (valid 1 hour)",
        }),
    ))
}

#[derive(Deserialize)]
struct ResetConfirmBody {
    token: String,
    password: SecretString,
}

pub(crate) async fn password_reset_confirm(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: ResetConfirmBody = json_body(req)?;
    let user = state.accounts().reset_password(&body.token, body.password).await?;
    Ok(with_cookie(
        json_response(StatusCode::OK, &user_json(&user)),
        http::cleared_session_cookie(),
    ))
}
