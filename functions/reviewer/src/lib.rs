//! The review engine (issue 16): consumes the review-jobs queue one job at a time and
//! does the product's job — read the pull request, ask the system-level LLM, post the
//! review on the head commit, record the outcome.
//!
//! Per job: **claim** it in the store (`queued → reviewing`, with a lease), open the
//! repository token (KMS, the context the repos function sealed it with), read the PR,
//! **re-check its head** (a newer push: `skipped: stale`), skip drafts, bots and closed
//! PRs, build the prompt within the diff budget, call the LLM, validate its answer, post,
//! and record `posted | skipped(reason) | failed(reason)` with comment count, model,
//! tokens, duration and the review's link.
//!
//! **Exactly once, visibly.** A finished job is never claimed again, so a redelivered
//! message posts nothing; a job whose earlier attempt stopped after claiming it looks
//! for its hidden marker (`<!-- agnus-review:<jobId> -->`) on the PR before posting.
//! Host or LLM 429/5xx/network errors give the job back and return the message with a
//! visibility delay honouring `Retry-After` (`ReportBatchItemFailures`); after
//! `AGNUS_REVIEW_MAX_ATTEMPTS` receives the job fails with a reason. 401/403 → `failed:
//! token_invalid`; 404 → `failed: pr_not_found`.

pub mod azure;
pub mod bedrock;
pub mod bitbucket;
pub mod diff;
pub mod diff_stream;
pub mod examples;
pub mod feedback_links;
pub mod github;
pub mod gitlab;
pub mod graph_context;
pub mod graph_prompt;
pub mod guard;
pub mod hosts;
pub mod http;
pub mod index_catch_up;
pub mod inert;
pub mod llm;
pub mod prompt;
pub mod provider;
pub mod salvage;
pub mod similar_code;
pub mod status;
pub mod stored;
pub mod task;
pub mod validate;
pub mod verify;
pub mod walkthrough;

use std::time::{Duration, Instant};

use agnus_shared::aws::SqsClient;
use agnus_shared::config::ReviewerConfig;
use agnus_shared::crypto::SecretBox;
use agnus_shared::domain::Provider;
use agnus_shared::index_jobs::IndexJobs;
use agnus_shared::metrics;
use agnus_shared::queue::QueuedOrg;
use agnus_shared::repo_token::{RepoTokens, TokenFailure};
use agnus_shared::review_settings::{Depth, ReviewSettings, Severity};
use agnus_shared::reviewer::JobMessage;
use agnus_shared::rules;
use agnus_shared::store::{JobClaim, QueueScope, ReviewJob, ReviewOutcome, Store, StoreError};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::Instrument;

use crate::hosts::Hosts;
use crate::http::CallError;
use crate::llm::{Llm, LlmError};
use crate::provider::{Posted, Posting, Target, review_body, same_commit};
use crate::validate::Limits;

/// How long a claim holds a job: longer than the function's timeout (300 s), shorter
/// than the queue's visibility timeout, so a crashed attempt's job is free again by the
/// time its message reappears.
pub const LEASE_SECS: i64 = 360;

#[derive(Debug)]
pub struct ReviewerState {
    pub config: ReviewerConfig,
    pub store: Store,
    pub sealer: SecretBox,
    pub sqs: SqsClient,
    pub hosts: Hosts,
    /// Repository tokens and GitHub App installation tokens (minted per use, cached).
    pub repo_tokens: RepoTokens,
    pub llm: Llm,
    /// Index catch-up jobs (`AGNUS_INDEX_JOBS_QUEUE_URL` set): a pull request whose base is
    /// not the indexed commit brings the index up to date.
    pub index_jobs: Option<IndexJobs>,
    /// The codebase index's graphs (`AGNUS_INDEX_BUCKET` set): reviews get graph context.
    pub graphs: Option<graph_context::IndexGraphs>,
    /// Embeddings (`AGNUS_EMBEDDINGS_*`): feedback examples by similarity ([`examples`]).
    pub embedder: Option<agnus_shared::embeddings::Embedder>,
}

impl ReviewerState {
    /// `aws_credentials`: the function's own (the SDK configuration's), which sign Bedrock
    /// requests when the LLM is Bedrock.
    pub fn new(
        config: ReviewerConfig,
        store: Store,
        sealer: SecretBox,
        sqs: SqsClient,
        aws_credentials: SharedCredentialsProvider,
    ) -> Self {
        let llm_http = http::client(config.llm_timeout);
        Self {
            hosts: Hosts::new(&config.providers, config.max_diff_bytes),
            repo_tokens: RepoTokens::new(agnus_shared::repo_access::RepoAccess::new(&config.providers)),
            embedder: config
                .embeddings
                .as_ref()
                .map(|c| agnus_shared::embeddings::Embedder::new(c, Some(aws_credentials.clone()))),
            llm: Llm::from_config(llm_http, &config.llm, &config.llm_model, aws_credentials),
            config,
            store,
            sealer,
            sqs,
            index_jobs: None,
            graphs: None,
        }
    }

    /// With graph context read from the index's bucket (see [`graph_context`]).
    pub fn with_index_graphs(mut self, s3: aws_sdk_s3::Client, bucket: String) -> Self {
        self.graphs = Some(graph_context::IndexGraphs {
            s3,
            bucket,
            files: agnus_shared::provider_api::ApiBases::new(&self.config.providers),
            http: http::client(self.config.providers.timeout),
        });
        self
    }

    /// With index catch-up jobs (see [`index_catch_up`]).
    pub fn with_index_jobs(mut self, jobs: IndexJobs) -> Self {
        self.index_jobs = Some(jobs);
        self
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The job ended (now, or before: a redelivery) with this status.
    Done(String),
    /// Back on the queue, visible again after this delay.
    RetryLater(Duration),
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewerError {
    #[error("poison message: {0}")]
    Poison(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("kms: {0}")]
    Kms(String),
}

/// Processes a batch (size 1 in `infra/`); the answer lists the messages to retry.
pub async fn handle(state: &ReviewerState, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in &event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!(
            "review",
            message_id = %id,
            org_id = tracing::field::Empty,
            job_id = tracing::field::Empty,
        );
        let retry = match process(state, message).instrument(span.clone()).await {
            Ok(Handled::Done(status)) => {
                span.in_scope(|| tracing::info!(%status, "review job done"));
                None
            }
            Ok(Handled::RetryLater(delay)) => Some(delay),
            Err(e) => {
                span.in_scope(|| tracing::warn!(error = %e, "review message failed; it will be retried"));
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id.clone();
                response.batch_item_failures.push(failure);
                None
            }
        };
        if let Some(delay) = retry {
            span.in_scope(|| tracing::info!(delay_secs = delay.as_secs(), "review job returned to the queue"));
            if let Some(receipt) = message.receipt_handle.as_deref() {
                let secs = delay.as_secs().clamp(1, 43_200) as i32;
                if let Err(e) = state
                    .sqs
                    .change_message_visibility()
                    .queue_url(&state.config.queue_url)
                    .receipt_handle(receipt)
                    .visibility_timeout(secs)
                    .send()
                    .await
                {
                    span.in_scope(|| tracing::warn!(error = ?e, "could not delay the message; the queue's visibility timeout applies"));
                }
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// One message: claim the job, review it, record how it ended.
pub async fn process(state: &ReviewerState, message: &SqsMessage) -> Result<Handled, ReviewerError> {
    let body = message.body.as_deref().unwrap_or_default();
    let job_message: JobMessage =
        serde_json::from_str(body).map_err(|e| ReviewerError::Poison(format!("not a review-jobs message: {e}")))?;
    let span = tracing::Span::current();
    span.record("org_id", tracing::field::display(job_message.org_id));
    span.record("job_id", job_message.job_id.as_str());
    let Some(scope) = state.store.queue_scope(&QueuedOrg::of_job(&job_message)).await? else {
        return Ok(Handled::Done("org_deleted".into()));
    };
    let (job, resumed, attempts) = match state
        .store
        .claim_review(&scope, &job_message.job_key, LEASE_SECS)
        .await?
    {
        JobClaim::Claimed { job, resumed, attempts } => (job, resumed, attempts),
        JobClaim::Finished(status) => return Ok(Handled::Done(status)),
        JobClaim::Missing => return Ok(Handled::Done("missing".into())),
        JobClaim::Busy { lease_until } => {
            return Ok(Handled::RetryLater(Duration::from_secs(
                (lease_until - state.store.now_secs()).max(1) as u64 + 1,
            )));
        }
    };
    let started = Instant::now();
    let mut provider = None;
    let mut head = None;
    let mut reporter = status::Reporter::default();
    let step = match review(state, &scope, &job, resumed, &mut provider, &mut head, &mut reporter).await {
        Ok(step) => step,
        Err(e) => {
            // The job stays ours until the lease ends; the message comes back after the
            // queue's visibility timeout and claims it again.
            state.store.release_review(&scope, &job.sort_key).await?;
            return Err(e);
        }
    };
    let finished = |status: &str| {
        if let Some(provider) = provider {
            let outcome = if status == "failed" {
                metrics::ReviewOutcome::Failed
            } else {
                metrics::ReviewOutcome::Completed
            };
            metrics::review_finished(provider, outcome, started.elapsed());
        }
    };
    match step {
        Step::Finish(outcome) => {
            let mut outcome = *outcome;
            outcome.duration_ms = Some(started.elapsed().as_millis() as u64);
            let status = outcome.status.to_owned();
            if let (Some(head), "failed") = (&head, outcome.status) {
                guard::release(state, &scope, &job.id, head).await?;
            }
            if outcome.reason.as_deref() == Some("token_invalid") {
                // GitHub refused a cached installation token (the app was uninstalled, the
                // repository removed from it): the next job mints again.
                state.repo_tokens.forget_org(&scope.org_id().to_string());
            }
            tracing::info!(
                status = %status,
                reason = outcome.reason.as_deref().unwrap_or(""),
                comments = outcome.comment_count.unwrap_or(0),
                "review finished"
            );
            state.store.finish_review(&scope, &job, &outcome).await?;
            reporter.finish(&state.hosts, &outcome).await;
            finished(&status);
            Ok(Handled::Done(status))
        }
        Step::Retry { after, reason, why } => {
            tracing::warn!(%why, attempts, "review deferred");
            if attempts >= state.config.max_attempts {
                if let Some(head) = &head {
                    guard::release(state, &scope, &job.id, head).await?;
                }
                let mut outcome = ReviewOutcome::failed(reason);
                outcome.duration_ms = Some(started.elapsed().as_millis() as u64);
                state.store.finish_review(&scope, &job, &outcome).await?;
                reporter.finish(&state.hosts, &outcome).await;
                finished("failed");
                return Ok(Handled::Done("failed".into()));
            }
            state.store.release_review(&scope, &job.sort_key).await?;
            let backoff = Duration::from_secs((30u64 << attempts.saturating_sub(1).min(5)).min(900));
            Ok(Handled::RetryLater(after.unwrap_or(backoff)))
        }
    }
}

/// How a review attempt ended.
#[derive(Debug)]
pub enum Step {
    Finish(Box<ReviewOutcome>),
    Retry {
        after: Option<Duration>,
        /// The failure reason if this was the last attempt.
        reason: &'static str,
        why: String,
    },
}

/// A host call's failure as the job's next step (and in the provider error metric).
fn host_step(e: CallError, stage: &'static str, provider: Provider) -> Step {
    metrics::provider_api_error(provider, e.status());
    match e {
        CallError::Unauthorized(_) => Step::Finish(Box::new(ReviewOutcome::failed("token_invalid"))),
        CallError::NotFound => Step::Finish(Box::new(ReviewOutcome::failed("pr_not_found"))),
        CallError::RetryLater { after, why, .. } => Step::Retry {
            after,
            reason: "provider_unavailable",
            why: format!("{stage}: {why}"),
        },
        CallError::TooLarge { limit } => {
            tracing::warn!(limit, stage, "a provider answer is over the download cap");
            Step::Finish(Box::new(ReviewOutcome::failed("provider_answer_too_large")))
        }
        CallError::Rejected { why, .. } => {
            tracing::warn!(%why, stage, "the host refused a request");
            let reason = if stage == "post" {
                "post_rejected"
            } else {
                "provider_error"
            };
            Step::Finish(Box::new(ReviewOutcome::failed(reason)))
        }
    }
}

/// `host!(provider, call, "stage")`: the call's value, or the job's next step.
macro_rules! host {
    ($provider:expr, $call:expr, $stage:literal) => {
        match $call.await {
            Ok(v) => v,
            Err(e) => return Ok(host_step(e, $stage, $provider)),
        }
    };
}

async fn review(
    state: &ReviewerState,
    scope: &QueueScope,
    job: &ReviewJob,
    resumed: bool,
    provider: &mut Option<Provider>,
    head: &mut Option<guard::HeadClaim>,
    reporter: &mut status::Reporter,
) -> Result<Step, ReviewerError> {
    let Some(repo) = state.store.repo_in_queue_scope(scope, &job.repo_id).await? else {
        return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("repo_disconnected"))));
    };
    let p = repo.provider;
    *provider = Some(p);
    let host = state.hosts.get(p);
    let now = state.store.now_secs();
    let token = match state
        .repo_tokens
        .for_repo(&state.store, &state.sealer, scope, &repo, now)
        .await
    {
        Ok(token) => token,
        Err(TokenFailure::Unavailable(why)) => {
            return Ok(Step::Retry {
                after: None,
                reason: "provider_unavailable",
                why: format!("credential: {why}"),
            });
        }
        Err(e) => {
            tracing::warn!(reason = e.reason(), error = %e, "no credential for the repository");
            return Ok(Step::Finish(Box::new(ReviewOutcome::failed(e.reason()))));
        }
    };
    let downloads = http::Downloads::new(state.config.max_answer_bytes, state.config.max_job_bytes);
    let target = Target {
        full_name: &repo.full_name,
        pr: job.pr_number,
        token: &token,
        downloads: &downloads,
    };
    reporter.open(state, scope, &repo, &token, resumed);
    if resumed && let Some(found) = host!(p, host.find_marker(&target, &job.id), "find_marker") {
        // An earlier attempt posted, then stopped before recording it.
        reporter.on(job, None);
        return Ok(Step::Finish(Box::new(posted(found, job, None))));
    }

    let pr = host!(p, host.pull_request(&target), "pull_request");
    reporter.on(job, Some(&pr));
    if let Some(jobs) = &state.index_jobs {
        index_catch_up::catch_up(&state.store, jobs, scope, &repo.id, &pr.base_sha).await;
    }
    if !pr.open {
        return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("closed"))));
    }
    if job
        .head_sha
        .as_deref()
        .is_some_and(|sha| !same_commit(sha, &pr.head_sha))
    {
        return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("stale"))));
    }
    // An earlier attempt stored its answer and may have posted part of it: post that
    // answer, never a second one.
    if let Some(stored) = job.answer.as_deref().and_then(stored::StoredAnswer::parse) {
        if !same_commit(&stored.head_sha, &pr.head_sha) {
            return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("stale"))));
        }
        *head = Some(guard::HeadClaim {
            repo_id: job.repo_id.clone(),
            pr: job.pr_number,
            head_sha: pr.head_sha.clone(),
        });
        let files = host!(p, host.files(&target, &pr), "files");
        // It may be partly on the pull request already.
        return post_answer(host, &target, job, &pr, &files, &stored, true).await;
    }
    // The org's review settings (repository override → org default → the system's).
    let (org_layer, repo_layer) = state.store.review_settings_layers(scope, &repo.id).await?;
    let settings = system_settings(&state.config).with(&org_layer).with(&repo_layer);
    let (ignoring, extra) = (settings.clone(), state.config.ignore_paths.clone());
    downloads.set_ignore(move |path| ignoring.ignores(path) || diff::is_ignored(path, &extra));
    match job.action.as_str() {
        "opened" if !settings.auto_review => {
            return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("auto_review_off"))));
        }
        "synchronize" if !settings.review_on_push => {
            return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("push_reviews_off"))));
        }
        _ => {}
    }
    if pr.draft && settings.skip_drafts {
        return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("draft"))));
    }
    if pr.author_is_bot {
        return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("bot_author"))));
    }

    // Incremental on a new push: only what changed since the last reviewed head, if the
    // new head descends from it (a force push or no checkpoint: everything).
    let mut since = None;
    let mut changed_since = None;
    if job.action == "synchronize"
        && let Some(last) = state.store.review_checkpoint(scope, &repo.id, job.pr_number).await?
    {
        if same_commit(&last, &pr.head_sha) {
            return Ok(Step::Finish(Box::new(ReviewOutcome::skipped("already_reviewed"))));
        }
        if let Some(changed) = host!(p, host.files_since(&target, &pr, &last), "compare") {
            since = Some(last);
            changed_since = Some(changed);
        }
    }
    // The pull request's own diff: comments are anchored to it, whatever was reviewed.
    let files = host!(p, host.files(&target, &pr), "files");
    let shown = changed_since.as_deref().unwrap_or(&files);
    let budget = settings.depth.diff_budget(state.config.max_diff_bytes);
    let reviewable: Vec<_> = shown.iter().filter(|f| !settings.ignores(&f.path)).cloned().collect();
    let mut view = diff::build_view(&reviewable, budget, &state.config.ignore_paths);
    let left_out = downloads.take_left_out();
    diff::note_left_out(&mut view, left_out.too_large, left_out.unread);
    if since.is_some() {
        diff::anchor_to(&mut view, &files);
    }
    if view.files_shown == 0 {
        let capped = !view.too_large.is_empty() || view.unread;
        let reason = if capped {
            "diff_too_large"
        } else {
            "no_reviewable_changes"
        };
        return Ok(Step::Finish(Box::new(ReviewOutcome::skipped(reason))));
    }
    if let Some(stop) = guard::admit(state, scope, job, &pr.head_sha, &org_layer, head).await? {
        return Ok(stop);
    }
    reporter.pending(&state.hosts).await;
    let facts = prompt::PrFacts {
        title: pr.title.clone(),
        description: pr.description.clone(),
        author: pr.author.clone(),
        base_sha: pr.base_sha.clone(),
        head_sha: pr.head_sha.clone(),
        since_sha: since.clone(),
    };
    let mut user = prompt::user_prompt(&facts, &view, budget);
    // The org's rules that apply to this repository and these paths, fenced as data.
    let stored_rules = state.store.enabled_rules(scope).await?;
    let candidates: Vec<_> = stored_rules.iter().map(|r| r.as_applicable()).collect();
    let paths: Vec<&str> = reviewable.iter().map(|f| f.path.as_str()).collect();
    let applicable = rules::applicable(&candidates, &repo.id, &paths);
    // The code around the change, from the codebase index (or why there is none).
    let context = match &state.graphs {
        Some(graphs) => {
            let ask = graph_context::Ask {
                provider: p,
                repo_id: &repo.id,
                full_name: &repo.full_name,
                token: &token,
                head_sha: &pr.head_sha,
                files: &reviewable,
                depth: settings.depth,
                budget_tokens: settings.context_tokens as usize,
                embedder: state.embedder.as_ref(),
            };
            graphs.gather(&state.store, scope, &ask).await
        }
        // No index in this deployment: reviewed as before, nothing to say about it.
        None => graph_context::GraphContext {
            summary: String::new(),
            ..graph_context::GraphContext::diff_only("index_not_configured")
        },
    };
    user.push_str(&context.prompt);
    user.push_str(&rules::prompt_block(&applicable));
    // What this org's developers said about earlier comments on this repository.
    let examples = examples::feedback_examples(state, scope, &repo.id, &view.text).await?;
    user.push_str(&prompt::feedback_block(&examples));
    let rule_names: Vec<(&str, &str)> = applicable.iter().map(|r| (r.id, r.name)).collect();

    let ask = task::Ask::full(
        usize::try_from(settings.max_comments).unwrap_or(usize::MAX),
        view.files_shown,
    );
    let completion = match state.llm.review(&user, ask).await {
        Ok(c) => c,
        Err(LlmError::Call(CallError::RetryLater { after, why, .. })) => {
            return Ok(Step::Retry {
                after,
                reason: "llm_unavailable",
                why: format!("llm: {why}"),
            });
        }
        Err(LlmError::Call(CallError::Unauthorized(_))) => {
            return Ok(Step::Finish(Box::new(ReviewOutcome::failed("llm_unauthorized"))));
        }
        Err(LlmError::Call(e)) => {
            tracing::warn!(error = %e, "the LLM refused the request");
            return Ok(Step::Finish(Box::new(ReviewOutcome::failed("llm_rejected"))));
        }
        Err(LlmError::InvalidAnswer(why, report)) => {
            tracing::warn!(%why, "the LLM answered twice without the requested JSON");
            let mut outcome = ReviewOutcome::failed("llm_invalid_answer");
            outcome.llm_answer = Some(report);
            return Ok(Step::Finish(Box::new(outcome)));
        }
    };
    let limits = Limits {
        max_comments: usize::try_from(settings.max_comments).unwrap_or(usize::MAX),
        max_per_file: state.config.max_comments_per_file,
        min_severity: settings.min_severity,
        min_confidence: settings.min_confidence,
        rules: &rule_names,
    };
    let (mut valid, verified) = verify::select(&state.llm, completion.answer, &view, limits, settings.depth).await;
    feedback_links::attach(state, scope, job, &repo.id, &mut valid.comments).await?;
    let answer = stored::StoredAnswer {
        head_sha: pr.head_sha.clone(),
        body: if context.summary.is_empty() {
            review_body(&valid, state.llm.model(), &pr.head_sha, &job.id)
        } else {
            format!(
                "{}\n\n{}",
                context.summary,
                review_body(&valid, state.llm.model(), &pr.head_sha, &job.id)
            )
        },
        review: valid,
        model: state.llm.model().to_owned(),
        prompt_tokens: completion.prompt_tokens + verified.0,
        completion_tokens: completion.completion_tokens + verified.1,
        since,
        context: serde_json::to_string(&context.record).ok(),
        answer_report: completion.report,
    };
    state
        .store
        .save_review_answer(scope, &job.sort_key, &answer.to_json())
        .await?;
    post_answer(host, &target, job, &pr, &files, &answer, resumed).await
}

/// Posts a stored answer on the pull request's own diff and says how the job ended.
async fn post_answer(
    host: &dyn provider::CodeHost,
    target: &Target<'_>,
    job: &ReviewJob,
    pr: &provider::PullRequest,
    files: &[diff::ChangedFile],
    answer: &stored::StoredAnswer,
    resumed: bool,
) -> Result<Step, ReviewerError> {
    let usage = |mut o: ReviewOutcome| {
        o.model = Some(answer.model.clone());
        o.prompt_tokens = Some(answer.prompt_tokens);
        o.completion_tokens = Some(answer.completion_tokens);
        o.dropped = Some(answer.review.dropped);
        o.walkthrough = Some(answer.review.walkthrough.clone());
        o.llm_answer = answer.answer_report.is_notable().then_some(answer.answer_report);
        o
    };
    let posting = Posting {
        pr,
        files,
        review: &answer.review,
        body: &answer.body,
        job_id: &job.id,
        resumed,
    };
    match host.post(target, &posting).await {
        Ok(posted_review) => {
            let mut outcome = usage(posted(posted_review, job, Some(answer.review.comments.len() as u32)));
            outcome.reviewed_sha = Some(pr.head_sha.clone());
            outcome.base_of_diff = answer.since.clone();
            outcome.context = answer.context.clone();
            Ok(Step::Finish(Box::new(outcome)))
        }
        Err(e) => Ok(match host_step(e, "post", host.provider()) {
            Step::Finish(o) => Step::Finish(Box::new(usage(*o))),
            retry => retry,
        }),
    }
}

/// Helpful and not-helpful examples each, at most, in a prompt.
pub const FEEDBACK_EXAMPLES_PER_SIGNAL: i32 = 3;

/// The system's review settings (`AGNUS_REVIEW_*`), under every org's.
fn system_settings(config: &agnus_shared::config::ReviewerConfig) -> ReviewSettings {
    ReviewSettings {
        auto_review: true,
        review_on_push: true,
        skip_drafts: true,
        ignored_paths: Vec::new(),
        max_comments: u32::try_from(config.max_comments).unwrap_or(u32::MAX),
        min_severity: Severity::Nit,
        depth: Depth::Standard,
        mention: config.mention.clone(),
        min_confidence: config.min_confidence,
        context_tokens: config.context_tokens,
    }
}

fn posted(p: Posted, job: &ReviewJob, comments: Option<u32>) -> ReviewOutcome {
    ReviewOutcome {
        status: "posted",
        comment_count: comments,
        review_url: p.url,
        reviewed_sha: job.head_sha.clone(),
        ..ReviewOutcome::default()
    }
}
