//! GitLab, Azure DevOps, Bitbucket Cloud: the exact review posted once, incremental and full
//! reviews, redeliveries, refusals, skips, interrupted posts and the metrics.

use super::*;

mod hardening;
mod statuses;

const PROVIDERS: [&str; 3] = ["gitlab", "azure", "bitbucket"];

/// Bitbucket reports 12-character hashes, in webhooks and in its API.
pub(super) fn head_for(provider: &str) -> &'static str {
    if provider == "bitbucket" { &HEAD[..12] } else { HEAD }
}

/// `src/parse.rs` before and after (Azure DevOps serves contents; the reviewer diffs them
/// into the same hunk as [`PATCH`]'s lines 10-13).
fn parse_rs(new: bool) -> String {
    let mut lines: Vec<String> = (1..=9).map(|n| format!("// line {n}")).collect();
    lines.push("let a = 1;".into());
    if new {
        lines.extend(["let b = a.checked().unwrap();".into(), "let c = b + 1;".into()]);
    } else {
        lines.push("let b = a.unwrap();".into());
    }
    lines.push("return c;".into());
    lines.join("\n") + "\n"
}

fn provider_answer() -> Value {
    json!({
        "summary": "Adds a checked parse.",
        "comments": [
            {"path": "src/parse.rs", "line": 11, "body": "`unwrap` still panics on bad input.", "severity": "major"},
            {"path": "src/parse.rs", "line": 10, "body": "Name `a` better.", "severity": "minor"},
            {"path": "src/parse.rs", "line": 400, "body": "Unrelated line.", "severity": "minor"}
        ]
    })
}

impl Env {
    /// Serves PR 2 (head `head`) in the provider's shapes: `src/parse.rs` changed, a lock file.
    pub(super) async fn serve_provider_pr(&self, head: &str, overrides: Value) {
        self.serve_provider_history(head, overrides, json!({})).await;
    }

    /// [`Env::serve_provider_pr`] with the PR's history (`since`, `rewritten`).
    async fn serve_provider_history(&self, head: &str, overrides: Value, history: Value) {
        self.serve_provider_files(head, overrides, &[], history).await;
    }

    /// [`Env::serve_provider_history`] with more files in the pull request's own diff.
    async fn serve_provider_files(&self, head: &str, overrides: Value, more: &[Value], history: Value) {
        let mut pr = json!({"head_sha": head, "base_sha": BASE, "title": "Checked parse"});
        for (k, v) in overrides.as_object().unwrap() {
            pr[k] = v.clone();
        }
        let mut files = if self.provider == "azure" {
            json!([{"filename": "src/parse.rs", "status": "modified", "old": parse_rs(false), "new": parse_rs(true)},
                   {"filename": "Cargo.lock", "status": "modified", "old": "a\n", "new": "b\n"}])
        } else {
            json!([{"filename": "src/parse.rs", "status": "modified", "patch": PATCH},
                   {"filename": "Cargo.lock", "status": "modified", "patch": "@@ -1 +1 @@\n-a\n+b"}])
        };
        files.as_array_mut().unwrap().extend(more.iter().cloned());
        self.standin
            .pr_history(self.provider, &self.repo, 2, pr, files, history)
            .await;
    }

    /// A signed "pull request opened" delivery of the provider's published example, made
    /// to point at our repository, PR 2 and `head`; the worker turns it into a job.
    pub(super) async fn deliver_opened(&self, head: &str) {
        self.deliver_pr_event(head, false).await;
    }

    /// The same for a push to the pull request (a `synchronize` job): GitLab's `update`
    /// with `oldrev`, Azure DevOps' `git.pullrequest.updated`, Bitbucket's `pullrequest:updated`.
    async fn deliver_pushed(&self, head: &str) {
        self.deliver_pr_event(head, true).await;
    }

    async fn deliver_pr_event(&self, head: &str, pushed: bool) {
        let secret = &self.user.secrets[self.provider];
        let delivery = uuid::Uuid::new_v4().to_string();
        let sign = |body: &[u8]| {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        };
        let call = Call::post(&format!("/api/webhooks/{}/{}", self.provider, self.user.slug))
            .header("content-type", "application/json");
        let call = match self.provider {
            "gitlab" => {
                let mut v = fixture("gitlab/merge_request.open.json");
                v["project"]["path_with_namespace"] = json!(self.repo);
                v["object_attributes"]["iid"] = json!(2);
                v["object_attributes"]["last_commit"]["id"] = json!(head);
                if pushed {
                    v["object_attributes"]["action"] = json!("update");
                    v["object_attributes"]["oldrev"] = json!(BASE);
                }
                call.header("x-gitlab-event", "Merge Request Hook")
                    .header("idempotency-key", &delivery)
                    .header("x-gitlab-token", secret)
                    .raw_body(serde_json::to_vec(&v).unwrap())
            }
            "azure" => {
                let mut v = fixture(if pushed {
                    "azure/git.pullrequest.updated.json"
                } else {
                    "azure/git.pullrequest.created.json"
                });
                let mut parts = self.repo.splitn(3, '/');
                let (org, project, name) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
                v["notificationId"] = json!(rand_u32());
                v["id"] = json!(delivery);
                v["resource"]["repository"]["remoteUrl"] =
                    json!(format!("https://dev.azure.com/{org}/{project}/_git/{name}"));
                v["resource"]["pullRequestId"] = json!(2);
                v["resource"]["lastMergeSourceCommit"]["commitId"] = json!(head);
                // The documented "updated" example completes the PR; a push is the same
                // event on an active one.
                v["resource"]["status"] = json!("active");
                call.header(
                    "authorization",
                    &format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("agnus:{secret}"))
                    ),
                )
                .raw_body(serde_json::to_vec(&v).unwrap())
            }
            "bitbucket" => {
                let mut v = fixture("bitbucket/pullrequest.created.json");
                v["repository"]["full_name"] = json!(self.repo);
                v["pullrequest"]["id"] = json!(2);
                v["pullrequest"]["source"]["commit"]["hash"] = json!(head);
                let body = serde_json::to_vec(&v).unwrap();
                call.header(
                    "x-event-key",
                    if pushed {
                        "pullrequest:updated"
                    } else {
                        "pullrequest:created"
                    },
                )
                .header("x-request-uuid", &delivery)
                .header("x-hub-signature", &sign(&body))
                .raw_body(body)
            }
            other => panic!("no delivery for {other}"),
        };
        let a = self.api.call(call).await;
        assert_eq!(a.status, 202, "{}: {:?}", self.provider, a.json());
        let report = self
            .hooks
            .poll_once(&InProcessWorker(self.api.worker.clone()))
            .await
            .unwrap();
        assert_eq!((report.received, report.failed), (1, 0), "{}", self.provider);
    }

    /// Every write the reviewer made to the provider stand-in (POSTs; the LLM and the
    /// review's status, tested in `statuses`, excluded).
    pub(super) async fn provider_posts(&self) -> Vec<Value> {
        self.standin
            .requests()
            .await
            .into_iter()
            .filter(|r| {
                let path = r["path"].as_str().unwrap();
                r["method"] == "POST" && !path.contains("/chat/completions") && !path.contains("/statuses")
            })
            .collect()
    }
}

fn rand_u32() -> u32 {
    u32::from_str_radix(&uuid::Uuid::new_v4().simple().to_string()[..7], 16).unwrap()
}

/// The exact requests each provider must receive for [`provider_answer`]: (path, body).
fn expected_posts(env: &Env, job_id: &str) -> Vec<(String, Value)> {
    let summary = format!(
        "Adds a checked parse.\n\n**Notes on lines outside the diff:**\n\
         - `src/parse.rs` line 400: **minor**: Unrelated line.\n\n\
         <sub>AgnusAI review of ec26c3e · {MODEL}</sub>\n<!-- agnus-review:{job_id} -->"
    );
    let inline = [
        (
            11,
            None,
            format!("**major**: `unwrap` still panics on bad input.\n\n<!-- agnus-review:{job_id}:0 -->"),
        ),
        (
            10,
            Some(10),
            format!("**minor**: Name `a` better.\n\n<!-- agnus-review:{job_id}:1 -->"),
        ),
    ];
    let repo = &env.repo;
    match env.provider {
        "gitlab" => {
            let mr = format!("/api/v4/projects/{}/merge_requests/2", repo.replace('/', "%2F"));
            let mut posts: Vec<(String, Value)> = inline
                .iter()
                .map(|(line, old, body)| {
                    let mut position = json!({"position_type": "text", "base_sha": BASE, "start_sha": BASE,
                        "head_sha": HEAD, "old_path": "src/parse.rs", "new_path": "src/parse.rs", "new_line": line});
                    if let Some(old) = old {
                        position["old_line"] = json!(old);
                    }
                    (format!("{mr}/discussions"), json!({"body": body, "position": position}))
                })
                .collect();
            posts.push((format!("{mr}/notes"), json!({"body": summary})));
            posts
        }
        "azure" => {
            let (project, name) = repo.rsplit_once('/').unwrap();
            let threads = format!("/{project}/_apis/git/repositories/{name}/pullRequests/2/threads?api-version=7.1");
            let comment = |body: &str| json!([{"parentCommentId": 0, "content": body, "commentType": 1}]);
            let mut posts: Vec<(String, Value)> = inline
                .iter()
                .map(|(line, _, body)| {
                    (
                        threads.clone(),
                        json!({"comments": comment(body), "status": 1, "threadContext": {
                        "filePath": "/src/parse.rs",
                        "rightFileStart": {"line": line, "offset": 1},
                        "rightFileEnd": {"line": line, "offset": 1}}}),
                    )
                })
                .collect();
            posts.push((threads, json!({"comments": comment(&summary), "status": 1})));
            posts
        }
        "bitbucket" => {
            let comments = format!("/2.0/repositories/{repo}/pullrequests/2/comments");
            let mut posts: Vec<(String, Value)> = inline
                .iter()
                .map(|(line, _, body)| {
                    (
                        comments.clone(),
                        json!({"content": {"raw": body}, "inline": {"path": "src/parse.rs", "to": line}}),
                    )
                })
                .collect();
            posts.push((comments, json!({"content": {"raw": summary}})));
            posts
        }
        other => panic!("{other}"),
    }
}

/// A connected repository of `provider` whose PR 2 was opened (served, the LLM's
/// answer queued, the delivery made into a job).
async fn opened_pr(provider: &'static str) -> Env {
    let env = setup_for(provider, &[]).await;
    let head = head_for(provider);
    env.serve_provider_pr(head, json!({})).await;
    env.standin.llm_answers(&[provider_answer()]).await;
    env.deliver_opened(head).await;
    env
}

#[tokio::test]
async fn gitlab_azure_and_bitbucket_get_the_exact_review_posted_once() {
    for provider in PROVIDERS {
        let env = opened_pr(provider).await;
        assert_eq!(env.review().await, (1, 1, 0), "{provider}");

        let job = &env.history().await[0];
        assert_eq!(job["status"], "posted", "{provider}: {job}");
        assert_eq!(job["commentCount"], 2, "{provider}");
        let job_id = job["id"].as_str().unwrap();
        let got: Vec<(String, Value)> = env
            .provider_posts()
            .await
            .into_iter()
            .map(|r| (r["path"].as_str().unwrap().to_owned(), r["body"].clone()))
            .collect();
        assert_eq!(got, expected_posts(&env, job_id), "{provider}");

        // The token is the provider credential only, in that provider's scheme.
        let reads = env.standin.requests().await;
        let expected_auth = match provider {
            "azure" => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(":{TOKEN}"))
            ),
            _ => format!("Bearer {TOKEN}"),
        };
        for r in reads
            .iter()
            .filter(|r| !r["path"].as_str().unwrap().contains("/chat/completions"))
        {
            assert_eq!(
                r["headers"]["authorization"],
                expected_auth.as_str(),
                "{provider}: {}",
                r["path"]
            );
        }
        let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
        assert_eq!(llm.len(), 1);
        let prompt = llm[0]["body"]["messages"][1]["content"].as_str().unwrap();
        assert!(
            prompt.contains("    11 +let b = a.checked().unwrap();"),
            "{provider}: {prompt}"
        );
        assert!(prompt.contains("Cargo.lock"), "the lock file is named, not shown");
        assert!(!llm[0]["body"].to_string().contains(TOKEN));
        let url = job["reviewUrl"].as_str().unwrap_or_default();
        assert!(!url.is_empty(), "{provider}: a link to the posted summary");
    }
}

/// Bitbucket reports 12-character hashes, in webhooks and in its API.
fn newer_for(provider: &str) -> &'static str {
    if provider == "bitbucket" { &NEWER[..12] } else { NEWER }
}

/// `src/new.rs`, added by a later push, in the provider's shape.
fn new_rs(provider: &str) -> Value {
    if provider == "azure" {
        json!({"filename": "src/new.rs", "status": "added", "new": "fn main() {}\nfn added_later() {}\n"})
    } else {
        json!({"filename": "src/new.rs", "status": "added", "patch": "@@ -0,0 +1,2 @@\n+fn main() {}\n+fn added_later() {}"})
    }
}

/// The GETs a provider's incremental review makes: the ancestry check (Azure DevOps: none
/// of its own, the iteration list the PR read fetches anyway) and the changes since.
fn incremental_requests(env: &Env, head: &str, since: &str) -> (Option<String>, String) {
    match env.provider {
        "gitlab" => (
            Some(format!("/repository/merge_base?refs%5B%5D={since}&refs%5B%5D={head}")),
            format!("/repository/compare?from={since}&to={head}&straight=false"),
        ),
        "azure" => (None, "$compareTo=".into()),
        "bitbucket" => (
            Some(format!("/merge-base/{head}..{since}")),
            format!("/diff/{head}..{since}?topic=true"),
        ),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_new_push_is_reviewed_incrementally_on_gitlab_azure_and_bitbucket() {
    for provider in PROVIDERS {
        let env = opened_pr(provider).await;
        assert_eq!(env.review().await, (1, 1, 0), "{provider}");
        let (head, newer) = (head_for(provider), newer_for(provider));
        // The pull request's own diff has src/new.rs; so does what changed since the last
        // review, with src/base.rs merged in from the base (not in the PR's diff).
        let from_base = if provider == "azure" {
            json!({"filename": "src/base.rs", "status": "added", "new": "fn base() {}\nfn merged() {}\n"})
        } else {
            json!({"filename": "src/base.rs", "status": "added", "patch": "@@ -0,0 +1,2 @@\n+fn base() {}\n+fn merged() {}"})
        };
        env.serve_provider_files(
            newer,
            json!({}),
            &[new_rs(provider)],
            json!({"since": {"from": head, "files": [new_rs(provider), from_base]}}),
        )
        .await;
        env.standin
            .llm_answers(&[json!({"summary": "Small follow-up.", "comments": [
                {"path": "src/new.rs", "line": 2, "body": "Needs a test.", "severity": "minor"},
                {"path": "src/base.rs", "line": 2, "body": "From the base.", "severity": "minor"}]})])
            .await;
        env.deliver_pushed(newer).await;
        assert_eq!(env.review().await, (1, 1, 0), "{provider}");

        let (ancestry, changes) = incremental_requests(&env, newer, head);
        if let Some(ancestry) = ancestry {
            assert_eq!(
                env.standin.requests_to("GET", &ancestry).await.len(),
                1,
                "{provider}: {ancestry}"
            );
        }
        let changes = if provider == "azure" {
            "/iterations/2/changes?$compareTo=1&".to_owned()
        } else {
            changes
        };
        assert_eq!(
            env.standin.requests_to("GET", &changes).await.len(),
            1,
            "{provider}: {changes}"
        );
        let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
        let prompt = llm[1]["body"]["messages"][1]["content"].as_str().unwrap();
        assert!(
            prompt.contains("incremental review") && prompt.contains("     2 +fn added_later() {}"),
            "{provider}: {prompt}"
        );
        assert!(
            !prompt.contains("src/parse.rs"),
            "{provider}: only what changed since the last review"
        );
        let job = &env.history().await[0];
        assert_eq!(
            (
                job["action"].as_str(),
                job["status"].as_str(),
                job["diffBaseSha"].as_str()
            ),
            (Some("synchronize"), Some("posted"), Some(head)),
            "{provider}: {job}"
        );
        let posts = env.provider_posts().await;
        assert_eq!(
            posts.len(),
            3 + 2,
            "{provider}: the first review, then one inline + summary"
        );
        assert!(posts[3]["body"].to_string().contains("Needs a test."), "{provider}");
        assert!(posts[3]["body"].to_string().contains("src/new.rs"), "{provider}");
        assert!(
            posts[4]["body"].to_string().contains("From the base."),
            "{provider}: a line outside the PR's own diff is folded into the summary"
        );
    }
}

#[tokio::test]
async fn a_force_push_or_no_checkpoint_gives_a_full_review_on_gitlab_azure_and_bitbucket() {
    const GONE: &str = "9999999999999999999999999999999999999999";
    for provider in PROVIDERS {
        let env = setup_for(provider, &[]).await;
        let (head, newer) = (head_for(provider), newer_for(provider));
        let reviewed_in_full = |n: usize| {
            let env = &env;
            async move {
                assert_eq!(env.review().await, (1, 1, 0), "{provider}");
                let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
                let prompt = llm[n]["body"]["messages"][1]["content"].as_str().unwrap().to_owned();
                assert!(
                    prompt.contains("    11 +let b = a.checked().unwrap();") && !prompt.contains("incremental review"),
                    "{provider}: the whole pull request: {prompt}"
                );
                let job = env.history().await[0].clone();
                assert_eq!(
                    (job["action"].as_str(), job["status"].as_str()),
                    (Some("synchronize"), Some("posted")),
                    "{provider}: {job}"
                );
                assert!(job["diffBaseSha"].is_null(), "{provider}: {job}");
            }
        };
        // Any incremental diff request (GitLab compare, Azure `$compareTo`, Bitbucket revspec diff).
        let incremental_diff = match provider {
            "gitlab" => "/repository/compare",
            "azure" => "$compareTo=",
            _ => "?topic=true",
        };

        // A push before any review: no checkpoint, no question to the host.
        env.serve_provider_pr(head, json!({})).await;
        env.deliver_pushed(head).await;
        reviewed_in_full(0).await;
        let (ancestry, _) = incremental_requests(&env, head, head);
        if let Some(ancestry) = ancestry {
            assert!(env.standin.requests_to("GET", &ancestry).await.is_empty(), "{provider}");
        }

        // A force push: the reviewed head is no longer in the new head's history.
        env.serve_provider_history(newer, json!({}), json!({"rewritten": [head]}))
            .await;
        env.deliver_pushed(newer).await;
        reviewed_in_full(1).await;
        if let (Some(ancestry), _) = incremental_requests(&env, newer, head) {
            assert_eq!(
                env.standin.requests_to("GET", &ancestry).await.len(),
                1,
                "{provider}: asked"
            );
        }

        // A checkpoint the host does not know (`newer` is gone from the repository).
        let gone = if provider == "bitbucket" { &GONE[..12] } else { GONE };
        env.serve_provider_pr(gone, json!({})).await;
        env.deliver_pushed(gone).await;
        reviewed_in_full(2).await;
        assert!(
            env.standin.requests_to("GET", incremental_diff).await.is_empty(),
            "{provider}: never an incremental diff"
        );
    }
}

#[tokio::test]
async fn a_redelivered_job_posts_nothing_on_any_provider() {
    for provider in PROVIDERS {
        let env = opened_pr(provider).await;
        env.review_the_job_twice().await;
        assert_eq!(
            env.provider_posts().await.len(),
            3,
            "{provider}: two inline + the summary, once"
        );
        assert_eq!(env.standin.requests_to("POST", "/chat/completions").await.len(), 1);
        assert_eq!(env.history().await[0]["status"], "posted");
    }
}

#[tokio::test]
async fn a_refused_token_fails_the_job_with_token_invalid_on_any_provider() {
    for provider in PROVIDERS {
        let env = setup_for(provider, &[]).await;
        let head = head_for(provider);
        env.serve_provider_pr(head, json!({})).await;
        let pr_path = match provider {
            "gitlab" => "/merge_requests/2",
            "azure" => "/pullRequests/2",
            _ => "/pullrequests/2",
        };
        env.standin.fail("GET", pr_path, 401, json!({}), 1).await;
        env.deliver_opened(head).await;
        env.reviewed_as("failed", "token_invalid").await;
        assert!(env.standin.requests_to("POST", "/chat/completions").await.is_empty());
        assert!(env.provider_posts().await.is_empty(), "{provider}");
    }
}

#[tokio::test]
async fn stale_heads_and_drafts_are_skipped_on_other_providers() {
    for provider in PROVIDERS {
        let env = setup_for(provider, &[]).await;
        let head = head_for(provider);
        let newer = if provider == "bitbucket" { &NEWER[..12] } else { NEWER };
        env.serve_provider_pr(newer, json!({})).await;
        env.deliver_opened(head).await;
        env.reviewed_as("skipped", "stale").await;

        // A draft (after the push that made `newer` the head).
        let draft = match provider {
            "azure" => json!({"isDraft": true}),
            _ => json!({"draft": true}),
        };
        env.serve_provider_pr(newer, draft).await;
        env.deliver_opened(newer).await;
        env.reviewed_as("skipped", "draft").await;
        assert!(
            env.standin.requests_to("POST", "/chat/completions").await.is_empty(),
            "{provider}: no LLM call"
        );
        assert!(env.provider_posts().await.is_empty(), "{provider}");
    }
}

#[tokio::test]
async fn a_post_interrupted_by_a_rate_limit_resumes_without_repeating_comments() {
    let env = setup_for("gitlab", &[]).await;
    env.serve_provider_pr(HEAD, json!({})).await;
    env.standin.llm_answers(&[provider_answer()]).await;
    // The summary (posted last) is refused once: the inline discussions are already there.
    env.standin
        .fail("POST", "/merge_requests/2/notes", 429, json!({"Retry-After": "7"}), 1)
        .await;
    env.deliver_opened(HEAD).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let received = sqs
        .receive_message()
        .queue_url(&env.jobs_queue)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert_eq!(response.batch_item_failures.len(), 1, "given back to the queue");
    let response = agnus_reviewer::handle(&env.reviewer, sqs_event(&received)).await;
    assert!(response.batch_item_failures.is_empty());
    let discussions = env.standin.requests_to("POST", "/merge_requests/2/discussions").await;
    assert_eq!(discussions.len(), 2, "each inline comment posted once");
    let notes = env.standin.requests_to("POST", "/merge_requests/2/notes").await;
    assert_eq!(notes.len(), 2, "the refused summary, then the accepted one");
    assert_eq!(env.history().await[0]["status"], "posted");
}

#[tokio::test]
async fn reviews_llm_calls_and_provider_errors_are_in_the_metrics() {
    let (emitter, captured) = agnus_shared::metrics::Emitter::in_memory("AgnusAI/test");
    let env = opened_pr("gitlab").await;
    assert_eq!(emitter.scope(env.review()).await, (1, 1, 0));
    assert_eq!(captured.total("Reviews", &[("Outcome", "completed")]), 1.0);
    assert_eq!(captured.total("ReviewDuration", &[("Provider", "gitlab")]), 1.0);
    assert_eq!(captured.total("LlmRequests", &[("Model", MODEL)]), 1.0);
    assert_eq!(captured.total("LlmInputTokens", &[("Model", MODEL)]), 1200.0);
    assert_eq!(captured.total("LlmOutputTokens", &[("Model", MODEL)]), 80.0);

    let env = setup_for("bitbucket", &[]).await;
    env.serve_provider_pr(head_for("bitbucket"), json!({})).await;
    env.standin.fail("GET", "/pullrequests/2", 401, json!({}), 1).await;
    env.deliver_opened(head_for("bitbucket")).await;
    assert_eq!(emitter.scope(env.review()).await, (1, 1, 0));
    assert_eq!(
        captured.total("ProviderApiErrors", &[("Provider", "bitbucket"), ("Status", "401")]),
        1.0
    );
    assert_eq!(captured.total("Reviews", &[("Outcome", "failed")]), 1.0);
}
