//! The org management function (product §4, §5): my orgs, create, detail, rename, plan,
//! soft delete and restore, ownership transfer, members, leave, audit log.
//! Rights are decided on an [`OrgScope`] read from the store on every request, and
//! re-checked inside each write transaction. The use cases are in `services` (`orgs`,
//! `members`, `webhooks`, `apikeys`, `rules`, `settings`, `feedback`); this parses the
//! requests and shapes the answers.

mod credentials;
mod feedback;
mod members;
mod rules;
mod settings;

use std::sync::Arc;

use agnus_shared::aws::DynamoClient;
use agnus_shared::config::OrgsConfig;
use agnus_shared::crypto::{SecretBox, SessionTokens};
use agnus_shared::domain::{Provider, Role, UserId};
use agnus_shared::email::{EmailSender, NoEmailSender};
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, json_body, json_response, page_json, page_request};
use agnus_shared::pipeline::{self, Call};
use agnus_shared::principal::Principal;
use agnus_shared::routes::OrgsRoute;
use agnus_shared::services::access;
use agnus_shared::services::{
    self,
    orgs::{Founded, Founder, OrgChange, OrgRequest},
};
use agnus_shared::store::{MembershipView, OrgRecord, OrgScope, Store};
use agnus_shared::webhooks;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};

/// Everything a request needs, built once per cold start.
#[derive(Debug)]
pub struct OrgsState {
    pub store: Store,
    pub tokens: SessionTokens,
    pub sealer: SecretBox,
    pub config: OrgsConfig,
    /// Membership mail ("you were removed", "ownership transferred").
    pub mailer: Arc<dyn EmailSender>,
    /// Embeddings of rated comments (`AGNUS_EMBEDDINGS_*`; see [`OrgsState::with_embeddings`]).
    pub embedder: Option<agnus_shared::embeddings::Embedder>,
}

impl OrgsState {
    pub fn new(config: OrgsConfig, dynamodb: DynamoClient, kms: agnus_shared::aws::KmsClient) -> Self {
        Self {
            store: Store::new(dynamodb, config.table_name.clone()),
            tokens: SessionTokens::new(config.jwt_key()),
            sealer: SecretBox::new(kms, config.kms_key_id.clone()),
            config,
            mailer: Arc::new(NoEmailSender),
            embedder: None,
        }
    }

    /// Embeds rated comments when embeddings are configured, signing Bedrock requests with
    /// the SDK configuration's credentials.
    #[must_use]
    pub fn with_embeddings(mut self, sdk: &agnus_shared::aws::SdkConfig) -> Self {
        self.embedder = agnus_shared::embeddings::Embedder::from_sdk(self.config.embeddings.as_ref(), sdk);
        self
    }

    /// Sends membership mail with `mailer` (the default sends none).
    #[must_use]
    pub fn with_mailer(mut self, mailer: Arc<dyn EmailSender>) -> Self {
        self.mailer = mailer;
        self
    }
}

pub async fn handle(state: &OrgsState, req: Request) -> Response<Body> {
    pipeline::serve(&req, |call| route(state, call)).await
}

/// A request in flight: who, and the path parameters.
struct Ctx<'a> {
    state: &'a OrgsState,
    req: &'a Request,
    call: Call<'a, OrgsRoute>,
    principal: Principal,
}

impl Ctx<'_> {
    /// The org named in the path, if the caller may act in it (404 otherwise, the same
    /// answer whether the org exists or not). A system admin's read is audited.
    async fn scope(&self, include_deleted: bool) -> Result<OrgScope, ApiError> {
        self.call
            .org_scope(&self.state.store, &self.principal, include_deleted)
            .await
    }

    fn param(&self, name: &str) -> &str {
        self.call.param(name)
    }

    fn user_param(&self) -> Result<UserId, ApiError> {
        services::members::member_id(self.param("userId"))
    }

    /// The person calling (account-level routes are not for API keys).
    fn person(&self) -> Result<&agnus_shared::store::UserRecord, ApiError> {
        access::require_person(&self.principal)
    }
}

/// Routes that change who is in an org or mint/revoke credentials: a person's session
/// only. An API key that could do these could outlive its maker's rights (SECURITY #28).
fn manages_people_or_keys(route: OrgsRoute) -> bool {
    matches!(
        route,
        OrgsRoute::Transfer
            | OrgsRoute::ChangeRole
            | OrgsRoute::RemoveMember
            | OrgsRoute::Leave
            | OrgsRoute::ApiKeys
            | OrgsRoute::CreateApiKey
            | OrgsRoute::RevokeApiKey
    )
}

async fn route<'a>(state: &'a OrgsState, call: Call<'a, OrgsRoute>) -> Result<Response<Body>, ApiError> {
    let req = call.req;
    let route = call.route;
    match route {
        // A signed link, no session (see `feedback`): the page, then the vote.
        OrgsRoute::FeedbackLink => return Ok(feedback::page(req)),
        OrgsRoute::FeedbackVote => return Ok(feedback::vote(state, req).await),
        _ => {}
    }
    let principal = call.principal(&state.store, &state.tokens).await?;
    let ctx = Ctx {
        state,
        req,
        call,
        principal,
    };
    if manages_people_or_keys(route) {
        ctx.person()?;
    }
    match route {
        OrgsRoute::MyOrgs => my_orgs(&ctx).await,
        OrgsRoute::AllOrgs => all_orgs(&ctx).await,
        OrgsRoute::CreateOrg => create_org(&ctx).await,
        OrgsRoute::OrgDetail => org_detail(&ctx).await,
        OrgsRoute::UpdateOrg => update_org(&ctx).await,
        OrgsRoute::DeleteOrg => delete_org(&ctx).await,
        OrgsRoute::RestoreOrg => restore_org(&ctx).await,
        OrgsRoute::Transfer => members::transfer(&ctx).await,
        OrgsRoute::Members => members::list_members(&ctx).await,
        OrgsRoute::ChangeRole => members::change_role(&ctx).await,
        OrgsRoute::RemoveMember => members::remove_member(&ctx).await,
        OrgsRoute::Leave => members::leave(&ctx).await,
        OrgsRoute::Audit => audit_log(&ctx).await,
        OrgsRoute::Usage => settings::usage(&ctx).await,
        OrgsRoute::Webhooks => credentials::webhooks(&ctx).await,
        OrgsRoute::RotateWebhook => credentials::rotate_webhook(&ctx).await,
        OrgsRoute::ApiKeys => credentials::list_api_keys(&ctx).await,
        OrgsRoute::CreateApiKey => credentials::create_api_key(&ctx).await,
        OrgsRoute::RevokeApiKey => credentials::revoke_api_key(&ctx).await,
        OrgsRoute::OrgSettings | OrgsRoute::RepoSettings => settings::get(&ctx).await,
        OrgsRoute::UpdateOrgSettings | OrgsRoute::UpdateRepoSettings => settings::update(&ctx).await,
        OrgsRoute::Rules => rules::list(&ctx).await,
        OrgsRoute::CreateRule => rules::create(&ctx).await,
        OrgsRoute::Rule => rules::get(&ctx).await,
        OrgsRoute::UpdateRule => rules::update(&ctx).await,
        OrgsRoute::DeleteRule => rules::delete(&ctx).await,
        OrgsRoute::RuleViolations => feedback::violations(&ctx).await,
        OrgsRoute::FeedbackStats => feedback::stats(&ctx).await,
        OrgsRoute::FeedbackLink | OrgsRoute::FeedbackVote => Err(ApiError::NotFound),
    }
}

// ---- views ----

fn org_json(org: &OrgRecord, role: Option<Role>) -> Value {
    json!({
        "id": org.id,
        "slug": org.slug.as_str(),
        "name": org.name.as_str(),
        "plan": org.plan,
        "role": role,
        "createdAt": org.created_at,
        "updatedAt": org.updated_at,
        "deletedAt": org.deleted_at,
        "purgeAfter": org.purge_after,
    })
}

fn membership_json(m: &MembershipView) -> Value {
    org_json(&m.org, Some(m.role))
}

fn ok(body: &Value) -> Result<Response<Body>, ApiError> {
    Ok(json_response(StatusCode::OK, body))
}

fn no_content() -> Result<Response<Body>, ApiError> {
    Ok(http::empty_response(StatusCode::NO_CONTENT))
}

// ---- handlers ----

async fn my_orgs(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let user = ctx.person()?;
    let page = services::orgs::my_orgs(&ctx.state.store, user, &page_request(ctx.req)?).await?;
    ok(&json!({
        "orgs": page.items.iter().map(membership_json).collect::<Vec<_>>(),
        "nextCursor": page.next_cursor,
    }))
}

#[derive(Deserialize)]
struct CreateOrgBody {
    name: String,
    #[serde(default)]
    slug: Option<String>,
}

/// Every organization, for system admins (`?q=` searches slug and name).
async fn all_orgs(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let user = ctx.person()?;
    let params = lambda_http::RequestExt::query_string_parameters(ctx.req);
    let search = params.first("q").map(|q| q.chars().take(100).collect::<String>());
    let page = services::orgs::all_orgs(&ctx.state.store, user, search.as_deref(), page_request(ctx.req)).await?;
    let orgs: Vec<Value> = page.items.iter().map(|o| org_json(o, None)).collect();
    ok(&json!({ "orgs": orgs, "nextCursor": page.next_cursor }))
}

async fn create_org(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: CreateOrgBody = json_body(ctx.req)?;
    let user = ctx.person()?;
    let request = OrgRequest::parse(&body.name, body.slug.as_deref())?;
    if !user.is_system_admin {
        // With an allow list set, the address counts only once verified (README, "Verified addresses").
        ctx.state
            .config
            .policy
            .check_org_creation_verified(&user.email, user.email_verified)?;
        match ctx
            .state
            .store
            .rate_limit_hit("org-create-user", &user.id.to_string(), ctx.state.config.orgs_per_user)
            .await?
        {
            agnus_shared::store::RateDecision::Allowed => {}
            agnus_shared::store::RateDecision::Limited { retry_after_secs } => {
                return Err(ApiError::RateLimited { retry_after_secs });
            }
        }
    }
    let founder = Founder::Member {
        user,
        actor: ctx.principal.actor(),
    };
    let Founded { org, secrets } = services::orgs::create_org(
        &ctx.state.store,
        &ctx.state.sealer,
        founder,
        request,
        ctx.state.store.now_secs(),
    )
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "org": org_json(&org, Some(Role::Owner)),
            // Shown in full this once; afterwards only previews (GET …/webhooks).
            "webhooks": webhooks::secrets_json(ctx.state.config.public_base_url.as_deref(), &org.slug, &secrets),
        }),
    ))
}

async fn org_detail(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let members = ctx
        .state
        .store
        .members_page(
            &scope,
            &agnus_shared::store::PageRequest {
                limit: agnus_shared::store::PageRequest::DEFAULT_LIMIT,
                cursor: None,
            },
        )
        .await?;
    let mut body = json!({
        "org": org_json(scope.org(), scope.role()),
        "members": members.items,
        "membersNextCursor": members.next_cursor,
    });
    if let Some(legacy) = legacy_webhooks_json(ctx, scope.org()).await? {
        body["legacyWebhooks"] = legacy;
    }
    ok(&body)
}

/// For the org an upgrade created: until when the single-tenant webhook URLs still work,
/// their last delivery, and the URLs to point the webhooks at instead (the console's
/// migration banner). `None` for every other org.
async fn legacy_webhooks_json(ctx: &Ctx<'_>, org: &OrgRecord) -> Result<Option<Value>, ApiError> {
    let Some(legacy) = ctx.state.store.legacy_webhooks().await? else {
        return Ok(None);
    };
    if legacy.org_id != org.id {
        return Ok(None);
    }
    let base = ctx.state.config.public_base_url.as_deref();
    // Unix seconds, like every other time in the API.
    Ok(Some(json!({
        "sunsetAt": legacy.sunset_at,
        "lastDeliveryAt": legacy.last_delivery_at,
        "urls": {
            "github": webhooks::webhook_url(base, Provider::Github, &org.slug),
            "azure": webhooks::webhook_url(base, Provider::Azure, &org.slug),
        },
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateOrgBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    slug: Option<Value>,
}

async fn update_org(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let body: UpdateOrgBody = json_body(ctx.req)?;
    let change = OrgChange::parse(body.name.as_deref(), body.plan.as_deref(), body.slug.is_some())?;
    let scope = ctx.scope(false).await?;
    let org = services::orgs::update_org(&ctx.state.store, &scope, &ctx.principal, change).await?;
    ok(&json!({ "org": org_json(&org, scope.role()) }))
}

async fn delete_org(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let org = services::orgs::delete_org(&ctx.state.store, &scope, ctx.state.config.delete_grace).await?;
    ok(&json!({ "org": org_json(&org, scope.role()) }))
}

async fn restore_org(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(true).await?;
    let org = services::orgs::restore_org(&ctx.state.store, &scope).await?;
    ok(&json!({ "org": org_json(&org, scope.role()) }))
}

async fn audit_log(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let scope = ctx.scope(false).await?;
    let page = services::orgs::audit_log(&ctx.state.store, &scope, page_request(ctx.req)).await?;
    ok(&page_json("events", &page))
}
