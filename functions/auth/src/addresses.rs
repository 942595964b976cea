//! Verified addresses and password reset by mailed link: verify, resend, change of
//! address (password + a link to the new address), reset request (the same answer for any
//! address) and confirm. Tokens are stored as hashes, single-use and expiring.

use agnus_shared::crypto::Verified;
use agnus_shared::domain::{Email, Password, UserId};
use agnus_shared::email::{self, Mail, MailStatus};
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, client_ip, json_body, json_response};
use agnus_shared::session;
use agnus_shared::store::{MailTokenPurpose, RateDecision, TokenUse, UserRecord};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde::Deserialize;

use crate::{AuthState, UserView, limited, with_cookie};

/// The link for a mailed token: `{AGNUS_APP_BASE_URL}/{page}/{token}`.
pub(crate) fn link(state: &AuthState, page: &str, token: &str) -> String {
    format!(
        "{}/{page}/{token}",
        state.config.app_base_url.as_deref().unwrap_or_default()
    )
}

/// Creates a verification token for the user's address and mails its link.
pub(crate) async fn send_verification(state: &AuthState, user: &UserRecord) -> Result<MailStatus, ApiError> {
    let (token, hash) = email::new_link_token();
    state
        .store
        .create_mail_token(MailTokenPurpose::VerifyEmail, &hash, user)
        .await?;
    let url = link(state, "verify-email", secrecy::ExposeSecret::expose_secret(&token));
    Ok(email::deliver(state.mailer.as_ref(), &Mail::verify_email(&user.email, &url)).await)
}

/// `ADMIN_EMAIL`'s account becomes system admin once its owner has proved the address.
pub(crate) async fn promote_if_admin(state: &AuthState, user: &UserRecord) -> Result<bool, ApiError> {
    let Some(seed) = &state.config.admin else {
        return Ok(false);
    };
    if seed.email != user.email || user.is_system_admin {
        return Ok(user.is_system_admin);
    }
    let promoted = state.store.promote_verified_admin(&user.id).await?;
    if promoted {
        tracing::info!(user_id = %user.id, "verified ADMIN_EMAIL account promoted to system admin");
    }
    Ok(promoted)
}

#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

pub(crate) fn token_hash(raw: &str) -> Result<String, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 128 {
        return Err(ApiError::bad_request(
            "invalid_token",
            "the link's token is missing or malformed",
        ));
    }
    Ok(agnus_shared::crypto::sha256_hex(raw.as_bytes()))
}

pub(crate) fn token_outcome(used: TokenUse) -> Result<UserId, ApiError> {
    match used {
        TokenUse::Done(id) => Ok(id),
        TokenUse::Unknown => Err(ApiError::NotFoundWhat {
            code: "token_not_found",
            message: "this link is not valid".into(),
        }),
        TokenUse::Gone => Err(ApiError::Gone {
            code: "token_gone",
            message: "this link was used already or has expired; ask for a new one".into(),
        }),
    }
}

pub(crate) async fn user_json(state: &AuthState, id: &UserId) -> Result<serde_json::Value, ApiError> {
    let mut user = state
        .store
        .get_user(id)
        .await?
        .ok_or_else(|| ApiError::Internal("token names a missing user".into()))?;
    user.is_system_admin = promote_if_admin(state, &user).await?;
    Ok(serde_json::json!({ "user": UserView::from(&user) }))
}

/// Verifies an address: the signup's (or a re-sent) link, or the link of an address change
/// (which then moves the account to the new address and tells the old one).
pub(crate) async fn verify_email(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: TokenBody = json_body(req)?;
    let hash = token_hash(&body.token)?;
    let used = match state.store.verify_email_with_token(&hash).await? {
        TokenUse::Unknown => {
            let (used, old) = state.store.change_email_with_token(&hash).await?;
            if let (TokenUse::Done(id), Some(old)) = (used, old)
                && let Some(user) = state.store.get_user(&id).await?
            {
                tracing::info!(user_id = %id, "email address changed");
                email::deliver(state.mailer.as_ref(), &Mail::email_changed(&old, &user.email)).await;
            }
            used
        }
        used => used,
    };
    let id = token_outcome(used)?;
    tracing::Span::current().record("user_id", tracing::field::display(id));
    tracing::info!("email address verified");
    Ok(json_response(StatusCode::OK, &user_json(state, &id).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeEmailBody {
    new_email: String,
    password: SecretString,
}

/// Asks to move the account to another address: the current password proves the person,
/// a link mailed to the new address proves the address. Nothing changes until that link
/// is used; the answer is the same whether or not another account uses the address.
pub(crate) async fn change_email(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let (user, _) = session::require_user(&state.store, &state.tokens, req).await?;
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    let body: ChangeEmailBody = json_body(req)?;
    let new_email = Email::parse(&body.new_email)?;
    if new_email == user.email {
        return Err(ApiError::bad_request(
            "same_email",
            "this is your current address already",
        ));
    }
    state.config.policy.check_account(&new_email)?;
    limited(
        state
            .store
            .rate_limit_hit(
                "email-change",
                &user.id.to_string(),
                state.config.verify_resend_per_user,
            )
            .await?,
    )?;
    let password = secrecy::ExposeSecret::expose_secret(&body.password);
    if matches!(
        state.hasher.verify(password, &user.password_hash).await?,
        Verified::Wrong
    ) {
        return Err(ApiError::Forbidden {
            code: "wrong_password",
            message: "the password is not correct".into(),
        });
    }
    let (token, hash) = email::new_link_token();
    let valid_until = state.store.create_email_change_token(&hash, &user, &new_email).await?;
    let url = link(state, "verify-email", secrecy::ExposeSecret::expose_secret(&token));
    let status = email::deliver(state.mailer.as_ref(), &Mail::email_change(&new_email, &url)).await;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "status": "verification_sent",
            "mailStatus": status,
            "validUntil": valid_until,
            "message": "open the link sent to the new address to confirm it; until then your address stays as it is",
        }),
    ))
}

pub(crate) async fn resend_verification(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let (user, _) = session::require_user(&state.store, &state.tokens, req).await?;
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    if user.email_verified {
        return Err(ApiError::Conflict {
            code: "already_verified",
            message: "your email address is verified already".into(),
        });
    }
    limited(
        state
            .store
            .rate_limit_hit(
                "verify-resend",
                &user.id.to_string(),
                state.config.verify_resend_per_user,
            )
            .await?,
    )?;
    let status = send_verification(state, &user).await?;
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
    limited(
        state
            .store
            .rate_limit_hit("reset-ip", &client_ip(req), state.config.password_reset_per_ip)
            .await?,
    )?;
    // Per address, over the limit nothing more is sent, and the answer does not change:
    // an address cannot be flooded, and nobody learns whether it has an account.
    let address_allowed = matches!(
        state
            .store
            .rate_limit_hit("reset-email", email.as_str(), state.config.password_reset_per_email)
            .await?,
        RateDecision::Allowed
    );
    if address_allowed
        && state.config.policy.check_account(&email).is_ok()
        && let Some(user) = state.store.find_user_by_email(&email).await?
    {
        let (token, hash) = email::new_link_token();
        state
            .store
            .create_mail_token(MailTokenPurpose::PasswordReset, &hash, &user)
            .await?;
        let url = link(state, "reset-password", secrecy::ExposeSecret::expose_secret(&token));
        email::deliver(state.mailer.as_ref(), &Mail::password_reset(&user.email, &url)).await;
    }
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
    let hash = token_hash(&body.token)?;
    let password = Password::parse(body.password)?;
    let password_hash = state.hasher.hash(&password).await?;
    let id = token_outcome(state.store.reset_password_with_token(&hash, &password_hash).await?)?;
    tracing::Span::current().record("user_id", tracing::field::display(id));
    tracing::info!("password reset; every session ended");
    Ok(with_cookie(
        json_response(StatusCode::OK, &user_json(state, &id).await?),
        http::cleared_session_cookie(),
    ))
}
