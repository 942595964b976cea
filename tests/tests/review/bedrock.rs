//! Amazon Bedrock Converse as the LLM.

use super::*;

const BEDROCK_MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn bedrock() -> [(&'static str, &'static str); 2] {
    [("AGNUS_LLM_PROVIDER", "bedrock"), ("AGNUS_LLM_MODEL", BEDROCK_MODEL)]
}

#[tokio::test]
async fn bedrock_converse_gets_the_exact_request_and_its_tool_call_becomes_the_posted_review() {
    let env = setup(&bedrock()).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "title": "Checked parse"}))
        .await;
    env.standin.llm_answers(&[answer()]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
    let calls = env.standin.requests_to("POST", "/converse").await;
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["path"],
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    );
    // Signed with the function's AWS credentials for `bedrock` in the region; no API key.
    let auth = calls[0]["headers"]["authorization"].as_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=") && auth.contains("/us-east-1/bedrock/aws4_request"),
        "{auth}"
    );
    assert!(
        !calls[0].to_string().contains(LLM_KEY),
        "the OpenAI key is not sent to Bedrock"
    );
    let body = &calls[0]["body"];
    let user = body["messages"][0]["content"][0]["text"].as_str().unwrap();
    assert!(user.contains("    11 +let b = a.checked().unwrap();"), "{user}");
    assert!(
        !body.to_string().contains(TOKEN),
        "the repository token never reaches the prompt"
    );
    assert_eq!(
        body,
        &json!({
            "messages": [{"role": "user", "content": [{"text": user}]}],
            "system": [{"text": agnus_reviewer::prompt::SYSTEM_PROMPT}],
            "inferenceConfig": {"maxTokens": 4096, "temperature": 0},
            "toolConfig": {
                "tools": [{"toolSpec": {
                    "name": "code_review",
                    "description": "Record the review of the pull request: a summary and comments on new-side lines of the diff.",
                    // Bounded as the review asks: 25 comments (the system's cap), one
                    // walkthrough line per file shown, string lengths (Bedrock's tool
                    // schema takes them).
                    "inputSchema": {"json": agnus_reviewer::task::bounded_answer_schema(
                        &agnus_reviewer::task::Ask::full(25, 1),
                        true,
                    )}
                }}],
                "toolChoice": {"tool": {"name": "code_review"}}
            }
        })
    );

    // The tool call's input went through the same validation as an OpenAI answer.
    let job = &env.history().await[0];
    let job_id = job["id"].as_str().unwrap();
    let posted = env.posted().await;
    assert_eq!(posted.len(), 1, "exactly one review");
    assert_eq!(
        posted[0]["body"],
        json!({
            "commit_id": HEAD,
            "body": format!(
                "Adds a checked parse. Ping @\u{200B}octocat.\n\n**Notes on lines outside the diff:**\n\
                 - `src/parse.rs` line 400: **minor**: Unrelated line.\n\
                 - `src/other.rs`: **nit**: Not in this PR.\n\n\
                 <sub>AgnusAI review of ec26c3e · {BEDROCK_MODEL}</sub>\n<!-- agnus-review:{job_id} -->"
            ),
            "event": "COMMENT",
            "comments": [
                {"path": "src/parse.rs", "line": 11, "side": "RIGHT", "body": "**major**: `unwrap` still panics on bad input."}
            ]
        })
    );
    assert_eq!(job["status"], "posted");
    assert_eq!(job["model"], BEDROCK_MODEL);
    assert_eq!(
        (job["promptTokens"].as_u64(), job["completionTokens"].as_u64()),
        (Some(1200), Some(80))
    );
}

#[tokio::test]
async fn bedrock_throttling_then_success_posts_once() {
    let env = setup(&bedrock()).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin
        .fail_with(
            "POST",
            "/converse",
            429,
            json!({"x-amzn-ErrorType": "ThrottlingException"}),
            json!({"message": "Too many requests, please wait before trying again."}),
            1,
        )
        .await;
    env.standin.llm_answers(&[answer()]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    assert_eq!(env.standin.requests_to("POST", "/converse").await.len(), 2, "one retry");
    assert_eq!(env.posted().await.len(), 1, "posted once");
    let job = &env.history().await[0];
    assert_eq!(job["status"], "posted");
    assert_eq!(job["commentCount"], 1);
    assert_eq!(job["promptTokens"], 1200, "the throttled call billed nothing");
}

#[tokio::test]
async fn bedrock_prose_twice_fails_the_job_visibly() {
    let env = setup(&bedrock()).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin
        .llm_answers(&[json!("I think it is fine"), json!("Still fine")])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    env.reviewed_as("failed", "llm_invalid_answer").await;
    assert_eq!(env.standin.requests_to("POST", "/converse").await.len(), 2);
    assert!(env.posted().await.is_empty());
}
