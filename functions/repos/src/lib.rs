//! Repositories of the active org (product §8): connect (with an access token sealed by KMS
//! under an org-bound context), list, get, disconnect, request a review manually, and
//! read the review history. Everything happens inside the active org only: the
//! `X-Org-Slug` header, the caller's only org, or the org of the API key.

use agnus_shared::aws::{DynamoClient, KmsClient, SqsSender};
use agnus_shared::config::ReposConfig;
use agnus_shared::crypto::{SecretBox, SessionTokens};
use agnus_shared::domain::{Provider, RepoRef};
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, json_body, json_response, page_json, page_request};
use agnus_shared::pipeline::{self, Call};
use agnus_shared::provider_api::CallError;
use agnus_shared::queue::{DeliveryAttributes, InlineEnqueuer};
use agnus_shared::repo_access::RepoAccess;
use agnus_shared::routes::ReposRoute;
use agnus_shared::services::access::require_admin;
use agnus_shared::store::{OrgScope, RepoRecord, Store};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug)]
pub struct ReposState {
    pub store: Store,
    pub tokens: SessionTokens,
    pub sealer: SecretBox,
    /// Manual-review requests (small: no claim check, so no S3 client in this function).
    pub enqueuer: InlineEnqueuer,
    /// The providers' APIs (a token's access is checked before a repository is claimed).
    pub access: RepoAccess,
    pub config: ReposConfig,
}

impl ReposState {
    pub fn new(config: ReposConfig, dynamodb: DynamoClient, kms: KmsClient, sqs: SqsSender) -> Self {
        Self {
            store: Store::new(dynamodb, config.table_name.clone()),
            tokens: SessionTokens::new(config.jwt_key()),
            sealer: SecretBox::new(kms, config.kms_key_id.clone()),
            enqueuer: InlineEnqueuer::new(sqs, config.queue_url.clone(), config.inline_max_bytes),
            access: RepoAccess::new(&config.providers),
            config,
        }
    }
}

pub async fn handle(state: &ReposState, req: Request) -> Response<Body> {
    pipeline::serve(&req, |call| route(state, call)).await
}

async fn route(state: &ReposState, call: Call<'_, ReposRoute>) -> Result<Response<Body>, ApiError> {
    let req = call.req;
    let principal = call.principal(&state.store, &state.tokens).await?;
    let scope = call.active_scope(&state.store, &principal).await?;
    let id = call.param("id");
    match call.route {
        ReposRoute::List => {
            let page = state.store.repos(&scope, &page_request(req)?).await?;
            Ok(json_response(StatusCode::OK, &page_json("repos", &page)))
        }
        ReposRoute::Connect => connect(state, req, &scope).await,
        ReposRoute::Get => {
            let repo = find(state, &scope, id).await?;
            Ok(json_response(StatusCode::OK, &json!({ "repo": repo })))
        }
        ReposRoute::Delete => {
            require_admin(&scope)?;
            let repo = find(state, &scope, id).await?;
            let event = scope
                .audit("repo.deleted")
                .target(&repo.id)
                .details(json!({ "provider": repo.provider, "fullName": repo.full_name }));
            state.store.delete_repo(&scope, &repo, &event).await?;
            Ok(http::empty_response(StatusCode::NO_CONTENT))
        }
        ReposRoute::Review => manual_review(state, req, &scope, id).await,
        ReposRoute::Reviews => {
            let repo = find(state, &scope, id).await?;
            let page = state.store.reviews(&scope, &repo.id, &page_request(req)?).await?;
            Ok(json_response(StatusCode::OK, &page_json("reviews", &page)))
        }
    }
}

async fn find(state: &ReposState, scope: &OrgScope, id: &str) -> Result<RepoRecord, ApiError> {
    state
        .store
        .repo(scope, id)
        .await?
        .ok_or_else(|| ApiError::NotFoundWhat {
            code: "repo_not_found",
            message: "no such repository in this organization".into(),
        })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectBody {
    provider: String,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    token: Option<SecretString>,
}

async fn connect(state: &ReposState, req: &Request, scope: &OrgScope) -> Result<Response<Body>, ApiError> {
    let body: ConnectBody = json_body(req)?;
    let provider: Provider = body.provider.parse()?;
    let raw = body
        .full_name
        .as_deref()
        .or(body.url.as_deref())
        .ok_or_else(|| ApiError::bad_request("repo_required", "send fullName (owner/name) or url"))?;
    let repo_ref = RepoRef::parse(provider, raw)?;
    require_admin(scope)?;
    let token = body
        .token
        .as_ref()
        .map(|t| t.expose_secret().trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "token_required",
                "send the repository's access token: it must be able to write reviews there",
            )
        })?;
    if token.len() > 1024 {
        return Err(ApiError::bad_request(
            "invalid_token",
            "the access token must be 1-1024 characters",
        ));
    }
    // Before the repository is claimed (and before "taken" can be answered): the token
    // must prove write access to it at the provider.
    prove_access(state, provider, &repo_ref.full_name, token).await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let org = scope.org_id().to_string();
    let context = [
        ("orgId", org.as_str()),
        ("purpose", "repo-token"),
        ("repoId", id.as_str()),
    ];
    let sealed = state
        .sealer
        .seal(&context, token.as_bytes())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let token_preview = Some(agnus_shared::crypto::preview_tail(token));
    let token_ciphertext = Some(sealed);
    let record = RepoRecord {
        id,
        provider,
        full_name: repo_ref.full_name,
        url: body.url.clone(),
        token_preview,
        created_at: state.store.now_secs(),
        created_by: scope.actor().id.clone(),
        token_ciphertext,
    };
    let event = scope
        .audit("repo.connected")
        .target(&record.id)
        .details(json!({ "provider": provider, "fullName": record.full_name }));
    state.store.create_repo(scope, &record, &event).await?;
    Ok(json_response(StatusCode::CREATED, &json!({ "repo": record })))
}

/// Asks the provider whether `token` may write to `full_name`: no (or no such repository
/// for this token, or a refused token) → 403 `repo_access_denied`; the provider
/// unreachable → 503.
async fn prove_access(state: &ReposState, provider: Provider, full_name: &str, token: &str) -> Result<(), ApiError> {
    let token = SecretString::from(token.to_owned());
    let denied = || ApiError::Forbidden {
        code: "repo_access_denied",
        message: "the token cannot write to this repository at the provider (or cannot see it); \
                  connect it with a token that can"
            .into(),
    };
    match state.access.can_write(provider, full_name, &token).await {
        Ok(true) => Ok(()),
        Ok(false) | Err(CallError::Unauthorized(_) | CallError::NotFound) => Err(denied()),
        Err(CallError::Rejected { status, .. }) if (400..500).contains(&status) => Err(denied()),
        Err(e) => {
            agnus_shared::metrics::provider_api_error(provider, e.status());
            Err(ApiError::Unavailable(format!("{provider} access check: {e}")))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReviewBody {
    pr_number: u64,
    #[serde(default)]
    head_sha: Option<String>,
}

async fn manual_review(
    state: &ReposState,
    req: &Request,
    scope: &OrgScope,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let body: ReviewBody = json_body(req)?;
    if body.pr_number == 0 {
        return Err(ApiError::bad_request(
            "invalid_pr",
            "prNumber must be a positive integer",
        ));
    }
    if body
        .head_sha
        .as_deref()
        .is_some_and(|s| s.len() > 64 || !s.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(ApiError::bad_request("invalid_sha", "headSha must be a hex commit id"));
    }
    let repo = find(state, scope, id).await?;
    let delivery_id = format!("manual-{}", uuid::Uuid::new_v4().simple());
    let payload = json!({ "repoId": repo.id, "prNumber": body.pr_number, "headSha": body.head_sha });
    let attributes = DeliveryAttributes {
        org_id: *scope.org_id(),
        provider: repo.provider,
        event: "manual_review".into(),
        delivery_id: delivery_id.clone(),
        received_at: state.store.now_secs(),
        source: "manual",
    };
    state
        .enqueuer
        .enqueue(&attributes, payload.to_string().as_bytes())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({ "status": "queued", "deliveryId": delivery_id }),
    ))
}
