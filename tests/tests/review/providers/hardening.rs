//! Issue 29 on every provider: what is posted is inert, and downloads are bounded.

use super::*;

/// A file name that carries a mention, a code-span break and an HTML comment opener.
const EVIL_PATH: &str = "docs/x` @octocat `<!--.md";

/// Serves PR 2 on `provider` with `src/parse.rs` and `extra` files (the provider's shape).
async fn serve_files(env: &Env, head: &str, pr: Value, extra: Vec<Value>) {
    let mut files = vec![if env.provider == "azure" {
        json!({"filename": "src/parse.rs", "status": "modified", "old": parse_rs(false), "new": parse_rs(true)})
    } else {
        json!({"filename": "src/parse.rs", "status": "modified", "patch": PATCH})
    }];
    files.extend(extra);
    let mut over = json!({"head_sha": head, "base_sha": BASE, "title": "Checked parse"});
    for (k, v) in pr.as_object().unwrap() {
        over[k] = v.clone();
    }
    if env.provider == "github" {
        env.standin.pr(&env.repo, 2, over, Value::from(files)).await;
    } else {
        env.standin
            .pr_history(env.provider, &env.repo, 2, over, Value::from(files), json!({}))
            .await;
    }
}

async fn deliver_any(env: &Env, head: &str) {
    if env.provider == "github" {
        env.deliver("pull_request.opened.json", head).await;
    } else {
        env.deliver_opened(head).await;
    }
}

/// The text of everything posted, without our hidden markers.
async fn posted_text(env: &Env) -> String {
    let mut text: String = env
        .provider_posts()
        .await
        .iter()
        .map(|r| r["body"].to_string())
        .collect();
    while let Some(at) = text.find("<!-- agnus-review:") {
        let end = text[at..].find("-->").map_or(text.len(), |e| at + e + 3);
        text.replace_range(at..end, "");
    }
    text
}

#[tokio::test]
async fn posted_text_is_inert_on_every_provider() {
    for provider in ["github", "gitlab", "azure", "bitbucket"] {
        let env = setup_for(provider, &[]).await;
        let head = head_for(provider);
        let evil = if provider == "azure" {
            json!({"filename": EVIL_PATH, "status": "modified", "old": "a\n", "new": "b\n"})
        } else {
            json!({"filename": EVIL_PATH, "status": "modified", "patch": "@@ -1 +1 @@\n-a\n+b"})
        };
        serve_files(&env, head, json!({}), vec![evil]).await;
        env.standin
            .llm_answers(&[json!({
                "summary": "Risky. cc -@security-team .@octocat ![x](https://evil.example/b.png) \
                            <img src=\"https://evil.example/c.png\"> <!-- the rest is hidden",
                "comments": [
                    {"path": EVIL_PATH, "line": 400, "body": "Outside the diff, @octocat.", "severity": "major"},
                    {"path": "src/parse.rs", "line": 11, "severity": "major",
                     "body": "`Option<&str>` here; ask .@octocat <img src=x> [more](https://evil.example)"}
                ]
            })])
            .await;
        deliver_any(&env, head).await;
        assert_eq!(env.review().await, (1, 1, 0), "{provider}");
        assert_eq!(env.history().await[0]["status"], "posted", "{provider}");
        let text = posted_text(&env).await;
        for live in ["<!--", "<img", "![x](", "](https://", "@octocat", "@security-team"] {
            assert!(!text.contains(live), "{provider}: {live:?} posted live in {text}");
        }
        // The findings still read: the code as written, the names with a hidden break.
        assert!(text.contains("`Option<&str>`"), "{provider}: {text}");
        assert!(text.contains("@\u{200B}octocat"), "{provider}: {text}");
        assert!(
            text.contains("``docs/x` @\u{200B}octocat `<\u{200B}!--.md`` line 400"),
            "{provider}: {text}"
        );
    }
}

#[tokio::test]
async fn an_oversized_diff_is_reviewed_partially_and_named() {
    // Bitbucket streams one diff for the whole pull request: 3 MB of it for one file.
    let caps = [
        ("AGNUS_REVIEW_MAX_ANSWER_BYTES", "1000000"),
        ("AGNUS_REVIEW_MAX_JOB_BYTES", "2000000"),
    ];
    let env = setup_for("bitbucket", &caps).await;
    let head = head_for("bitbucket");
    let huge = format!(
        "@@ -0,0 +1,100000 @@\n{}",
        "+let filler = 0123456789;\n".repeat(120_000)
    );
    let extra = vec![json!({"filename": "src/huge.rs", "status": "added", "patch": huge})];
    serve_files(&env, head, json!({}), extra).await;
    env.standin.llm_answers(&[provider_answer()]).await;
    env.deliver_opened(head).await;
    assert_eq!(env.review().await, (1, 1, 0));
    assert_eq!(env.history().await[0]["status"], "posted");
    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    let prompt = llm[0]["body"]["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("    11 +let b = a.checked().unwrap();"), "{prompt}");
    assert!(
        prompt.contains("Not downloaded (over the download cap): src/huge.rs"),
        "{prompt}"
    );
    assert!(!prompt.contains("let filler"), "none of the oversized file is shown");
    let text = posted_text(&env).await;
    assert!(
        text.contains("**Not reviewed (over the download cap):** `src/huge.rs`"),
        "{text}"
    );

    // Azure DevOps: an ignored file's contents are never fetched; an answer that is not a
    // diff and is over the cap fails the job with a reason.
    let env = setup_for("azure", &[("AGNUS_REVIEW_MAX_ANSWER_BYTES", "20000")]).await;
    let lock = json!({"filename": "Cargo.lock", "status": "modified", "old": "a\n", "new": "b\n"});
    serve_files(&env, HEAD, json!({}), vec![lock]).await;
    env.standin.llm_answers(&[provider_answer()]).await;
    env.deliver_opened(HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    assert_eq!(env.history().await[0]["status"], "posted");
    let items = env.standin.requests_to("GET", "/items?").await;
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|r| !r["path"].as_str().unwrap().contains("Cargo.lock")),
        "{items:?}"
    );
    let env = setup_for("gitlab", &[("AGNUS_REVIEW_MAX_ANSWER_BYTES", "20000")]).await;
    serve_files(&env, HEAD, json!({"description": "x".repeat(50_000)}), vec![]).await;
    env.deliver_opened(HEAD).await;
    env.reviewed_as("failed", "provider_answer_too_large").await;
}
