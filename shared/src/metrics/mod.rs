//! CloudWatch metrics in the Embedded Metric Format (EMF).
//!
//! A function records counts and durations while it handles one invocation; at the end
//! of the invocation [`Emitter::scope`] writes them, aggregated, as EMF documents — one
//! JSON line per distinct set of dimension values — on stdout, which Lambda ships to
//! CloudWatch Logs, where CloudWatch extracts the metrics (no API call, no added latency).
//!
//! Why a small writer here rather than awslabs' `metrique`: `metrique` (0.1.x) needs Rust
//! 1.91 (the workspace promises 1.90), brings a proc-macro and writer stack into every
//! bootstrap, and models one "wide event" per unit of work, while these functions need a
//! handful of counters aggregated per invocation (a worker batch of ten messages is one
//! document, not ten). The EMF shape is small and stable; the unit tests below pin it.
//!
//! Dimensions are low-cardinality by construction: provider, reason, outcome, model,
//! status — never an org, user, repository or delivery id (per-org figures live in the
//! org's own delivery status and audit records). Recording outside a scope (unit tests,
//! handlers called directly) is a no-op.

use std::time::Duration;

use crate::domain::Provider;

mod emf;
#[cfg(test)]
mod tests;

use emf::now_ms;
pub use emf::*;

/// The namespace when `AGNUS_METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "AgnusAI";
/// EMF allows at most 100 values per metric in one document.
const MAX_VALUES_PER_DOCUMENT: usize = 100;
/// Longest dimension value written (operator-chosen names such as an LLM model id).
const MAX_DIMENSION_VALUE: usize = 64;

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Summed within an invocation: one value per document.
    Count,
    /// Every observation kept (CloudWatch computes percentiles from them).
    Milliseconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric: name, unit, and the dimension sets CloudWatch aggregates it by (`[]` is
/// the total over everything).
#[derive(Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    pub dimension_sets: &'static [&'static [&'static str]],
}

impl Metric {
    /// Every dimension key the metric's sets use, in first-seen order.
    pub fn dimension_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = Vec::new();
        for key in self.dimension_sets.iter().flat_map(|set| set.iter()) {
            if !keys.contains(key) {
                keys.push(key);
            }
        }
        keys
    }
}

const TOTAL: &[&str] = &[];
const BY_PROVIDER: &[&str] = &["Provider"];

// ---- intake -------------------------------------------------------------------------

/// Deliveries verified and durably enqueued (answered 202 `accepted`).
pub static DELIVERIES_ACCEPTED: Metric = Metric {
    name: "DeliveriesAccepted",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, BY_PROVIDER],
};
/// Deliveries seen before (answered 202 `duplicate`, not enqueued again).
pub static DELIVERIES_DUPLICATE: Metric = Metric {
    name: "DeliveriesDuplicate",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, BY_PROVIDER],
};
/// Deliveries refused (401/413/415), by reason.
pub static DELIVERIES_REJECTED: Metric = Metric {
    name: "DeliveriesRejected",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, BY_PROVIDER, &["Provider", "Reason"]],
};
/// Deliveries answered 503 (a dependency failed or the same delivery was in flight).
pub static DELIVERIES_UNAVAILABLE: Metric = Metric {
    name: "DeliveriesUnavailable",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, BY_PROVIDER],
};
/// Time to put one delivery on the review queue (S3 claim check included).
pub static ENQUEUE_LATENCY: Metric = Metric {
    name: "EnqueueLatency",
    unit: Unit::Milliseconds,
    dimension_sets: &[TOTAL, &["Source"]],
};
/// Payloads that travelled by claim check (S3) instead of inline.
pub static CLAIM_CHECKS: Metric = Metric {
    name: "ClaimChecks",
    unit: Unit::Count,
    dimension_sets: &[TOTAL],
};

// ---- worker -------------------------------------------------------------------------

/// Review-queue messages handled by the worker, by outcome (`job`, `skipped`,
/// `duplicate`, `retry`, `poison`).
pub static WORKER_MESSAGES: Metric = Metric {
    name: "WorkerMessages",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, &["Outcome"]],
};
/// Skipped deliveries by reason (`unknown_repo`, `draft_pr`, …).
pub static WORKER_SKIPS: Metric = Metric {
    name: "WorkerSkips",
    unit: Unit::Count,
    dimension_sets: &[&["Reason"]],
};
/// Time a message spent on the review queue before the worker got it.
pub static REVIEW_QUEUE_DELAY: Metric = Metric {
    name: "ReviewQueueDelay",
    unit: Unit::Milliseconds,
    dimension_sets: &[TOTAL],
};

// ---- accounts -----------------------------------------------------------------------

/// Accounts created by signup.
pub static SIGNUPS: Metric = Metric {
    name: "Signups",
    unit: Unit::Count,
    dimension_sets: &[TOTAL],
};
/// Invitations sent (created or re-sent).
pub static INVITATIONS_SENT: Metric = Metric {
    name: "InvitationsSent",
    unit: Unit::Count,
    dimension_sets: &[TOTAL],
};
/// Invitations accepted.
pub static INVITATIONS_ACCEPTED: Metric = Metric {
    name: "InvitationsAccepted",
    unit: Unit::Count,
    dimension_sets: &[TOTAL],
};

// ---- review engine ------------------------------------------------------------------

/// Reviews finished, by outcome (`completed`, `failed`).
pub static REVIEWS: Metric = Metric {
    name: "Reviews",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, &["Outcome"]],
};
/// Wall time of one review (fetch diff, LLM, post comments).
pub static REVIEW_DURATION: Metric = Metric {
    name: "ReviewDuration",
    unit: Unit::Milliseconds,
    dimension_sets: &[TOTAL, BY_PROVIDER],
};
/// LLM calls made, by model (the denominator of the LLM error rate).
pub static LLM_REQUESTS: Metric = Metric {
    name: "LlmRequests",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, &["Model"]],
};
/// LLM calls that failed, by model and error kind.
pub static LLM_ERRORS: Metric = Metric {
    name: "LlmErrors",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, &["Model"], &["Model", "ErrorKind"]],
};
/// Prompt tokens billed, by model.
pub static LLM_INPUT_TOKENS: Metric = Metric {
    name: "LlmInputTokens",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, &["Model"]],
};
/// Completion tokens billed, by model.
pub static LLM_OUTPUT_TOKENS: Metric = Metric {
    name: "LlmOutputTokens",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, &["Model"]],
};
/// Errors from a VCS provider's API (diffs, comments), by HTTP status (`0`: no answer).
pub static PROVIDER_API_ERRORS: Metric = Metric {
    name: "ProviderApiErrors",
    unit: Unit::Count,
    dimension_sets: &[TOTAL, BY_PROVIDER, &["Provider", "Status"]],
};

/// Every metric this crate defines (docs, dashboard and tests walk it).
pub static ALL: &[&Metric] = &[
    &DELIVERIES_ACCEPTED,
    &DELIVERIES_DUPLICATE,
    &DELIVERIES_REJECTED,
    &DELIVERIES_UNAVAILABLE,
    &ENQUEUE_LATENCY,
    &CLAIM_CHECKS,
    &WORKER_MESSAGES,
    &WORKER_SKIPS,
    &REVIEW_QUEUE_DELAY,
    &SIGNUPS,
    &INVITATIONS_SENT,
    &INVITATIONS_ACCEPTED,
    &REVIEWS,
    &REVIEW_DURATION,
    &LLM_REQUESTS,
    &LLM_ERRORS,
    &LLM_INPUT_TOKENS,
    &LLM_OUTPUT_TOKENS,
    &PROVIDER_API_ERRORS,
];

// ---- domain helpers: one call per event -----------------------------------------------

/// How the intake answered one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery<'a> {
    Accepted,
    Duplicate,
    /// Refused; the reason is a fixed code (`bad_signature`, `unknown_org`, …).
    Rejected(&'a str),
    Unavailable,
}

/// Counts one delivery answer.
pub fn delivery(provider: Provider, outcome: Delivery<'_>) {
    let p = ("Provider", provider.as_str());
    match outcome {
        Delivery::Accepted => count(&DELIVERIES_ACCEPTED, &[p], 1),
        Delivery::Duplicate => count(&DELIVERIES_DUPLICATE, &[p], 1),
        Delivery::Rejected(reason) => count(&DELIVERIES_REJECTED, &[p, ("Reason", reason)], 1),
        Delivery::Unavailable => count(&DELIVERIES_UNAVAILABLE, &[p], 1),
    }
}

/// One successful enqueue: its latency, and whether the payload went by claim check.
pub fn enqueued(source: &str, latency: Duration, claim_check: bool) {
    duration(&ENQUEUE_LATENCY, &[("Source", source)], latency);
    if claim_check {
        count(&CLAIM_CHECKS, &[], 1);
    }
}

/// What the worker did with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerMessage<'a> {
    Job,
    Skipped(&'a str),
    /// Processed before (redelivery).
    Duplicate,
    /// Failed transiently: left on the queue for a retry.
    Retry,
    /// Can never be processed: retried until the DLQ takes it.
    Poison,
}

/// Counts one worker message; `sent_at_ms` (SQS `SentTimestamp`) gives its queue delay.
pub fn worker_message(outcome: WorkerMessage<'_>, sent_at_ms: Option<u64>) {
    let name = match outcome {
        WorkerMessage::Job => "job",
        WorkerMessage::Skipped(reason) => {
            count(&WORKER_SKIPS, &[("Reason", reason)], 1);
            "skipped"
        }
        WorkerMessage::Duplicate => "duplicate",
        WorkerMessage::Retry => "retry",
        WorkerMessage::Poison => "poison",
    };
    count(&WORKER_MESSAGES, &[("Outcome", name)], 1);
    if let Some(sent) = sent_at_ms {
        let waited = now_ms().saturating_sub(sent);
        duration(&REVIEW_QUEUE_DELAY, &[], Duration::from_millis(waited));
    }
}

/// One account created by signup.
pub fn signup() {
    count(&SIGNUPS, &[], 1);
}

/// One invitation sent (new or re-sent).
pub fn invitation_sent() {
    count(&INVITATIONS_SENT, &[], 1);
}

/// One invitation accepted.
pub fn invitation_accepted() {
    count(&INVITATIONS_ACCEPTED, &[], 1);
}

/// How a review ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewOutcome {
    Completed,
    Failed,
}

/// One review finished: outcome and wall time.
pub fn review_finished(provider: Provider, outcome: ReviewOutcome, took: Duration) {
    let name = match outcome {
        ReviewOutcome::Completed => "completed",
        ReviewOutcome::Failed => "failed",
    };
    count(&REVIEWS, &[("Outcome", name)], 1);
    duration(&REVIEW_DURATION, &[("Provider", provider.as_str())], took);
}

/// The result of one LLM call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmCall<'a> {
    /// Answered; tokens as billed.
    Ok { input_tokens: u64, output_tokens: u64 },
    /// Failed; `kind` is a fixed code (`timeout`, `rate_limited`, `server`, `invalid_response`, …).
    Failed { kind: &'a str },
}

/// One LLM call by `model` (an operator-configured id, so few values).
pub fn llm_call(model: &str, call: LlmCall<'_>) {
    let m = ("Model", model);
    count(&LLM_REQUESTS, &[m], 1);
    match call {
        LlmCall::Ok {
            input_tokens,
            output_tokens,
        } => {
            count(&LLM_INPUT_TOKENS, &[m], input_tokens);
            count(&LLM_OUTPUT_TOKENS, &[m], output_tokens);
        }
        LlmCall::Failed { kind } => count(&LLM_ERRORS, &[m, ("ErrorKind", kind)], 1),
    }
}

/// One failed call to a VCS provider's API; `status` 0 when no HTTP answer came back.
pub fn provider_api_error(provider: Provider, status: u16) {
    let status = status.to_string();
    count(
        &PROVIDER_API_ERRORS,
        &[("Provider", provider.as_str()), ("Status", &status)],
        1,
    );
}
