//! A review whose pull request is based on a commit the index has not seen queues an
//! incremental job that brings the index to the default branch's head.

use std::sync::Arc;

use agnus_reviewer::ReviewerState;
use agnus_shared::config::ReviewerConfig;
use agnus_shared::index_jobs::IndexJobs;
use agnus_tests::review::InProcessReviewer;
use serde_json::json;

use super::*;

const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

#[tokio::test]
async fn a_review_based_past_the_index_catches_the_index_up() {
    let (env, first) = setup("github", sources(), &[]).await;
    assert_eq!(env.index().await, 1);
    assert_eq!(env.status().await["commit"], first.as_str());
    // The default branch moves on without a push webhook (none configured for pushes).
    let second = env
        .standin
        .source(
            json!({"provider": "github", "repo": env.repo, "files": {"pkg/extra.py": "def more():\n    return 2\n"}}),
        )
        .await;
    // A pull request based on the new commit is reviewed.
    let llm_url = format!("{}/v1", env.standin.url);
    let review_jobs = env.api.worker.config.review_jobs_queue_url.clone();
    let overrides = [
        ("AGNUS_REVIEW_JOBS_QUEUE_URL", review_jobs.as_str()),
        ("AGNUS_GITHUB_API_URL", env.standin.url.as_str()),
        ("AGNUS_LLM_BASE_URL", llm_url.as_str()),
        ("AGNUS_LLM_MODEL", "standin-model"),
    ];
    let sdk = sdk().await;
    let config = ReviewerConfig::from_source(&env_map(&overrides)).expect("reviewer config");
    let reviewer = Arc::new(
        ReviewerState::new(
            config.clone(),
            Store::new(aws_sdk_dynamodb::Client::new(&sdk), table_name()),
            SecretBox::new(aws_sdk_kms::Client::new(&sdk), config.kms_key_id.clone()),
            aws_sdk_sqs::Client::new(&sdk),
            sdk.credentials_provider().expect("the emulator's credentials"),
        )
        .with_index_jobs(IndexJobs::new(
            agnus_shared::aws::sqs_sender(&sdk).unwrap(),
            env.indexer.config.queue_url.clone(),
        )),
    );
    env.standin
        .pr(
            &env.repo,
            7,
            json!({"head_sha": HEAD, "base_sha": second}),
            json!([{"filename": "pkg/app.py", "status": "modified",
                    "patch": "@@ -5,2 +5,2 @@ class App:\n     def run(self):\n-        return helper(self.size())\n+        return helper(self.size() + 1)"}]),
        )
        .await;
    let mut opened = serde_json::from_str::<Value>(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/github/pull_request.opened.json")).unwrap(),
    )
    .unwrap();
    opened["repository"]["full_name"] = Value::from(env.repo.as_str());
    opened["pull_request"]["number"] = Value::from(7);
    opened["number"] = Value::from(7);
    opened["pull_request"]["head"]["sha"] = Value::from(HEAD);
    env.deliver_github("pull_request", &opened).await;
    let jobs = EventSourceMapping::new(aws_sdk_sqs::Client::new(&sdk), &review_jobs, 1, 0)
        .await
        .unwrap();
    let report = jobs.poll_once(&InProcessReviewer(reviewer)).await.unwrap();
    assert_eq!(report.received, 1);

    let queued = env.status().await;
    assert_eq!(
        (queued["status"].as_str(), queued["kind"].as_str()),
        (Some("queued"), Some("incremental")),
        "{queued}"
    );
    assert_eq!(env.index().await, 1);
    let ready = env.status().await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        ready["commit"],
        second.as_str(),
        "caught up with the default branch's head"
    );
    assert_eq!(ready["stats"]["languages"]["python"], 4);
}
