//! The codebase index of a repository, as members and admins see it (docs/index.md): its
//! status, and a full re-index asked for by an admin. The indexer function does the work.

use crate::error::ApiError;
use crate::index_jobs::{IndexJobMessage, IndexJobs};
use crate::services::access::require_admin;
use crate::services::repos::find_repo;
use crate::store::{IndexFailure, IndexKind, IndexRecord, IndexRequest, OrgScope, Store};

/// A job that has not moved for this long no longer blocks a re-index (its instance was
/// lost; the indexer's own limit is 15 minutes).
pub const STALE_JOB_SECS: i64 = 30 * 60;

/// The index record of one of the org's repositories (`None`: never indexed — connected
/// before the index existed).
pub async fn index_status(store: &Store, scope: &OrgScope, repo_id: &str) -> Result<Option<IndexRecord>, ApiError> {
    let repo = find_repo(store, scope, repo_id).await?;
    Ok(store.index_record(scope, &repo.id).await?)
}

/// A full re-index (admins): 409 `index_in_progress` while a job is queued or running.
pub async fn request_index(
    store: &Store,
    jobs: &IndexJobs,
    scope: &OrgScope,
    repo_id: &str,
) -> Result<IndexRecord, ApiError> {
    require_admin(scope)?;
    let repo = find_repo(store, scope, repo_id).await?;
    let job_id = new_job_id();
    let request = IndexRequest {
        repo_id: &repo.id,
        kind: IndexKind::Full,
        job_id: &job_id,
        target: None,
    };
    store.queue_index(scope, &request, STALE_JOB_SECS).await?;
    send_job(store, jobs, scope, &request).await?;
    store
        .index_record(scope, &repo.id)
        .await?
        .ok_or_else(|| ApiError::Unavailable("the index record vanished after it was written".into()))
}

/// A fresh job id.
pub fn new_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Sends a recorded job to the indexer. If the queue refuses it, the record says
/// `failed: not_queued` (an admin may ask again) and the caller gets 503.
pub async fn send_job(
    store: &Store,
    jobs: &IndexJobs,
    scope: &OrgScope,
    request: &IndexRequest<'_>,
) -> Result<(), ApiError> {
    let message = IndexJobMessage {
        repo_id: request.repo_id.to_owned(),
        job_id: request.job_id.to_owned(),
        kind: request.kind,
        target: request.target.map(str::to_owned),
    };
    if let Err(e) = jobs.send(scope.org_id(), &message).await {
        let failure = IndexFailure {
            code: "not_queued".into(),
            message: "the index job could not be queued; ask for a re-index".into(),
        };
        if let Err(store_error) = store
            .index_not_queued(scope, request.repo_id, request.job_id, &failure)
            .await
        {
            tracing::error!(error = %store_error, "could not record that an index job was not queued");
        }
        return Err(ApiError::Unavailable(format!("index queue: {e}")));
    }
    Ok(())
}
