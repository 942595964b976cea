//! A push to a repository's default branch: an incremental index job of the repository
//! (docs/index.md). Only a repository of the message's org whose index exists is
//! followed; one with a job queued or running already is left to it (the next push or
//! review catches up).

use agnus_shared::index_jobs::IndexJobMessage;
use agnus_shared::index_jobs::new_job_id;
use agnus_shared::push::PushEvent;
use agnus_shared::services::index::STALE_JOB_SECS;
use agnus_shared::store::{IndexFailure, IndexKind, IndexRequest, QueueScope, RepoLookup};

use crate::{WorkerError, WorkerState};

/// Queues the job; the reason recorded for the delivery.
pub async fn follow(state: &WorkerState, scope: &QueueScope, push: &PushEvent) -> Result<&'static str, WorkerError> {
    let repo = match state.store.repo_for_event(scope, &push.repo).await? {
        RepoLookup::Ours(repo) => repo,
        RepoLookup::OtherOrg => return Ok("repo_not_in_org"),
        RepoLookup::Unknown => return Ok("unknown_repo"),
    };
    let Some(record) = state.store.queued_index_record(scope, &repo.id).await? else {
        return Ok("push_repo_not_indexed");
    };
    if record.commit.as_deref() == Some(push.after.as_str()) {
        return Ok("push_already_indexed");
    }
    let job_id = new_job_id();
    let request = IndexRequest {
        repo_id: &repo.id,
        kind: IndexKind::Incremental,
        job_id: &job_id,
        target: Some(&push.after),
    };
    if !state
        .store
        .queue_index_for_event(scope, &request, STALE_JOB_SECS)
        .await?
    {
        return Ok("push_index_busy");
    }
    let message = IndexJobMessage {
        repo_id: repo.id.clone(),
        job_id: job_id.clone(),
        kind: IndexKind::Incremental,
        target: Some(push.after.clone()),
    };
    if let Err(e) = state.index_jobs.send(scope.org_id(), &message).await {
        // The record must not say `queued` for a job nobody will run; the delivery is
        // retried and queues a fresh one.
        let failure = IndexFailure {
            code: "not_queued".into(),
            message: "the index job could not be queued; it is asked for again".into(),
        };
        state.store.fail_index(scope, &repo.id, &job_id, &failure).await?;
        return Err(WorkerError::Transient(format!("index queue: {e}")));
    }
    tracing::info!(repo_id = %repo.id, %job_id, "incremental index queued for a push");
    Ok("push_index_queued")
}
