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
use agnus_shared::index_jobs::IndexJobs;
use agnus_shared::pipeline::{self, Call};
use agnus_shared::queue::InlineEnqueuer;
use agnus_shared::repo_access::RepoAccess;
use agnus_shared::repo_token::RepoTokens;
use agnus_shared::routes::ReposRoute;
use agnus_shared::services::index::{index_status, request_index};
use agnus_shared::services::installations::{self, NewInstallation};
use agnus_shared::services::repos::{
    ConnectRequest, ReviewRequest, connect_repo, disconnect_repo, find_repo, request_review,
};
use agnus_shared::store::Principal;
use agnus_shared::store::Store;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug)]
pub struct ReposState {
    pub store: Store,
    pub tokens: SessionTokens,
    pub sealer: SecretBox,
    /// Manual-review requests (small: no claim check, so no S3 client in this function).
    pub enqueuer: InlineEnqueuer,
    /// Codebase-index jobs (a repository's first index on connect, an admin's re-index).
    pub index_jobs: IndexJobs,
    /// The providers' APIs (a token's access is checked before a repository is claimed)
    /// and the GitHub App installation tokens.
    pub repo_tokens: RepoTokens,
    pub config: ReposConfig,
}

impl ReposState {
    pub fn new(config: ReposConfig, dynamodb: DynamoClient, kms: KmsClient, sqs: SqsSender) -> Self {
        Self {
            store: Store::new(dynamodb, config.table_name.clone()),
            tokens: SessionTokens::new(config.jwt_key()),
            sealer: SecretBox::new(kms, config.kms_key_id.clone()),
            index_jobs: IndexJobs::new(sqs.clone(), config.index_jobs_queue_url.clone()),
            enqueuer: InlineEnqueuer::new(sqs, config.queue_url.clone(), config.inline_max_bytes),
            repo_tokens: RepoTokens::new(RepoAccess::new(&config.providers)),
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
    let store = &state.store;
    if let Some(answer) = installations_route(state, &call, &principal).await? {
        return Ok(answer);
    }
    let scope = call.active_scope(&state.store, &principal).await?;
    let id = call.param("id");
    match call.route {
        ReposRoute::List => {
            let page = store.repos(&scope, &page_request(req)?).await?;
            Ok(json_response(StatusCode::OK, &page_json("repos", &page)))
        }
        ReposRoute::Connect => {
            let body: ConnectBody = json_body(req)?;
            let provider: Provider = body.provider.parse()?;
            let raw = body
                .full_name
                .as_deref()
                .or(body.url.as_deref())
                .ok_or_else(|| ApiError::bad_request("repo_required", "send fullName (owner/name) or url"))?;
            let request = ConnectRequest {
                repo: RepoRef::parse(provider, raw)?,
                url: body.url.clone(),
                token: body.token.as_ref(),
                installation_id: body.installation_id,
            };
            let repo = connect_repo(
                store,
                &state.sealer,
                &state.repo_tokens,
                &state.index_jobs,
                &scope,
                request,
            )
            .await?;
            Ok(json_response(StatusCode::CREATED, &json!({ "repo": repo })))
        }
        ReposRoute::Get => {
            let repo = find_repo(store, &scope, id).await?;
            Ok(json_response(StatusCode::OK, &json!({ "repo": repo })))
        }
        ReposRoute::Delete => {
            disconnect_repo(store, &scope, id).await?;
            Ok(http::empty_response(StatusCode::NO_CONTENT))
        }
        ReposRoute::Review => {
            let body: ReviewBody = json_body(req)?;
            let request = ReviewRequest::parse(body.pr_number, body.head_sha)?;
            let delivery_id = request_review(store, &state.enqueuer, &scope, id, &request).await?;
            Ok(json_response(
                StatusCode::ACCEPTED,
                &json!({ "status": "queued", "deliveryId": delivery_id }),
            ))
        }
        ReposRoute::IndexStatus => {
            let index = index_status(store, &scope, id).await?;
            Ok(json_response(StatusCode::OK, &json!({ "index": index })))
        }
        ReposRoute::Reindex => {
            let index = request_index(store, &state.index_jobs, &scope, id).await?;
            Ok(json_response(StatusCode::ACCEPTED, &json!({ "index": index })))
        }
        ReposRoute::Reviews => {
            let repo = find_repo(store, &scope, id).await?;
            let page = store.reviews(&scope, &repo.id, &page_request(req)?).await?;
            Ok(json_response(StatusCode::OK, &page_json("reviews", &page)))
        }
        ReposRoute::Installations
        | ReposRoute::AddInstallation
        | ReposRoute::RemoveInstallation
        | ReposRoute::InstallationRepos => Err(ApiError::Internal(
            "an installations route reached the repositories' dispatch".into(),
        )),
    }
}

/// The org's GitHub App installations (`/api/orgs/{slug}/installations…`): the org is the
/// path's, not the active one.
async fn installations_route(
    state: &ReposState,
    call: &Call<'_, ReposRoute>,
    principal: &Principal,
) -> Result<Option<Response<Body>>, ApiError> {
    let store = &state.store;
    let route = call.route;
    if !matches!(
        route,
        ReposRoute::Installations
            | ReposRoute::AddInstallation
            | ReposRoute::RemoveInstallation
            | ReposRoute::InstallationRepos
    ) {
        return Ok(None);
    }
    let scope = call.org_scope(store, principal, false).await?;
    let id = call.param("installationId");
    let answer = match route {
        ReposRoute::AddInstallation => {
            let body: InstallationBody = json_body(call.req)?;
            let request = NewInstallation {
                app_id: body.app_id,
                installation_id: body.installation_id,
                private_key: &body.private_key,
            };
            let installation =
                installations::register(store, &state.sealer, &state.repo_tokens, &scope, request).await?;
            json_response(StatusCode::CREATED, &json!({ "installation": installation }))
        }
        ReposRoute::RemoveInstallation => {
            installations::remove(store, &scope, id).await?;
            http::empty_response(StatusCode::NO_CONTENT)
        }
        ReposRoute::InstallationRepos => {
            let page = installations::parse_page(call.req.query_string_parameters().first("page"))?;
            let found = installations::repositories(store, &state.sealer, &state.repo_tokens, &scope, id, page).await?;
            json_response(StatusCode::OK, &found)
        }
        _ => {
            let all = store.installations(&scope).await?;
            json_response(StatusCode::OK, &json!({ "installations": all }))
        }
    };
    Ok(Some(answer))
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
    #[serde(default, deserialize_with = "agnus_shared::whole::optional")]
    installation_id: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InstallationBody {
    #[serde(deserialize_with = "agnus_shared::whole::number")]
    app_id: u64,
    #[serde(deserialize_with = "agnus_shared::whole::number")]
    installation_id: u64,
    private_key: SecretString,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReviewBody {
    #[serde(deserialize_with = "agnus_shared::whole::number")]
    pr_number: u64,
    #[serde(default)]
    head_sha: Option<String>,
}
