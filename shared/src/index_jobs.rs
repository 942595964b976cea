//! The index-jobs queue (docs/index.md): one message per codebase-index job, read by the
//! indexer one at a time. The message names the job; the record in the org's partition
//! (`store::IndexRecord`) says whether it is still the one to run.

use agnus_sqs::{Message, SqsSender};
use serde::{Deserialize, Serialize};

use crate::domain::OrgId;
use crate::error::ApiError;
use crate::queue::{ATTR_ORG_ID, QueueError};
use crate::store::{IndexFailure, IndexKind, IndexRequest, OrgScope, Store};

/// One job, as queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexJobMessage {
    pub repo_id: String,
    pub job_id: String,
    pub kind: IndexKind,
    /// The commit to index (`None`: the default branch's head when the job runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Sends index jobs (the repos function on connect and re-index; the worker on pushes to
/// the default branch; the review engine when a pull request's base is ahead of the index).
#[derive(Debug, Clone)]
pub struct IndexJobs {
    sqs: SqsSender,
    queue_url: String,
}

impl IndexJobs {
    pub fn new(sqs: SqsSender, queue_url: impl Into<String>) -> Self {
        Self {
            sqs,
            queue_url: queue_url.into(),
        }
    }

    /// Queues `job` of `org` (the org travels as the `org_id` attribute, as on the review
    /// queue: the indexer opens its scope from it).
    pub async fn send(&self, org: &OrgId, job: &IndexJobMessage) -> Result<(), QueueError> {
        let body = serde_json::to_string(job).map_err(|e| QueueError::Invalid(e.to_string()))?;
        let org = org.to_string();
        let attributes = [(ATTR_ORG_ID, org.as_str())];
        let message = Message {
            queue_url: &self.queue_url,
            body: &body,
            attributes: &attributes,
        };
        self.sqs
            .send_message(&message)
            .await
            .map(|_| ())
            .map_err(|e| QueueError::Unavailable(e.to_string()))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_message_round_trips_and_omits_an_absent_target() {
        let job = IndexJobMessage {
            repo_id: "r1".into(),
            job_id: "j1".into(),
            kind: IndexKind::Full,
            target: None,
        };
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(text, r#"{"repoId":"r1","jobId":"j1","kind":"full"}"#);
        assert_eq!(serde_json::from_str::<IndexJobMessage>(&text).unwrap(), job);
        assert!(serde_json::from_str::<IndexJobMessage>(r#"{"repoId":"r","jobId":"j","kind":"partial"}"#).is_err());
    }
}
