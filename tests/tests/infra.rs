//! Checks on infra/: each function's role grants exactly the actions it performs, its
//! environment satisfies its config, the queue and DLQ are wired as product §7 requires, and
//! the emulator runs the very resources stateful.yaml defines.

use std::collections::{BTreeSet, HashMap};

use agnus_shared::permissions::FUNCTION_ACTIONS;
use agnus_tests::*;
use serde_yaml::Value;

fn load(name: &str) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo_root().join("infra").join(name)).unwrap()).unwrap()
}

fn tag_of(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((t.tag.to_string(), &t.value)),
        _ => None,
    }
}

fn functions(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(_, r)| {
            (
                r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned(),
                r,
            )
        })
        .collect()
}

fn as_strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(seq) => seq.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => vec![],
    }
}

#[test]
fn every_role_grants_exactly_what_its_function_calls() {
    let t = load("template.yaml");
    let declared: HashMap<&str, BTreeSet<String>> = FUNCTION_ACTIONS
        .iter()
        .map(|(f, actions)| (*f, actions.iter().map(|a| (*a).to_owned()).collect()))
        .collect();
    let fns = functions(&t);
    assert_eq!(fns.len(), declared.len(), "one manifest entry per function");
    for (name, resource) in fns {
        let mut granted = BTreeSet::new();
        for policy in resource["Properties"]["Policies"].as_sequence().unwrap() {
            for statement in policy["Statement"].as_sequence().unwrap() {
                // `!If [Condition, statement, !Ref AWS::NoValue]`: granted under the condition.
                let statement = match tag_of(statement) {
                    Some((tag, args)) if tag == "!If" => &args[1],
                    _ => statement,
                };
                assert_eq!(statement["Effect"], "Allow");
                granted.extend(as_strings(&statement["Action"]));
                let resources = &statement["Resource"];
                assert!(resources != &Value::String("*".into()), "{name}: no wildcard resources");
            }
        }
        let want = declared
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} missing from permissions.rs"));
        assert_eq!(
            &granted, want,
            "{name}: role actions differ from what the function calls"
        );
    }
}

/// Stands for a value CloudFormation resolves at deploy time (an ARN, a queue URL, a
/// Secrets Manager reference); long enough for the JWT key's minimum length.
const RESOLVED_AT_DEPLOY: &str = "resolved-at-deploy-0123456789abcdef0123456789abcdef";

/// The value a function would see for an environment entry (parameter defaults for
/// `!Ref Param`, a deploy-time value for other intrinsics, unset for conditionals).
fn env_value(t: &Value, v: &Value) -> Option<String> {
    match tag_of(v) {
        Some((tag, inner)) if tag == "!Ref" => {
            let param = &t["Parameters"][inner.as_str().unwrap()];
            match &param["Default"] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => Some(RESOLVED_AT_DEPLOY.into()),
            }
        }
        Some((tag, _)) if tag == "!If" => None,
        Some(_) => Some(RESOLVED_AT_DEPLOY.into()),
        None => match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        },
    }
}

#[test]
fn every_function_environment_satisfies_its_config() {
    use agnus_shared::config::*;
    let t = load("template.yaml");
    for (name, resource) in functions(&t) {
        let mut env: HashMap<String, String> = HashMap::new();
        for vars in [
            &t["Globals"]["Function"]["Environment"]["Variables"],
            &resource["Properties"]["Environment"]["Variables"],
        ] {
            for (k, v) in vars.as_mapping().into_iter().flatten() {
                if let Some(value) = env_value(&t, v).filter(|v| !v.is_empty()) {
                    env.insert(k.as_str().unwrap().to_owned(), value);
                }
            }
        }
        let result = match name.as_str() {
            "auth" => AuthConfig::from_source(&env).map(drop),
            "orgs" => OrgsConfig::from_source(&env).map(drop),
            "invites" => InvitesConfig::from_source(&env).map(drop),
            "intake" => IntakeConfig::from_source(&env).map(drop),
            "repos" => ReposConfig::from_source(&env).map(drop),
            "worker" => WorkerConfig::from_source(&env).map(drop),
            "reviewer" => ReviewerConfig::from_source(&env).map(drop),
            "indexer" => IndexerConfig::from_source(&env).map(drop),
            "purge" => PurgeConfig::from_source(&env).map(drop),
            // The console reads no configuration (static files; RUST_LOG/AGNUS_LOG_FORMAT only).
            "console" => Ok(()),
            other => panic!("no config for function {other}"),
        };
        assert!(result.is_ok(), "{name}: {:?}", result.err());
        let known: BTreeSet<&str> = ENV_VARS.iter().map(|(n, _)| *n).collect();
        for key in env.keys() {
            assert!(
                known.contains(key.as_str()) || key == "RUST_LOG",
                "{name}: {key} is not read by any config"
            );
        }
    }
}

/// Every function reads one root-certificate bundle, its runtime's (`aws::load` checks the
/// file at cold start): no function changes the runtime or names another file or a
/// directory, which would bring back the second pass over the same roots.
#[test]
fn every_function_trusts_the_one_certificate_bundle_of_its_runtime() {
    let t = load("template.yaml");
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(
        globals["Environment"]["Variables"]["SSL_CERT_FILE"].as_str(),
        Some("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")
    );
    assert!(globals["Environment"]["Variables"].get("SSL_CERT_DIR").is_none());
    let all = functions(&t);
    assert!(all.len() >= 9, "{} functions", all.len());
    for (name, resource) in all {
        let props = &resource["Properties"];
        assert!(props.get("Runtime").is_none(), "{name} changes the runtime");
        for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
            assert!(
                props["Environment"]["Variables"].get(var).is_none(),
                "{name} sets {var}"
            );
        }
    }
}

#[test]
fn queue_visibility_is_at_least_six_worker_timeouts_and_the_dlq_is_wired() {
    let t = load("template.yaml");
    let s = load("stateful.yaml");
    let default = |v: &Value, p: &str| v["Parameters"][p]["Default"].as_u64().unwrap();
    let worker = functions(&t).into_iter().find(|(n, _)| n == "worker").unwrap().1;
    let (tag, param) = tag_of(&worker["Properties"]["Timeout"]).unwrap();
    assert_eq!(
        (tag.as_str(), param.as_str().unwrap()),
        ("!Ref", "WorkerTimeoutSeconds")
    );
    let nested = &t["Resources"]["Stateful"]["Properties"];
    assert_eq!(
        nested["TemplateURL"], "stateful.yaml",
        "the cloud stack nests the emulator's definition"
    );
    let (_, passed) = tag_of(&nested["Parameters"]["VisibilityTimeoutSeconds"]).unwrap();
    assert!(
        default(&t, passed.as_str().unwrap()) >= 6 * default(&t, "WorkerTimeoutSeconds"),
        "queue visibility timeout must be >= 6 x the worker timeout"
    );
    assert!(default(&s, "VisibilityTimeoutSeconds") >= 6 * default(&t, "WorkerTimeoutSeconds"));
    let queue = &s["Resources"]["ReviewQueue"]["Properties"];
    let (_, visibility) = tag_of(&queue["VisibilityTimeout"]).unwrap();
    assert_eq!(visibility.as_str(), Some("VisibilityTimeoutSeconds"));
    let (tag, target) = tag_of(&queue["RedrivePolicy"]["deadLetterTargetArn"]).unwrap();
    assert_eq!(
        (tag.as_str(), target.as_str()),
        ("!GetAtt", Some("ReviewDeadLetterQueue.Arn"))
    );
    let sqs_event = &worker["Properties"]["Events"]["ReviewQueue"];
    assert_eq!(sqs_event["Type"], "SQS");
    assert!(
        as_strings(&sqs_event["Properties"]["FunctionResponseTypes"]).contains(&"ReportBatchItemFailures".to_owned())
    );
    assert!(t["Resources"]["DeadLetterQueueAlarm"]["Type"] == "AWS::CloudWatch::Alarm");
    assert!(
        !queue["KmsMasterKeyId"].is_null()
            && !s["Resources"]["ReviewDeadLetterQueue"]["Properties"]["KmsMasterKeyId"].is_null(),
        "queues encrypted"
    );
}

#[test]
fn the_reviewer_runs_one_job_at_a_time_from_its_own_queue_with_a_dlq() {
    let t = load("template.yaml");
    let s = load("stateful.yaml");
    let default = |v: &Value, p: &str| v["Parameters"][p]["Default"].as_u64().unwrap();
    let reviewer = functions(&t).into_iter().find(|(n, _)| n == "reviewer").unwrap().1;
    let (tag, param) = tag_of(&reviewer["Properties"]["Timeout"]).unwrap();
    assert_eq!(
        (tag.as_str(), param.as_str().unwrap()),
        ("!Ref", "ReviewerTimeoutSeconds")
    );
    assert!(default(&t, "ReviewerTimeoutSeconds") >= 300, "reviews take minutes");
    assert!(t["Parameters"]["ReviewerTimeoutSeconds"]["MinValue"].as_u64().unwrap() >= 300);
    let nested = &t["Resources"]["Stateful"]["Properties"];
    let (_, passed) = tag_of(&nested["Parameters"]["ReviewJobsVisibilityTimeoutSeconds"]).unwrap();
    assert!(default(&t, passed.as_str().unwrap()) >= 6 * default(&t, "ReviewerTimeoutSeconds"));
    assert!(
        t["Parameters"]["ReviewJobsVisibilityTimeoutSeconds"]["MinValue"]
            .as_u64()
            .unwrap()
            >= 6 * t["Parameters"]["ReviewerTimeoutSeconds"]["MaxValue"]
                .as_u64()
                .unwrap()
                .min(300)
    );
    assert!(default(&s, "ReviewJobsVisibilityTimeoutSeconds") >= 6 * default(&t, "ReviewerTimeoutSeconds"));
    let queue = &s["Resources"]["ReviewJobsQueue"]["Properties"];
    let (_, visibility) = tag_of(&queue["VisibilityTimeout"]).unwrap();
    assert_eq!(visibility.as_str(), Some("ReviewJobsVisibilityTimeoutSeconds"));
    let (tag, target) = tag_of(&queue["RedrivePolicy"]["deadLetterTargetArn"]).unwrap();
    assert_eq!(
        (tag.as_str(), target.as_str()),
        ("!GetAtt", Some("ReviewJobsDeadLetterQueue.Arn"))
    );
    let event = &reviewer["Properties"]["Events"]["ReviewJobs"];
    assert_eq!(event["Type"], "SQS");
    assert_eq!(event["Properties"]["BatchSize"].as_u64(), Some(1));
    let (_, source) = tag_of(&event["Properties"]["Queue"]).unwrap();
    assert_eq!(source.as_str(), Some("Stateful.Outputs.ReviewJobsQueueArn"));
    assert!(as_strings(&event["Properties"]["FunctionResponseTypes"]).contains(&"ReportBatchItemFailures".to_owned()));
    assert!(t["Resources"]["ReviewJobsDeadLetterQueueAlarm"]["Type"] == "AWS::CloudWatch::Alarm");
}

#[test]
fn the_reviewer_may_invoke_exactly_the_configured_bedrock_model_and_only_with_bedrock() {
    let t = load("template.yaml");
    let reviewer = functions(&t).into_iter().find(|(n, _)| n == "reviewer").unwrap().1;
    let statements = reviewer["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .unwrap();
    let conditional: Vec<_> = statements
        .iter()
        .filter_map(|s| tag_of(s).filter(|(t, _)| t == "!If"))
        .filter(|(_, args)| args[0] == "UsesBedrock")
        .collect();
    assert_eq!(conditional.len(), 1, "one conditional statement for the LLM");
    let args = conditional[0].1.as_sequence().unwrap();
    assert_eq!(args[0], "UsesBedrock");
    assert_eq!(as_strings(&args[1]["Action"]), ["bedrock:InvokeModel"]);
    let (tag, arn) = tag_of(&args[1]["Resource"]).unwrap();
    assert_eq!(
        (tag.as_str(), arn.as_str()),
        (
            "!Sub",
            Some("arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${LlmModel}")
        )
    );
    let (tag, no_value) = tag_of(&args[2]).unwrap();
    assert_eq!((tag.as_str(), no_value.as_str()), ("!Ref", Some("AWS::NoValue")));
    let (tag, condition) = tag_of(&t["Conditions"]["UsesBedrock"]).unwrap();
    assert_eq!(tag, "!Equals");
    let (tag, param) = tag_of(&condition[0]).unwrap();
    assert_eq!(
        (tag.as_str(), param.as_str(), condition[1].as_str()),
        ("!Ref", Some("LlmProvider"), Some("bedrock"))
    );
    assert_eq!(t["Parameters"]["LlmProvider"]["Default"], "openai");
    let (_, provider) = tag_of(&reviewer["Properties"]["Environment"]["Variables"]["AGNUS_LLM_PROVIDER"]).unwrap();
    assert_eq!(provider.as_str(), Some("LlmProvider"));
    // No other statement names Bedrock.
    for s in statements.iter().filter(|s| tag_of(s).is_none()) {
        assert!(!as_strings(&s["Action"]).iter().any(|a| a.starts_with("bedrock:")));
    }
}

/// Feedback by similarity: the orgs function (rated comments) and the reviewer (diffs) may
/// invoke the Titan embeddings model, and only when `EmbeddingsProvider` is bedrock.
#[test]
fn embedding_functions_may_invoke_exactly_the_embeddings_model_and_only_with_bedrock() {
    let t = load("template.yaml");
    let (tag, condition) = tag_of(&t["Conditions"]["EmbedsWithBedrock"]).unwrap();
    assert_eq!(tag, "!Equals");
    let (_, param) = tag_of(&condition[0]).unwrap();
    assert_eq!(
        (param.as_str(), condition[1].as_str()),
        (Some("EmbeddingsProvider"), Some("bedrock"))
    );
    assert_eq!(t["Parameters"]["EmbeddingsProvider"]["Default"], "none");
    for (name, resource) in functions(&t) {
        let statements: &[Value] = resource["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .map_or(&[], |s| s.as_slice());
        let embeds: Vec<_> = statements
            .iter()
            .filter_map(|s| tag_of(s).filter(|(t, a)| t == "!If" && a[0] == "EmbedsWithBedrock"))
            .collect();
        let vars = &resource["Properties"]["Environment"]["Variables"];
        if !["orgs", "reviewer", "indexer"].contains(&name.as_str()) {
            assert!(embeds.is_empty(), "{name}");
            assert!(vars.get("AGNUS_EMBEDDINGS_PROVIDER").is_none(), "{name}");
            continue;
        }
        assert_eq!(embeds.len(), 1, "{name}");
        let args = embeds[0].1.as_sequence().unwrap();
        assert_eq!(as_strings(&args[1]["Action"]), ["bedrock:InvokeModel"]);
        let (tag, sub) = tag_of(&args[1]["Resource"]).unwrap();
        assert_eq!(tag, "!Sub");
        assert_eq!(
            sub[0].as_str(),
            Some("arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${Model}")
        );
        let (_, model) = tag_of(&sub[1]["Model"]).unwrap();
        assert_eq!(model[2].as_str(), Some("amazon.titan-embed-text-v2:0"), "{name}");
        let (_, provider) = tag_of(&vars["AGNUS_EMBEDDINGS_PROVIDER"]).unwrap();
        assert_eq!(provider.as_str(), Some("EmbeddingsProvider"), "{name}");
    }
}

#[tokio::test]
async fn the_emulator_runs_the_resources_stateful_yaml_defines() {
    let s = load("stateful.yaml");
    let env = outputs();
    let ddb = dynamodb().await;
    let table = ddb
        .describe_table()
        .table_name(&env["AGNUS_TABLE_NAME"])
        .send()
        .await
        .unwrap();
    let table = table.table().unwrap();
    let want = &s["Resources"]["Table"]["Properties"];
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned()))
        .collect();
    let want_keys: Vec<(String, String)> = want["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(keys, want_keys);
    let gsis: BTreeSet<String> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|g| g.index_name().map(str::to_owned))
        .collect();
    let want_gsis: BTreeSet<String> = want["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|g| g["IndexName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(gsis, want_gsis);
    let ttl = ddb
        .describe_time_to_live()
        .table_name(&env["AGNUS_TABLE_NAME"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description().and_then(|d| d.attribute_name()),
        want["TimeToLiveSpecification"]["AttributeName"].as_str()
    );

    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&env["AGNUS_REVIEW_QUEUE_URL"])
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    assert_eq!(
        attrs[&Q::VisibilityTimeout],
        s["Parameters"]["VisibilityTimeoutSeconds"]["Default"]
            .as_u64()
            .unwrap()
            .to_string()
    );
    let redrive: serde_json::Value = serde_json::from_str(&attrs[&Q::RedrivePolicy]).unwrap();
    assert_eq!(
        redrive["maxReceiveCount"].as_u64(),
        s["Parameters"]["MaxReceiveCount"]["Default"].as_u64()
    );
    assert!(
        redrive["deadLetterTargetArn"]
            .as_str()
            .unwrap()
            .ends_with("-reviews-dlq")
    );
    assert_eq!(
        attrs[&Q::MaximumMessageSize],
        s["Resources"]["ReviewQueue"]["Properties"]["MaximumMessageSize"]
            .as_u64()
            .unwrap()
            .to_string()
    );
}

/// What an emulator's CloudFormation may accept without applying (LocalStack's: point-in-time
/// recovery, the buckets' KMS encryption and lifecycle rules) is in force all the same:
/// provisioning checks and applies it (localstack/provision.py, `reconcile`).
#[tokio::test]
async fn the_emulator_applies_recovery_bucket_encryption_and_lifecycle_rules() {
    let s = load("stateful.yaml");
    let env = outputs();
    let backups = dynamodb()
        .await
        .describe_continuous_backups()
        .table_name(&env["AGNUS_TABLE_NAME"])
        .send()
        .await
        .unwrap();
    let pitr = backups
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status());
    assert_eq!(pitr.map(|p| p.as_str()), Some("ENABLED"));

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk().await)
            .force_path_style(true)
            .build(),
    );
    for (logical, bucket) in [
        ("PayloadBucket", &env["AGNUS_PAYLOAD_BUCKET"]),
        ("IndexBucket", &env["AGNUS_INDEX_BUCKET"]),
    ] {
        let encryption = s3.get_bucket_encryption().bucket(bucket).send().await.unwrap();
        let rule = &encryption.server_side_encryption_configuration().unwrap().rules()[0];
        let default = rule.apply_server_side_encryption_by_default().unwrap();
        assert_eq!(default.sse_algorithm().as_str(), "aws:kms", "{logical}");
        let key = default.kms_master_key_id().unwrap_or_default();
        let key_id = env["AGNUS_KMS_KEY_ID"].rsplit('/').next().unwrap();
        assert!(
            key.ends_with(key_id),
            "{logical} is encrypted with the data key, not {key}"
        );
        let lifecycle = s3
            .get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let ids: BTreeSet<&str> = lifecycle.rules().iter().filter_map(|r| r.id()).collect();
        let want: BTreeSet<&str> = s["Resources"][logical]["Properties"]["LifecycleConfiguration"]["Rules"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|r| r["Id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, want, "{logical}");
    }
}

/// Hardening #15: the single-tenant upgrade's writers (`store::migration`, behind the
/// `migration` feature of agnus-shared) are linked only by the CLI, never into a Lambda.
#[test]
fn no_function_links_the_migration_writers() {
    let mut checked = 0;
    for entry in std::fs::read_dir(repo_root().join("functions")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        for section in ["dependencies", "dev-dependencies"] {
            let features = parsed
                .get(section)
                .and_then(|d| d.get("agnus-shared"))
                .and_then(|s| s.get("features"))
                .and_then(toml::Value::as_array)
                .cloned()
                .unwrap_or_default();
            assert!(
                !features.iter().any(|f| f.as_str() == Some("migration")),
                "{} enables agnus-shared/migration",
                manifest.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 8, "found only {checked} function manifests");
}

/// The modules of one crate's `src/` and which of them each refers to (`crate::x`, and
/// `super::x` between siblings), leaving out comments and `#[cfg(test)] mod tests`.
fn module_graph(src: &std::path::Path) -> HashMap<String, BTreeSet<String>> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    let mut texts = HashMap::new();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            parts.pop();
        }
        let text = std::fs::read_to_string(f).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        texts.insert(parts.join("::"), code);
    }
    let names: BTreeSet<String> = texts.keys().cloned().collect();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
            .collect()
    };
    let mut graph: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (m, code) in &texts {
        let edges = graph.entry(m.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + 7..];
            let first = ident(rest);
            let second = rest
                .strip_prefix(first.as_str())
                .and_then(|r| r.strip_prefix("::"))
                .map(ident)
                .unwrap_or_default();
            let nested = format!("{first}::{second}");
            let target = if names.contains(&nested) { nested } else { first };
            if names.contains(&target) && &target != m && !m.starts_with(&format!("{target}::")) {
                edges.insert(target);
            }
        }
        if let Some((parent, _)) = m.rsplit_once("::") {
            for (i, _) in code.match_indices("super::") {
                let target = format!("{parent}::{}", ident(&code[i + 7..]));
                if names.contains(&target) && &target != m {
                    edges.insert(target);
                }
            }
        }
    }
    graph
}

/// A cycle in `graph` (each edge mapped through `group`), if there is one.
fn find_cycle(
    graph: &HashMap<String, BTreeSet<String>>,
    group: impl Fn(&str) -> Option<String>,
) -> Option<Vec<String>> {
    let mut g: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (a, bs) in graph {
        for b in bs {
            if let (Some(ga), Some(gb)) = (group(a), group(b))
                && ga != gb
            {
                g.entry(ga).or_default().insert(gb);
            }
        }
    }
    fn visit(
        n: &str,
        g: &HashMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_owned());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_owned());
        for next in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    let starts: Vec<String> = g.keys().cloned().collect();
    starts.iter().find_map(|s| visit(s, &g, &mut Vec::new(), &mut done))
}

/// Dependencies between modules point one way: no module of the shared library (nor of
/// any function) reaches itself through its imports, at the top level or inside `store`
/// and `crypto`.
#[test]
fn no_module_imports_itself_in_a_circle() {
    let root = repo_root();
    let mut crates = vec![root.join("shared/src"), root.join("cli/src"), root.join("migrate/src")];
    for e in std::fs::read_dir(root.join("functions")).unwrap() {
        crates.push(e.unwrap().path().join("src"));
    }
    let mut checked = 0;
    for src in crates {
        let graph = module_graph(&src);
        checked += graph.len();
        let top = find_cycle(&graph, |m| Some(m.split("::").next().unwrap_or(m).to_owned()));
        assert!(top.is_none(), "{}: import circle {:?}", src.display(), top.unwrap());
        for inner in ["store", "crypto"] {
            let prefix = format!("{inner}::");
            let cycle = find_cycle(&graph, |m| m.starts_with(&prefix).then(|| m.to_owned()));
            assert!(cycle.is_none(), "{}: import circle {:?}", src.display(), cycle.unwrap());
        }
    }
    assert!(checked > 60, "the walk found the modules ({checked})");
    // The check sees a circle when there is one.
    let mut g: HashMap<String, BTreeSet<String>> = HashMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("a".into());
    assert!(find_cycle(&g, |m| Some(m.to_owned())).is_some());
}
