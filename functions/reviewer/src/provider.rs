//! What the review engine needs from a code host, and the hosts it speaks to.

use agnus_shared::domain::Provider;
use secrecy::SecretString;

use crate::diff::ChangedFile;
use crate::github::Github;
use crate::http::CallError;
use crate::validate::ValidReview;

/// A pull request as the host reports it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequest {
    pub title: String,
    pub description: String,
    pub author: String,
    pub author_is_bot: bool,
    pub head_sha: String,
    pub base_sha: String,
    pub draft: bool,
    pub open: bool,
}

/// A posted review (or the one found by its marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub id: String,
    pub url: Option<String>,
}

/// The hidden marker every posted review carries: a redelivered job finds it instead
/// of posting twice.
pub fn marker(job_id: &str) -> String {
    format!("<!-- agnus-review:{job_id} -->")
}

/// The review body: the summary, a footer, the marker.
pub fn review_body(review: &ValidReview, model: &str, head_sha: &str, job_id: &str) -> String {
    let short = head_sha.get(..7).unwrap_or(head_sha);
    format!(
        "{}\n\n<sub>AgnusAI review of {short} · {model}</sub>\n{}",
        review.summary,
        marker(job_id)
    )
}

/// A host client (one per supported provider).
#[derive(Debug, Clone)]
pub enum Host {
    Github(Github),
}

/// Repository coordinates and the opened access token.
#[derive(Debug)]
pub struct Target<'a> {
    pub full_name: &'a str,
    pub pr: u64,
    pub token: &'a SecretString,
}

impl Host {
    /// The client for `provider`, if the engine posts there.
    pub fn for_provider(provider: Provider, github: &Github) -> Option<Self> {
        match provider {
            Provider::Github => Some(Host::Github(github.clone())),
            Provider::Gitlab | Provider::Azure | Provider::Bitbucket => None,
        }
    }

    pub async fn pull_request(&self, t: &Target<'_>) -> Result<PullRequest, CallError> {
        match self {
            Host::Github(g) => g.pull_request(t.token, t.full_name, t.pr).await,
        }
    }

    pub async fn files(&self, t: &Target<'_>) -> Result<Vec<ChangedFile>, CallError> {
        match self {
            Host::Github(g) => g.files(t.token, t.full_name, t.pr).await,
        }
    }

    pub async fn files_since(
        &self,
        t: &Target<'_>,
        since: &str,
        head: &str,
    ) -> Result<Option<Vec<ChangedFile>>, CallError> {
        match self {
            Host::Github(g) => g.files_since(t.token, t.full_name, since, head).await,
        }
    }

    pub async fn find_marker(&self, t: &Target<'_>, job_id: &str) -> Result<Option<Posted>, CallError> {
        match self {
            Host::Github(g) => g.find_marker(t.token, t.full_name, t.pr, &marker(job_id)).await,
        }
    }

    pub async fn post(
        &self,
        t: &Target<'_>,
        head_sha: &str,
        review: &ValidReview,
        body: &str,
    ) -> Result<Posted, CallError> {
        match self {
            Host::Github(g) => g.post_review(t.token, t.full_name, t.pr, head_sha, review, body).await,
        }
    }
}
