//! GitHub (the stand-in's REST API) with an OpenAI-compatible LLM: one review posted on the
//! head, redeliveries, rate limits, refused tokens, missing and stale pull requests, skips,
//! large diffs and incremental reviews.

use super::*;

#[tokio::test]
async fn a_pull_request_gets_one_review_posted_on_its_head_with_inline_comments_on_diff_lines() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "title": "Checked parse"}))
        .await;
    env.standin.llm_answers(&[answer()]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    let job = &env.history().await[0];
    let job_id = job["id"].as_str().unwrap();
    let posted = env.posted().await;
    assert_eq!(posted.len(), 1, "exactly one review");
    let expected_body = format!(
        "Adds a checked parse. Ping @\u{200B}octocat.\n\n**Notes on lines outside the diff:**\n\
         - `src/parse.rs` line 400: **minor**: Unrelated line.\n\
         - `src/other.rs`: **nit**: Not in this PR.\n\n\
         <sub>AgnusAI review of ec26c3e · {MODEL}</sub>\n<!-- agnus-review:{job_id} -->"
    );
    assert_eq!(
        posted[0]["body"],
        json!({
            "commit_id": HEAD,
            "body": expected_body,
            "event": "COMMENT",
            "comments": [
                {"path": "src/parse.rs", "line": 11, "side": "RIGHT", "body": "**major**: `unwrap` still panics on bad input."}
            ]
        })
    );
    // The token was opened from KMS and used only as the provider's credential.
    for r in env.standin.requests_to("GET", "/repos/").await {
        assert_eq!(r["headers"]["authorization"], format!("Bearer {TOKEN}"));
    }
    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    assert_eq!(llm.len(), 1);
    assert_eq!(llm[0]["headers"]["authorization"], format!("Bearer {LLM_KEY}"));
    let request = &llm[0]["body"];
    assert_eq!(request["model"], MODEL);
    assert_eq!(request["response_format"]["type"], "json_schema");
    assert_eq!(
        request["response_format"]["json_schema"]["schema"]["required"],
        json!(["summary", "walkthrough", "comments"])
    );
    let prompt = request["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("    11 +let b = a.checked().unwrap();"), "{prompt}");
    assert!(prompt.contains("Checked parse"));
    assert!(
        prompt.contains("Cargo.lock") && !prompt.contains("-a\n+b"),
        "lock file named, not shown"
    );
    assert!(
        !request.to_string().contains(TOKEN),
        "the repository token never reaches the prompt"
    );

    assert_eq!(job["status"], "posted");
    assert_eq!(job["commentCount"], 1);
    assert_eq!(job["model"], MODEL);
    assert_eq!(job["promptTokens"], 1200);
    assert_eq!(job["completionTokens"], 80);
    assert_eq!(job["reviewedSha"], HEAD);
    assert!(job["durationMs"].is_u64());
    assert!(
        job["reviewUrl"]
            .as_str()
            .unwrap()
            .starts_with(&format!("https://github.com/{}/pull/2#pullrequestreview-", env.repo))
    );
}

#[tokio::test]
async fn a_redelivered_job_message_posts_nothing() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    env.review_the_job_twice().await;
    assert_eq!(env.posted().await.len(), 1, "and posts nothing");
    assert_eq!(env.standin.requests_to("POST", "/chat/completions").await.len(), 1);
    let history = env.history().await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["status"], "posted");
}

#[tokio::test]
async fn rate_limited_then_success_posts_once_after_the_requested_delay() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin
        .fail("POST", "/pulls/2/reviews", 429, json!({"Retry-After": "120"}), 1)
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    // Received in flight, as the event-source mapping receives (a message received with a
    // visibility timeout of 0 is not in flight, and SQS does not delay it: AWS refuses the
    // change, LocalStack ignores it), with a short timeout of its own: once that has passed,
    // only the reviewer's delay hides the message.
    let received = sqs
        .receive_message()
        .queue_url(&env.jobs_queue)
        .max_number_of_messages(1)
        .visibility_timeout(2)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1);
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert_eq!(response.batch_item_failures.len(), 1, "given back to the queue");
    assert_eq!(env.history().await[0]["status"], "reviewing");
    // Retry-After 120 s: the message is invisible for that long, past the receive's 2 s.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let visible = sqs
        .receive_message()
        .queue_url(&env.jobs_queue)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert!(visible.is_empty(), "delayed by the Retry-After");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&env.jobs_queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "1"
    );
    // Time passes: the same receipt handed in again.
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(env.posted().await.len(), 2, "one refused, one accepted");
    assert_eq!(
        env.standin
            .requests_to("GET", &format!("/repos/{}/pulls/2/reviews", env.repo))
            .await
            .len(),
        1,
        "the retry looked for its marker before posting"
    );
    let job = &env.history().await[0];
    assert_eq!(job["status"], "posted");
}

#[tokio::test]
async fn a_refused_token_fails_the_job_with_token_invalid() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin.fail("GET", "/pulls/2", 401, json!({}), 1).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("failed"), Some("token_invalid"))
    );
    assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
    assert!(env.posted().await.is_empty());
}

#[tokio::test]
async fn a_missing_pull_request_fails_the_job_with_pr_not_found() {
    let env = setup(&[]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("failed"), Some("pr_not_found"))
    );
}

#[tokio::test]
async fn a_newer_head_skips_the_job_as_stale() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": NEWER, "base_sha": BASE})).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("skipped"), Some("stale"))
    );
    assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
    assert!(env.posted().await.is_empty());
}

#[tokio::test]
async fn drafts_and_bots_are_skipped_without_asking_the_llm() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "draft": true}))
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("skipped"), Some("draft"))
    );

    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "user_login": "dependabot[bot]", "user_type": "Bot"}))
        .await;
    env.deliver("pull_request.reopened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("skipped"), Some("bot_author"))
    );
    assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
}

#[tokio::test]
async fn a_large_diff_is_truncated_with_a_notice_and_an_unusable_answer_fails_visibly() {
    let env = setup(&[("AGNUS_REVIEW_MAX_DIFF_BYTES", "1000")]).await;
    let big = format!(
        "@@ -1,1 +1,200 @@\n{}",
        "+let line_of_new_code = compute(42);\n".repeat(200)
    );
    env.standin
        .pr(
            &env.repo,
            2,
            json!({"head_sha": HEAD, "base_sha": BASE}),
            json!([{"filename": "src/big.rs", "status": "added", "patch": big},
                   {"filename": "src/later.rs", "status": "added", "patch": PATCH}]),
        )
        .await;
    env.standin
        .llm_answers(&[json!("I think it is fine"), json!("{\"summary\": 3}")])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let llm = env.standin.requests_to("POST", "/chat/completions").await;
    assert_eq!(llm.len(), 2, "one retry");
    let prompt = llm[0]["body"]["messages"][1]["content"].as_str().unwrap();
    assert!(
        prompt.contains("NOTICE: the diff is larger than the review budget of 1000 bytes"),
        "{prompt}"
    );
    assert!(prompt.contains("Files not shown: src/later.rs"));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("failed"), Some("llm_invalid_answer"))
    );
    assert!(env.posted().await.is_empty());
}

#[tokio::test]
async fn a_new_push_is_reviewed_incrementally_from_the_last_reviewed_head() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    let only_new = "@@ -1,1 +1,2 @@\n fn main() {}\n+fn added_later() {}";
    // "Update branch" merged the base in: src/base.rs changed since the last review, but
    // it is not part of the pull request's own diff.
    let from_base = "@@ -1,1 +1,2 @@\n fn base() {}\n+fn merged_from_base() {}";
    env.standin
        .pr_with_compare(
            &env.repo,
            2,
            json!({"head_sha": NEWER, "base_sha": BASE}),
            json!([{"filename": "src/parse.rs", "status": "modified", "patch": PATCH},
                   {"filename": "src/new.rs", "status": "added", "patch": only_new}]),
            json!({"status": "ahead", "files": [{"filename": "src/new.rs", "status": "added", "patch": only_new},
                                                {"filename": "src/base.rs", "status": "modified", "patch": from_base}]}),
        )
        .await;
    env.standin
        .llm_answers(&[json!({"summary": "Small follow-up.", "comments": [
            {"path": "src/new.rs", "line": 2, "body": "Needs a test.", "severity": "minor"},
            {"path": "src/base.rs", "line": 2, "body": "Base change.", "severity": "minor"}]})])
        .await;
    env.deliver("pull_request.synchronize.json", NEWER).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let compare = env
        .standin
        .requests_to("GET", &format!("/repos/{}/compare/{HEAD}...{NEWER}", env.repo))
        .await;
    assert_eq!(compare.len(), 1);
    let llm = env.standin.requests_to("POST", "/chat/completions").await;
    let prompt = llm[1]["body"]["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("incremental review") && prompt.contains("src/new.rs"));
    assert!(
        !prompt.contains("src/parse.rs"),
        "only what changed since the last review"
    );
    let posted = env.posted().await;
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[1]["body"]["commit_id"], NEWER);
    assert_eq!(
        posted[1]["body"]["comments"],
        json!([{"path": "src/new.rs", "line": 2, "side": "RIGHT", "body": "**minor**: Needs a test."}]),
        "only lines of the pull request's own diff are commented inline"
    );
    let summary = posted[1]["body"]["body"].as_str().unwrap();
    assert!(summary.contains("Base change."), "folded into the summary: {summary}");
    let job = &env.history().await[0];
    assert_eq!(job["action"], "synchronize");
    assert_eq!(job["diffBaseSha"], HEAD);
    assert_eq!(job["status"], "posted");
}
