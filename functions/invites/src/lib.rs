//! Org-scoped invitations (product §6, §4). Admins of the org in the path invite by email
//! with a role; the invitee accepts with a new account (created with the invited email)
//! or with the account they are logged in with (which must have that email). Tokens are
//! 256 random bits, shown once in the accept link; only their SHA-256 is stored.

use std::sync::Arc;

use agnus_shared::aws::DynamoClient;
use agnus_shared::config::InvitesConfig;
use agnus_shared::crypto::{PasswordHasher, SessionTokens};
use agnus_shared::domain::{Email, Password, Role, UserId};
use agnus_shared::email::{EmailSender, MailStatus};
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, json_body, json_response, page_json, page_request};
use agnus_shared::pipeline::{self, Call};
use agnus_shared::principal::Principal;
use agnus_shared::routes::InvitesRoute;
use agnus_shared::services::access;
use agnus_shared::services::invites::{Accepting, Invitations, Issued};
use agnus_shared::session;
use agnus_shared::store::{Store, UserRecord};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

/// Everything a request needs, built once per cold start.
#[derive(Debug)]
pub struct InvitesState {
    pub store: Store,
    pub tokens: SessionTokens,
    pub hasher: PasswordHasher,
    pub mailer: Arc<dyn EmailSender>,
    pub config: InvitesConfig,
}

impl InvitesState {
    pub fn new(config: InvitesConfig, dynamodb: DynamoClient, mailer: Arc<dyn EmailSender>) -> Self {
        Self {
            store: Store::new(dynamodb, config.table_name.clone()),
            tokens: SessionTokens::new(config.jwt_key()),
            hasher: PasswordHasher::new(config.password_params),
            mailer,
            config,
        }
    }
}

pub async fn handle(state: &InvitesState, req: Request) -> Response<Body> {
    pipeline::serve(&req, |call| route(state, call)).await
}

async fn route(state: &InvitesState, call: Call<'_, InvitesRoute>) -> Result<Response<Body>, ApiError> {
    let req = call.req;
    let route = match call.route {
        InvitesRoute::Preview => return preview(state, call.param("token")).await,
        InvitesRoute::Accept => return accept(state, req).await,
        other => other,
    };
    let principal = call.principal(&state.store, &state.tokens).await?;
    if call.req.method() != "GET" {
        // Inviting is adding people: an API key must not (SECURITY #28).
        access::require_person(&principal)?;
    }
    // Rights are checked for the org in the path only, whatever the body says (the
    // admin rule in the use cases).
    let scope = call.org_scope(&state.store, &principal, false).await?;
    let invitations = invitations(state);
    match route {
        // Adding a member by email is inviting them: the same answer whether or not the
        // address has an account, and no membership until they accept.
        InvitesRoute::AddMember | InvitesRoute::Create => {
            let body: CreateBody = json_body(req)?;
            let email = Email::parse(&body.email)?;
            let role = body.role.parse::<Role>()?;
            let issued = invitations.invite(&scope, &email, role).await?;
            Ok(json_response(StatusCode::CREATED, &issued_json(&issued)))
        }
        InvitesRoute::List => {
            let page = invitations.pending(&scope, &page_request(req)?).await?;
            Ok(json_response(StatusCode::OK, &page_json("invites", &page)))
        }
        InvitesRoute::Revoke => {
            invitations.revoke(&scope, call.param("id")).await?;
            Ok(http::empty_response(StatusCode::NO_CONTENT))
        }
        InvitesRoute::Resend => {
            let issued = invitations.resend(&scope, call.param("id")).await?;
            Ok(json_response(StatusCode::OK, &issued_json(&issued)))
        }
        InvitesRoute::Preview | InvitesRoute::Accept => Err(ApiError::NotFound),
    }
}

fn invitations(state: &InvitesState) -> Invitations<'_> {
    Invitations {
        store: &state.store,
        mailer: state.mailer.as_ref(),
        app_base_url: state.config.app_base_url.as_deref().unwrap_or_default(),
        per_org_per_day: state.config.invites_per_org_per_day,
    }
}

fn issued_json(issued: &Issued) -> Value {
    json!({
        "invite": serde_json::to_value(&issued.invite).unwrap_or_default(),
        "acceptUrl": issued.accept_url,
        "mailSent": issued.invite.mail_status == Some(MailStatus::Sent),
    })
}

#[derive(Deserialize)]
struct CreateBody {
    email: String,
    role: String,
}

async fn preview(state: &InvitesState, token: &str) -> Result<Response<Body>, ApiError> {
    let (invite, org) = invitations(state).live(token).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "orgName": org.name.as_str(),
            "orgSlug": org.slug.as_str(),
            "invitedBy": invite.invited_by_email,
            "email": invite.email,
            "role": invite.role,
            "expiresAt": invite.expires_at,
        }),
    ))
}

#[derive(Deserialize)]
struct AcceptBody {
    token: String,
    #[serde(default)]
    password: Option<SecretString>,
}

async fn accept(state: &InvitesState, req: &Request) -> Result<Response<Body>, ApiError> {
    let invitations = invitations(state);
    let body: AcceptBody = json_body(req)?;
    let (invite, org) = invitations.live(body.token.trim()).await?;
    tracing::Span::current().record("org_id", tracing::field::display(org.id));
    let invited = Email::parse(&invite.email)?;
    state.config.policy.check_account(&invited)?;
    let org_json = json!({ "id": org.id, "slug": org.slug.as_str(), "name": org.name.as_str(), "role": invite.role });

    if let Some(principal) = session::current(&state.store, &state.tokens, req).await? {
        let Principal::User { user, .. } = principal else {
            return Err(ApiError::Forbidden {
                code: "session_required",
                message: "an invitation is accepted by a person, not an API key".into(),
            });
        };
        invitations.accept(&invite, &org, Accepting::Existing(&user)).await?;
        return Ok(json_response(
            StatusCode::OK,
            &json!({ "org": org_json, "user": { "id": user.id, "email": user.email.as_str() } }),
        ));
    }

    invitations.require_no_account(&invited).await?;
    let password = body
        .password
        .ok_or_else(|| ApiError::bad_request("password_required", "choose a password for your new account"))?;
    let password = Password::parse(SecretString::from(password.expose_secret().to_owned()))?;
    let user = UserRecord {
        id: UserId::new(),
        email: invited,
        password_hash: state.hasher.hash(&password).await?,
        is_system_admin: false,
        session_epoch: 0,
        created_at: state.store.now_secs(),
        // Not proved: the accept link was shown to the inviting admin too. A verification
        // mail goes to the address (`Invitations::accept`).
        email_verified: false,
    };
    let issued = session::issue(&state.tokens, &user, state.config.session_ttl, state.store.now_secs())?;
    let new = Accepting::New {
        user: &user,
        session: &issued.record,
    };
    let verification = invitations.accept(&invite, &org, new).await?;
    let mut response = json_response(
        StatusCode::CREATED,
        &json!({
            "org": org_json,
            "user": { "id": user.id, "email": user.email.as_str() },
            "emailVerification": { "mailStatus": verification.unwrap_or(MailStatus::Failed) },
        }),
    );
    response.headers_mut().append(
        lambda_http::http::header::SET_COOKIE,
        http::session_cookie(&issued.token, state.config.session_ttl),
    );
    Ok(response)
}
