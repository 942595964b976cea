//! Broken archives, caps and refused tokens fail the job cleanly (a code and a sentence,
//! nothing stored), and every provider's archive format is read.

use serde_json::json;

use super::*;

/// Lists the org's graph objects of a repository.
async fn objects_of(env: &Env) -> Vec<String> {
    let sdk = sdk().await;
    let (org, _) = index_record_key(&env.repo_id).await;
    agnus_shared::aws::s3(&sdk, true)
        .list_objects_v2()
        .bucket(&env.indexer.config.bucket)
        .prefix(format!("index/{org}/{}/", env.repo_id))
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_broken_archive_fails_the_job_and_stores_nothing() {
    for (provider, broken) in [
        ("github", "truncated"),
        ("github", "dotdot"),
        ("github", "symlink"),
        ("github", "huge"),
        ("azure", "truncated"),
        ("azure", "dotdot"),
    ] {
        let (env, _) = setup(provider, json!({"a.py": "def f():\n    pass\n"}), &[]).await;
        // The connection indexed the good commit; a broken one follows.
        assert_eq!(env.index().await, 1);
        let first = env.status().await;
        assert_eq!(first["status"], "ready", "{provider}: {first}");
        let good = objects_of(&env).await;
        env.standin
            .source(json!({"provider": provider, "repo": env.repo, "files": {"b.py": "x = 1\n"}, "broken": broken}))
            .await;
        let a = env
            .api
            .call(
                Call::post(&format!("/api/repos/{}/index", env.repo_id))
                    .cookie(&env.user.cookie)
                    .header("x-org-slug", &env.user.slug)
                    .json(&json!({})),
            )
            .await;
        assert_eq!(a.status, 202, "{:?}", a.json());
        assert_eq!(env.index().await, 1);
        let failed = env.status().await;
        assert_eq!(failed["status"], "failed", "{provider} {broken}: {failed}");
        assert_eq!(
            failed["error"]["code"], "archive_invalid",
            "{provider} {broken}: {failed}"
        );
        assert!(!failed["error"]["message"].as_str().unwrap().is_empty());
        assert!(!failed["error"]["message"].as_str().unwrap().contains(TOKEN));
        // The last good index stays; no object was written for the failed job.
        assert_eq!(objects_of(&env).await, good, "{provider} {broken}");
        assert_eq!(failed["stats"]["files"], 1);
    }
}

#[tokio::test]
async fn a_repository_over_a_cap_fails_too_large_naming_the_cap() {
    let (env, _) = setup("github", sources(), &[("AGNUS_INDEX_MAX_FILES", "2")]).await;
    assert_eq!(env.index().await, 1);
    let failed = env.status().await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], "too_large");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("AGNUS_INDEX_MAX_FILES") && message.contains("diff alone"),
        "{message}"
    );
    assert!(
        failed["stats"].is_null() && failed["commit"].is_null(),
        "never a partial index: {failed}"
    );
    assert!(objects_of(&env).await.is_empty());
}

#[tokio::test]
async fn a_refused_token_fails_token_invalid() {
    let (env, _) = setup("github", sources(), &[]).await;
    env.standin.fail("GET", "/tarball/", 401, json!({}), 1).await;
    assert_eq!(env.index().await, 1);
    let failed = env.status().await;
    assert_eq!(failed["error"]["code"], "token_invalid", "{failed}");
}

#[tokio::test]
async fn a_provider_outage_is_retried_then_recorded() {
    let (env, _) = setup("github", sources(), &[("AGNUS_INDEX_MAX_ATTEMPTS", "1")]).await;
    env.standin.fail("GET", "/tarball/", 503, json!({}), 1).await;
    assert_eq!(env.index().await, 1);
    let failed = env.status().await;
    assert_eq!(failed["error"]["code"], "provider_unavailable", "{failed}");
}

#[tokio::test]
async fn every_provider_archive_is_indexed() {
    for provider in ["gitlab", "bitbucket", "azure"] {
        let (env, sha) = setup(provider, sources(), &[]).await;
        assert_eq!(env.index().await, 1, "{provider}");
        let ready = env.status().await;
        assert_eq!(ready["status"], "ready", "{provider}: {ready}");
        assert_eq!(ready["commit"], sha.as_str());
        assert_eq!(ready["stats"]["files"], 5, "{provider}: {ready}");
        assert_eq!(ready["stats"]["languages"], json!({"python": 3, "typescript": 2}));
        // An incremental update over the provider's compare API and file contents.
        let next = env
            .standin
            .source(json!({"provider": provider, "repo": env.repo, "files": {"pkg/new.py": "def g():\n    return 1\n"}, "remove": ["web/server.ts"]}))
            .await;
        let job = agnus_shared::index_jobs::IndexJobMessage {
            repo_id: env.repo_id.clone(),
            job_id: "incremental0000000000000000000001".into(),
            kind: agnus_shared::store::IndexKind::Incremental,
            target: Some(next.clone()),
        };
        queue_incremental(&env, &job).await;
        assert_eq!(env.index().await, 1, "{provider}");
        let ready = env.status().await;
        assert_eq!(
            (ready["status"].as_str(), ready["commit"].as_str()),
            (Some("ready"), Some(next.as_str())),
            "{provider}: {ready}"
        );
        assert_eq!(
            ready["stats"]["languages"],
            json!({"python": 4, "typescript": 1}),
            "{provider}: {ready}"
        );
        let requests = env.standin.requests().await;
        let archives = requests
            .iter()
            .filter(|r| {
                r["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("archive") || p.contains("/get/") || p.contains("zip"))
            })
            .count();
        assert_eq!(archives, 1, "{provider}: one archive, for the first index only");
    }
}

/// Queues an incremental job as the worker does for a push (the record first, then the
/// message).
async fn queue_incremental(env: &Env, job: &agnus_shared::index_jobs::IndexJobMessage) {
    let sdk = sdk().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), table_name());
    let (org, _) = index_record_key(&env.repo_id).await;
    // The org as a trusted producer names it: the message's `org_id` attribute.
    let mut message = aws_lambda_events::sqs::SqsMessage::default();
    let mut attribute = aws_lambda_events::sqs::SqsMessageAttribute::default();
    attribute.string_value = Some(org.clone());
    attribute.data_type = Some("String".into());
    message.message_attributes.insert("org_id".into(), attribute);
    let org = agnus_shared::queue::QueuedOrg::of_message(&message).unwrap();
    let scope = store.queue_scope(&org).await.unwrap().unwrap();
    let request = agnus_shared::store::IndexRequest {
        repo_id: &job.repo_id,
        kind: job.kind,
        job_id: &job.job_id,
        target: job.target.as_deref(),
    };
    assert!(store.queue_index_for_event(&scope, &request, 1800).await.unwrap());
    agnus_shared::index_jobs::IndexJobs::new(
        agnus_shared::aws::sqs_sender(&sdk).unwrap(),
        env.indexer.config.queue_url.clone(),
    )
    .send(scope.org_id(), job)
    .await
    .unwrap();
}
