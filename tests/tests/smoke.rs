//! Smoke test through the local HTTP entry that `make dev` serves (`agnus gateway` in front
//! of cargo lambda watch), run by scripts/smoke.sh, which starts and stops its own `make dev`.

use serde_json::{Value, json};

fn api() -> String {
    std::env::var("AGNUS_API_URL").expect("AGNUS_API_URL: run through scripts/smoke.sh (make test)")
}

fn session_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("agnus_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned()
}

#[tokio::test]
#[ignore = "needs `make dev`; run by scripts/smoke.sh"]
async fn signup_me_logout_through_the_local_gateway() {
    let http = reqwest::Client::new();
    let base = api();
    let email = format!("smoke-{}@example.com", uuid::Uuid::new_v4().simple());
    let r = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({"email": email, "password": "correct horse battery", "orgName": "Smoke Test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Max-Age="] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    let cookie = session_cookie(&r);
    let body: Value = r.json().await.unwrap();
    let slug = body["org"]["slug"].as_str().unwrap().to_owned();

    let me = http
        .get(format!("{base}/api/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["orgs"][0]["slug"], slug);
    assert_eq!(me["orgs"][0]["role"], "owner");

    let out = http
        .post(format!("{base}/api/auth/logout"))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let me = http
        .get(format!("{base}/api/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    let err: Value = me.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unauthenticated");
}

#[tokio::test]
#[ignore = "needs `make dev`; run by scripts/smoke.sh"]
async fn bad_requests_through_the_gateway_are_json_errors() {
    let http = reqwest::Client::new();
    let base = api();
    let r = http
        .post(format!("{base}/api/auth/signup"))
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "invalid_json");
    let r = http
        .post(format!("{base}/api/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a&password=b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// Hardening #5: the port browsers use serves only the API and console routes. A page can
/// send a `text/plain` POST anywhere; the Lambda Invoke API must not be reachable there.
#[tokio::test]
#[ignore = "needs `make dev`; run by scripts/smoke.sh"]
async fn the_lambda_invoke_api_is_not_on_the_public_port() {
    let http = reqwest::Client::new();
    let base = api();
    for function in ["worker", "reviewer", "purge", "intake", "auth"] {
        let r = http
            .post(format!("{base}/2015-03-31/functions/{function}/invocations"))
            .header("content-type", "text/plain")
            .body(r#"{"Records":[{"messageId":"forged","body":"{}"}]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{function}");
        let err: Value = r.json().await.unwrap();
        assert_eq!(err["error"]["code"], "not_found");
    }
}

/// Hardening #23: wrong methods get API Gateway's kind of answer (JSON, 405, `Allow`), and a
/// body that is not UTF-8 reaches the function base64-encoded (a JSON 4xx, never a 500).
#[tokio::test]
#[ignore = "needs `make dev`; run by scripts/smoke.sh"]
async fn wrong_methods_and_binary_bodies_get_json_answers() {
    let http = reqwest::Client::new();
    let base = api();
    let r = http.put(format!("{base}/api/orgs/acme/members")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST");
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "method_not_allowed");
    // `/api/orgs/me` is its own path (no org is called `me`): GET only, never the {slug} routes.
    let r = http.delete(format!("{base}/api/orgs/me")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET");
    let r = http
        .post(format!("{base}/api/webhooks/github/no-such-org"))
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .body(vec![0xff_u8, 0xfe, b'{', b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unauthorized");
    let r = http
        .post(format!("{base}/api/auth/login"))
        .header("content-type", "application/json")
        .body(vec![0xff_u8, 0xfe])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"]["code"].is_string());
}

#[tokio::test]
#[ignore = "needs `make dev`; run by scripts/smoke.sh"]
async fn a_signed_webhook_through_the_gateway_is_accepted() {
    use hmac::{Hmac, KeyInit, Mac};
    let http = reqwest::Client::new();
    let base = api();
    let email = format!("hook-{}@example.com", uuid::Uuid::new_v4().simple());
    let r = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({"email": email, "password": "correct horse battery", "orgName": "Hook Smoke"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let github = body["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["provider"] == "github")
        .unwrap()
        .clone();
    let url = github["url"].as_str().unwrap();
    assert!(url.starts_with(&base), "absolute URL under the local gateway: {url}");
    // A repository nobody connected: accepted here, then skipped by the worker.
    let payload = br#"{"action":"opened","number":1,"repository":{"full_name":"smoke/not-connected"},"pull_request":{"number":1}}"#;
    let mut mac =
        <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(github["secret"].as_str().unwrap().as_bytes()).unwrap();
    mac.update(payload);
    let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let send = |sig: String| {
        http.post(url)
            .header("content-type", "application/json")
            .header("x-github-event", "pull_request")
            .header("x-github-delivery", "smoke-delivery-1")
            .header("x-hub-signature-256", sig)
            .body(payload.to_vec())
            .send()
    };
    assert_eq!(send(sig.clone()).await.unwrap().status(), 202);
    assert_eq!(send(format!("sha256={}", "0".repeat(64))).await.unwrap().status(), 401);
}

/// What a pull request sent through the whole local pipeline came to.
struct Reviewed {
    /// The job in the review history, finished.
    job: Value,
    /// Every request the provider + LLM stand-in received.
    requests: Vec<Value>,
    repo_name: String,
    head_sha: String,
}

/// Signs up, connects a repository served by the GitHub stand-in (its index made ready),
/// curls a signed `pull_request` webhook for a change to `helper` (called from another
/// file) and waits up to `wait` for the job to finish.
async fn review_a_pull_request(wait: std::time::Duration) -> Reviewed {
    use hmac::{Hmac, KeyInit, Mac};
    let http = reqwest::Client::new();
    let base = api();
    let email = format!("pipe-{}@example.com", uuid::Uuid::new_v4().simple());
    let signup = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({"email": email, "password": "correct horse battery", "orgName": "Pipeline Smoke"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let cookie = session_cookie(&signup);
    let body: Value = signup.json().await.unwrap();
    let github = body["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["provider"] == "github")
        .unwrap()
        .clone();
    let repo_name = format!("codertocat/smoke-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    // The GitHub stand-in lets the token write to the repository: connecting checks that.
    let standin = std::env::var("AGNUS_STANDIN_URL").expect("AGNUS_STANDIN_URL (set by scripts/smoke.sh)");
    let granted = http
        .post(format!("{standin}/_control/access"))
        .json(&json!({"repo": repo_name, "token": "ghp_smoketoken0123456789", "permission": "write"}))
        .send()
        .await
        .unwrap();
    assert!(granted.status().is_success());
    // Its default branch, served by the stand-in's source APIs (the indexer reads it).
    let source = |files: Value| {
        let http = http.clone();
        let (standin, repo_name) = (standin.clone(), repo_name.clone());
        async move {
            let sourced = http
                .post(format!("{standin}/_control/source"))
                .json(&json!({"repo": repo_name, "files": files}))
                .send()
                .await
                .unwrap();
            assert!(sourced.status().is_success());
            sourced.json::<Value>().await.unwrap()["sha"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let base_sha = source(json!({
        "src/lib.rs": "pub fn a() -> u32 {\n    b()\n}\n\nfn b() -> u32 {\n    1\n}\n",
        "tools/helpers.py": "def helper():\n    return 1\n",
        "tools/gen.py": "from tools.helpers import helper\n\n\ndef main():\n    return helper()\n",
    }))
    .await;
    let repo: Value = http
        .post(format!("{base}/api/repos"))
        .header("cookie", &cookie)
        .json(&json!({"provider": "github", "fullName": repo_name, "token": "ghp_smoketoken0123456789"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let repo_id = repo["repo"]["id"].as_str().expect("repo connected").to_owned();

    // Connecting queued a full index: the indexer (fed by its own event-source mapping)
    // makes it ready.
    let mut index = Value::Null;
    for _ in 0..240 {
        index = http
            .get(format!("{base}/api/repos/{repo_id}/index/status"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["index"]
            .clone();
        if ["ready", "failed"].contains(&index["status"].as_str().unwrap_or_default()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(index["status"], "ready", "{index}");
    assert_eq!(index["stats"]["languages"], json!({"python": 2, "rust": 1}), "{index}");
    assert!(index["stats"]["symbols"].as_u64().unwrap() >= 4, "{index}");

    let fixture =
        std::fs::read_to_string(agnus_tests::repo_root().join("tests/fixtures/github/pull_request.opened.json"))
            .unwrap();
    let mut payload: Value = serde_json::from_str(&fixture).unwrap();
    payload["repository"]["full_name"] = Value::from(repo_name.as_str());
    // The pull request changes `helper`, which tools/gen.py calls (its head commit's files
    // are served too: the review parses them).
    let head_sha = source(json!({"tools/helpers.py": "def helper():\n    return 2\n"})).await;
    payload["pull_request"]["head"]["sha"] = Value::from(head_sha.as_str());
    let payload = serde_json::to_vec(&payload).unwrap();
    // scripts/smoke.sh runs the GitHub/LLM stand-in and points `make dev` at it.
    let served = http
        .post(format!("{standin}/_control/pr"))
        .json(&json!({
            "repo": repo_name, "number": 2,
            "pr": {"head_sha": head_sha, "base_sha": base_sha},
            "files": [{"filename": "tools/helpers.py", "status": "modified",
                       "patch": "@@ -1,2 +1,2 @@\n def helper():\n-    return 1\n+    return 2"}]
        }))
        .send()
        .await
        .unwrap();
    assert!(served.status().is_success());
    let mut mac =
        <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(github["secret"].as_str().unwrap().as_bytes()).unwrap();
    mac.update(&payload);
    let delivered = http
        .post(github["url"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
        .header(
            "x-hub-signature-256",
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        )
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), 202);

    // The event-source mappings feed the worker, then the reviewer.
    let started = std::time::Instant::now();
    while started.elapsed() < wait {
        let reviews: Value = http
            .get(format!("{base}/api/repos/{repo_id}/reviews"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(job) = reviews["reviews"].as_array().and_then(|r| r.first())
            && ["posted", "skipped", "failed"].contains(&job["status"].as_str().unwrap_or_default())
        {
            assert_eq!(reviews["reviews"].as_array().unwrap().len(), 1);
            let requests: Vec<Value> = http
                .get(format!("{standin}/_requests"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            return Reviewed {
                job: job.clone(),
                requests,
                repo_name,
                head_sha,
            };
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("no review finished within {wait:?}");
}

/// The review posted on that pull request (the stand-in's record of it).
fn posted_review(r: &Reviewed) -> &Value {
    let posted: Vec<&Value> = r
        .requests
        .iter()
        .filter(|q| q["method"] == "POST" && q["path"] == format!("/repos/{}/pulls/2/reviews", r.repo_name).as_str())
        .collect();
    assert_eq!(posted.len(), 1, "one review posted");
    assert_eq!(posted[0]["body"]["commit_id"], r.head_sha.as_str());
    assert_eq!(posted[0]["body"]["event"], "COMMENT");
    let body = posted[0]["body"]["body"].as_str().unwrap();
    assert!(body.contains(&format!("<!-- agnus-review:{} -->", r.job["id"].as_str().unwrap())));
    posted[0]
}

#[tokio::test]
#[ignore = "needs `make dev`; run by scripts/smoke.sh"]
async fn a_curled_webhook_becomes_a_review_posted_to_the_github_standin() {
    let r = review_a_pull_request(std::time::Duration::from_secs(120)).await;
    let job = &r.job;
    assert_eq!(job["status"], "posted", "{job}");
    assert_eq!(job["prNumber"], 2);
    assert_eq!(job["headSha"], r.head_sha.as_str());
    let body = posted_review(&r)["body"]["body"].as_str().unwrap();
    // Graph context: the caller in the other file reached the model, and the engine's
    // impact line names it.
    assert!(
        body.starts_with("**Impact**")
            && body.contains("- `helper` (`tools/helpers.py`) — 1 caller in `tools/gen.py` (`main`)"),
        "{body}"
    );
    let prompt = r
        .requests
        .iter()
        .rfind(|q| q["method"] == "POST" && q["path"].as_str().is_some_and(|p| p.ends_with("/chat/completions")))
        .map(|q| {
            q["body"]["messages"][1]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_default();
    assert!(
        prompt.contains("- tools/gen.py:4 tools.gen.main — calls tools.helpers.helper"),
        "{prompt}"
    );
    assert_eq!(job["context"]["mode"], "graph", "{job}");
}

/// Issue 33: the same pull request reviewed by a real model — llama.cpp's `llama-server`
/// with SmolLM2-135M-Instruct (scripts/llm-local.sh) — instead of the LLM stand-in: the job
/// ends `posted` (every request the engine sent was accepted: a refused one fails the job),
/// and the tokens and time go to `AGNUS_LLM_REPORT` (a JSON line for BENCHMARKS.md).
#[tokio::test]
#[ignore = "needs `make dev` with a real model; run by scripts/llm-test.sh (make test-llm)"]
async fn a_real_local_model_reviews_a_pull_request() {
    let model = std::env::var("AGNUS_LLM_MODEL").expect("AGNUS_LLM_MODEL (set by scripts/llm-test.sh)");
    let r = review_a_pull_request(std::time::Duration::from_secs(600)).await;
    let job = &r.job;
    assert_eq!(job["status"], "posted", "{job}");
    assert_eq!(job["model"], model.as_str());
    posted_review(&r);
    assert!(
        !r.requests
            .iter()
            .any(|q| q["path"].as_str().is_some_and(|p| p.ends_with("/chat/completions"))),
        "the model answered, not the stand-in"
    );
    assert!(job["completionTokens"].as_u64().unwrap_or(0) > 0, "{job}");
    let report = json!({
        "kind": "real_llm", "model": model, "status": job["status"],
        "promptTokens": job["promptTokens"], "completionTokens": job["completionTokens"],
        "durationMs": job["durationMs"], "comments": job["commentCount"],
        "llmAnswer": job["llmAnswer"],
    });
    let out = std::env::var("AGNUS_LLM_REPORT").expect("AGNUS_LLM_REPORT (set by scripts/llm-test.sh)");
    std::fs::write(out, format!("{report}\n")).unwrap();
}
