//! The codebase indexer (docs/index.md): one index job at a time from the index-jobs
//! queue. A job reads its repository at one commit from the provider (the archive for a
//! full index, the changed files for an incremental one), parses it with tree-sitter
//! (`agnus-index`), resolves symbols and edges into a graph, stores the compressed graph
//! in S3 under the org's prefix and says so in the repository's index record. With
//! embeddings configured, it also embeds the graph's most called symbols into a vectors
//! object next to the graph (`vectors`), which `deep` reviews read for similar code.
//!
//! Fair share: one job per org at a time (a lease in the org's partition; a job that finds
//! it taken is queued again with a delay), and the function's reserved concurrency
//! (infra/) keeps indexing from taking the account's concurrency from the reviews.

mod archive;
mod job;
mod source;
mod stream;
mod vectors;

use agnus_shared::config::IndexerConfig;
use agnus_shared::crypto::SecretBox;
use agnus_shared::index_jobs::IndexJobMessage;
use agnus_shared::queue::QueuedOrg;
use agnus_shared::store::{JobWrite, Store, StoreError};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::Instrument;

pub use archive::{ArchiveError, Caps, Format, walk};
pub use job::{Failure, JobError};
pub use source::Sources;

/// How long a job holds its org's lease at most (the function's timeout is 15 minutes).
const LEASE_SECS: i64 = 16 * 60;
/// A job whose org is busy comes back after this long.
const BUSY_DELAY_SECS: i32 = 60;

/// What every invocation shares.
#[derive(Debug)]
pub struct IndexerState {
    pub config: IndexerConfig,
    pub store: Store,
    pub sealer: SecretBox,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sources: Sources,
    /// Repository tokens and GitHub App installation tokens.
    pub repo_tokens: agnus_shared::repo_token::RepoTokens,
    /// Embeddings of the graphs' symbols (`AGNUS_EMBEDDINGS_*`; see
    /// [`IndexerState::with_embeddings`]).
    pub embedder: Option<agnus_shared::embeddings::Embedder>,
}

impl IndexerState {
    pub fn new(
        config: IndexerConfig,
        store: Store,
        sealer: SecretBox,
        s3: aws_sdk_s3::Client,
        sqs: aws_sdk_sqs::Client,
    ) -> Self {
        Self {
            sources: Sources::new(&config.providers, &config.bitbucket_web_url),
            repo_tokens: agnus_shared::repo_token::RepoTokens::new(agnus_shared::repo_access::RepoAccess::new(
                &config.providers,
            )),
            config,
            store,
            sealer,
            s3,
            sqs,
            embedder: None,
        }
    }

    /// With symbol embeddings when `AGNUS_EMBEDDINGS_*` configures them (Bedrock signs
    /// with the SDK configuration's credentials).
    pub fn with_embeddings(mut self, sdk: &agnus_shared::aws::SdkConfig) -> Self {
        self.embedder = agnus_shared::embeddings::Embedder::from_sdk(self.config.embeddings.as_ref(), sdk);
        self
    }
}

/// What became of one message.
#[derive(Debug, PartialEq, Eq)]
enum Handled {
    /// The job ran (its record says how it ended) or is no longer wanted.
    Done(&'static str),
    /// The org's lease is taken: the job was queued again with a delay.
    Requeued,
}

/// One batch (of one message, as the event source is configured): failed messages are
/// reported so only they come back.
pub async fn handle(state: &IndexerState, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in &event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!(
            "index",
            message_id = %id,
            org_id = tracing::field::Empty,
            job_id = tracing::field::Empty,
        );
        match process(state, message).instrument(span.clone()).await {
            Ok(outcome) => span.in_scope(|| tracing::info!(?outcome, "index message handled")),
            Err(e) => {
                span.in_scope(|| tracing::warn!(error = %e, "index message failed; it will be retried"));
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

async fn process(state: &IndexerState, message: &SqsMessage) -> Result<Handled, StoreError> {
    let Some(org) = QueuedOrg::of_message(message) else {
        tracing::warn!("index message without an org: dropped");
        return Ok(Handled::Done("no_org"));
    };
    let Some(job) = message
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<IndexJobMessage>(b).ok())
    else {
        tracing::warn!("unreadable index message: dropped");
        return Ok(Handled::Done("unreadable"));
    };
    let span = tracing::Span::current();
    span.record("job_id", job.job_id.as_str());
    let Some(scope) = state.store.queue_scope(&org).await? else {
        return Ok(Handled::Done("org_gone"));
    };
    span.record("org_id", tracing::field::display(scope.org_id()));
    let Some(repo) = state.store.repo_in_queue_scope(&scope, &job.repo_id).await? else {
        return Ok(Handled::Done("repo_gone"));
    };
    match state.store.queued_index_record(&scope, &repo.id).await? {
        Some(record) if record.job_id == job.job_id => {}
        _ => return Ok(Handled::Done("superseded")),
    }
    if !state.store.take_index_lease(&scope, &job.job_id, LEASE_SECS).await? {
        requeue(state, message).await?;
        return Ok(Handled::Requeued);
    }
    let attempts: u32 = message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let outcome = job::run(state, &scope, &repo, &job).await;
    let released = state.store.release_index_lease(&scope, &job.job_id).await;
    let result = match outcome {
        Ok(JobWrite::Done) => Ok(Handled::Done("ready")),
        Ok(JobWrite::Superseded) => Ok(Handled::Done("superseded")),
        Err(JobError::Failed(failure)) => {
            tracing::info!(code = failure.code, "index job failed");
            if failure.code == "token_invalid" {
                // A refused installation token: the next job mints a new one.
                state.repo_tokens.forget_org(&scope.org_id().to_string());
            }
            state
                .store
                .fail_index(&scope, &repo.id, &job.job_id, &failure.record())
                .await?;
            Ok(Handled::Done("failed"))
        }
        Err(JobError::Transient(why)) if attempts >= state.config.max_attempts => {
            tracing::warn!(%why, attempts, "index job failed for good after retries");
            let failure = Failure::new(
                "provider_unavailable",
                format!("the job failed {attempts} times: {why}"),
            );
            state
                .store
                .fail_index(&scope, &repo.id, &job.job_id, &failure.record())
                .await?;
            Ok(Handled::Done("failed"))
        }
        Err(JobError::Transient(why)) => Err(StoreError::Unavailable(why)),
        Err(JobError::Store(e)) => Err(e),
    };
    released?;
    result
}

/// Queues the message again with a delay (a fresh receive count: waiting for the org's
/// lease is no failure).
async fn requeue(state: &IndexerState, message: &SqsMessage) -> Result<(), StoreError> {
    let mut send = state
        .sqs
        .send_message()
        .queue_url(&state.config.queue_url)
        .message_body(message.body.clone().unwrap_or_default())
        .delay_seconds(BUSY_DELAY_SECS);
    for (name, value) in &message.message_attributes {
        if let Some(v) = &value.string_value {
            let attribute = aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            send = send.message_attributes(name, attribute);
        }
    }
    send.send()
        .await
        .map(|_| ())
        .map_err(|e| StoreError::Unavailable(format!("requeue: {e:?}")))
}
