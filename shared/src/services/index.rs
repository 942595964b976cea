//! The codebase index of a repository, as members and admins see it (docs/index.md): its
//! status, and a full re-index asked for by an admin. The indexer function does the work.

use crate::error::ApiError;
use crate::index_jobs::{IndexJobs, new_job_id, send_job};
use crate::services::access::require_admin;
use crate::services::repos::find_repo;
use crate::store::{IndexKind, IndexRecord, IndexRequest, OrgScope, Store};

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
    let event = scope
        .audit("repo.index_requested")
        .target(&repo.id)
        .details(serde_json::json!({ "kind": "full" }));
    store.queue_index(scope, &request, STALE_JOB_SECS, &event).await?;
    send_job(store, jobs, scope, &request).await?;
    store
        .index_record(scope, &repo.id)
        .await?
        .ok_or_else(|| ApiError::Unavailable("the index record vanished after it was written".into()))
}
