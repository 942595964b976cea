//! The review's status on the pull request (issue 31): through each provider's
//! commit-status API, the job reports on the commit it reviews — `pending` once it is
//! admitted (the pull request is read, the head is this job's, the LLM is next), then
//! `success` (posted), neutral (skipped) or `error` (failed), under the name
//! [`STATUS_CONTEXT`], with an engine-made description and a link to the repository's
//! reviews in the console.
//!
//! A status is a courtesy: its failure (a token without the status scope answers 401/403)
//! is logged and never changes the job's outcome. What sets no status: a job that ends
//! before the pull request is read (no commit to put it on); a duplicate
//! (`already_reviewed`: the head's own job reports on it); and a commit the pull request
//! moved on from or a closed pull request (`stale`, `closed`), unless an earlier attempt
//! of this job may have set it pending.

use agnus_shared::domain::Provider;
use agnus_shared::store::{QueueScope, RepoRecord, ReviewJob, ReviewOutcome};
use secrecy::{ExposeSecret, SecretString};

use crate::ReviewerState;
use crate::hosts::Hosts;
use crate::http::{Downloads, encode};
use crate::provider::{CommitStatus, PullRequest, StatusState, Target};
use crate::stored::StoredAnswer;

/// GitHub refuses longer descriptions.
pub const MAX_DESCRIPTION: usize = 140;

/// Bytes of a status call's answer read, at most (the created status, a few kilobytes).
const ANSWER_CAP: usize = 256 << 10;

/// The state and description a finished job reports; `None`: it sets no status.
pub fn of_outcome(outcome: &ReviewOutcome, resumed: bool) -> Option<(StatusState, String)> {
    let reason = outcome.reason.as_deref().unwrap_or("unknown");
    let (state, text) = match outcome.status {
        "posted" => (StatusState::Success, posted(outcome.comment_count)),
        "skipped" if reason == "already_reviewed" => return None,
        "skipped" if matches!(reason, "stale" | "closed") && !resumed => return None,
        "skipped" => (StatusState::Neutral, format!("Skipped: {reason}")),
        "failed" => (StatusState::Error, format!("Review failed: {reason}")),
        _ => return None,
    };
    Some((state, description(&text)))
}

/// While the review is being made.
pub fn pending() -> (StatusState, String) {
    (StatusState::Pending, "Review in progress".to_owned())
}

fn posted(comments: Option<u32>) -> String {
    match comments {
        None => "Review posted".to_owned(),
        Some(1) => "Review posted: 1 comment".to_owned(),
        Some(n) => format!("Review posted: {n} comments"),
    }
}

/// At most [`MAX_DESCRIPTION`] characters.
fn description(text: &str) -> String {
    text.chars().take(MAX_DESCRIPTION).collect()
}

/// The console page of a repository's reviews (`/orgs/{slug}/repos/{repoId}`, as the
/// console routes it); none without `AGNUS_APP_BASE_URL`.
pub fn console_link(app_base_url: Option<&str>, org_slug: &str, repo_id: &str) -> Option<String> {
    app_base_url.map(|base| {
        format!(
            "{}/orgs/{}/repos/{}",
            base.trim_end_matches('/'),
            encode(org_slug),
            encode(repo_id)
        )
    })
}

/// The commit a job reports on: the one it was asked to review (the webhook's head, or
/// the head its stored answer reviewed) if the pull request moved on from it — with
/// no Azure DevOps iteration then — else the pull request's head. `pr`: `None` when the
/// pull request was not read (a resumed job that finds its review posted).
fn commit_of(job: &ReviewJob, pr: Option<&PullRequest>) -> Option<(String, Option<u64>)> {
    let asked = job
        .head_sha
        .clone()
        .or_else(|| job.answer.as_deref().and_then(StoredAnswer::parse).map(|a| a.head_sha));
    pick(asked, pr)
}

fn pick(asked: Option<String>, pr: Option<&PullRequest>) -> Option<(String, Option<u64>)> {
    match (asked, pr) {
        (Some(sha), Some(pr)) if !crate::provider::same_commit(&sha, &pr.head_sha) => Some((sha, None)),
        (_, Some(pr)) if !pr.head_sha.is_empty() => Some((pr.head_sha.clone(), pr.iteration)),
        (asked, _) => asked.filter(|s| !s.is_empty()).map(|s| (s, None)),
    }
}

/// Where the job's status goes, once known.
#[derive(Debug, Default)]
pub struct Reporter {
    to: Option<Destination>,
}

#[derive(Debug)]
struct Destination {
    provider: Provider,
    full_name: String,
    pr: u64,
    token: SecretString,
    link: Option<String>,
    resumed: bool,
    commit: Option<(String, Option<u64>)>,
    branch: Option<String>,
    pr_url: Option<String>,
}

impl Reporter {
    /// The repository and its opened token (no commit yet: nothing is sent).
    pub fn open(
        &mut self,
        state: &ReviewerState,
        scope: &QueueScope,
        repo: &RepoRecord,
        token: &SecretString,
        resumed: bool,
    ) {
        self.to = Some(Destination {
            provider: repo.provider,
            full_name: repo.full_name.clone(),
            pr: 0,
            token: SecretString::from(token.expose_secret().to_owned()),
            link: console_link(state.config.app_base_url.as_deref(), scope.slug().as_str(), &repo.id),
            resumed,
            commit: None,
            branch: None,
            pr_url: None,
        });
    }

    /// The job's commit, from the pull request as read (`None`: not read).
    pub fn on(&mut self, job: &ReviewJob, pr: Option<&PullRequest>) {
        if let Some(to) = &mut self.to {
            to.pr = job.pr_number;
            to.commit = commit_of(job, pr);
            to.branch = pr.and_then(|p| p.source_branch.clone());
            to.pr_url = pr.and_then(|p| p.web_url.clone());
        }
    }

    /// The job is admitted: the review is being made.
    pub async fn pending(&self, hosts: &Hosts) {
        let (state, text) = pending();
        self.send(hosts, state, text).await;
    }

    /// The job ended with `outcome` (recorded already).
    pub async fn finish(&self, hosts: &Hosts, outcome: &ReviewOutcome) {
        let Some(to) = &self.to else { return };
        if let Some((state, text)) = of_outcome(outcome, to.resumed) {
            self.send(hosts, state, text).await;
        }
    }

    async fn send(&self, hosts: &Hosts, state: StatusState, description: String) {
        let Some(to) = &self.to else { return };
        let Some((sha, iteration)) = to.commit.clone() else {
            return;
        };
        let status = CommitStatus {
            sha,
            iteration,
            branch: to.branch.clone(),
            state,
            description,
            target_url: to.link.clone(),
            pr_url: to.pr_url.clone(),
        };
        let downloads = Downloads::new(ANSWER_CAP, ANSWER_CAP);
        let target = Target {
            full_name: &to.full_name,
            pr: to.pr,
            token: &to.token,
            downloads: &downloads,
        };
        if let Err(e) = hosts.get(to.provider).set_status(&target, &status).await {
            // Expected for a token without the status scope; the review stands.
            tracing::warn!(
                provider = to.provider.as_str(),
                state = state.name(to.provider),
                http_status = e.status(),
                "could not set the review's status on the pull request"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(head: Option<&str>) -> Option<String> {
        head.map(str::to_owned)
    }

    fn pr(head: &str) -> PullRequest {
        PullRequest {
            head_sha: head.into(),
            iteration: Some(3),
            ..PullRequest::default()
        }
    }

    #[test]
    fn each_outcome_has_its_state_and_an_engine_made_description() {
        let mut posted = ReviewOutcome {
            status: "posted",
            comment_count: Some(3),
            ..ReviewOutcome::default()
        };
        assert_eq!(
            of_outcome(&posted, false),
            Some((StatusState::Success, "Review posted: 3 comments".into()))
        );
        posted.comment_count = Some(1);
        assert_eq!(of_outcome(&posted, false).unwrap().1, "Review posted: 1 comment");
        posted.comment_count = None;
        assert_eq!(of_outcome(&posted, false).unwrap().1, "Review posted");
        assert_eq!(
            of_outcome(&ReviewOutcome::skipped("draft"), false),
            Some((StatusState::Neutral, "Skipped: draft".into()))
        );
        assert_eq!(
            of_outcome(&ReviewOutcome::failed("llm_unavailable"), false),
            Some((StatusState::Error, "Review failed: llm_unavailable".into()))
        );
        assert_eq!(pending().0, StatusState::Pending);
    }

    #[test]
    fn duplicates_and_moved_on_commits_leave_the_status_alone() {
        assert_eq!(of_outcome(&ReviewOutcome::skipped("already_reviewed"), true), None);
        for reason in ["stale", "closed"] {
            assert_eq!(of_outcome(&ReviewOutcome::skipped(reason), false), None);
            // An earlier attempt may have set it pending: it ends.
            assert_eq!(
                of_outcome(&ReviewOutcome::skipped(reason), true),
                Some((StatusState::Neutral, format!("Skipped: {reason}")))
            );
        }
    }

    #[test]
    fn descriptions_stay_within_githubs_limit() {
        let long = ReviewOutcome::failed(&"x".repeat(500));
        let (_, text) = of_outcome(&long, false).unwrap();
        assert_eq!(text.chars().count(), MAX_DESCRIPTION);
        let wide = ReviewOutcome::failed(&"é".repeat(500));
        assert_eq!(of_outcome(&wide, false).unwrap().1.chars().count(), MAX_DESCRIPTION);
    }

    #[test]
    fn every_provider_names_every_state_as_documented() {
        use StatusState::*;
        let names = |p| [Pending, Success, Neutral, Error].map(|s| s.name(p));
        assert_eq!(names(Provider::Github), ["pending", "success", "success", "error"]);
        assert_eq!(names(Provider::Gitlab), ["running", "success", "skipped", "failed"]);
        assert_eq!(
            names(Provider::Bitbucket),
            ["INPROGRESS", "SUCCESSFUL", "STOPPED", "FAILED"]
        );
        assert_eq!(
            names(Provider::Azure),
            ["pending", "succeeded", "notApplicable", "error"]
        );
    }

    #[test]
    fn the_link_is_the_repositorys_console_page() {
        assert_eq!(
            console_link(Some("https://app.example.com/"), "acme", "r-1"),
            Some("https://app.example.com/orgs/acme/repos/r-1".into())
        );
        assert_eq!(console_link(None, "acme", "r-1"), None);
    }

    #[test]
    fn the_status_goes_on_the_commit_the_job_reviews() {
        const H: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
        const NEW: &str = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(pick(job(Some(H)), Some(&pr(H))), Some((H.into(), Some(3))));
        // Bitbucket's abbreviated hash is the same commit: the PR's own, with its iteration.
        assert_eq!(pick(job(Some(&H[..12])), Some(&pr(H))), Some((H.into(), Some(3))));
        // The pull request moved on: the job's commit, never the new head.
        assert_eq!(pick(job(Some(H)), Some(&pr(NEW))), Some((H.into(), None)));
        assert_eq!(pick(job(None), Some(&pr(NEW))), Some((NEW.into(), Some(3))));
        // Not read: the webhook's head, if any.
        assert_eq!(pick(job(Some(H)), None), Some((H.into(), None)));
        assert_eq!(pick(job(None), None), None);
    }
}
