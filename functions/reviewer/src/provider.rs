//! What the review engine needs from a code host ([`CodeHost`]), and the hosts it speaks
//! to: one module per provider (`github`, `gitlab`, `azure`, `bitbucket`), all behind the
//! one trait.
//!
//! GitHub posts a whole review in one request. The other three post one comment at a
//! time ([`CommentApi`]): every inline comment carries its own hidden marker
//! (`<!-- agnus-review:<jobId>:<n> -->`) and the summary, posted last, carries the job's
//! marker; a retry after a partial post skips the comments already there, and a retry
//! after a complete one finds the job's marker and posts nothing.

use std::future::Future;
use std::pin::Pin;

use agnus_shared::domain::Provider;
use secrecy::SecretString;

use crate::diff::ChangedFile;
use crate::http::{CallError, Downloads};
use crate::validate::{InlineComment, ValidReview};

/// A pull request as the host reports it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequest {
    pub title: String,
    pub description: String,
    pub author: String,
    pub author_is_bot: bool,
    pub head_sha: String,
    pub base_sha: String,
    /// GitLab's `diff_refs.start_sha` (the target branch's head the diff was made against).
    pub start_sha: String,
    pub draft: bool,
    pub open: bool,
    /// The pull request's web page (links to posted comments are built on it).
    pub web_url: Option<String>,
    /// Azure DevOps: the latest iteration (whose changes are reviewed).
    pub iteration: Option<u64>,
    /// Bitbucket: the source branch (a build status names it to show on the pull request).
    pub source_branch: Option<String>,
}

/// A posted review (or the one found by its marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub id: String,
    pub url: Option<String>,
}

/// A comment already on the pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: String,
    pub body: String,
    pub url: Option<String>,
}

/// The hidden marker every posted review carries: a redelivered job finds it instead
/// of posting twice.
pub fn marker(job_id: &str) -> String {
    format!("<!-- agnus-review:{job_id} -->")
}

/// The hidden marker of a job's `n`th inline comment (hosts that post one at a time).
pub fn comment_marker(job_id: &str, n: usize) -> String {
    format!("<!-- agnus-review:{job_id}:{n} -->")
}

/// The review body: the summary, the walkthrough, a footer, the marker.
pub fn review_body(review: &ValidReview, model: &str, head_sha: &str, job_id: &str) -> String {
    // The host's commit id, as hex (it is written outside the sanitized text).
    let short: String = head_sha.chars().filter(char::is_ascii_hexdigit).take(7).collect();
    format!(
        "{}{}\n\n<sub>AgnusAI review of {short} · {model}</sub>\n{}",
        review.summary,
        walkthrough_part(review),
        marker(job_id)
    )
}

/// The collapsed walkthrough under the summary (nothing without one).
fn walkthrough_part(review: &ValidReview) -> String {
    match crate::walkthrough::section(&review.walkthrough) {
        s if s.is_empty() => s,
        s => format!("\n\n{s}"),
    }
}

/// Does the head the job was made for still match the host's (Bitbucket reports
/// 12-character abbreviated hashes, in webhooks and in its API)?
pub fn same_commit(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim().to_ascii_lowercase(), b.trim().to_ascii_lowercase());
    if a.len() == b.len() {
        return a == b;
    }
    let (short, long) = if a.len() < b.len() { (&a, &b) } else { (&b, &a) };
    short.len() >= 7 && long.starts_with(short.as_str())
}

/// Repository coordinates, the opened access token, and the job's download caps (every
/// answer is read within them; what they leave out is noted there).
#[derive(Debug)]
pub struct Target<'a> {
    /// The connected repository's name: `owner/repo` (GitHub), `group/…/project`
    /// (GitLab), `org/project/repo` (Azure DevOps), `workspace/repo` (Bitbucket).
    pub full_name: &'a str,
    pub pr: u64,
    pub token: &'a SecretString,
    pub downloads: &'a Downloads,
}

/// What to post, and on what.
#[derive(Debug)]
pub struct Posting<'a> {
    pub pr: &'a PullRequest,
    /// The files the review was made from (GitLab positions need their hunks).
    pub files: &'a [ChangedFile],
    pub review: &'a ValidReview,
    /// The summary with footer and marker ([`review_body`]).
    pub body: &'a str,
    pub job_id: &'a str,
    /// An earlier attempt of this job may have posted part of it.
    pub resumed: bool,
}

pub type HostFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CallError>> + Send + 'a>>;

/// What [`CodeHost::files_since`] gives: the changed files, or `None` for a full review.
pub type Since<'a> = HostFuture<'a, Option<Vec<ChangedFile>>>;

/// A code host's REST API, as the review engine uses it.
pub trait CodeHost: Send + Sync + std::fmt::Debug {
    fn provider(&self) -> Provider;

    /// The pull request now (head, draft, author, …).
    fn pull_request<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, PullRequest>;

    /// Its changed files with unified-diff hunks.
    fn files<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest) -> HostFuture<'a, Vec<ChangedFile>>;

    /// The files changed from `since` (the last reviewed head) to the pull request's head,
    /// if the head descends from `since`; `None` (a force push, a rebase, or `since` no
    /// longer known to the host): review everything.
    fn files_since<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest, since: &'a str) -> Since<'a>;

    /// A review of this job's already on the pull request (its hidden marker).
    fn find_marker<'a>(&'a self, t: &'a Target<'a>, job_id: &'a str) -> HostFuture<'a, Option<Posted>>;

    /// Posts the review on the head commit.
    fn post<'a>(&'a self, t: &'a Target<'a>, posting: &'a Posting<'a>) -> HostFuture<'a, Posted>;

    /// Sets the review's status (context [`STATUS_CONTEXT`]) on a commit of the pull
    /// request; a status the host cannot place (no iteration on Azure DevOps, no link on
    /// Bitbucket) is not sent.
    fn set_status<'a>(&'a self, t: &'a Target<'a>, status: &'a CommitStatus) -> HostFuture<'a, ()>;
}

/// Hosts that post a review as separate comments (GitLab, Azure DevOps, Bitbucket):
/// each says how to read and how one comment looks; the posting protocol (markers,
/// resumption, the summary last) is [`CodeHost`]'s, shared below.
pub trait CommentHost: Send + Sync + std::fmt::Debug {
    fn provider(&self) -> Provider;

    fn fetch_pull<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, PullRequest>;

    fn fetch_files<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest) -> HostFuture<'a, Vec<ChangedFile>>;

    /// [`CodeHost::files_since`].
    fn fetch_files_since<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest, since: &'a str) -> Since<'a>;

    /// Every comment on the pull request (for the markers).
    fn notes<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, Vec<Note>>;

    /// The request body of an inline comment (`Some`) or of the summary (`None`).
    fn comment_payload(&self, posting: &Posting<'_>, inline: Option<&InlineComment>, body: &str) -> serde_json::Value;

    /// Posts one comment; the answer names the created comment.
    fn post_comment<'a>(
        &'a self,
        t: &'a Target<'a>,
        pr: &'a PullRequest,
        inline: bool,
        payload: serde_json::Value,
    ) -> HostFuture<'a, Posted>;

    /// [`CodeHost::set_status`].
    fn put_status<'a>(&'a self, t: &'a Target<'a>, status: &'a CommitStatus) -> HostFuture<'a, ()>;
}

impl<H: CommentHost> CodeHost for H {
    fn provider(&self) -> Provider {
        CommentHost::provider(self)
    }

    fn pull_request<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, PullRequest> {
        self.fetch_pull(t)
    }

    fn files<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest) -> HostFuture<'a, Vec<ChangedFile>> {
        self.fetch_files(t, pr)
    }

    fn files_since<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest, since: &'a str) -> Since<'a> {
        self.fetch_files_since(t, pr, since)
    }

    fn find_marker<'a>(&'a self, t: &'a Target<'a>, job_id: &'a str) -> HostFuture<'a, Option<Posted>> {
        Box::pin(async move {
            let wanted = marker(job_id);
            Ok(self
                .notes(t)
                .await?
                .into_iter()
                .find(|n| n.body.contains(&wanted))
                .map(|n| Posted { id: n.id, url: n.url }))
        })
    }

    /// Inline comments first (each with its marker, skipping those a previous attempt
    /// posted), the summary with the job's marker last.
    fn post<'a>(&'a self, t: &'a Target<'a>, posting: &'a Posting<'a>) -> HostFuture<'a, Posted> {
        Box::pin(async move {
            let existing = if posting.resumed {
                self.notes(t).await?
            } else {
                Vec::new()
            };
            for (n, comment) in posting.review.comments.iter().enumerate() {
                let mark = comment_marker(posting.job_id, n);
                if existing.iter().any(|note| note.body.contains(&mark)) {
                    continue;
                }
                let payload = self.comment_payload(posting, Some(comment), &format!("{}\n\n{mark}", comment.body));
                self.post_comment(t, posting.pr, true, payload).await?;
            }
            let payload = self.comment_payload(posting, None, posting.body);
            self.post_comment(t, posting.pr, false, payload).await
        })
    }

    fn set_status<'a>(&'a self, t: &'a Target<'a>, status: &'a CommitStatus) -> HostFuture<'a, ()> {
        self.put_status(t, status)
    }
}

/// The name every provider shows the review's status under (GitHub `context`, GitLab
/// `name`, Bitbucket `key` and `name`, Azure DevOps `context.name`).
pub const STATUS_CONTEXT: &str = "AgnusAI";

/// Where the review stands, in the engine's words; each host names it in its own
/// ([`StatusState::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    /// The review is being made.
    Pending,
    /// The review is posted.
    Success,
    /// No review: the job was skipped.
    Neutral,
    /// No review: the job failed.
    Error,
}

impl StatusState {
    /// The provider's documented state for it. Where a provider has no neutral state the
    /// closest non-failing one stands for a skipped job: GitHub `success`, Bitbucket
    /// `STOPPED`.
    pub fn name(self, provider: Provider) -> &'static str {
        use StatusState::*;
        match (provider, self) {
            (Provider::Github, Pending) => "pending",
            (Provider::Github, Success | Neutral) => "success",
            (Provider::Github, Error) => "error",
            (Provider::Gitlab, Pending) => "running",
            (Provider::Gitlab, Success) => "success",
            (Provider::Gitlab, Neutral) => "skipped",
            (Provider::Gitlab, Error) => "failed",
            (Provider::Bitbucket, Pending) => "INPROGRESS",
            (Provider::Bitbucket, Success) => "SUCCESSFUL",
            (Provider::Bitbucket, Neutral) => "STOPPED",
            (Provider::Bitbucket, Error) => "FAILED",
            (Provider::Azure, Pending) => "pending",
            (Provider::Azure, Success) => "succeeded",
            (Provider::Azure, Neutral) => "notApplicable",
            (Provider::Azure, Error) => "error",
        }
    }
}

/// A status to set on a commit of the pull request. Every text in it is the engine's
/// (never the model's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatus {
    pub sha: String,
    /// Azure DevOps: the pull request iteration of `sha` (its statuses are per iteration).
    pub iteration: Option<u64>,
    /// Bitbucket: the pull request's source branch (`refname`).
    pub branch: Option<String>,
    pub state: StatusState,
    /// At most 140 characters (GitHub's limit).
    pub description: String,
    /// The review in the console; else, where the host requires a link (Bitbucket), the
    /// pull request's page.
    pub target_url: Option<String>,
    pub pr_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviated_hashes_match_their_commit_only() {
        assert!(same_commit("d3022fc0ca3d", "d3022fc0ca3d"));
        assert!(same_commit("d3022fc0ca3d", "d3022fc0ca3d1234567890abcdef1234567890ab"));
        assert!(!same_commit("d3022fc0ca3e", "d3022fc0ca3d1234567890abcdef1234567890ab"));
        assert!(!same_commit("d30", "d3022fc0ca3d"), "too short to stand for a commit");
        assert!(!same_commit(
            "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            "0123456789abcdef0123456789abcdef01234567"
        ));
    }

    #[test]
    fn comment_markers_do_not_look_like_the_job_marker() {
        assert!(!comment_marker("j1", 0).contains(&marker("j1")));
    }
}
