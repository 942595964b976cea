//! The auth function: signup, login, logout, logout everywhere, me (product §3), email
//! verification and password reset by mailed link. The account use cases (addresses,
//! password reset, sessions, the seeded system admin) are in `services::account`; signup,
//! login, logout and me in `services::sessions`. This parses, shapes JSON and sets cookies.
//! `handle` is a plain async function of (state, request) that tests call directly.

mod addresses;

use std::sync::Arc;

use agnus_shared::aws::DynamoClient;
use agnus_shared::config::AuthConfig;
use agnus_shared::crypto::{PasswordHasher, SecretBox, SessionTokens};
use agnus_shared::domain::{Email, OrgId, Password, Plan, UserId};
use agnus_shared::email::{EmailSender, NoEmailSender};
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, client_ip, json_body, json_response};
use agnus_shared::pipeline::{self, Call};
use agnus_shared::routes::AuthRoute;
use agnus_shared::services::account::Accounts;
use agnus_shared::services::orgs::OrgRequest;
use agnus_shared::services::sessions::{self, LoggedIn, SignedUp, Signup};
use agnus_shared::session;
use agnus_shared::store::{MembershipView, Store, UserRecord};
use agnus_shared::webhooks;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Everything a request needs, built once per cold start.
#[derive(Debug)]
pub struct AuthState {
    pub store: Store,
    pub hasher: PasswordHasher,
    pub tokens: SessionTokens,
    pub sealer: SecretBox,
    pub config: AuthConfig,
    /// Verification and password-reset mail.
    pub mailer: Arc<dyn EmailSender>,
}

impl AuthState {
    pub fn new(config: AuthConfig, dynamodb: DynamoClient, kms: agnus_shared::aws::KmsClient) -> Self {
        Self {
            store: Store::new(dynamodb, config.table_name.clone()),
            hasher: PasswordHasher::new(config.password_params),
            tokens: SessionTokens::new(config.jwt_key()),
            sealer: SecretBox::new(kms, config.kms_key_id.clone()),
            config,
            mailer: Arc::new(NoEmailSender),
        }
    }

    /// Sends mail with `mailer` (the default sends none).
    #[must_use]
    pub fn with_mailer(mut self, mailer: Arc<dyn EmailSender>) -> Self {
        self.mailer = mailer;
        self
    }

    /// The account use cases (`services::account`) over this state.
    fn accounts(&self) -> Accounts<'_> {
        Accounts {
            store: &self.store,
            hasher: &self.hasher,
            tokens: &self.tokens,
            sealer: &self.sealer,
            mailer: self.mailer.as_ref(),
            config: &self.config,
        }
    }
}

/// Entry point for every HTTP request routed to this function.
pub async fn handle(state: &AuthState, req: Request) -> Response<Body> {
    pipeline::serve(&req, |call| route(state, call)).await
}

async fn route(state: &AuthState, call: Call<'_, AuthRoute>) -> Result<Response<Body>, ApiError> {
    let req = call.req;
    match call.route {
        AuthRoute::Signup => signup(state, req).await,
        AuthRoute::Login => login(state, req).await,
        AuthRoute::Logout => logout(state, req).await,
        AuthRoute::LogoutAll => logout_all(state, req).await,
        AuthRoute::Me => me(state, req).await,
        AuthRoute::Sessions => list_sessions(state, req).await,
        AuthRoute::EndSession => end_session(state, req, call.param("id")).await,
        AuthRoute::VerifyEmail => addresses::verify_email(state, req).await,
        AuthRoute::ChangeEmail => addresses::change_email(state, req).await,
        AuthRoute::ResendVerification => addresses::resend_verification(state, req).await,
        AuthRoute::PasswordReset => addresses::password_reset(state, req).await,
        AuthRoute::PasswordResetConfirm => addresses::password_reset_confirm(state, req).await,
    }
}

// ---- wire types ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignupBody {
    email: String,
    password: SecretString,
    org_name: String,
    #[serde(default)]
    org_slug: Option<String>,
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: SecretString,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserView<'a> {
    id: UserId,
    email: &'a str,
    is_system_admin: bool,
    email_verified: bool,
}

impl<'a> From<&'a UserRecord> for UserView<'a> {
    fn from(u: &'a UserRecord) -> Self {
        Self {
            id: u.id,
            email: u.email.as_str(),
            is_system_admin: u.is_system_admin,
            email_verified: u.email_verified,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrgView<'a> {
    id: OrgId,
    slug: &'a str,
    name: &'a str,
    plan: Plan,
    role: &'static str,
}

impl<'a> From<&'a MembershipView> for OrgView<'a> {
    fn from(m: &'a MembershipView) -> Self {
        Self {
            id: m.org.id,
            slug: m.org.slug.as_str(),
            name: m.org.name.as_str(),
            plan: m.org.plan,
            role: m.role.as_str(),
        }
    }
}

fn with_cookie(mut response: Response<Body>, cookie: HeaderValue) -> Response<Body> {
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

// ---- handlers ----

async fn signup(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: SignupBody = json_body(req)?;
    let signup = Signup {
        email: Email::parse(&body.email)?,
        password: Password::parse(body.password)?,
        org: OrgRequest::parse(&body.org_name, body.org_slug.as_deref())?,
    };
    let SignedUp {
        user,
        membership,
        secrets,
        session,
        verification,
    } = state.accounts().sign_up(signup, &client_ip(req)).await?;
    let response = json_response(
        StatusCode::CREATED,
        &serde_json::json!({
            "user": UserView::from(&user),
            "emailVerification": { "mailStatus": verification },
            "org": OrgView::from(&membership),
            // Shown in full this once; afterwards only previews (GET /api/orgs/{slug}/webhooks).
            "webhooks": webhooks::secrets_json(state.config.public_base_url.as_deref(), &membership.org.slug, &secrets),
        }),
    );
    Ok(with_cookie(
        response,
        http::session_cookie(&session.token, state.config.session_ttl),
    ))
}

async fn login(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: LoginBody = json_body(req)?;
    let LoggedIn { user, orgs, session } = state
        .accounts()
        .log_in(&body.email, &body.password, &client_ip(req))
        .await?;
    let response = json_response(
        StatusCode::OK,
        &serde_json::json!({
            "user": UserView::from(&user),
            "orgs": orgs.iter().map(OrgView::from).collect::<Vec<_>>(),
        }),
    );
    Ok(with_cookie(
        response,
        http::session_cookie(&session.token, state.config.session_ttl),
    ))
}

async fn logout(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = session::current(&state.store, &state.tokens, req).await?;
    state.accounts().log_out(caller).await?;
    Ok(with_cookie(
        http::empty_response(StatusCode::NO_CONTENT),
        http::cleared_session_cookie(),
    ))
}

async fn logout_all(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let (user, session_id) = session::require_user(&state.store, &state.tokens, req).await?;
    state.accounts().log_out_everywhere(&user, &session_id).await?;
    Ok(with_cookie(
        http::empty_response(StatusCode::NO_CONTENT),
        http::cleared_session_cookie(),
    ))
}

/// The caller's live sessions (this one marked `current`), newest first: when each began,
/// when a request last used it (to the minute), when it expires. Ids only, never tokens.
async fn list_sessions(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let (user, current) = session::require_user(&state.store, &state.tokens, req).await?;
    let sessions: Vec<serde_json::Value> = state
        .accounts()
        .live_sessions(&user)
        .await?
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id,
                "createdAt": s.created_at,
                "lastSeenAt": s.last_seen_at.unwrap_or(s.created_at),
                "expiresAt": s.expires_at,
                "current": s.id == current,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "sessions": sessions }),
    ))
}

/// Ends one of the caller's own sessions. Ending the current one also clears the cookie.
async fn end_session(state: &AuthState, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
    let (user, current) = session::require_user(&state.store, &state.tokens, req).await?;
    let id = state.accounts().end_session(&user, id).await?;
    let response = http::empty_response(StatusCode::NO_CONTENT);
    Ok(if id == current {
        with_cookie(response, http::cleared_session_cookie())
    } else {
        response
    })
}

async fn me(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let (user, _) = session::require_user(&state.store, &state.tokens, req).await?;
    let orgs = state.accounts().my_orgs(&user).await?;
    let requested = req
        .headers()
        .get("x-org-slug")
        .map(|v| v.to_str().map(str::trim).unwrap_or_default());
    let active = sessions::active_org(&orgs, requested)?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({
            "user": UserView::from(&user),
            "orgs": orgs.iter().map(OrgView::from).collect::<Vec<_>>(),
            "activeOrg": active.map(OrgView::from),
        }),
    ))
}

/// Seeds the system admin from `ADMIN_EMAIL`/`ADMIN_PASSWORD` (idempotent; see
/// `services::account::Accounts::bootstrap_admin`).
pub async fn bootstrap_admin(state: &AuthState) -> Result<(), ApiError> {
    state.accounts().bootstrap_admin().await
}
