//! The repository's index catches up with the code a review reads (docs/index.md, "When
//! the index is updated"): when a pull request's base is not the indexed commit, an
//! incremental job brings the index to the default branch's head. Best effort: the review
//! never waits for it and never fails because of it.

use agnus_shared::index_jobs::{IndexJobMessage, IndexJobs, new_job_id};
use agnus_shared::services::index::STALE_JOB_SECS;
use agnus_shared::store::{IndexKind, IndexRecord, IndexRequest, IndexStatus, QueueScope, Store};

/// Does an index in this state need a job for a pull request based on `base_sha`? Only a
/// settled index (ready, or failed after having been ready) that is not at the base; a
/// queued or running job is already on its way, and a never-ready index gets its full job
/// from the connection or an admin.
pub fn behind(record: &IndexRecord, base_sha: &str) -> bool {
    let settled = matches!(record.status, IndexStatus::Ready | IndexStatus::Failed);
    settled
        && record
            .commit
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case(base_sha))
}

/// Queues the job if the index is behind; logs and carries on whatever happens.
pub async fn catch_up(store: &Store, jobs: &IndexJobs, scope: &QueueScope, repo_id: &str, base_sha: &str) {
    let record = match store.queued_index_record(scope, repo_id).await {
        Ok(Some(record)) => record,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "index record unreadable; the index is not caught up");
            return;
        }
    };
    if !behind(&record, base_sha) {
        return;
    }
    let job_id = new_job_id();
    // No target: the default branch's head when the job runs (the base may be older than
    // the index; the head never is).
    let request = IndexRequest {
        repo_id,
        kind: IndexKind::Incremental,
        job_id: &job_id,
        target: None,
    };
    match store.queue_index_for_event(scope, &request, STALE_JOB_SECS).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not queue an index catch-up");
            return;
        }
    }
    let message = IndexJobMessage {
        repo_id: repo_id.to_owned(),
        job_id: job_id.clone(),
        kind: IndexKind::Incremental,
        target: None,
    };
    if let Err(e) = jobs.send(scope.org_id(), &message).await {
        tracing::warn!(error = %e, "index catch-up not queued");
        let failure = agnus_shared::store::IndexFailure {
            code: "not_queued".into(),
            message: "the index job could not be queued; the next review asks again".into(),
        };
        if let Err(e) = store.fail_index(scope, repo_id, &job_id, &failure).await {
            tracing::warn!(error = %e, "could not record an unqueued index job");
        }
        return;
    }
    tracing::info!(%job_id, "index catch-up queued (the pull request's base is not the indexed commit)");
}

#[cfg(test)]
mod tests {
    use agnus_shared::store::{IndexProgress, IndexStatus};

    use super::*;

    fn record(status: IndexStatus, commit: Option<&str>) -> IndexRecord {
        IndexRecord {
            status,
            kind: IndexKind::Full,
            phase: None,
            progress: IndexProgress::default(),
            commit: commit.map(str::to_owned),
            stats: None,
            queued_at: 0,
            started_at: None,
            finished_at: None,
            error: None,
            job_id: "j".into(),
            target: None,
            graph_key: None,
        }
    }

    #[test]
    fn only_a_settled_index_at_another_commit_is_behind() {
        assert!(behind(&record(IndexStatus::Ready, Some("aaa")), "bbb"));
        assert!(behind(&record(IndexStatus::Failed, Some("aaa")), "bbb"));
        assert!(!behind(&record(IndexStatus::Ready, Some("AAA")), "aaa"));
        assert!(!behind(&record(IndexStatus::Queued, Some("aaa")), "bbb"));
        assert!(!behind(&record(IndexStatus::Indexing, Some("aaa")), "bbb"));
        assert!(
            !behind(&record(IndexStatus::Failed, None), "bbb"),
            "never ready: not the review's job"
        );
    }
}
