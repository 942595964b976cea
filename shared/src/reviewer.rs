//! The hand-off from the worker to the review engine: the worker gives each recorded
//! review job to a [`Reviewer`]; the shipped [`QueueReviewer`] puts a [`JobMessage`] on
//! the review-jobs queue that `functions/reviewer` consumes, then notes the hand-off on
//! the delivery's processing marker (so a redelivered webhook message does not enqueue
//! the job again; a duplicate that slips through is harmless — the reviewer claims each
//! job once).

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::domain::{OrgId, Provider};
use crate::store::{QueueScope, ReviewJob, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum HandOffError {
    #[error("review-jobs queue: {0}")]
    Queue(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type ReviewFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HandOffError>> + Send + 'a>>;

pub trait Reviewer: Send + Sync + std::fmt::Debug {
    fn submit<'a>(&'a self, scope: &'a QueueScope, provider: Provider, job: &'a ReviewJob) -> ReviewFuture<'a>;
}

/// The body of a review-jobs message: which job, in which org. Everything else is read
/// from the store, so the message carries nothing the reviewer has to trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    pub org_id: OrgId,
    pub job_key: String,
    pub job_id: String,
}

/// Enqueues jobs for `functions/reviewer`.
#[derive(Debug, Clone)]
pub struct QueueReviewer {
    store: Store,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl QueueReviewer {
    pub fn new(store: Store, sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            store,
            sqs,
            queue_url: queue_url.into(),
        }
    }
}

impl Reviewer for QueueReviewer {
    fn submit<'a>(&'a self, scope: &'a QueueScope, provider: Provider, job: &'a ReviewJob) -> ReviewFuture<'a> {
        Box::pin(async move {
            let message = JobMessage {
                org_id: *scope.org_id(),
                job_key: job.sort_key.clone(),
                job_id: job.id.clone(),
            };
            let body = serde_json::to_string(&message).map_err(|e| HandOffError::Queue(e.to_string()))?;
            self.sqs
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(body)
                .send()
                .await
                .map_err(|e| HandOffError::Queue(format!("{e:?}")))?;
            self.store.mark_handed_off(scope, provider, &job.delivery_id).await?;
            Ok(())
        })
    }
}

impl crate::queue::QueuedOrg {
    /// The org of a review-jobs message (written by the worker after the intake verified
    /// the delivery).
    pub fn of_job(job: &JobMessage) -> Self {
        Self::from_trusted(job.org_id)
    }
}
