//! The hand-off to the review engine. The LLM review itself is outside this project: the
//! worker gives each review job to a [`Reviewer`]; the shipped one records the job as
//! `ready` — the state the review engine consumes.

use std::future::Future;
use std::pin::Pin;

use crate::domain::Provider;
use crate::store::{QueueScope, ReviewJob, Store, StoreError};

pub type ReviewFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

pub trait Reviewer: Send + Sync + std::fmt::Debug {
    fn submit<'a>(&'a self, scope: &'a QueueScope, provider: Provider, job: &'a ReviewJob) -> ReviewFuture<'a>;
}

/// Marks jobs `ready` for the review engine.
#[derive(Debug, Clone)]
pub struct ReadyForEngine {
    store: Store,
}

impl ReadyForEngine {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl Reviewer for ReadyForEngine {
    fn submit<'a>(&'a self, scope: &'a QueueScope, provider: Provider, job: &'a ReviewJob) -> ReviewFuture<'a> {
        Box::pin(async move {
            self.store
                .set_review_status(scope, provider, &job.delivery_id, &job.sort_key, "ready")
                .await
        })
    }
}
