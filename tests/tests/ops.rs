//! Operations (issue 19): the functions emit the EMF metrics the dashboard and alarms
//! read (intake, worker and signup driven against the emulator), every alarm has a
//! runbook, and `make deploy`'s generated samconfig.toml names only template parameters.

use std::collections::BTreeSet;
use std::process::Command;

use agnus_cli::esm::{EventSourceMapping, InvokeFuture, Invoker};
use agnus_shared::metrics::{self, Emitter, Metric};
use agnus_tests::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value as Json;
use serde_yaml::Value;

fn template() -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo_root().join("infra/template.yaml")).unwrap()).unwrap()
}

fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => &t.value,
        other => other,
    }
}

fn metric(name: &str) -> &'static Metric {
    metrics::ALL
        .iter()
        .copied()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is not a metric the functions emit (agnus_shared::metrics)"))
}

fn assert_dimension_set(name: &str, dims: &[&str]) {
    let wanted: BTreeSet<&str> = dims.iter().copied().collect();
    let m = metric(name);
    assert!(
        m.dimension_sets
            .iter()
            .any(|set| set.iter().copied().collect::<BTreeSet<_>>() == wanted),
        "{name} is never emitted with dimensions {wanted:?} (sets: {:?})",
        m.dimension_sets
    );
}

const OUR_NAMESPACE: &str = "AgnusAI/${Prefix}";

#[test]
fn dashboard_and_alarms_read_only_metrics_the_functions_emit_with_their_dimensions() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    let body = untag(&t["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"])
        .as_str()
        .expect("dashboard body is a !Sub string");
    let dashboard: Json = serde_json::from_str(body).expect("dashboard body is JSON");
    let mut seen = BTreeSet::new();
    for widget in dashboard["widgets"].as_array().unwrap() {
        for line in widget["properties"]["metrics"].as_array().into_iter().flatten() {
            let line = line.as_array().unwrap();
            if line[0] == OUR_NAMESPACE {
                let name = line[1].as_str().unwrap();
                assert_dimension_set(name, &[]);
                seen.insert(name.to_owned());
            }
            if let Some(expr) = line[0]["expression"].as_str() {
                // SEARCH('{AgnusAI/${Prefix},A,B} MetricName="X"', 'Sum', 300)
                let schema = &expr[expr.find("'{").unwrap() + 2..expr.find("} MetricName").unwrap()];
                let mut parts = schema.split(',');
                assert_eq!(parts.next(), Some(OUR_NAMESPACE), "{expr}");
                let dims: Vec<&str> = parts.collect();
                let name = expr.split("MetricName=\"").nth(1).unwrap().split('"').next().unwrap();
                assert_dimension_set(name, &dims);
                seen.insert(name.to_owned());
            }
        }
    }
    for m in metrics::ALL {
        assert!(seen.contains(m.name), "the dashboard does not show {}", m.name);
    }

    let mut alarms = 0;
    for (_, r) in resources.iter().filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm") {
        let p = &r["Properties"];
        if untag(&p["Namespace"]).as_str() == Some(OUR_NAMESPACE) {
            let dims: Vec<&str> = p["Dimensions"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|d| d["Name"].as_str().unwrap())
                .collect();
            assert_dimension_set(p["MetricName"].as_str().unwrap(), &dims);
            alarms += 1;
        }
        for query in p["Metrics"].as_sequence().into_iter().flatten() {
            let stat = &query["MetricStat"]["Metric"];
            if untag(&stat["Namespace"]).as_str() == Some(OUR_NAMESPACE) {
                assert!(stat["Dimensions"].is_null());
                assert_dimension_set(stat["MetricName"].as_str().unwrap(), &[]);
                alarms += 1;
            }
        }
    }
    assert!(alarms >= 5, "the rejection, reviewer and LLM alarms read our metrics");
}

#[test]
fn every_alarm_and_metric_is_documented_in_the_operations_guide() {
    let guide = std::fs::read_to_string(repo_root().join("docs/operations.md")).unwrap();
    let t = template();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        if r["Type"] == "AWS::CloudWatch::Alarm" {
            let name = name.as_str().unwrap();
            assert!(guide.contains(&format!("`{name}`")), "no runbook entry for {name}");
        }
    }
    for m in metrics::ALL {
        assert!(
            guide.contains(&format!("`{}`", m.name)),
            "metric {} undocumented",
            m.name
        );
    }
    for heading in [
        "### RejectionRateAlarm",
        "### DeadLetterQueueAlarm",
        "### ReviewQueueAgeAlarm",
        "### ReviewerFailuresAlarm",
        "### LlmErrorRateAlarm",
    ] {
        assert!(guide.contains(heading), "runbook section {heading}");
    }
}

#[test]
fn functions_are_traced_with_a_configurable_mode_and_name_their_metrics_namespace() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(
        globals["Tracing"],
        serde_yaml::from_str::<Value>("!Ref TracingMode").unwrap()
    );
    let allowed = &t["Parameters"]["TracingMode"]["AllowedValues"];
    assert_eq!(
        allowed,
        &serde_yaml::from_str::<Value>("[Active, PassThrough]").unwrap()
    );
    assert_eq!(
        untag(&globals["Environment"]["Variables"]["AGNUS_METRICS_NAMESPACE"]).as_str(),
        Some(OUR_NAMESPACE)
    );
}

fn configure(out: &std::path::Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new("python3");
    cmd.arg(repo_root().join("scripts/deploy.py"))
        .args(["configure", "--non-interactive", "--out"])
        .arg(out);
    for var in [
        "AGNUS_STACK_NAME",
        "AGNUS_DEPLOY_REGION",
        "AWS_REGION",
        "AGNUS_PUBLIC_BASE_URL",
        "AGNUS_MAIL_FROM",
        "AGNUS_ALARM_TOPIC_ARN",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).output().expect("python3 runs")
}

#[test]
fn make_deploy_writes_a_samconfig_naming_only_template_parameters() {
    let dir = std::env::temp_dir().join(format!("agnus-samconfig-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("samconfig.toml");
    let run = configure(
        &out,
        &[
            ("AGNUS_STACK_NAME", "agnus-prod"),
            ("AGNUS_DEPLOY_REGION", "eu-west-1"),
            ("AGNUS_PUBLIC_BASE_URL", "https://api.example.com"),
            ("AGNUS_ALARM_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:ops"),
        ],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let config: toml::Value = toml::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let global = &config["default"]["global"]["parameters"];
    assert_eq!(global["stack_name"].as_str(), Some("agnus-prod"));
    assert_eq!(global["region"].as_str(), Some("eu-west-1"));
    assert_eq!(
        config["default"]["build"]["parameters"]["template_file"].as_str(),
        Some("infra/template.yaml")
    );
    let deploy = &config["default"]["deploy"]["parameters"];
    assert!(
        deploy["capabilities"]
            .as_str()
            .unwrap()
            .contains("CAPABILITY_AUTO_EXPAND")
    );
    // `Key="value" Key2="value"`, every key a parameter of the template.
    let overrides = deploy["parameter_overrides"].as_str().unwrap();
    let declared = template()["Parameters"].as_mapping().unwrap().clone();
    let mut keys = BTreeSet::new();
    for pair in overrides.split("\" ").map(|p| p.trim_end_matches('"')) {
        let (key, value) = pair.split_once("=\"").expect(pair);
        assert!(declared.contains_key(key), "{key} is not a template parameter");
        keys.insert((key.to_owned(), value.to_owned()));
    }
    for expected in [
        ("Prefix", "agnus-prod"),
        ("JwtSecretName", "agnus-prod/jwt-secret"),
        ("PublicBaseUrl", "https://api.example.com"),
        ("AlarmTopicArn", "arn:aws:sns:eu-west-1:123456789012:ops"),
    ] {
        assert!(
            keys.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {overrides}"
        );
    }

    // The shell scripts read stack and region back from it.
    let settings = Command::new("python3")
        .arg(repo_root().join("scripts/deploy.py"))
        .args(["settings", "--config"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&settings.stdout).trim(), "agnus-prod eu-west-1");

    // A stack name the template's Prefix pattern refuses is refused before anything is written.
    let bad = dir.join("bad.toml");
    let run = configure(&bad, &[("AGNUS_STACK_NAME", "Agnus_Prod")]);
    assert!(!run.status.success());
    assert!(!bad.exists());
    let run = configure(&bad, &[("AGNUS_DEPLOY_REGION", "mars")]);
    assert!(!run.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The worker run in process inside a metrics scope, as its `main` runs it.
#[derive(Debug)]
struct MeteredWorker {
    state: std::sync::Arc<agnus_worker::WorkerState>,
    emitter: Emitter,
}

impl Invoker for MeteredWorker {
    fn invoke(&self, event: aws_lambda_events::sqs::SqsEvent) -> InvokeFuture<'_> {
        Box::pin(async move { Ok(self.emitter.scope(agnus_worker::handle(&self.state, event)).await) })
    }
}

fn github_delivery(slug: &str, secret: &str, delivery: &str, body: &[u8]) -> Call {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    Call::post(&format!("/api/webhooks/github/{slug}"))
        .header("content-type", "application/json")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", delivery)
        .header(
            "x-hub-signature-256",
            &format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        )
        .raw_body(body.to_vec())
}

#[tokio::test]
async fn signup_intake_and_worker_emit_their_metrics_per_invocation() {
    let queue = fresh_queue().await;
    let api = Api::new(&[
        ("AGNUS_REVIEW_QUEUE_URL", queue.as_str()),
        ("AGNUS_WEBHOOK_CACHE_TTL_SECS", "0"),
    ])
    .await;
    let (emitter, captured) = Emitter::in_memory("AgnusAI/test");

    let alice = emitter.scope(api.user()).await;
    assert_eq!(captured.total("Signups", &[]), 1.0);

    let body =
        br#"{"action":"opened","number":1,"repository":{"full_name":"ops/not-connected"},"pull_request":{"number":1}}"#;
    let delivery = uuid::Uuid::new_v4().to_string();
    let secret = alice.secrets["github"].clone();
    let call = || github_delivery(&alice.slug, &secret, &delivery, body);
    assert_eq!(emitter.scope(api.call(call())).await.status, 202);
    assert_eq!(emitter.scope(api.call(call())).await.status, 202);
    let forged = github_delivery(&alice.slug, "not-the-secret", "forged-1", body);
    assert_eq!(emitter.scope(api.call(forged)).await.status, 401);
    let nowhere = github_delivery("no-such-org-ops", &secret, "nowhere-1", body);
    assert_eq!(emitter.scope(api.call(nowhere)).await.status, 401);

    let github = [("Provider", "github")];
    assert_eq!(captured.total("DeliveriesAccepted", &github), 1.0);
    assert_eq!(captured.total("DeliveriesDuplicate", &github), 1.0);
    assert_eq!(
        captured.total(
            "DeliveriesRejected",
            &[("Provider", "github"), ("Reason", "bad_signature")]
        ),
        1.0
    );
    assert_eq!(
        captured.total(
            "DeliveriesRejected",
            &[("Provider", "github"), ("Reason", "unknown_org")]
        ),
        1.0
    );
    assert_eq!(captured.total("EnqueueLatency", &[("Source", "webhook")]), 1.0);
    assert_eq!(captured.total("ClaimChecks", &[]), 0.0);
    // Never an org id in the metrics.
    let org_id = api.call(Call::get("/api/auth/me").cookie(&alice.cookie)).await.json()["orgs"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for doc in captured.documents() {
        assert!(!doc.to_string().contains(&org_id), "{doc}");
    }

    // The worker skips the unconnected repository: one document for the batch.
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let esm = EventSourceMapping::new(sqs, &queue, 10, 0).await.unwrap();
    let before = captured.documents().len();
    let worker = MeteredWorker {
        state: api.worker.clone(),
        emitter: emitter.clone(),
    };
    let report = esm.poll_once(&worker).await.unwrap();
    assert_eq!(report.received, 1, "{report:?}");
    assert!(captured.documents().len() > before);
    assert_eq!(captured.total("WorkerMessages", &[("Outcome", "skipped")]), 1.0);
    assert_eq!(captured.total("WorkerSkips", &[("Reason", "unknown_repo")]), 1.0);
    assert_eq!(
        captured.total("ReviewQueueDelay", &[]),
        1.0,
        "SentTimestamp gives the queue delay"
    );
}
