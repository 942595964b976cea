//! The review's status on the pull request (issue 31), on every provider: pending while
//! the review is made, then success, neutral (skipped) or error (failed), named "AgnusAI",
//! linking to the repository's reviews in the console; a refused status never stops the
//! review.

use super::*;

const APP: &str = "https://app.agnus.test";

const ALL: [&str; 4] = ["github", "gitlab", "azure", "bitbucket"];

/// The provider's word for (pending, success, neutral, error).
fn states(provider: &str) -> [&'static str; 4] {
    match provider {
        "github" => ["pending", "success", "success", "error"],
        "gitlab" => ["running", "success", "skipped", "failed"],
        "bitbucket" => ["INPROGRESS", "SUCCESSFUL", "STOPPED", "FAILED"],
        "azure" => ["pending", "succeeded", "notApplicable", "error"],
        other => panic!("{other}"),
    }
}

impl Env {
    /// PR 2 served at `head` (with `overrides`) in the provider's shapes.
    async fn serve_any(&self, head: &str, overrides: Value) {
        if self.provider == "github" {
            let mut pr = json!({"head_sha": head, "base_sha": BASE, "title": "Checked parse"});
            for (k, v) in overrides.as_object().unwrap() {
                pr[k] = v.clone();
            }
            self.serve_pr(pr).await;
        } else {
            self.serve_provider_pr(head, overrides).await;
        }
    }

    async fn deliver_any(&self, head: &str) {
        if self.provider == "github" {
            self.deliver("pull_request.opened.json", head).await;
        } else {
            self.deliver_opened(head).await;
        }
    }

    /// The statuses posted for this repository, oldest first.
    async fn statuses(&self) -> Vec<Value> {
        self.standin
            .statuses()
            .await
            .into_iter()
            .filter(|s| s["provider"] == self.provider && s["repo"] == self.repo.as_str())
            .collect()
    }

    /// Where a status on `head` is recorded (Azure DevOps: the pull request's latest
    /// iteration, 2 in its documented example).
    fn status_sha(&self, head: &str) -> String {
        if self.provider == "azure" {
            "iteration:2".into()
        } else {
            head.into()
        }
    }

    fn console_link(&self) -> String {
        format!("{APP}/orgs/{}/repos/{}", self.user.slug, self.repo_id)
    }
}

fn draft(provider: &str) -> Value {
    if provider == "azure" {
        json!({"isDraft": true})
    } else {
        json!({"draft": true})
    }
}

/// A repository of `provider` (with the console's base URL) whose PR 2 was opened and
/// reviewed; `refuse_statuses`: every status call answers 403. Returns the head.
async fn opened_with_link(provider: &'static str, refuse_statuses: bool) -> (Env, &'static str) {
    let env = setup_for(provider, &[("AGNUS_APP_BASE_URL", APP)]).await;
    let head = head_for(provider);
    env.serve_any(head, json!({})).await;
    env.standin.llm_answers(&[provider_answer()]).await;
    if refuse_statuses {
        env.standin.fail("POST", "/statuses", 403, json!({}), 10).await;
    }
    env.deliver_any(head).await;
    assert_eq!(env.review().await, (1, 1, 0), "{provider}");
    (env, head)
}

#[tokio::test]
async fn a_posted_review_shows_pending_then_success_on_the_head_with_a_console_link() {
    for provider in ALL {
        let (env, head) = opened_with_link(provider, false).await;
        let job = &env.history().await[0];
        assert_eq!(job["status"], "posted", "{provider}: {job}");
        let comments = job["commentCount"].as_u64().unwrap();

        let got = env.statuses().await;
        let [pending, success, _, _] = states(provider);
        let summary: Vec<_> = got
            .iter()
            .map(|s| (s["sha"].as_str().unwrap(), s["state"].as_str().unwrap()))
            .collect();
        let sha = env.status_sha(head);
        assert_eq!(
            summary,
            [(sha.as_str(), pending), (sha.as_str(), success)],
            "{provider}"
        );
        for s in &got {
            assert_eq!(s["name"], "AgnusAI", "{provider}: {s}");
            assert_eq!(s["url"], env.console_link().as_str(), "{provider}: {s}");
        }
        assert_eq!(got[0]["description"], "Review in progress");
        let plural = if comments == 1 { "" } else { "s" };
        assert_eq!(
            got[1]["description"],
            format!("Review posted: {comments} comment{plural}").as_str(),
            "{provider}"
        );
        if provider == "bitbucket" {
            assert_eq!(got[0]["body"]["refname"], "branch2", "the pull request's source branch");
        }

        // Pending before the LLM is asked, the final state after the review is posted.
        let order: Vec<String> = env
            .standin
            .requests()
            .await
            .into_iter()
            .filter(|r| r["method"] == "POST")
            .map(|r| r["path"].as_str().unwrap().to_owned())
            .collect();
        let at = |pred: &dyn Fn(&String) -> bool| order.iter().position(pred).unwrap();
        let first_status = at(&|p| p.contains("/statuses"));
        let llm = at(&|p| p.contains("/chat/completions"));
        let last_status = order.iter().rposition(|p| p.contains("/statuses")).unwrap();
        let last_post = order
            .iter()
            .rposition(|p| !p.contains("/statuses") && !p.contains("/chat/completions"))
            .unwrap();
        assert!(first_status < llm && last_post < last_status, "{provider}: {order:?}");
    }
}

#[tokio::test]
async fn a_skipped_job_ends_neutral_a_failed_one_error_and_a_moved_on_commit_gets_nothing() {
    for provider in ALL {
        // Without AGNUS_APP_BASE_URL: no console link (Bitbucket, which requires one: the PR).
        let env = setup_for(provider, &[]).await;
        let head = head_for(provider);
        let newer = newer_for(provider);
        let [pending, _, neutral, error] = states(provider);

        // A stale job (the pull request moved on): its commit is superseded, no status.
        env.serve_any(newer, json!({})).await;
        env.deliver_any(head).await;
        env.reviewed_as("skipped", "stale").await;
        assert!(env.statuses().await.is_empty(), "{provider}");

        // A draft: skipped, neutral straight away (no review was under way).
        env.serve_any(newer, draft(provider)).await;
        env.deliver_any(newer).await;
        env.reviewed_as("skipped", "draft").await;
        let got = env.statuses().await;
        assert_eq!(got.len(), 1, "{provider}: {got:?}");
        assert_eq!(got[0]["state"], neutral, "{provider}");
        assert_eq!(got[0]["description"], "Skipped: draft", "{provider}");
        assert_eq!(got[0]["sha"], env.status_sha(newer).as_str(), "{provider}");
        let pr_page = format!("https://bitbucket.org/{}/pull-requests/2", env.repo);
        let expected_url = if provider == "bitbucket" {
            json!(pr_page)
        } else {
            Value::Null
        };
        assert_eq!(got[0]["url"], expected_url, "{provider}");

        // The LLM refuses: pending, then error.
        env.serve_any(newer, json!({})).await;
        env.standin
            .fail_with(
                "POST",
                "/chat/completions",
                400,
                json!({}),
                json!({"error": {"message": "refused"}}),
                1,
            )
            .await;
        env.deliver_any(newer).await;
        assert_eq!(env.review().await, (1, 1, 0));
        assert_eq!(env.history().await[0]["reason"], "llm_rejected", "{provider}");
        let got = env.statuses().await;
        let last: Vec<_> = got[1..]
            .iter()
            .map(|s| (s["state"].as_str().unwrap(), s["description"].as_str().unwrap()))
            .collect();
        assert_eq!(
            last,
            [(pending, "Review in progress"), (error, "Review failed: llm_rejected")],
            "{provider}"
        );
    }
}

#[tokio::test]
async fn a_refused_status_never_stops_the_review() {
    for provider in ALL {
        // A token without the status scope: every status call is refused.
        let (env, _) = opened_with_link(provider, true).await;
        assert_eq!(env.history().await[0]["status"], "posted", "{provider}");
        let refused = env.standin.requests_to("POST", "/statuses").await;
        assert_eq!(refused.len(), 2, "{provider}: pending and success were tried");
        assert!(env.statuses().await.is_empty(), "{provider}");
        let posted = if provider == "github" {
            env.posted().await.len()
        } else {
            env.provider_posts().await.len()
        };
        assert!(posted >= 1, "{provider}: the review is on the pull request");
    }
}
