//! GitHub REST (github.com or GitHub Enterprise Server `https://HOST/api/v3`):
//! `GET /repos/{owner}/{repo}/pulls/{n}`, `GET …/pulls/{n}/files`,
//! `GET …/compare/{base}...{head}`, `GET …/pulls/{n}/reviews`,
//! `POST …/pulls/{n}/reviews` with `commit_id`, `body`, `event: COMMENT` and inline
//! `comments: [{path, line, side: RIGHT, body}]`; the review's status:
//! `POST /repos/{owner}/{repo}/statuses/{sha}` (`state`, `context`, `description`, `target_url`).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use agnus_shared::domain::Provider;

use crate::diff::ChangedFile;
use crate::http::{self, CallError, Downloads, send, send_diff};
use crate::provider::{
    CodeHost, CommitStatus, HostFuture, Posted, Posting, PullRequest, STATUS_CONTEXT, Since, Target, marker,
};
use crate::validate::ValidReview;

#[derive(Debug, Clone)]
pub struct Github {
    http: reqwest::Client,
    base: String,
}

#[derive(Debug, Deserialize)]
struct User {
    #[serde(default)]
    login: String,
    #[serde(default, rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Ref {
    sha: String,
}

#[derive(Debug, Deserialize)]
struct Pull {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: Option<String>,
    user: Option<User>,
    head: Ref,
    base: Ref,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    state: String,
    #[serde(default)]
    html_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    filename: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    patch: Option<String>,
    #[serde(default)]
    previous_filename: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Compare {
    #[serde(default)]
    status: String,
    #[serde(default)]
    files: Vec<File>,
}

#[derive(Debug, Deserialize)]
struct Review {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
}

/// Files per page (GitHub's maximum) and pages read (GitHub lists at most 3000 files).
const PER_PAGE: usize = 100;
const MAX_PAGES: usize = 30;

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CallError> {
    http::decode(body, "GitHub")
}

impl Github {
    pub fn new(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    fn get(&self, token: &SecretString, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token.expose_secret())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    }

    pub async fn pull_request(
        &self,
        d: &Downloads,
        token: &SecretString,
        repo: &str,
        n: u64,
    ) -> Result<PullRequest, CallError> {
        let (_, body) = send(d, self.get(token, &format!("/repos/{repo}/pulls/{n}"))).await?;
        let pull: Pull = decode(&body)?;
        let (author, kind) = pull.user.map(|u| (u.login, u.kind)).unwrap_or_default();
        Ok(PullRequest {
            author_is_bot: kind.eq_ignore_ascii_case("bot") || author.ends_with("[bot]"),
            author,
            title: pull.title,
            description: pull.body.unwrap_or_default(),
            head_sha: pull.head.sha,
            start_sha: pull.base.sha.clone(),
            base_sha: pull.base.sha,
            draft: pull.draft,
            open: pull.state.is_empty() || pull.state == "open",
            web_url: pull.html_url,
            iteration: None,
            source_branch: None,
        })
    }

    /// The changed files, page by page within the download caps (a page over them ends
    /// the listing: the review says more files were not read).
    pub async fn files(
        &self,
        d: &Downloads,
        token: &SecretString,
        repo: &str,
        n: u64,
    ) -> Result<Vec<ChangedFile>, CallError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = format!("/repos/{repo}/pulls/{n}/files?per_page={PER_PAGE}&page={page}");
            let body = match send_diff(d, self.get(token, &url)).await {
                Ok((_, body)) => body,
                Err(CallError::TooLarge { .. }) => {
                    d.unread();
                    break;
                }
                Err(e) => return Err(e),
            };
            let files: Vec<File> = decode(&body)?;
            let last = files.len() < PER_PAGE;
            all.extend(files.into_iter().map(into_changed));
            if last {
                break;
            }
        }
        Ok(all)
    }

    /// The files changed from `since` to `head`, if `head` descends from `since` (a force
    /// push that rewrote `since` away gives `None`: review everything).
    pub async fn files_since(
        &self,
        d: &Downloads,
        token: &SecretString,
        repo: &str,
        since: &str,
        head: &str,
    ) -> Result<Option<Vec<ChangedFile>>, CallError> {
        match send_diff(d, self.get(token, &format!("/repos/{repo}/compare/{since}...{head}"))).await {
            Ok((_, body)) => {
                let compare: Compare = decode(&body)?;
                Ok((compare.status == "ahead").then(|| compare.files.into_iter().map(into_changed).collect()))
            }
            // Unknown to the host, or over the caps: review everything (page by page).
            Err(CallError::NotFound | CallError::TooLarge { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A review of ours already on the PR (the hidden marker in its body).
    pub async fn find_marker(
        &self,
        d: &Downloads,
        token: &SecretString,
        repo: &str,
        n: u64,
        marker: &str,
    ) -> Result<Option<Posted>, CallError> {
        for page in 1..=MAX_PAGES {
            let (_, body) = send(
                d,
                self.get(
                    token,
                    &format!("/repos/{repo}/pulls/{n}/reviews?per_page={PER_PAGE}&page={page}"),
                ),
            )
            .await?;
            let reviews: Vec<Review> = decode(&body)?;
            let last = reviews.len() < PER_PAGE;
            if let Some(r) = reviews
                .into_iter()
                .find(|r| r.body.as_deref().is_some_and(|b| b.contains(marker)))
            {
                return Ok(Some(Posted {
                    id: r.id.to_string(),
                    url: r.html_url,
                }));
            }
            if last {
                break;
            }
        }
        Ok(None)
    }

    pub async fn post_review(
        &self,
        t: &Target<'_>,
        head_sha: &str,
        review: &ValidReview,
        body: &str,
    ) -> Result<Posted, CallError> {
        let (d, token, repo, n) = (t.downloads, t.token, t.full_name, t.pr);
        let comments: Vec<_> = review
            .comments
            .iter()
            .map(|c| json!({"path": c.path, "line": c.line, "side": "RIGHT", "body": c.body}))
            .collect();
        let payload = json!({
            "commit_id": head_sha,
            "body": body,
            "event": "COMMENT",
            "comments": comments,
        });
        let request = self
            .http
            .post(format!("{}/repos/{repo}/pulls/{n}/reviews", self.base))
            .bearer_auth(token.expose_secret())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .json(&payload);
        let (_, body) = send(d, request).await?;
        let r: Review = decode(&body)?;
        Ok(Posted {
            id: r.id.to_string(),
            url: r.html_url,
        })
    }

    /// A commit status: `pending | success | error` (`failure` is never used: the engine
    /// judges no pull request as failing).
    pub async fn set_status(&self, t: &Target<'_>, s: &CommitStatus) -> Result<(), CallError> {
        let mut payload = json!({
            "state": s.state.name(Provider::Github),
            "context": STATUS_CONTEXT,
            "description": s.description,
        });
        if let Some(url) = &s.target_url {
            payload["target_url"] = json!(url);
        }
        let request = self
            .http
            .post(format!(
                "{}/repos/{}/statuses/{}",
                self.base,
                t.full_name,
                http::encode(&s.sha)
            ))
            .bearer_auth(t.token.expose_secret())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .json(&payload);
        send(t.downloads, request).await.map(drop)
    }
}

fn into_changed(f: File) -> ChangedFile {
    ChangedFile {
        path: f.filename,
        status: f.status,
        patch: f.patch,
        old_path: f.previous_filename,
    }
}

impl CodeHost for Github {
    fn provider(&self) -> Provider {
        Provider::Github
    }

    fn pull_request<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, PullRequest> {
        Box::pin(self.pull_request(t.downloads, t.token, t.full_name, t.pr))
    }

    fn files<'a>(&'a self, t: &'a Target<'a>, _pr: &'a PullRequest) -> HostFuture<'a, Vec<ChangedFile>> {
        Box::pin(self.files(t.downloads, t.token, t.full_name, t.pr))
    }

    fn files_since<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest, since: &'a str) -> Since<'a> {
        Box::pin(self.files_since(t.downloads, t.token, t.full_name, since, &pr.head_sha))
    }

    fn find_marker<'a>(&'a self, t: &'a Target<'a>, job_id: &'a str) -> HostFuture<'a, Option<Posted>> {
        Box::pin(async move {
            self.find_marker(t.downloads, t.token, t.full_name, t.pr, &marker(job_id))
                .await
        })
    }

    fn post<'a>(&'a self, t: &'a Target<'a>, p: &'a Posting<'a>) -> HostFuture<'a, Posted> {
        Box::pin(self.post_review(t, &p.pr.head_sha, p.review, p.body))
    }

    fn set_status<'a>(&'a self, t: &'a Target<'a>, status: &'a CommitStatus) -> HostFuture<'a, ()> {
        Box::pin(self.set_status(t, status))
    }
}
