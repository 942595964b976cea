//! Issue 31, walkthrough and precision: the model's per-file walkthrough is posted
//! collapsed under the summary and kept in the history; comments under `minConfidence`
//! are not posted; at `deep` the verifier re-scores them; the history counts what was
//! dropped and why.

use super::providers::head_for;
use super::*;

fn scored_answer() -> Value {
    json!({
        "summary": "Adds a checked parse.",
        "walkthrough": [
            {"path": "src/parse.rs", "text": "Checks the parse <b>before</b> use, cc @octocat."},
            {"path": "src/elsewhere.rs", "text": "Not in this pull request."}
        ],
        "comments": [
            {"path": "src/parse.rs", "line": 11, "body": "`unwrap` still panics on bad input.", "severity": "major",
             "ruleId": null, "confidence": 0.9},
            {"path": "src/parse.rs", "line": 12, "body": "Maybe overflow?", "severity": "minor",
             "ruleId": null, "confidence": 0.2}
        ]
    })
}

const WALKTHROUGH_LINE: &str =
    "- `src/parse.rs` — Checks the parse &lt;b&gt;before&lt;/b&gt; use, cc @\u{200B}octocat.";

#[tokio::test]
async fn low_confidence_comments_are_not_posted_and_the_walkthrough_is_collapsed() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin.llm_answers(&[scored_answer()]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    let posted = env.posted().await;
    assert_eq!(posted.len(), 1);
    let comments = posted[0]["body"]["comments"].as_array().unwrap();
    assert_eq!(
        comments.len(),
        1,
        "the 0.2 comment is under the default 0.5: {comments:?}"
    );
    assert_eq!(comments[0]["line"], 11);
    let body = posted[0]["body"]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!(
            "Adds a checked parse.\n\n<details><summary>Walkthrough</summary>\n\n{WALKTHROUGH_LINE}\n\n</details>\n\n<sub>"
        )),
        "{body}"
    );
    assert!(!body.contains("elsewhere"), "only files the diff shows: {body}");

    let job = &env.history().await[0];
    assert_eq!(job["commentCount"], 1, "{job}");
    assert_eq!(job["dropped"]["lowConfidence"], 1, "{job}");
    assert_eq!(job["dropped"]["unverified"], 0, "{job}");
    assert_eq!(
        job["walkthrough"],
        json!([{"path": "src/parse.rs", "text": &WALKTHROUGH_LINE["- `src/parse.rs` — ".len()..]}])
    );
    // Not at `deep`: no verification call.
    assert_eq!(env.standin.requests_to("POST", "/v1/chat/completions").await.len(), 1);
}

#[tokio::test]
async fn at_deep_the_verifier_rescores_and_a_lowered_comment_is_dropped() {
    let env = setup(&[]).await;
    let slug = env.user.slug.clone();
    let set = env
        .api
        .call(
            Call::new("PATCH", &format!("/api/orgs/{slug}/review-settings"))
                .cookie(&env.user.cookie)
                .json(&json!({"depth": "deep", "minConfidence": 0.6})),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.json());
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    let mut answer = scored_answer();
    answer["comments"][1]["confidence"] = json!(0.95);
    env.standin.llm_answers(&[answer]).await;
    env.standin
        .llm_verifications(&[json!({"verdicts": [{"id": 0, "confidence": 0.8}, {"id": 1, "confidence": 0.1}]})])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    assert_eq!(llm.len(), 2, "the review, then one batched verification");
    let verify = &llm[1]["body"];
    assert_eq!(verify["response_format"]["json_schema"]["name"], "comment_verification");
    let prompt = verify["messages"][1]["content"].as_str().unwrap();
    assert!(
        prompt.contains("Candidate 0") && prompt.contains("Candidate 1"),
        "{prompt}"
    );
    assert!(
        prompt.contains("    11 +let b = a.checked().unwrap();"),
        "each candidate with its code: {prompt}"
    );
    let posted = env.posted().await;
    let comments = posted[0]["body"]["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0]["line"], 11);
    let job = &env.history().await[0];
    assert_eq!(job["dropped"]["unverified"], 1, "{job}");
    assert_eq!(job["dropped"]["lowConfidence"], 0, "{job}");
    assert_eq!(
        job["promptTokens"], 2_400,
        "the verification's tokens are billed: {job}"
    );
}

#[tokio::test]
async fn a_failed_verification_keeps_the_models_scores() {
    let env = setup(&[]).await;
    let set = env
        .api
        .call(
            Call::new("PATCH", &format!("/api/orgs/{}/review-settings", env.user.slug))
                .cookie(&env.user.cookie)
                .json(&json!({"depth": "deep"})),
        )
        .await;
    assert_eq!(set.status, 200);
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin.llm_answers(&[scored_answer()]).await;
    env.standin.llm_verifications(&[json!("not the schema")]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(job["status"], "posted", "{job}");
    assert_eq!(
        (job["commentCount"].as_u64(), job["dropped"]["lowConfidence"].as_u64()),
        (Some(1), Some(1)),
        "{job}"
    );
}

#[tokio::test]
async fn min_confidence_and_context_tokens_are_settings_like_the_others() {
    let env = setup(&[]).await;
    let slug = env.user.slug.clone();
    let patch = |path: String, body: Value| {
        let env = &env;
        async move {
            env.api
                .call(Call::new("PATCH", &path).cookie(&env.user.cookie).json(&body))
                .await
        }
    };
    let org = format!("/api/orgs/{slug}/review-settings");
    let repo = format!("/api/orgs/{slug}/review-settings/{}", env.repo_id);
    let a = patch(org.clone(), json!({"minConfidence": 0.7, "contextTokens": 0})).await;
    assert_eq!(a.status, 200, "{:?}", a.json());
    assert_eq!(a.json()["settings"], json!({"minConfidence": 0.7, "contextTokens": 0}));
    let a = patch(repo.clone(), json!({"minConfidence": 0.25, "contextTokens": 8000})).await;
    assert_eq!(a.status, 200, "{:?}", a.json());
    let read = env.api.call(Call::get(&repo).cookie(&env.user.cookie)).await.json();
    assert_eq!(read["settings"]["minConfidence"], 0.25);
    assert_eq!(read["settings"]["contextTokens"], 8000);
    assert_eq!(read["orgDefault"]["minConfidence"], 0.7);
    for bad in [
        json!({"minConfidence": 1.5}),
        json!({"minConfidence": -0.1}),
        json!({"minConfidence": "high"}),
        json!({"contextTokens": 8001}),
        json!({"contextTokens": 1.5}),
    ] {
        let a = patch(org.clone(), bad.clone()).await;
        assert_eq!(a.status, 400, "{bad}");
        assert_eq!(a.json()["error"]["code"], "invalid_setting", "{bad}: {:?}", a.json());
    }
    let cleared = patch(org, json!({"minConfidence": null})).await;
    assert_eq!(cleared.json()["settings"], json!({"contextTokens": 0}));
}

/// GitLab and Azure DevOps render `<details>`; Bitbucket renders no HTML, so the same
/// lines come under a bold heading there.
#[tokio::test]
async fn every_provider_posts_the_walkthrough() {
    for provider in ["gitlab", "azure", "bitbucket"] {
        let env = setup_for(provider, &[]).await;
        let head = head_for(provider);
        env.serve_provider_pr(head, json!({})).await;
        env.standin.llm_answers(&[scored_answer()]).await;
        env.deliver_opened(head).await;
        assert_eq!(env.review().await, (1, 1, 0), "{provider}");
        let posts = env.provider_posts().await;
        let summary = posts.last().unwrap()["body"].to_string();
        let line = serde_json::to_string(WALKTHROUGH_LINE).unwrap();
        let line = line.trim_matches('"');
        assert!(summary.contains(line), "{provider}: {summary}");
        if provider == "bitbucket" {
            assert!(
                summary.contains("**Walkthrough**") && !summary.contains("<details>"),
                "{summary}"
            );
        } else {
            assert!(
                summary.contains("<details><summary>Walkthrough</summary>"),
                "{provider}: {summary}"
            );
        }
        assert_eq!(posts.len(), 2, "{provider}: one inline comment, the summary");
    }
}
