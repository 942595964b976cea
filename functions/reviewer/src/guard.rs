//! Before the LLM is asked: the org's monthly token budget, one review per head within
//! the repeat window, and the org's hourly review limit (`agnus_shared::store`'s
//! `review_limits` keeps the counters). Checked in that order — the budget only reads,
//! the head claim stops duplicates before they count against the hour.

use agnus_shared::review_settings::SettingsLayer;
use agnus_shared::store::{QueueScope, ReviewJob, ReviewOutcome};

use crate::{ReviewerError, ReviewerState, Step};

/// The head a job took (given back if the job fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadClaim {
    pub repo_id: String,
    pub pr: u64,
    pub head_sha: String,
}

/// `None`: go ahead (the head is this job's now, recorded in `claim`); else the job ends.
pub async fn admit(
    state: &ReviewerState,
    scope: &QueueScope,
    job: &ReviewJob,
    head_sha: &str,
    org_layer: &SettingsLayer,
    claim: &mut Option<HeadClaim>,
) -> Result<Option<Step>, ReviewerError> {
    let limits = &state.config.limits;
    let skip = |reason: &str| Ok(Some(Step::Finish(Box::new(ReviewOutcome::skipped(reason)))));
    if let Some(budget) = limits.monthly_tokens.of(scope.plan()) {
        let usage = state.store.queued_org_usage(scope).await?;
        if usage.tokens >= budget {
            tracing::info!(plan = ?scope.plan(), used = usage.tokens, budget, "monthly token budget used up");
            return skip("budget_exhausted");
        }
    }
    let taken = state
        .store
        .claim_review_head(
            scope,
            &job.repo_id,
            job.pr_number,
            head_sha,
            &job.id,
            limits.repeat_window_secs,
            // What the provider's own events ask for is reviewed; mentions and manual
            // requests (anyone who can comment, or any member) are what repeats.
            !matches!(job.action.as_str(), "mention" | "manual"),
        )
        .await?;
    if !taken {
        return skip("already_reviewed");
    }
    let head = HeadClaim {
        repo_id: job.repo_id.clone(),
        pr: job.pr_number,
        head_sha: head_sha.to_owned(),
    };
    let per_hour = limits.reviews_per_hour(org_layer.reviews_per_hour);
    if !state.store.count_org_review(scope, per_hour).await? {
        release(state, scope, &job.id, &head).await?;
        return skip("rate_limited");
    }
    *claim = Some(head);
    Ok(None)
}

/// Gives a head back (its job failed: a later request may review it).
pub async fn release(
    state: &ReviewerState,
    scope: &QueueScope,
    job_id: &str,
    head: &HeadClaim,
) -> Result<(), ReviewerError> {
    state
        .store
        .release_review_head(scope, &head.repo_id, head.pr, &head.head_sha, job_id)
        .await?;
    Ok(())
}
