//! The auth function: signup, login, logout, logout everywhere, me (product §3), email
//! verification and password reset by mailed link. The account use cases (addresses,
//! password reset, sessions, the seeded system admin) are in `services::account`.
//! `handle` is a plain async function of (state, request) that tests call directly.

mod addresses;

use std::sync::Arc;

use agnus_shared::aws::DynamoClient;
use agnus_shared::config::AuthConfig;
use agnus_shared::crypto::{PasswordHasher, SecretBox, SessionTokens, Verified};
use agnus_shared::domain::{Email, OrgId, Password, Plan, UserId};
use agnus_shared::email::{EmailSender, MailStatus, NoEmailSender};
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, client_ip, json_body, json_response};
use agnus_shared::pipeline::{self, Call};
use agnus_shared::principal::Principal;
use agnus_shared::routes::AuthRoute;
use agnus_shared::services::{
    self,
    account::Accounts,
    orgs::{Founded, Founder, OrgRequest},
};
use agnus_shared::session;
use agnus_shared::store::{MembershipView, RateDecision, Store, UserRecord};
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

fn limited(decision: RateDecision) -> Result<(), ApiError> {
    match decision {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after_secs } => Err(ApiError::RateLimited { retry_after_secs }),
    }
}

// ---- handlers ----

async fn signup(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: SignupBody = json_body(req)?;
    let email = Email::parse(&body.email)?;
    let password = Password::parse(body.password)?;
    let request = OrgRequest::parse(&body.org_name, body.org_slug.as_deref())?;
    state.config.policy.check_org_creation(&email)?;
    limited(
        state
            .store
            .rate_limit_hit("signup-ip", &client_ip(req), state.config.signup_per_ip)
            .await?,
    )?;

    let password_hash = state.hasher.hash(&password).await?;
    let now = state.store.now_secs();
    let user = UserRecord {
        id: UserId::new(),
        email,
        password_hash,
        is_system_admin: false,
        session_epoch: 0,
        created_at: now,
        email_verified: false,
    };
    let issued = session::issue(&state.tokens, &user, state.config.session_ttl, state.store.now_secs())?;
    let founder = Founder::Signup {
        user: &user,
        session: &issued.record,
    };
    let Founded { org, secrets } =
        services::orgs::create_org(&state.store, &state.sealer, founder, request, now).await?;
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    tracing::info!(org_id = %org.id, "signed up");
    agnus_shared::metrics::signup();
    // The account exists whatever happens to the mail; a failure can be resent.
    let verification = match state.accounts().send_verification(&user).await {
        Ok(status) => status,
        Err(e) => {
            tracing::warn!(error = %e, "verification link not created");
            MailStatus::Failed
        }
    };
    let membership = MembershipView {
        org,
        role: agnus_shared::domain::Role::Owner,
        joined_at: now,
    };
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
        http::session_cookie(&issued.token, state.config.session_ttl),
    ))
}

/// How long each login attempt waits once an account has many failures from anywhere.
const LOGIN_SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(1);

async fn login(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: LoginBody = json_body(req)?;
    let email = Email::parse(&body.email).map_err(|_| ApiError::InvalidCredentials)?;
    limited(
        state
            .store
            .rate_limit_hit("login-ip", &client_ip(req), state.config.login_per_ip)
            .await?,
    )?;
    // Lockout is per (account, source address): a stranger elsewhere cannot lock the
    // owner out. Per account from anywhere, failures only slow attempts down.
    let pair = format!("{}|{}", email.as_str(), client_ip(req));
    limited(
        state
            .store
            .rate_limit_peek("login-fail-pair", &pair, state.config.login_failures_per_email)
            .await?,
    )?;
    if let RateDecision::Limited { .. } = state
        .store
        .rate_limit_peek(
            "login-fail-email",
            email.as_str(),
            state.config.login_slowdown_per_email,
        )
        .await?
    {
        tokio::time::sleep(LOGIN_SLOWDOWN).await;
    }
    state.config.policy.check_account(&email)?;

    let password = secrecy::ExposeSecret::expose_secret(&body.password);
    let user = match state.store.find_user_by_email(&email).await? {
        None => {
            state.hasher.verify_dummy(password).await?;
            None
        }
        Some(user) => match state.hasher.verify(password, &user.password_hash).await? {
            Verified::Wrong => None,
            Verified::Ok => Some(user),
            Verified::OkNeedsRehash => {
                upgrade_hash(state, &user, password).await;
                Some(user)
            }
        },
    };
    let Some(user) = user else {
        // Count the failure; the counters' limits are enforced by the peeks above.
        let _ = state
            .store
            .rate_limit_hit("login-fail-pair", &pair, state.config.login_failures_per_email)
            .await?;
        let _ = state
            .store
            .rate_limit_hit(
                "login-fail-email",
                email.as_str(),
                state.config.login_slowdown_per_email,
            )
            .await?;
        return Err(ApiError::InvalidCredentials);
    };
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    let issued = session::issue(&state.tokens, &user, state.config.session_ttl, state.store.now_secs())?;
    state.store.create_session(&issued.record).await?;
    let orgs = state.store.memberships_of(&user.id).await?;
    tracing::info!("logged in");
    let response = json_response(
        StatusCode::OK,
        &serde_json::json!({
            "user": UserView::from(&user),
            "orgs": orgs.iter().map(OrgView::from).collect::<Vec<_>>(),
        }),
    );
    Ok(with_cookie(
        response,
        http::session_cookie(&issued.token, state.config.session_ttl),
    ))
}

/// Stores a hash at the current parameters after a login with an older, weaker one.
async fn upgrade_hash(state: &AuthState, user: &UserRecord, password: &str) {
    let Ok(password) = Password::parse(SecretString::from(password.to_owned())) else {
        return; // Legacy passwords outside today's length rules keep their hash.
    };
    let result = async {
        let hash = state.hasher.hash(&password).await?;
        state.store.update_password_hash(&user.id, &hash).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => tracing::info!(user_id = %user.id, "password hash upgraded to current parameters"),
        Err(e) => tracing::warn!(user_id = %user.id, error = %e, "password hash upgrade failed; will retry next login"),
    }
}

async fn logout(state: &AuthState, req: &Request) -> Result<Response<Body>, ApiError> {
    if let Some(Principal::User { user, session_id }) = session::current(&state.store, &state.tokens, req).await? {
        session::end(&state.store, &user.id, &session_id).await?;
        tracing::info!(user_id = %user.id, "logged out");
    }
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
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    let orgs = state.store.memberships_of(&user.id).await?;
    let requested = req
        .headers()
        .get("x-org-slug")
        .map(|v| v.to_str().map(str::trim).unwrap_or_default().to_owned());
    let active = match requested {
        Some(slug) => Some(
            orgs.iter()
                .find(|m| m.org.slug.as_str() == slug)
                // Same answer whether the org exists or the caller is not a member.
                .ok_or(ApiError::Forbidden {
                    code: "not_a_member",
                    message: "you are not a member of that organization".into(),
                })?,
        ),
        None if orgs.len() == 1 => orgs.first(),
        None => None,
    };
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
