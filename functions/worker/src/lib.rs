//! The review worker (product §7): for each message of an SQS batch, normalize the provider
//! event, resolve the repository **inside the message's org**, and record a review job
//! (handed to the [`Reviewer`], which enqueues it for `functions/reviewer`) or a skip with
//! its reason. Idempotent per delivery: the job and a processing marker are written in one
//! transaction. Failures are reported per message (`ReportBatchItemFailures`), so only the
//! failing message is retried, and one that keeps failing reaches the DLQ after the
//! queue's `maxReceiveCount`.

use std::sync::Arc;

use agnus_shared::aws::S3Client;
use agnus_shared::config::WorkerConfig;
use agnus_shared::domain::Provider;
use agnus_shared::events::{self, Normalized, PrAction};
use agnus_shared::index_jobs::IndexJobs;
use agnus_shared::queue::{self, ClaimCheck, QueuedOrg};
use agnus_shared::reviewer::{HandOffError, Reviewer};
use agnus_shared::store::{
    Conflict, NewReviewJob, Processed, QueueScope, RepoLookup, RepoRecord, ReviewJob, Store, StoreError,
};
use agnus_shared::trigger;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Deserialize;
use tracing::Instrument;

mod push;

#[derive(Debug)]
pub struct WorkerState {
    pub store: Store,
    pub s3: S3Client,
    pub reviewer: Arc<dyn Reviewer>,
    /// Incremental index jobs for pushes to a repository's default branch.
    pub index_jobs: IndexJobs,
    pub config: WorkerConfig,
}

impl WorkerState {
    pub fn new(
        config: WorkerConfig,
        store: Store,
        s3: S3Client,
        reviewer: Arc<dyn Reviewer>,
        index_jobs: IndexJobs,
    ) -> Self {
        Self {
            store,
            s3,
            reviewer,
            index_jobs,
            config,
        }
    }
}

/// Why a message failed (it will be retried, then dead-lettered).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The message can never be processed (bad attributes, unreadable payload).
    #[error("poison message: {0}")]
    Poison(String),
    /// A dependency failed; a retry may succeed.
    #[error("transient failure: {0}")]
    Transient(String),
}

impl From<HandOffError> for WorkerError {
    fn from(e: HandOffError) -> Self {
        WorkerError::Transient(e.to_string())
    }
}

impl From<StoreError> for WorkerError {
    fn from(e: StoreError) -> Self {
        WorkerError::Transient(e.to_string())
    }
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Job(String),
    Skipped(String),
    /// Processed before (redelivery): nothing new written.
    AlreadyDone,
}

/// Processes a batch; the answer lists the messages to retry.
pub async fn handle(state: &WorkerState, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in &event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!(
            "message",
            message_id = %id,
            trace_id = agnus_shared::telemetry::trace_id(message.attributes.get("AWSTraceHeader")),
            org_id = tracing::field::Empty,
            delivery_id = tracing::field::Empty,
            provider = tracing::field::Empty,
        );
        let result = process(state, message).instrument(span.clone()).await;
        record_metrics(message, &result);
        match result {
            Ok(outcome) => span.in_scope(|| tracing::info!(?outcome, "processed")),
            Err(e) => {
                span.in_scope(|| tracing::warn!(error = %e, "message failed; it will be retried"));
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

/// One worker metric per message: its outcome and how long it waited on the queue.
fn record_metrics(message: &SqsMessage, result: &Result<Outcome, WorkerError>) {
    use agnus_shared::metrics::{WorkerMessage, worker_message};
    let outcome = match result {
        Ok(Outcome::Job(_)) => WorkerMessage::Job,
        Ok(Outcome::Skipped(reason)) => WorkerMessage::Skipped(reason),
        Ok(Outcome::AlreadyDone) => WorkerMessage::Duplicate,
        Err(WorkerError::Poison(_)) => WorkerMessage::Poison,
        Err(WorkerError::Transient(_)) => WorkerMessage::Retry,
    };
    let sent_at_ms = message.attributes.get("SentTimestamp").and_then(|v| v.parse().ok());
    worker_message(outcome, sent_at_ms);
}

fn attribute<'a>(message: &'a SqsMessage, name: &str) -> Result<&'a str, WorkerError> {
    message
        .message_attributes
        .get(name)
        .and_then(|a| a.string_value.as_deref())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| WorkerError::Poison(format!("missing message attribute {name}")))
}

/// A manual review request's body (written by the repos function).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManualReview {
    repo_id: String,
    pr_number: u64,
    #[serde(default)]
    head_sha: Option<String>,
}

async fn payload(state: &WorkerState, message: &SqsMessage) -> Result<Vec<u8>, WorkerError> {
    let body = message.body.as_deref().unwrap_or_default();
    match attribute(message, queue::ATTR_ENCODING)? {
        queue::ENCODING_INLINE => Ok(body.as_bytes().to_vec()),
        queue::ENCODING_CLAIM_CHECK => {
            let claim: ClaimCheck =
                serde_json::from_str(body).map_err(|e| WorkerError::Poison(format!("bad claim check: {e}")))?;
            queue::fetch_claim_check(&state.s3, &claim, &state.config.bucket)
                .await
                .map_err(|e| match e {
                    queue::QueueError::Invalid(m) => WorkerError::Poison(m),
                    queue::QueueError::Unavailable(m) => WorkerError::Transient(m),
                })
        }
        other => Err(WorkerError::Poison(format!("unknown encoding {other}"))),
    }
}

async fn process(state: &WorkerState, message: &SqsMessage) -> Result<Outcome, WorkerError> {
    let org = QueuedOrg::of_message(message).ok_or_else(|| WorkerError::Poison("missing or bad org_id".into()))?;
    let provider: Provider = attribute(message, queue::ATTR_PROVIDER)?
        .parse()
        .map_err(|_| WorkerError::Poison("bad provider".into()))?;
    let event = attribute(message, queue::ATTR_EVENT)?;
    let delivery_id = attribute(message, queue::ATTR_DELIVERY_ID)?;
    let source = attribute(message, queue::ATTR_SOURCE).unwrap_or("webhook");
    let span = tracing::Span::current();
    span.record("org_id", tracing::field::display(org.id()));
    span.record("delivery_id", delivery_id);
    span.record("provider", provider.as_str());

    let Some(scope) = state.store.queue_scope(&org).await? else {
        return Ok(Outcome::Skipped("org_deleted".into()));
    };
    match state.store.processed(&scope, provider, delivery_id).await? {
        Some(Processed::Skipped(_)) => return Ok(Outcome::AlreadyDone),
        Some(Processed::Job { status, .. }) if status != "queued" => return Ok(Outcome::AlreadyDone),
        Some(Processed::Job { sort_key, .. }) => {
            // Recorded, but the hand-off failed last time: hand it off again.
            if let Some(job) = state.store.review_job(&scope, &sort_key).await? {
                state.reviewer.submit(&scope, provider, &job).await?;
            }
            return Ok(Outcome::AlreadyDone);
        }
        None => {}
    }

    let body = payload(state, message).await?;
    let (repo, pr) = if source == "manual" {
        let request: ManualReview =
            serde_json::from_slice(&body).map_err(|e| WorkerError::Poison(format!("bad manual request: {e}")))?;
        match state.store.repo_in_queue_scope(&scope, &request.repo_id).await? {
            Some(repo) => {
                let pr = events::PrEvent {
                    repo: repo.repo_ref(),
                    pr_number: request.pr_number,
                    head_sha: request.head_sha,
                    action: PrAction::Manual,
                    title: None,
                    author: None,
                    comment: None,
                };
                (repo, pr)
            }
            None => return skip(state, &scope, provider, delivery_id, "unknown_repo").await,
        }
    } else {
        let pr = match events::normalize(provider, event, &body) {
            Err(e) => return Err(WorkerError::Poison(e.to_string())),
            Ok(Normalized::Skip(reason)) => return skip(state, &scope, provider, delivery_id, reason).await,
            Ok(Normalized::Review(pr)) => pr,
            Ok(Normalized::Push(push)) => {
                let reason = push::follow(state, &scope, &push).await?;
                return skip(state, &scope, provider, delivery_id, reason).await;
            }
        };
        match state.store.repo_for_event(&scope, &pr.repo).await? {
            RepoLookup::Ours(repo) => {
                if let Some(reason) = refuse_comment(state, &scope, &repo, &pr).await? {
                    return skip(state, &scope, provider, delivery_id, reason).await;
                }
                (*repo, pr)
            }
            // Never processed for this org, and nothing written to the other org.
            RepoLookup::OtherOrg => return skip(state, &scope, provider, delivery_id, "repo_not_in_org").await,
            RepoLookup::Unknown => return skip(state, &scope, provider, delivery_id, "unknown_repo").await,
        }
    };
    record(state, &scope, provider, delivery_id, source, &repo, &pr).await
}

/// A comment asks for a review only if it mentions the repository's handle (its
/// `mention` setting: repository override, org default, the system's) as a token, and
/// is neither the engine's own nor a bot's nor the repository token's
/// ([`agnus_shared::trigger`]).
async fn refuse_comment(
    state: &WorkerState,
    scope: &QueueScope,
    repo: &RepoRecord,
    pr: &events::PrEvent,
) -> Result<Option<&'static str>, WorkerError> {
    let Some(comment) = &pr.comment else {
        return Ok(None);
    };
    let (org_layer, repo_layer) = state.store.review_settings_layers(scope, &repo.id).await?;
    let handle = repo_layer
        .mention
        .as_deref()
        .or(org_layer.mention.as_deref())
        .unwrap_or(&state.config.mention);
    let who = trigger::Commenter {
        id: comment.author_id.as_deref(),
        login: comment.author_login.as_deref(),
        is_bot: comment.author_is_bot,
    };
    Ok(trigger::refuse(
        &comment.body,
        who,
        handle,
        repo.token_identity.as_ref(),
    ))
}

async fn skip(
    state: &WorkerState,
    scope: &QueueScope,
    provider: Provider,
    delivery_id: &str,
    reason: &str,
) -> Result<Outcome, WorkerError> {
    state.store.record_skip(scope, provider, delivery_id, reason).await?;
    Ok(Outcome::Skipped(reason.to_owned()))
}

async fn record(
    state: &WorkerState,
    scope: &QueueScope,
    provider: Provider,
    delivery_id: &str,
    source: &str,
    repo: &RepoRecord,
    pr: &events::PrEvent,
) -> Result<Outcome, WorkerError> {
    let new = NewReviewJob {
        repo,
        provider,
        delivery_id,
        pr_number: pr.pr_number,
        head_sha: pr.head_sha.as_deref(),
        action: pr.action,
        title: pr.title.as_deref(),
        author: pr.author.as_deref(),
        source,
    };
    let job: ReviewJob = match state.store.record_review_job(scope, &new).await {
        Ok(job) => job,
        // A concurrent redelivery won the race: it owns the job.
        Err(StoreError::Conflict(Conflict::AlreadyProcessed)) => return Ok(Outcome::AlreadyDone),
        Err(e) => return Err(e.into()),
    };
    state.reviewer.submit(scope, provider, &job).await?;
    tracing::info!(job_id = %job.id, repo_id = %repo.id, pr = pr.pr_number, "review job recorded");
    Ok(Outcome::Job(job.id))
}
