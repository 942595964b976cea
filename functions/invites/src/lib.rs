//! Org-scoped invitations (product §6, §4). Admins of the org in the path invite by email
//! with a role; the invitee accepts with a new account (created with the invited email)
//! or with the account they are logged in with (which must have that email). Tokens are
//! 256 random bits, shown once in the accept link; only their SHA-256 is stored.

use std::sync::Arc;

use agnus_shared::aws::DynamoClient;
use agnus_shared::config::InvitesConfig;
use agnus_shared::crypto::{PasswordHasher, SessionTokens, sha256_hex};
use agnus_shared::domain::{Email, Password, Role, UserId};
use agnus_shared::email::{self, EmailSender, InviteEmail, Mail, MailStatus};
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, json_body, json_response, page_json, page_request};
use agnus_shared::pipeline::{self, Call};
use agnus_shared::principal::Principal;
use agnus_shared::routes::InvitesRoute;
use agnus_shared::services::access::{self, require_admin};
use agnus_shared::session;
use agnus_shared::store::{
    Acceptor, Actor, AuditEvent, Conflict, InviteRecord, InviteStatus, OrgRecord, OrgScope, RateDecision, Store,
    StoreError, TokenLookup, UserRecord,
};
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
    // Rights are checked for the org in the path only, whatever the body says.
    let scope = call.org_scope(&state.store, &principal, false).await?;
    require_admin(&scope)?;
    match route {
        // Adding a member by email is inviting them: the same answer whether or not the
        // address has an account, and no membership until they accept.
        InvitesRoute::AddMember | InvitesRoute::Create => create(state, req, &scope).await,
        InvitesRoute::List => list(state, req, &scope).await,
        InvitesRoute::Revoke => revoke(state, &scope, call.param("id")).await,
        InvitesRoute::Resend => resend(state, &scope, call.param("id")).await,
        InvitesRoute::Preview | InvitesRoute::Accept => Err(ApiError::NotFound),
    }
}

fn accept_url(state: &InvitesState, token: &str) -> String {
    format!(
        "{}/invite/{token}",
        state.config.app_base_url.as_deref().unwrap_or_default()
    )
}

fn invite_json(invite: &InviteRecord) -> Value {
    serde_json::to_value(invite).unwrap_or_default()
}

async fn quota(state: &InvitesState, scope: &OrgScope) -> Result<(), ApiError> {
    match state
        .store
        .rate_limit_hit(
            "invites-org",
            &scope.org_id().to_string(),
            state.config.invites_per_org_per_day,
        )
        .await?
    {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after_secs } => Err(ApiError::RateLimited { retry_after_secs }),
    }
}

/// Mails the invitation and records whether it went out on the invite (the admin sees
/// "not sent — resend"). The invitation stands either way; the link is never logged.
async fn deliver(state: &InvitesState, scope: &OrgScope, invite: &mut InviteRecord, url: &str, resent: bool) {
    let status = match Email::parse(&invite.email) {
        Ok(to) => {
            let mail = Mail::invitation(&InviteEmail {
                to: &to,
                org_name: scope.org().name.as_str(),
                inviter: invite.invited_by_email.as_deref(),
                role: invite.role,
                accept_url: url,
                expires_at: invite.expires_at,
                resent,
            });
            email::deliver(state.mailer.as_ref(), &mail).await
        }
        Err(_) => MailStatus::Failed,
    };
    if status == MailStatus::Failed {
        tracing::warn!(invite_id = %invite.id, "invitation not sent; the admin can resend it");
    }
    if let Err(e) = state.store.set_invite_mail_status(invite, status).await {
        tracing::warn!(invite_id = %invite.id, error = %e, "mail status not recorded");
    }
    invite.mail_status = Some(status);
}

fn invite_answer(invite: &InviteRecord, url: &str) -> Value {
    json!({
        "invite": invite_json(invite),
        "acceptUrl": url,
        "mailSent": invite.mail_status == Some(MailStatus::Sent),
    })
}

#[derive(Deserialize)]
struct CreateBody {
    email: String,
    role: String,
}

async fn create(state: &InvitesState, req: &Request, scope: &OrgScope) -> Result<Response<Body>, ApiError> {
    let body: CreateBody = json_body(req)?;
    let email = Email::parse(&body.email)?;
    let role = match body.role.parse::<Role>()? {
        Role::Owner => {
            return Err(ApiError::bad_request(
                "invalid_role",
                "invite as admin or member; ownership moves only by transfer",
            ));
        }
        r => r,
    };
    if let Some(user) = state.store.find_user_by_email(&email).await?
        && state.store.is_member(scope, &user.id).await?
    {
        return Err(StoreError::Conflict(Conflict::AlreadyMember).into());
    }
    quota(state, scope).await?;
    let (token, hash) = email::new_link_token();
    let event = scope
        .audit("invite.created")
        .details(json!({ "email": email.as_str(), "role": role }));
    let mut invite = state.store.create_invite(scope, &email, role, &hash, &event).await?;
    let url = accept_url(state, token.expose_secret());
    deliver(state, scope, &mut invite, &url, false).await;
    tracing::info!(invite_id = %invite.id, "invitation created");
    agnus_shared::metrics::invitation_sent();
    Ok(json_response(StatusCode::CREATED, &invite_answer(&invite, &url)))
}

async fn list(state: &InvitesState, req: &Request, scope: &OrgScope) -> Result<Response<Body>, ApiError> {
    let page = state.store.pending_invites(scope, &page_request(req)?).await?;
    Ok(json_response(StatusCode::OK, &page_json("invites", &page)))
}

async fn find_invite(state: &InvitesState, scope: &OrgScope, id: &str) -> Result<InviteRecord, ApiError> {
    state
        .store
        .invite(scope, id)
        .await?
        .ok_or_else(|| ApiError::NotFoundWhat {
            code: "invite_not_found",
            message: "no such invitation in this organization".into(),
        })
}

async fn revoke(state: &InvitesState, scope: &OrgScope, id: &str) -> Result<Response<Body>, ApiError> {
    let invite = find_invite(state, scope, id).await?;
    let event = scope
        .audit("invite.revoked")
        .target(&invite.id)
        .details(json!({ "email": invite.email }));
    state.store.revoke_invite(scope, &invite, &event).await?;
    Ok(http::empty_response(StatusCode::NO_CONTENT))
}

async fn resend(state: &InvitesState, scope: &OrgScope, id: &str) -> Result<Response<Body>, ApiError> {
    let invite = find_invite(state, scope, id).await?;
    if invite.status != InviteStatus::Pending {
        return Err(StoreError::Conflict(Conflict::InviteNotPending).into());
    }
    quota(state, scope).await?;
    let (token, hash) = email::new_link_token();
    let event = scope
        .audit("invite.resent")
        .target(&invite.id)
        .details(json!({ "email": invite.email }));
    agnus_shared::metrics::invitation_sent();
    let mut invite = state.store.resend_invite(scope, &invite, &hash, &event).await?;
    let url = accept_url(state, token.expose_secret());
    deliver(state, scope, &mut invite, &url, true).await;
    Ok(json_response(StatusCode::OK, &invite_answer(&invite, &url)))
}

/// A token's live invitation, or the right error: 404 never issued, 410 used / revoked /
/// replaced / expired / org deleted.
async fn live_invite(state: &InvitesState, token: &str) -> Result<(InviteRecord, OrgRecord), ApiError> {
    let gone = || ApiError::from(StoreError::Conflict(Conflict::InviteNotPending));
    let not_found = || ApiError::NotFoundWhat {
        code: "invite_not_found",
        message: "this invitation link is not valid".into(),
    };
    if token.is_empty() || token.len() > 128 {
        return Err(not_found());
    }
    match state.store.lookup_invite_token(&sha256_hex(token.as_bytes())).await? {
        TokenLookup::Unknown => Err(not_found()),
        TokenLookup::Spent => Err(gone()),
        TokenLookup::Live(found) => {
            let (invite, org) = *found;
            if invite.status != InviteStatus::Pending || invite.is_expired(state.store.now_secs()) || org.is_deleted() {
                Err(gone())
            } else {
                Ok((invite, org))
            }
        }
    }
}

async fn preview(state: &InvitesState, token: &str) -> Result<Response<Body>, ApiError> {
    let (invite, org) = live_invite(state, token).await?;
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

/// "You were added to {org}" to the new member, once the membership exists. A failed
/// send is logged (kind and recipient domain) and never undoes the acceptance.
async fn welcome(state: &InvitesState, to: &Email, invite: &InviteRecord, org: &OrgRecord) {
    let url = format!(
        "{}/orgs/{}",
        state.config.app_base_url.as_deref().unwrap_or_default(),
        org.slug.as_str()
    );
    let mail = Mail::member_added(to, org.name.as_str(), invite.role, &url);
    email::deliver(state.mailer.as_ref(), &mail).await;
}

#[derive(Deserialize)]
struct AcceptBody {
    token: String,
    #[serde(default)]
    password: Option<SecretString>,
}

async fn accept(state: &InvitesState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: AcceptBody = json_body(req)?;
    let (invite, org) = live_invite(state, body.token.trim()).await?;
    tracing::Span::current().record("org_id", tracing::field::display(org.id));
    let invited = Email::parse(&invite.email)?;
    state.config.policy.check_account(&invited)?;
    let event = |user: &UserRecord| {
        AuditEvent::new("invite.accepted", Actor::user(user))
            .target(&invite.id)
            .details(json!({ "email": invite.email, "role": invite.role }))
    };
    let org_json = json!({ "id": org.id, "slug": org.slug.as_str(), "name": org.name.as_str(), "role": invite.role });

    if let Some(principal) = session::current(&state.store, &state.tokens, req).await? {
        let Principal::User { user, .. } = principal else {
            return Err(ApiError::Forbidden {
                code: "session_required",
                message: "an invitation is accepted by a person, not an API key".into(),
            });
        };
        if user.email != invited {
            return Err(ApiError::Forbidden {
                code: "invite_email_mismatch",
                message: "this invitation was sent to another email address; log in with that address, or ask for an invitation to yours".into(),
            });
        }
        state
            .store
            .accept_invite(&invite, &org, Acceptor::Existing(&user), &event(&user))
            .await?;
        tracing::info!(user_id = %user.id, "invitation accepted by an existing account");
        agnus_shared::metrics::invitation_accepted();
        welcome(state, &user.email, &invite, &org).await;
        return Ok(json_response(
            StatusCode::OK,
            &json!({ "org": org_json, "user": { "id": user.id, "email": user.email.as_str() } }),
        ));
    }

    if state.store.find_user_by_email(&invited).await?.is_some() {
        return Err(ApiError::Conflict {
            code: "account_exists",
            message: "an account with the invited email exists; log in with it, then accept the invitation".into(),
        });
    }
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
        // The invitee proved the address by receiving the link.
        email_verified: true,
    };
    let issued = session::issue(&state.tokens, &user, state.config.session_ttl, state.store.now_secs())?;
    state
        .store
        .accept_invite(&invite, &org, Acceptor::New(&user, &issued.record), &event(&user))
        .await?;
    tracing::info!(user_id = %user.id, "invitation accepted with a new account");
    agnus_shared::metrics::invitation_accepted();
    welcome(state, &user.email, &invite, &org).await;
    let mut response = json_response(
        StatusCode::CREATED,
        &json!({ "org": org_json, "user": { "id": user.id, "email": user.email.as_str() } }),
    );
    response.headers_mut().append(
        lambda_http::http::header::SET_COOKIE,
        http::session_cookie(&issued.token, state.config.session_ttl),
    );
    Ok(response)
}
