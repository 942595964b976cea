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

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::config::{ConfigError, ProcessEnv, Source};
use crate::domain::Provider;

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

// ---- recording ----------------------------------------------------------------------

/// Adds `n` to a count metric in the current invocation's scope.
pub fn count(metric: &'static Metric, dimensions: &[(&'static str, &str)], n: u64) {
    record(metric, dimensions, n as f64);
}

/// Adds one duration observation (milliseconds) in the current invocation's scope.
pub fn duration(metric: &'static Metric, dimensions: &[(&'static str, &str)], took: Duration) {
    record(metric, dimensions, took.as_secs_f64() * 1000.0);
}

fn record(metric: &'static Metric, dimensions: &[(&'static str, &str)], value: f64) {
    let _outside_a_scope = CURRENT.try_with(|r| r.borrow_mut().add(metric, dimensions, value));
}

tokio::task_local! {
    static CURRENT: RefCell<Recorder>;
}

/// The dimension values of one document: (key, value) sorted by key.
type DimensionValues = Vec<(&'static str, String)>;

/// Observations of one invocation, grouped by dimension values.
#[derive(Debug, Default)]
pub struct Recorder {
    groups: BTreeMap<DimensionValues, BTreeMap<&'static str, (&'static Metric, Vec<f64>)>>,
}

impl Recorder {
    /// Records one value; the metric's dimension keys are taken from `dimensions` (a key
    /// not given is written as `none`, keys the metric does not use are ignored).
    pub fn add(&mut self, metric: &'static Metric, dimensions: &[(&'static str, &str)], value: f64) {
        let mut values: DimensionValues = metric
            .dimension_keys()
            .into_iter()
            .map(|key| {
                let given = dimensions.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
                (key, dimension_value(given.unwrap_or("")))
            })
            .collect();
        values.sort();
        let entry = self
            .groups
            .entry(values)
            .or_default()
            .entry(metric.name)
            .or_insert_with(|| (metric, Vec::new()));
        match (metric.unit, entry.1.first_mut()) {
            (Unit::Count, Some(sum)) => *sum += value,
            _ => entry.1.push(value),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The EMF documents for everything recorded: one per distinct set of dimension
    /// values (and per 100 observations of a duration).
    pub fn documents(&self, namespace: &str, timestamp_ms: u64) -> Vec<Value> {
        let mut out = Vec::new();
        for (dims, metrics) in &self.groups {
            for chunk in 0.. {
                let present: Vec<(&Metric, &[f64])> = metrics
                    .values()
                    .filter_map(|(metric, values)| {
                        values
                            .chunks(MAX_VALUES_PER_DOCUMENT)
                            .nth(chunk)
                            .map(|part| (*metric, part))
                    })
                    .collect();
                if present.is_empty() {
                    break;
                }
                out.push(document(namespace, timestamp_ms, dims, &present));
            }
        }
        out
    }
}

fn document(namespace: &str, timestamp_ms: u64, dims: &DimensionValues, metrics: &[(&Metric, &[f64])]) -> Value {
    let mut doc = Map::new();
    // One directive per distinct dimension-set list, so each metric keeps its own sets.
    let mut directives: Vec<(&'static [&'static [&'static str]], Vec<Value>)> = Vec::new();
    for (metric, values) in metrics {
        let definition = json!({ "Name": metric.name, "Unit": metric.unit.as_str() });
        match directives.iter_mut().find(|(sets, _)| *sets == metric.dimension_sets) {
            Some((_, list)) => list.push(definition),
            None => directives.push((metric.dimension_sets, vec![definition])),
        }
        // Counts are one sum; durations always an array of observations.
        let value = match (metric.unit, values) {
            (Unit::Count, [sum]) => json!(sum),
            (_, observations) => json!(observations),
        };
        doc.insert(metric.name.to_owned(), value);
    }
    for (key, value) in dims {
        doc.insert((*key).to_owned(), Value::String(value.clone()));
    }
    let directives: Vec<Value> = directives
        .into_iter()
        .map(|(sets, metrics)| json!({ "Namespace": namespace, "Dimensions": sets, "Metrics": metrics }))
        .collect();
    doc.insert(
        "_aws".to_owned(),
        json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": directives }),
    );
    Value::Object(doc)
}

/// A dimension value as written: trimmed, at most 64 characters of `[A-Za-z0-9._:/-]`
/// (anything else becomes `_`), `none` when empty.
fn dimension_value(raw: &str) -> String {
    let cleaned: String = raw
        .trim()
        .chars()
        .take(MAX_DIMENSION_VALUE)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() { "none".to_owned() } else { cleaned }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

// ---- emitting -----------------------------------------------------------------------

/// Writes each invocation's metrics at its end. Built once per cold start.
#[derive(Debug, Clone)]
pub struct Emitter {
    namespace: String,
    sink: Sink,
}

#[derive(Debug, Clone)]
enum Sink {
    Stdout,
    Memory(Captured),
}

/// Documents an in-memory [`Emitter`] wrote (tests).
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<Value>>>);

impl Captured {
    pub fn documents(&self) -> Vec<Value> {
        self.0.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The sum of `metric` over every captured document whose dimensions include
    /// `dimensions` (durations: the number of observations).
    pub fn total(&self, metric: &str, dimensions: &[(&str, &str)]) -> f64 {
        self.documents()
            .iter()
            .filter(|doc| dimensions.iter().all(|(k, v)| doc[*k] == *v))
            .map(|doc| match &doc[metric] {
                Value::Number(n) => n.as_f64().unwrap_or(0.0),
                Value::Array(values) => values.len() as f64,
                _ => 0.0,
            })
            .sum()
    }
}

impl Emitter {
    /// `AGNUS_METRICS_NAMESPACE` (default `AgnusAI`), writing to stdout.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let namespace = src
            .get("AGNUS_METRICS_NAMESPACE")
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        let namespace = namespace.trim().to_owned();
        let valid = (1..=255).contains(&namespace.len())
            && namespace.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            && !namespace.starts_with("AWS/");
        if !valid {
            return Err(ConfigError::Invalid {
                name: "AGNUS_METRICS_NAMESPACE",
                reason: "expected 1-255 printable ASCII characters, not starting with AWS/".into(),
            });
        }
        Ok(Self {
            namespace,
            sink: Sink::Stdout,
        })
    }

    /// An emitter that keeps the documents in memory instead of printing them (tests).
    pub fn in_memory(namespace: &str) -> (Self, Captured) {
        let captured = Captured::default();
        let emitter = Self {
            namespace: namespace.to_owned(),
            sink: Sink::Memory(captured.clone()),
        };
        (emitter, captured)
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Runs one invocation with a fresh recorder and writes what it recorded when it ends.
    /// Boxed: the handler futures are deep, and nesting them in another named future
    /// exceeds the compiler's layout depth limit.
    pub fn scope<'a, F>(&'a self, invocation: F) -> Pin<Box<dyn Future<Output = F::Output> + Send + 'a>>
    where
        F: Future + Send + 'a,
        F::Output: Send,
    {
        Box::pin(async move {
            let (output, recorder) = CURRENT
                .scope(RefCell::new(Recorder::default()), async move {
                    let output = invocation.await;
                    let recorder = CURRENT.with(|r| r.take());
                    (output, recorder)
                })
                .await;
            self.write(&recorder);
            output
        })
    }

    fn write(&self, recorder: &Recorder) {
        if recorder.is_empty() {
            return;
        }
        let documents = recorder.documents(&self.namespace, now_ms());
        match &self.sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                for doc in documents {
                    // A closed stdout loses the metrics, never the invocation.
                    let _ = writeln!(out, "{doc}");
                }
                let _ = out.flush();
            }
            Sink::Memory(captured) => {
                if let Ok(mut docs) = captured.0.lock() {
                    docs.extend(documents);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Checks a document against the EMF specification's shape: `_aws.Timestamp` (ms),
    /// `_aws.CloudWatchMetrics[]` of `{Namespace, Dimensions: [[key]], Metrics: [{Name, Unit}]}`,
    /// every dimension key a top-level string, every metric a top-level number or array
    /// of at most 100 numbers, at most 100 metrics and 30 keys per dimension set.
    fn assert_emf(doc: &Value) {
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].as_u64().is_some(), "Timestamp: {doc}");
        let directives = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics array");
        assert!(!directives.is_empty());
        for d in directives {
            assert!(d["Namespace"].as_str().is_some_and(|n| !n.is_empty()));
            for set in d["Dimensions"].as_array().expect("Dimensions") {
                let set = set.as_array().expect("dimension set");
                assert!(set.len() <= 30);
                for key in set {
                    let key = key.as_str().expect("dimension key");
                    assert!(doc[key].is_string(), "dimension {key} missing in {doc}");
                }
            }
            let metrics = d["Metrics"].as_array().expect("Metrics");
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for m in metrics {
                let name = m["Name"].as_str().expect("Name");
                assert!(["Count", "Milliseconds"].contains(&m["Unit"].as_str().expect("Unit")));
                match &doc[name] {
                    Value::Number(_) => {}
                    Value::Array(values) => {
                        assert!(!values.is_empty() && values.len() <= 100);
                        assert!(values.iter().all(Value::is_number));
                    }
                    other => panic!("metric {name} value {other} in {doc}"),
                }
            }
        }
    }

    #[test]
    fn counts_are_summed_per_dimension_values_and_durations_kept() {
        let mut r = Recorder::default();
        r.add(
            &DELIVERIES_REJECTED,
            &[("Provider", "github"), ("Reason", "bad_signature")],
            1.0,
        );
        r.add(
            &DELIVERIES_REJECTED,
            &[("Provider", "github"), ("Reason", "bad_signature")],
            1.0,
        );
        r.add(
            &DELIVERIES_REJECTED,
            &[("Provider", "gitlab"), ("Reason", "bad_signature")],
            1.0,
        );
        r.add(&ENQUEUE_LATENCY, &[("Source", "webhook")], 12.5);
        r.add(&ENQUEUE_LATENCY, &[("Source", "webhook")], 7.0);
        let docs = r.documents("AgnusAI/test", 1_700_000_000_000);
        assert_eq!(docs.len(), 3, "{docs:?}");
        docs.iter().for_each(assert_emf);
        let github = docs.iter().find(|d| d["Provider"] == "github").expect("github doc");
        assert_eq!(github["DeliveriesRejected"], json!(2.0));
        assert_eq!(github["Reason"], "bad_signature");
        assert_eq!(
            github["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[], ["Provider"], ["Provider", "Reason"]])
        );
        assert_eq!(github["_aws"]["CloudWatchMetrics"][0]["Namespace"], "AgnusAI/test");
        assert_eq!(github["_aws"]["Timestamp"], 1_700_000_000_000u64);
        let latency = docs.iter().find(|d| d["Source"] == "webhook").expect("latency doc");
        assert_eq!(latency["EnqueueLatency"], json!([12.5, 7.0]));
        assert_eq!(
            latency["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Milliseconds"
        );
    }

    #[test]
    fn metrics_sharing_dimension_values_share_a_document_with_one_directive_per_dimension_list() {
        let mut r = Recorder::default();
        r.add(&SIGNUPS, &[], 1.0);
        r.add(&CLAIM_CHECKS, &[], 1.0);
        r.add(&INVITATIONS_SENT, &[], 3.0);
        let docs = r.documents("AgnusAI", 1);
        assert_eq!(docs.len(), 1);
        assert_emf(&docs[0]);
        let directives = docs[0]["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        assert_eq!(directives[0]["Metrics"].as_array().unwrap().len(), 3);
        assert_eq!(docs[0]["InvitationsSent"], json!(3.0));
    }

    #[test]
    fn more_than_100_observations_spill_into_further_documents() {
        let mut r = Recorder::default();
        for i in 0..250 {
            r.add(&REVIEW_QUEUE_DELAY, &[], f64::from(i));
        }
        let docs = r.documents("AgnusAI", 1);
        assert_eq!(docs.len(), 3);
        docs.iter().for_each(assert_emf);
        let lens: Vec<usize> = docs
            .iter()
            .map(|d| d["ReviewQueueDelay"].as_array().map_or(0, Vec::len))
            .collect();
        assert_eq!(lens, vec![100, 100, 50]);
    }

    #[test]
    fn dimension_values_are_bounded_and_missing_ones_are_none() {
        let mut r = Recorder::default();
        let long = "m".repeat(300);
        r.add(&LLM_ERRORS, &[("Model", &long)], 1.0);
        r.add(
            &DELIVERIES_ACCEPTED,
            &[("Provider", "git hub\n"), ("OrgId", "o-1")],
            1.0,
        );
        let docs = r.documents("AgnusAI", 1);
        docs.iter().for_each(assert_emf);
        let llm = docs.iter().find(|d| d.get("LlmErrors").is_some()).unwrap();
        assert_eq!(llm["Model"].as_str().unwrap().len(), 64);
        assert_eq!(llm["ErrorKind"], "none");
        let accepted = docs.iter().find(|d| d.get("DeliveriesAccepted").is_some()).unwrap();
        assert_eq!(accepted["Provider"], "git_hub");
        assert!(
            accepted.get("OrgId").is_none(),
            "undeclared dimensions are never written"
        );
    }

    #[test]
    fn every_metric_is_named_uniquely_and_never_by_an_id() {
        let mut names: Vec<&str> = ALL.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for metric in ALL {
            for key in metric.dimension_keys() {
                assert!(
                    !key.ends_with("Id") && !key.ends_with("ID"),
                    "{} has dimension {key}",
                    metric.name
                );
                assert!(!names.contains(&key), "dimension {key} collides with a metric name");
            }
        }
    }

    #[tokio::test]
    async fn a_scope_writes_what_its_invocation_recorded_and_nothing_leaks_outside() {
        let (emitter, captured) = Emitter::in_memory("AgnusAI/test");
        signup(); // outside any scope: dropped
        let answer = emitter
            .scope(async {
                delivery(Provider::Github, Delivery::Accepted);
                delivery(Provider::Github, Delivery::Rejected("bad_signature"));
                enqueued("webhook", Duration::from_millis(5), true);
                worker_message(WorkerMessage::Skipped("draft_pr"), Some(now_ms()));
                llm_call(
                    "claude-x",
                    LlmCall::Ok {
                        input_tokens: 1200,
                        output_tokens: 300,
                    },
                );
                llm_call("claude-x", LlmCall::Failed { kind: "timeout" });
                provider_api_error(Provider::Gitlab, 502);
                review_finished(Provider::Gitlab, ReviewOutcome::Failed, Duration::from_secs(2));
                42
            })
            .await;
        assert_eq!(answer, 42);
        let docs = captured.documents();
        docs.iter().for_each(assert_emf);
        assert_eq!(captured.total("Signups", &[]), 0.0);
        assert_eq!(captured.total("DeliveriesAccepted", &[("Provider", "github")]), 1.0);
        assert_eq!(
            captured.total(
                "DeliveriesRejected",
                &[("Provider", "github"), ("Reason", "bad_signature")]
            ),
            1.0
        );
        assert_eq!(captured.total("ClaimChecks", &[]), 1.0);
        assert_eq!(captured.total("EnqueueLatency", &[("Source", "webhook")]), 1.0);
        assert_eq!(captured.total("WorkerSkips", &[("Reason", "draft_pr")]), 1.0);
        assert_eq!(captured.total("WorkerMessages", &[("Outcome", "skipped")]), 1.0);
        assert_eq!(captured.total("ReviewQueueDelay", &[]), 1.0);
        assert_eq!(captured.total("LlmRequests", &[("Model", "claude-x")]), 2.0);
        assert_eq!(captured.total("LlmInputTokens", &[("Model", "claude-x")]), 1200.0);
        assert_eq!(captured.total("LlmOutputTokens", &[("Model", "claude-x")]), 300.0);
        assert_eq!(
            captured.total("LlmErrors", &[("Model", "claude-x"), ("ErrorKind", "timeout")]),
            1.0
        );
        assert_eq!(
            captured.total("ProviderApiErrors", &[("Provider", "gitlab"), ("Status", "502")]),
            1.0
        );
        assert_eq!(captured.total("Reviews", &[("Outcome", "failed")]), 1.0);
        assert_eq!(captured.total("ReviewDuration", &[("Provider", "gitlab")]), 1.0);

        // A second invocation starts from nothing.
        emitter.scope(async { signup() }).await;
        let before = docs.len();
        assert_eq!(captured.documents().len(), before + 1);
        assert_eq!(captured.total("Signups", &[]), 1.0);
    }

    #[test]
    fn namespace_comes_from_the_environment_and_is_validated() {
        let env = |v: &str| HashMap::from([("AGNUS_METRICS_NAMESPACE".to_owned(), v.to_owned())]);
        assert_eq!(Emitter::from_source(&HashMap::new()).unwrap().namespace(), "AgnusAI");
        assert_eq!(
            Emitter::from_source(&env("AgnusAI/prod")).unwrap().namespace(),
            "AgnusAI/prod"
        );
        assert!(Emitter::from_source(&env("AWS/Lambda")).is_err());
        assert!(Emitter::from_source(&env(&"x".repeat(256))).is_err());
        assert!(Emitter::from_source(&env("bad\u{1}ns")).is_err());
    }
}
