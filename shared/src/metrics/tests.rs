use std::collections::HashMap;

use serde_json::{Value, json};

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
