//! Deliveries through the queue to the worker: review jobs, duplicates, poison messages, skips,
//! another org's repository, manual reviews.

use std::time::Duration;

use super::*;

#[tokio::test]
async fn signed_pull_request_opened_becomes_a_review_job() {
    let (api, _queue, esm) = setup(&[]).await;
    let alice = api.user().await;
    let name = unique_repo();
    let repo = connect(&api, &alice, &name, Some("ghp_exampletoken123456")).await;
    assert_eq!(repo.status, 201, "{:?}", repo.json());
    let repo_id = repo.json()["repo"]["id"].as_str().unwrap().to_owned();
    assert_eq!(repo.json()["repo"]["tokenPreview"], "…3456");

    let delivery = uuid::Uuid::new_v4().to_string();
    let a = api
        .call(github_delivery(
            &alice.slug,
            &alice.secrets["github"],
            &delivery,
            "pull_request",
            &opened_for(&name),
        ))
        .await;
    assert_eq!(a.status, 202);
    let report = esm.poll_once(&InProcessWorker(api.worker.clone())).await.unwrap();
    assert_eq!((report.received, report.deleted, report.failed), (1, 1, 0));

    let history = reviews(&api, &alice, &repo_id).await;
    assert_eq!(history.len(), 1);
    let job = &history[0];
    assert_eq!(job["prNumber"], 2);
    assert_eq!(job["headSha"], OPENED_SHA);
    assert_eq!(job["action"], "opened");
    assert_eq!(job["status"], "queued", "waiting for the review engine");
    let jobs = drain(&api.worker.config.review_jobs_queue_url).await;
    assert_eq!(jobs.len(), 1, "handed to the review engine once");
    let message: Value = serde_json::from_str(jobs[0].body().unwrap()).unwrap();
    assert_eq!(message["jobId"], job["id"]);
    assert_eq!(job["deliveryId"], delivery.as_str());
    assert_eq!(job["source"], "webhook");
}

#[tokio::test]
async fn the_same_delivery_processed_twice_makes_one_job() {
    let (api, queue, esm) = setup(&[]).await;
    let alice = api.user().await;
    let name = unique_repo();
    let repo_id = connect(&api, &alice, &name, None).await.json()["repo"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delivery = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        api.call(github_delivery(
            &alice.slug,
            &alice.secrets["github"],
            &delivery,
            "pull_request",
            &opened_for(&name)
        ))
        .await
        .status,
        202
    );
    // Take the message, hand the same event to the worker twice (a redelivery).
    let messages = drain(&queue).await;
    assert_eq!(messages.len(), 1);
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    for _ in 0..2 {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(messages[0].body().unwrap())
            .set_message_attributes(messages[0].message_attributes().cloned())
            .send()
            .await
            .unwrap();
    }
    esm.poll_once(&InProcessWorker(api.worker.clone())).await.unwrap();
    esm.poll_once(&InProcessWorker(api.worker.clone())).await.unwrap();
    assert_eq!(reviews(&api, &alice, &repo_id).await.len(), 1);
}

#[tokio::test]
async fn a_poison_message_is_retried_then_dead_lettered_while_the_rest_succeed() {
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let dlq = fresh_queue().await;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let queue = sqs
        .create_queue()
        .queue_name(format!("test-redrive-{}", uuid::Uuid::new_v4().simple()))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "1")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let api = Api::new(&[("AGNUS_REVIEW_QUEUE_URL", queue.as_str())]).await;
    let esm = EventSourceMapping::new(sqs.clone(), &queue, 10, 0).await.unwrap();
    let alice = api.user().await;
    let names = [unique_repo(), unique_repo()];
    let mut repo_ids = Vec::new();
    for name in &names {
        repo_ids.push(
            connect(&api, &alice, name, None).await.json()["repo"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let d = uuid::Uuid::new_v4().to_string();
        let a = api
            .call(github_delivery(
                &alice.slug,
                &alice.secrets["github"],
                &d,
                "pull_request",
                &opened_for(name),
            ))
            .await;
        assert_eq!(a.status, 202);
    }
    // A message the worker can never process: no attributes.
    sqs.send_message()
        .queue_url(&queue)
        .message_body("{\"garbage\":true}")
        .send()
        .await
        .unwrap();

    let worker = InProcessWorker(api.worker.clone());
    let first = esm.poll_once(&worker).await.unwrap();
    assert_eq!(
        (first.received, first.deleted, first.failed),
        (3, 2, 1),
        "partial batch response"
    );
    let mut dead = Vec::new();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        esm.poll_once(&worker).await.unwrap();
        dead = drain(&dlq).await;
        if !dead.is_empty() {
            break;
        }
    }
    assert_eq!(dead.len(), 1, "the poison message reached the DLQ");
    assert_eq!(dead[0].body().unwrap(), "{\"garbage\":true}");
    assert!(drain(&queue).await.is_empty());
    for id in &repo_ids {
        assert_eq!(
            reviews(&api, &alice, id).await.len(),
            1,
            "good messages processed once, not again"
        );
    }
}

#[tokio::test]
async fn an_event_for_another_orgs_repo_is_skipped_and_written_nowhere() {
    let (api, _queue, esm) = setup(&[]).await;
    let a = api.user().await;
    let b = api.user().await;
    let name = unique_repo();
    let b_repo = connect(&api, &b, &name, None).await.json()["repo"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Org B's repository, through org A's URL, signed with A's secret.
    let d = uuid::Uuid::new_v4().to_string();
    let sent = api
        .call(github_delivery(
            &a.slug,
            &a.secrets["github"],
            &d,
            "pull_request",
            &opened_for(&name),
        ))
        .await;
    assert_eq!(sent.status, 202);
    let report = esm.poll_once(&InProcessWorker(api.worker.clone())).await.unwrap();
    assert_eq!(report.deleted, 1, "skipped, not failed");
    assert!(reviews(&api, &b, &b_repo).await.is_empty(), "nothing in B's history");
    let a_repos = api
        .call(Call::get("/api/repos").cookie(&a.cookie).header("x-org-slug", &a.slug))
        .await
        .json();
    assert!(a_repos["repos"].as_array().unwrap().is_empty());
    let a_org: agnus_shared::domain::OrgId = api.call(Call::get("/api/auth/me").cookie(&a.cookie)).await.json()["orgs"]
        [0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Read A's partition the way the worker does: through the org named by a queue message.
    let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
    let mut attribute = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
    attribute.string_value = Some(a_org.to_string());
    attribute.data_type = Some("String".to_owned());
    message
        .message_attributes
        .insert(agnus_shared::queue::ATTR_ORG_ID.to_owned(), attribute);
    let queued = agnus_shared::queue::QueuedOrg::of_message(&message).unwrap();
    let a_scope = api.worker.store.queue_scope(&queued).await.unwrap().unwrap();
    assert_eq!(
        api.worker.store.review_count_for_delivery(&a_scope, &d).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn skips_and_manual_reviews() {
    let (api, _queue, esm) = setup(&[]).await;
    let alice = api.user().await;
    let name = unique_repo();
    let repo_id = connect(&api, &alice, &name, None).await.json()["repo"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let worker = InProcessWorker(api.worker.clone());
    // Unknown repository, draft PR, closed PR, unsupported event: skipped, not retried.
    let mut draft = fixture("github/pull_request.opened.json");
    draft["repository"]["full_name"] = Value::from(name.as_str());
    draft["pull_request"]["draft"] = Value::Bool(true);
    let mut closed = fixture("github/pull_request.closed.json");
    closed["repository"]["full_name"] = Value::from(name.as_str());
    let cases = [
        ("pull_request", opened_for(&unique_repo())),
        ("pull_request", serde_json::to_vec(&draft).unwrap()),
        ("pull_request", serde_json::to_vec(&closed).unwrap()),
        (
            "star",
            serde_json::to_vec(&json!({"action": "created", "repository": {"full_name": name}})).unwrap(),
        ),
    ];
    for (event, body) in cases {
        let d = uuid::Uuid::new_v4().to_string();
        assert_eq!(
            api.call(github_delivery(&alice.slug, &alice.secrets["github"], &d, event, &body))
                .await
                .status,
            202
        );
    }
    let report = esm.poll_once(&worker).await.unwrap();
    assert_eq!((report.received, report.deleted, report.failed), (4, 4, 0));
    assert!(reviews(&api, &alice, &repo_id).await.is_empty());

    // A manual review request is enqueued like a webhook and becomes a job.
    let m = api
        .call(
            Call::post(&format!("/api/repos/{repo_id}/review"))
                .cookie(&alice.cookie)
                .header("x-org-slug", &alice.slug)
                .json(&json!({"prNumber": 41, "headSha": "abc123"})),
        )
        .await;
    assert_eq!(m.status, 202, "{:?}", m.json());
    esm.poll_once(&worker).await.unwrap();
    let history = reviews(&api, &alice, &repo_id).await;
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0]["prNumber"].as_u64(), history[0]["action"].as_str()),
        (Some(41), Some("manual"))
    );
    assert_eq!(history[0]["source"], "manual");
}
