//! Repositories of an org (product §8): connecting one (its access token proven at the
//! provider, then sealed by KMS under an org- and repo-bound context), disconnecting it,
//! and asking for a review by hand. The rights, the token rules and the audit entries are
//! here once, whatever the entry point.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::crypto::SecretBox;
use crate::domain::{Provider, RepoRef};
use crate::error::ApiError;
use crate::index_jobs::IndexJobs;
use crate::provider_api::CallError;
use crate::queue::{DeliveryAttributes, InlineEnqueuer};
use crate::repo_access::RepoAccess;
use crate::repo_token::{RepoTokens, TokenFailure};
use crate::services::access::require_admin;
use crate::store::{IndexKind, IndexRequest, OrgScope, RepoRecord, Store};
use crate::trigger::TokenIdentity;

/// A repository to connect, as the admin asked for it.
#[derive(Debug)]
pub struct ConnectRequest<'a> {
    pub repo: RepoRef,
    /// The address the admin gave, kept for display.
    pub url: Option<String>,
    /// The access token as sent (checked here: present, at most 1,024 characters).
    pub token: Option<&'a SecretString>,
    /// Or the GitHub App installation to connect it through (GitHub only; no token then).
    pub installation_id: Option<u64>,
}

/// Connects a repository: admins only; the token must be able to write reviews there
/// (asked of the provider before the repository is claimed, so "taken" is never answered
/// to someone without access); one conditional write with its audit entry.
pub async fn connect_repo(
    store: &Store,
    sealer: &SecretBox,
    tokens: &RepoTokens,
    jobs: &IndexJobs,
    scope: &OrgScope,
    request: ConnectRequest<'_>,
) -> Result<RepoRecord, ApiError> {
    require_admin(scope)?;
    let provider = request.repo.provider;
    if let Some(installation) = request.installation_id {
        let record = connect_through_installation(store, sealer, tokens, scope, &request, installation).await?;
        return claim(store, jobs, scope, record).await;
    }
    let access = tokens.access();
    let token = request
        .token
        .map(|t| t.expose_secret().trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "token_required",
                "send the repository's access token: it must be able to write reviews there",
            )
        })?;
    // A token is sent in an HTTP header: visible ASCII only (anything else could never be
    // sent, and is refused before any provider call).
    if token.len() > 1024 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_token",
            "the access token must be 1-1024 visible ASCII characters (no spaces)",
        ));
    }
    prove_access(access, provider, &request.repo.full_name, token).await?;
    let token_identity = learn_identity(access, provider, &request.repo.full_name, token).await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let org = scope.org_id().to_string();
    let context = [
        ("orgId", org.as_str()),
        ("purpose", "repo-token"),
        ("repoId", id.as_str()),
    ];
    let sealed = sealer
        .seal(&context, token.as_bytes())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let record = RepoRecord {
        id,
        provider,
        full_name: request.repo.full_name,
        url: request.url,
        token_preview: Some(crate::crypto::preview_tail(token)),
        installation_id: None,
        created_at: store.now_secs(),
        created_by: scope.actor().id.clone(),
        token_ciphertext: Some(sealed),
        token_identity,
    };
    claim(store, jobs, scope, record).await
}

/// A repository connected through one of the org's GitHub App installations: GitHub
/// mints a token for it (proof that the installation can see it, with the permissions the
/// installation was registered with); nothing is sealed for the repository itself.
async fn connect_through_installation(
    store: &Store,
    sealer: &SecretBox,
    tokens: &RepoTokens,
    scope: &OrgScope,
    request: &ConnectRequest<'_>,
    installation: u64,
) -> Result<RepoRecord, ApiError> {
    if request.repo.provider != Provider::Github {
        return Err(ApiError::bad_request(
            "installation_github_only",
            "installations are GitHub Apps: connect repositories of other providers with a token",
        ));
    }
    if request.token.is_some() {
        return Err(ApiError::bad_request(
            "token_or_installation",
            "send either a token or an installationId, not both",
        ));
    }
    let not_found = || ApiError::NotFoundWhat {
        code: "installation_not_found",
        message: "no such GitHub App installation in this organization".into(),
    };
    let record = store.installation(scope, installation).await?.ok_or_else(not_found)?;
    let org = scope.org_id().to_string();
    let full_name = &request.repo.full_name;
    tokens
        .installation_token(sealer, &org, &record, Some(full_name), store.now_secs())
        .await
        .map_err(|e| match e {
            TokenFailure::Unavailable(why) => ApiError::Unavailable(format!("GitHub access check: {why}")),
            _ => ApiError::Forbidden {
                code: "repo_access_denied",
                message: "the app's installation cannot see this repository; add it to the installation on GitHub"
                    .into(),
            },
        })?;
    Ok(RepoRecord {
        id: uuid::Uuid::new_v4().simple().to_string(),
        provider: Provider::Github,
        full_name: full_name.clone(),
        url: request.url.clone(),
        token_preview: None,
        installation_id: Some(record.id),
        created_at: store.now_secs(),
        created_by: scope.actor().id.clone(),
        token_ciphertext: None,
        token_identity: Some(TokenIdentity {
            id: None,
            login: Some(record.bot_login),
        }),
    })
}

/// Claims the repository for the org with its audit entry, and queues its first index.
async fn claim(store: &Store, jobs: &IndexJobs, scope: &OrgScope, record: RepoRecord) -> Result<RepoRecord, ApiError> {
    let provider = record.provider;
    let event = scope.audit("repo.connected").target(&record.id).details(
        json!({ "provider": provider, "fullName": record.full_name, "installationId": record.installation_id }),
    );
    // Its first full index is queued with the connection (docs/index.md).
    let job_id = crate::index_jobs::new_job_id();
    let index = IndexRequest {
        repo_id: &record.id,
        kind: IndexKind::Full,
        job_id: &job_id,
        target: None,
    };
    store.create_repo(scope, &record, &job_id, &event).await?;
    if let Err(e) = crate::index_jobs::send_job(store, jobs, scope, &index).await {
        // The repository is connected; its index record says `failed: not_queued`.
        tracing::warn!(error = %e, "the first index job of a connected repository was not queued");
    }
    Ok(record)
}

/// Asks the provider whether `token` may write to `full_name`: no (or no such repository
/// for this token, or a refused token) → 403 `repo_access_denied`; the provider
/// unreachable → 503.
async fn prove_access(access: &RepoAccess, provider: Provider, full_name: &str, token: &str) -> Result<(), ApiError> {
    let token = SecretString::from(token.to_owned());
    let denied = || ApiError::Forbidden {
        code: "repo_access_denied",
        message: "the token cannot write to this repository at the provider (or cannot see it); \
                  connect it with a token that can"
            .into(),
    };
    match access.can_write(provider, full_name, &token).await {
        Ok(true) => Ok(()),
        Ok(false) | Err(CallError::Unauthorized(_) | CallError::NotFound) => Err(denied()),
        Err(CallError::Rejected { status, .. }) if (400..500).contains(&status) => Err(denied()),
        Err(e) => {
            crate::metrics::provider_api_error(provider, e.status());
            Err(ApiError::Unavailable(format!("{provider} access check: {e}")))
        }
    }
}

/// Who the token acts as (the author of everything the engine posts with it, whose
/// comments never ask for a review). A provider that does not say is no reason to refuse
/// the connection: the engine's hidden markers still keep its own comments from
/// triggering reviews.
async fn learn_identity(
    access: &RepoAccess,
    provider: Provider,
    full_name: &str,
    token: &str,
) -> Option<TokenIdentity> {
    let token = SecretString::from(token.to_owned());
    let mut answer = access.identity(provider, full_name, &token).await;
    if answer.is_err() {
        // Once more: the access check just succeeded with this token, so a failure here is
        // most likely transient.
        answer = access.identity(provider, full_name, &token).await;
    }
    match answer {
        Ok(who) if who.id.is_some() || who.login.is_some() => Some(who),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(%provider, error = %e, "the provider did not say who the token is");
            None
        }
    }
}

/// One of the org's repositories, or 404 `repo_not_found`.
pub async fn find_repo(store: &Store, scope: &OrgScope, id: &str) -> Result<RepoRecord, ApiError> {
    store.repo(scope, id).await?.ok_or_else(|| ApiError::NotFoundWhat {
        code: "repo_not_found",
        message: "no such repository in this organization".into(),
    })
}

/// Disconnects a repository (admins only); its sealed token goes with it.
pub async fn disconnect_repo(store: &Store, scope: &OrgScope, id: &str) -> Result<(), ApiError> {
    require_admin(scope)?;
    let repo = find_repo(store, scope, id).await?;
    let event = scope
        .audit("repo.deleted")
        .target(&repo.id)
        .details(json!({ "provider": repo.provider, "fullName": repo.full_name }));
    store.delete_repo(scope, &repo, &event).await?;
    Ok(())
}

/// A review asked for by hand: pull request `pr_number` (at `head_sha`, else its head).
#[derive(Debug)]
pub struct ReviewRequest {
    pub pr_number: u64,
    pub head_sha: Option<String>,
}

impl ReviewRequest {
    pub fn parse(pr_number: u64, head_sha: Option<String>) -> Result<Self, ApiError> {
        if pr_number == 0 {
            return Err(ApiError::bad_request(
                "invalid_pr",
                "prNumber must be a positive integer",
            ));
        }
        if head_sha
            .as_deref()
            .is_some_and(|s| s.len() > 64 || !s.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(ApiError::bad_request("invalid_sha", "headSha must be a hex commit id"));
        }
        Ok(Self { pr_number, head_sha })
    }
}

/// Queues a manual review of one of the org's repositories (any member may ask); the
/// delivery id it is known by.
pub async fn request_review(
    store: &Store,
    enqueuer: &InlineEnqueuer,
    scope: &OrgScope,
    id: &str,
    request: &ReviewRequest,
) -> Result<String, ApiError> {
    let repo = find_repo(store, scope, id).await?;
    // A head reviewed (or under review) within the repeat window is not reviewed again;
    // without a head the review engine finds the PR's and ends the job
    // `skipped: already_reviewed` the same way.
    if let Some(head) = request.head_sha.as_deref()
        && store
            .review_head_taken(scope, &repo.id, request.pr_number, head)
            .await?
    {
        return Err(ApiError::Conflict {
            code: "already_reviewed",
            message: "this head of the pull request was reviewed recently; push a new commit or wait for the repeat window to pass".into(),
        });
    }
    let delivery_id = format!("manual-{}", uuid::Uuid::new_v4().simple());
    let payload = json!({ "repoId": repo.id, "prNumber": request.pr_number, "headSha": request.head_sha });
    let attributes = DeliveryAttributes {
        org_id: *scope.org_id(),
        provider: repo.provider,
        event: "manual_review".into(),
        delivery_id: delivery_id.clone(),
        received_at: store.now_secs(),
        source: "manual",
    };
    enqueuer
        .enqueue(&attributes, payload.to_string().as_bytes())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(delivery_id)
}
