//! Issue 29 (hardening round 2), the review path: who can make the engine review, how
//! often, and what a retry posts.

use agnus_shared::domain::Provider;
use agnus_shared::queue::QueuedOrg;
use agnus_shared::store::{Processed, QueueScope};

use super::*;

impl Env {
    /// The worker's view of this env's org (as a queue message names it).
    pub(super) async fn queue_scope(&self) -> QueueScope {
        let me = self
            .api
            .call(Call::get("/api/auth/me").cookie(&self.user.cookie))
            .await
            .json();
        let org = me["orgs"][0]["id"].as_str().unwrap().to_owned();
        let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
        let mut attribute = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
        attribute.string_value = Some(org);
        attribute.data_type = Some("String".to_owned());
        message
            .message_attributes
            .insert(agnus_shared::queue::ATTR_ORG_ID.to_owned(), attribute);
        let queued = QueuedOrg::of_message(&message).unwrap();
        self.api.worker.store.queue_scope(&queued).await.unwrap().unwrap()
    }

    /// Delivers a signed GitHub `issue_comment` on PR 2 and runs the worker: the job it
    /// made, or the reason it skipped the comment.
    pub(super) async fn comment(&self, body: &str, user: Value) -> Result<(), String> {
        let mut v = fixture("github/issue_comment.created.json");
        v["repository"]["full_name"] = Value::from(self.repo.as_str());
        v["issue"]["number"] = Value::from(2);
        v["issue"]["pull_request"] = json!({"url": format!("https://api.github.com/repos/{}/pulls/2", self.repo)});
        v["comment"]["body"] = Value::from(body);
        for (k, val) in user.as_object().unwrap() {
            v["comment"]["user"][k] = val.clone();
        }
        let delivery = uuid::Uuid::new_v4().to_string();
        self.deliver_github("issue_comment", &v, &delivery).await;
        let scope = self.queue_scope().await;
        match self
            .api
            .worker
            .store
            .processed(&scope, Provider::Github, &delivery)
            .await
            .unwrap()
        {
            Some(Processed::Job { .. }) => Ok(()),
            Some(Processed::Skipped(reason)) => Err(reason),
            None => panic!("the delivery was not processed"),
        }
    }

    async fn settings(&self, repo: Option<&str>, body: Value) -> Answer {
        let path = match repo {
            Some(id) => format!("/api/orgs/{}/review-settings/{id}", self.user.slug),
            None => format!("/api/orgs/{}/review-settings", self.user.slug),
        };
        self.api
            .call(Call::new("PATCH", &path).cookie(&self.user.cookie).json(&body))
            .await
    }

    async fn ask_review(&self, pr: u64, head: Option<&str>) -> Answer {
        let mut body = json!({"prNumber": pr});
        if let Some(h) = head {
            body["headSha"] = Value::from(h);
        }
        self.api
            .call(
                Call::post(&format!("/api/repos/{}/review", self.repo_id))
                    .cookie(&self.user.cookie)
                    .header("x-org-slug", &self.user.slug)
                    .json(&body),
            )
            .await
    }

    /// Runs the worker over what is on the webhook queue.
    async fn work(&self) {
        loop {
            let report = self
                .hooks
                .poll_once(&InProcessWorker(self.api.worker.clone()))
                .await
                .unwrap();
            assert_eq!(report.failed, 0);
            if report.received == 0 {
                break;
            }
        }
    }

    /// Reviews every job on the queue; the statuses and reasons of the history.
    async fn review_all(&self) -> Vec<(String, String)> {
        while self.review().await.0 > 0 {}
        self.history()
            .await
            .iter()
            .map(|j| {
                (
                    j["status"].as_str().unwrap_or_default().to_owned(),
                    j["reason"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Serves PRs 2 and 3 (each its own head), asks for a review of both, reviews them:
    /// their outcomes, sorted.
    async fn review_two_pull_requests(&self) -> Vec<(String, String)> {
        for pr in [2, 3] {
            self.standin
                .pr(
                    &self.repo,
                    pr,
                    json!({"head_sha": format!("{pr:040x}"), "base_sha": BASE}),
                    json!([{"filename": "src/parse.rs", "status": "modified", "patch": PATCH}]),
                )
                .await;
            assert_eq!(self.ask_review(pr, None).await.status, 202);
        }
        self.work().await;
        let mut outcomes = self.review_all().await;
        outcomes.sort();
        outcomes
    }

    async fn llm_calls(&self) -> usize {
        self.standin.requests_to("POST", "/chat/completions").await.len()
    }
}

/// Item 1 and 2: only a person's mention of the repository's handle, as a token, asks for
/// a review — never the engine's own comments (its marker), a bot's or app's, or the
/// repository token's identity; the org's and repository's `mention` setting is honoured.
#[tokio::test]
async fn only_a_persons_mention_of_the_handle_asks_for_a_review() {
    let env = setup(&[]).await;
    // Who the repository's token is, as the provider tells anyone holding it.
    let me: Value = reqwest::Client::new()
        .get(format!("{}/user", env.standin.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token_user = json!({"login": me["login"], "id": me["id"], "type": "User"});
    let person = json!({"login": "ada", "id": 4242, "type": "User"});
    assert_eq!(env.comment("@agnus please review", person.clone()).await, Ok(()));
    for (body, user, reason) in [
        ("please look @agnusbot", person.clone(), "no_mention"),
        ("write to ops@agnus.io", person.clone(), "no_mention"),
        ("`@agnus` is our handle", person.clone(), "no_mention"),
        ("> @agnus please review\nquoted", person.clone(), "no_mention"),
        // What the engine posts carries its marker, whatever the model wrote.
        (
            "-@agnus see below\n<!-- agnus-review:0123:1 -->",
            person.clone(),
            "own_comment",
        ),
        (
            "@agnus review",
            json!({"login": "renovate[bot]", "id": 1, "type": "Bot"}),
            "bot_comment",
        ),
        (
            "@agnus review",
            json!({"login": "helper", "id": 2, "type": "Bot"}),
            "bot_comment",
        ),
        // The token the repository was connected with is the engine's own identity.
        ("@agnus review", token_user, "own_token_comment"),
    ] {
        assert_eq!(env.comment(body, user).await, Err(reason.to_owned()), "{body}");
    }

    // The org's handle replaces the system's; a repository's replaces the org's.
    assert_eq!(env.settings(None, json!({"mention": "@reviewer"})).await.status, 200);
    assert_eq!(
        env.comment("@agnus review", person.clone()).await,
        Err("no_mention".into())
    );
    assert_eq!(env.comment("hey @Reviewer, look", person.clone()).await, Ok(()));
    let repo_id = env.repo_id.clone();
    assert_eq!(
        env.settings(Some(&repo_id), json!({"mention": "@repo-bot"}))
            .await
            .status,
        200
    );
    assert_eq!(
        env.comment("@reviewer look", person.clone()).await,
        Err("no_mention".into())
    );
    assert_eq!(env.comment("@repo-bot look", person).await, Ok(()));
}

/// Item 1: a head is reviewed once within the repeat window, whoever asks how often —
/// twelve manual requests give one LLM call and one posted review; naming the head
/// after that is 409.
#[tokio::test]
async fn a_head_is_reviewed_once_however_often_it_is_asked_for() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    for _ in 0..12 {
        assert_eq!(env.ask_review(2, None).await.status, 202);
    }
    env.work().await;
    let outcomes = env.review_all().await;
    assert_eq!(outcomes.len(), 12);
    let posted = outcomes.iter().filter(|(s, _)| s == "posted").count();
    let repeated = outcomes
        .iter()
        .filter(|(s, r)| s == "skipped" && r == "already_reviewed")
        .count();
    assert_eq!((posted, repeated), (1, 11), "{outcomes:?}");
    assert_eq!(env.llm_calls().await, 1);
    assert_eq!(env.posted().await.len(), 1);
    let again = env.ask_review(2, Some(HEAD)).await;
    assert_eq!(again.status, 409, "{:?}", again.json());
    assert_eq!(again.json()["error"]["code"], "already_reviewed");
    // A mention of the same head is not reviewed again either.
    assert_eq!(
        env.comment("@agnus again", json!({"login": "ada", "id": 4242, "type": "User"}))
            .await,
        Ok(())
    );
    assert_eq!(env.review().await, (1, 1, 0));
    assert_eq!(env.history().await[0]["reason"], "already_reviewed");
    assert_eq!(env.llm_calls().await, 1);
}

/// Item 1: reviews per org per hour (the org's setting, at most the system's) and the
/// plan's monthly token budget stop reviews before the LLM is asked.
#[tokio::test]
async fn the_hourly_limit_and_the_monthly_budget_stop_reviews_before_the_llm() {
    // The stand-in's answers cost 1,280 tokens: a free org's budget of 1,000 is used up
    // by the first review.
    let env = setup(&[("AGNUS_TOKEN_BUDGET_FREE", "1000")]).await;
    let repo_id = env.repo_id.clone();
    let refused = env.settings(Some(&repo_id), json!({"reviewsPerHour": 1})).await;
    assert_eq!(refused.status, 400, "an org setting, not a repository's");
    assert_eq!(refused.json()["error"]["code"], "org_setting");
    assert_eq!(env.settings(None, json!({"reviewsPerHour": 2})).await.status, 200);
    let outcomes = env.review_two_pull_requests().await;
    assert_eq!(
        outcomes,
        [
            ("posted".to_owned(), String::new()),
            ("skipped".to_owned(), "budget_exhausted".to_owned())
        ]
    );
    assert_eq!(env.llm_calls().await, 1, "nothing asked past the budget");

    let usage = env
        .api
        .call(Call::get(&format!("/api/orgs/{}/usage", env.user.slug)).cookie(&env.user.cookie))
        .await;
    assert_eq!(usage.status, 200, "{:?}", usage.json());
    let u = usage.json()["usage"].clone();
    assert_eq!(
        (u["plan"].as_str(), u["tokenBudget"].as_u64()),
        (Some("free"), Some(1000))
    );
    assert_eq!(u["tokens"], 1280);
    assert_eq!(u["budgetExhausted"], true);
    assert_eq!(
        (u["reviewsThisHour"].as_u64(), u["reviewsPerHour"].as_u64()),
        (Some(1), Some(2))
    );
}

#[tokio::test]
async fn reviews_past_the_orgs_hourly_limit_are_skipped_as_rate_limited() {
    let env = setup(&[]).await;
    assert_eq!(env.settings(None, json!({"reviewsPerHour": 1})).await.status, 200);
    let outcomes = env.review_two_pull_requests().await;
    assert_eq!(
        outcomes,
        [
            ("posted".to_owned(), String::new()),
            ("skipped".to_owned(), "rate_limited".to_owned())
        ]
    );
    assert_eq!(env.llm_calls().await, 1);
}

/// Item 7: a retry after a partial post posts the answer it stored before posting — the
/// same comments, the same summary — and never asks the LLM again.
#[tokio::test]
async fn a_retry_after_a_partial_post_posts_the_stored_answer_without_asking_again() {
    let env = setup_for("gitlab", &[]).await;
    env.standin
        .pr_for(
            "gitlab",
            &env.repo,
            2,
            json!({"head_sha": HEAD, "base_sha": BASE}),
            json!([{"filename": "src/parse.rs", "status": "modified", "patch": PATCH}]),
        )
        .await;
    let first = json!({"summary": "First answer.", "comments": [
        {"path": "src/parse.rs", "line": 11, "body": "First finding.", "severity": "major"},
        {"path": "src/parse.rs", "line": 12, "body": "Second finding.", "severity": "minor"}]});
    let second = json!({"summary": "A different answer.", "comments": [
        {"path": "src/parse.rs", "line": 12, "body": "Something else.", "severity": "major"}]});
    env.standin.llm_answers(&[first, second]).await;
    // The inline comments go out, then the summary fails: the job goes back to the queue.
    env.standin
        .fail("POST", "/merge_requests/2/notes", 503, json!({"Retry-After": "1"}), 1)
        .await;
    assert_eq!(env.ask_review(2, None).await.status, 202);
    env.work().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let received = sqs
        .receive_message()
        .queue_url(&env.jobs_queue)
        .max_number_of_messages(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1);
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert_eq!(response.batch_item_failures.len(), 1, "given back to the queue");
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(env.llm_calls().await, 1, "the retry did not ask the LLM again");
    let inline = env.standin.requests_to("POST", "/merge_requests/2/discussions").await;
    let bodies: Vec<&str> = inline.iter().filter_map(|r| r["body"]["body"].as_str()).collect();
    assert_eq!(bodies.len(), 2, "each comment once: {bodies:?}");
    assert!(bodies[0].contains("First finding.") && bodies[1].contains("Second finding."));
    let notes = env.standin.requests_to("POST", "/merge_requests/2/notes").await;
    let summary = notes.last().unwrap()["body"]["body"].as_str().unwrap();
    assert!(summary.contains("First answer."), "{summary}");
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["commentCount"].as_u64()),
        (Some("posted"), Some(2))
    );
}
