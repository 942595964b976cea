//! Answers from small models (docs/review-engine.md, "Small models"): the request bounds the
//! answer (schema `maxItems` / `maxLength`, `max_tokens` sized to them), an answer cut at
//! `max_tokens` keeps its complete comments, and an unusable one is never asked again as it
//! was: the second request asks for less. The job history says what happened.

use super::*;

const GOOD: &str = r#"{"summary":"Adds a checked parse.","walkthrough":[{"path":"src/parse.rs","text":"checks the parse"}],"comments":[{"path":"src/parse.rs","line":11,"body":"`unwrap` still panics.","severity":"major","ruleId":null,"confidence":0.9},{"path":"src/parse.rs","line":12,"body":"Overflow on `b + 1`.","severity":"minor","ruleId":null,"confidence":0.8}]}"#;

#[tokio::test]
async fn the_request_bounds_the_answer_and_a_cut_answer_keeps_its_complete_comments() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    // Cut at max_tokens in the middle of the second comment.
    let cut = &GOOD[..GOOD.find("Overflow").unwrap()];
    env.standin.llm_answers_ending(&[(cut, "length")]).await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    assert_eq!(llm.len(), 1, "a salvaged answer is not asked again");
    let request = &llm[0]["body"];
    let schema = &request["response_format"]["json_schema"]["schema"]["properties"];
    assert_eq!(schema["comments"]["maxItems"], 25, "the system's comment cap");
    assert_eq!(schema["walkthrough"]["maxItems"], 1, "one line per file shown");
    // A local OpenAI-compatible server (not api.openai.com): string lengths too.
    assert_eq!(schema["comments"]["items"]["properties"]["body"]["maxLength"], 800);
    assert_eq!(request["max_tokens"], 4096);

    let posted = env.posted().await;
    assert_eq!(posted.len(), 1);
    let comments = posted[0]["body"]["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0]["body"].as_str().unwrap().contains("still panics"));
    let job = &env.history().await[0];
    assert_eq!(job["status"], "posted");
    assert_eq!(
        job["llmAnswer"],
        json!({"truncated": true, "salvaged": 1, "retriedSmaller": false})
    );
}

#[tokio::test]
async fn an_unusable_answer_is_asked_again_smaller_never_the_same() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    // A model looping inside its summary until max_tokens: nothing complete to keep.
    let looping = format!(r#"{{"summary":"{}"#, "The change. ".repeat(300));
    env.standin
        .llm_answers_ending(&[(looping.as_str(), "length"), (GOOD, "stop")])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));

    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    assert_eq!(llm.len(), 2);
    let (first, second) = (&llm[0]["body"], &llm[1]["body"]);
    assert_ne!(first, second, "never the same request twice");
    let items = |r: &Value| r["response_format"]["json_schema"]["schema"]["properties"]["comments"]["maxItems"].clone();
    assert_eq!((items(first), items(second)), (json!(25), json!(5)));
    assert!(second["max_tokens"].as_u64() < first["max_tokens"].as_u64(), "{second}");
    let body = |r: &Value| {
        r["response_format"]["json_schema"]["schema"]["properties"]["comments"]["items"]["properties"]["body"]["maxLength"]
            .clone()
    };
    assert_eq!((body(first), body(second)), (json!(800), json!(300)));
    assert_eq!(first["messages"], second["messages"], "the same prompt");

    assert_eq!(env.posted().await[0]["body"]["comments"].as_array().unwrap().len(), 2);
    let job = &env.history().await[0];
    assert_eq!(job["llmAnswer"], json!({"truncated": true, "retriedSmaller": true}));
}

#[tokio::test]
async fn two_unusable_answers_fail_the_job_and_say_how() {
    let env = setup(&[]).await;
    env.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE})).await;
    env.standin
        .llm_answers_ending(&[(r#"{"summary":"cut"#, "length"), ("not json at all", "stop")])
        .await;
    env.deliver("pull_request.opened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let job = &env.history().await[0];
    assert_eq!(
        (job["status"].as_str(), job["reason"].as_str()),
        (Some("failed"), Some("llm_invalid_answer"))
    );
    assert_eq!(job["llmAnswer"], json!({"truncated": true, "retriedSmaller": true}));
    assert!(env.posted().await.is_empty());
}
