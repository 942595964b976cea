//! Bitbucket Cloud REST 2.0 (`AGNUS_BITBUCKET_API_URL`, default
//! `https://api.bitbucket.org/2.0`): `GET /repositories/{workspace}/{repo}/pullrequests/{id}`,
//! `GET …/pullrequests/{id}/diff` (a `git diff`, reached through a redirect),
//! `GET …/pullrequests/{id}/comments` (the markers), and `POST …/pullrequests/{id}/comments`
//! with `content.raw` and, inline, `inline: {path, to}` (`to`: the new-side line).
//! Credentials: a repository/workspace access token (`Authorization: Bearer`). The review's
//! status: `POST /repositories/{workspace}/{repo}/commit/{commit}/statuses/build` (`key`,
//! `state`, `name`, `url` (required), `description`, `refname`: the source branch).
//!
//! Incremental reviews: `GET /repositories/{ws}/{repo}/merge-base/{head}..{since}` must
//! answer `since` itself (the head descends from the last reviewed one; a force push gives
//! an older merge base, an unknown commit a 404: full review), then
//! `GET /repositories/{ws}/{repo}/diff/{head}..{since}?topic=true` is the diff of what was
//! pushed since (Bitbucket's spec is `source..destination`; `topic=true`: from their merge
//! base, which is `since` here).

use agnus_shared::domain::Provider;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::diff::ChangedFile;
use crate::diff_stream::GitDiffReader;
use crate::http::{self, CallError, encode, send, send_found};
use crate::provider::{
    CommentHost, CommitStatus, HostFuture, Note, Posted, Posting, PullRequest, STATUS_CONTEXT, Since, Target,
    same_commit,
};
use crate::validate::InlineComment;

#[derive(Debug, Clone)]
pub struct Bitbucket {
    http: reqwest::Client,
    base: String,
}

#[derive(Debug, Default, Deserialize)]
struct Account {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default, rename = "type")]
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
struct Commit {
    #[serde(default)]
    hash: String,
}

#[derive(Debug, Default, Deserialize)]
struct End {
    #[serde(default)]
    commit: Option<Commit>,
    #[serde(default)]
    branch: Option<Branch>,
}

#[derive(Debug, Default, Deserialize)]
struct Branch {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Default, Deserialize)]
struct Href {
    #[serde(default)]
    href: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Links {
    #[serde(default)]
    html: Option<Href>,
}

#[derive(Debug, Deserialize)]
struct PullJson {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    author: Option<Account>,
    #[serde(default)]
    source: End,
    #[serde(default)]
    destination: End,
    #[serde(default)]
    state: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    links: Links,
}

#[derive(Debug, Default, Deserialize)]
struct Content {
    #[serde(default)]
    raw: String,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: u64,
    #[serde(default)]
    content: Content,
    #[serde(default)]
    links: Links,
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    values: Vec<Comment>,
    #[serde(default)]
    next: Option<String>,
}

/// `GET …/merge-base/{revspec}`: the best common ancestor, a commit.
#[derive(Debug, Deserialize)]
struct MergeBase {
    hash: String,
}

const MAX_PAGES: usize = 30;

impl Bitbucket {
    pub fn new(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    fn repo_path(&self, t: &Target<'_>) -> String {
        let (workspace, repo) = t.full_name.split_once('/').unwrap_or((t.full_name, ""));
        format!("{}/repositories/{}/{}", self.base, encode(workspace), encode(repo))
    }

    fn pr_path(&self, t: &Target<'_>) -> String {
        format!("{}/pullrequests/{}", self.repo_path(t), t.pr)
    }

    fn get(&self, token: &SecretString, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url).bearer_auth(token.expose_secret())
    }

    async fn pull(&self, t: &Target<'_>) -> Result<PullRequest, CallError> {
        let (_, body) = send(t.downloads, self.get(t.token, &self.pr_path(t))).await?;
        let pr: PullJson = http::decode(&body, "Bitbucket")?;
        let author = pr.author.unwrap_or_default();
        let hash = |e: End| e.commit.map(|c| c.hash).unwrap_or_default();
        let source_branch = pr
            .source
            .branch
            .as_ref()
            .map(|b| b.name.clone())
            .filter(|b| !b.is_empty());
        let base = hash(pr.destination);
        Ok(PullRequest {
            author_is_bot: author.kind == "app_user" || author.display_name.ends_with("[bot]"),
            author: author.nickname.unwrap_or(author.display_name),
            title: pr.title,
            description: pr.description.unwrap_or_default(),
            head_sha: hash(pr.source),
            start_sha: base.clone(),
            base_sha: base,
            draft: pr.draft,
            open: pr.state.is_empty() || pr.state == "OPEN",
            web_url: pr.links.html.and_then(|h| h.href),
            iteration: None,
            source_branch,
        })
    }

    async fn diff(&self, t: &Target<'_>) -> Result<Vec<ChangedFile>, CallError> {
        let url = format!("{}/diff", self.pr_path(t));
        self.stream_diff(t, &url).await
    }

    /// A `git diff` answer read as it streams in: at most the job's download budget read,
    /// at most the per-answer cap of hunks kept, ignored files' hunks dropped; what did not
    /// fit is noted in the job's downloads (named in the prompt and the summary).
    async fn stream_diff(&self, t: &Target<'_>, url: &str) -> Result<Vec<ChangedFile>, CallError> {
        let d = t.downloads;
        let mut answer = http::open(self.get(t.token, url), d.job_left()).await?;
        let ignore = |path: &str| d.ignores(path);
        let mut reader = GitDiffReader::new(d.per_answer(), &ignore);
        let complete = loop {
            match answer.chunk(d).await {
                Ok(Some(chunk)) => reader.push(chunk.as_ref()),
                Ok(None) => break true,
                Err(CallError::TooLarge { .. }) => break false,
                Err(e) => return Err(e),
            }
        };
        let streamed = reader.finish(complete);
        for path in &streamed.too_large {
            d.too_large(path);
        }
        if streamed.unread {
            d.unread();
        }
        Ok(streamed.files)
    }

    /// What changed from `since` to the head, if the head descends from `since`.
    async fn diff_since(
        &self,
        t: &Target<'_>,
        pr: &PullRequest,
        since: &str,
    ) -> Result<Option<Vec<ChangedFile>>, CallError> {
        let spec = format!("{}..{}", encode(&pr.head_sha), encode(since));
        let url = format!("{}/merge-base/{spec}", self.repo_path(t));
        let Some(body) = send_found(t.downloads, self.get(t.token, &url)).await? else {
            return Ok(None);
        };
        let base: MergeBase = http::decode(&body, "Bitbucket")?;
        if !same_commit(&base.hash, since) {
            return Ok(None);
        }
        let url = format!("{}/diff/{spec}?topic=true", self.repo_path(t));
        match self.stream_diff(t, &url).await {
            Ok(files) => Ok(Some(files)),
            Err(CallError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn comments(&self, t: &Target<'_>) -> Result<Vec<Note>, CallError> {
        let mut all = Vec::new();
        let mut url = format!("{}/comments?pagelen=100", self.pr_path(t));
        for _ in 0..MAX_PAGES {
            let (_, body) = send(t.downloads, self.get(t.token, &url)).await?;
            let page: Page = http::decode(&body, "Bitbucket")?;
            all.extend(page.values.into_iter().map(|c| Note {
                id: c.id.to_string(),
                body: c.content.raw,
                url: c.links.html.and_then(|h| h.href),
            }));
            // Follow `next` only on the same API (never send the token elsewhere).
            match page.next {
                Some(next) if next.starts_with(&self.base) => url = next,
                _ => break,
            }
        }
        Ok(all)
    }
}

impl Bitbucket {
    /// A build status: `INPROGRESS | SUCCESSFUL | STOPPED | FAILED`. Its `url` is required:
    /// the review in the console, else the pull request's page, else no status.
    async fn build_status(&self, t: &Target<'_>, s: &CommitStatus) -> Result<(), CallError> {
        let Some(url) = s.target_url.as_ref().or(s.pr_url.as_ref()) else {
            return Ok(());
        };
        let mut payload = json!({
            "key": STATUS_CONTEXT,
            "state": s.state.name(Provider::Bitbucket),
            "name": STATUS_CONTEXT,
            "url": url,
            "description": s.description,
        });
        if let Some(branch) = &s.branch {
            payload["refname"] = json!(branch);
        }
        let url = format!("{}/commit/{}/statuses/build", self.repo_path(t), encode(&s.sha));
        let request = self.http.post(url).bearer_auth(t.token.expose_secret()).json(&payload);
        send(t.downloads, request).await.map(drop)
    }
}

impl CommentHost for Bitbucket {
    fn provider(&self) -> Provider {
        Provider::Bitbucket
    }

    fn fetch_pull<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, PullRequest> {
        Box::pin(self.pull(t))
    }

    fn fetch_files<'a>(&'a self, t: &'a Target<'a>, _pr: &'a PullRequest) -> HostFuture<'a, Vec<ChangedFile>> {
        Box::pin(self.diff(t))
    }

    fn fetch_files_since<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest, since: &'a str) -> Since<'a> {
        Box::pin(self.diff_since(t, pr, since))
    }

    fn notes<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, Vec<Note>> {
        Box::pin(self.comments(t))
    }

    /// `content.raw`, and for an inline comment `inline: {path, to}` (new side).
    fn comment_payload(&self, _p: &Posting<'_>, inline: Option<&InlineComment>, body: &str) -> serde_json::Value {
        match inline {
            Some(c) => json!({"content": {"raw": body}, "inline": {"path": c.path, "to": c.line}}),
            // Bitbucket renders no HTML: the walkthrough is not collapsed there.
            None => json!({"content": {"raw": crate::walkthrough::uncollapsed(body)}}),
        }
    }

    fn post_comment<'a>(
        &'a self,
        t: &'a Target<'a>,
        _pr: &'a PullRequest,
        _inline: bool,
        payload: serde_json::Value,
    ) -> HostFuture<'a, Posted> {
        Box::pin(async move {
            let request = self
                .http
                .post(format!("{}/comments", self.pr_path(t)))
                .bearer_auth(t.token.expose_secret())
                .json(&payload);
            let (_, body) = send(t.downloads, request).await?;
            let c: Comment = http::decode(&body, "Bitbucket")?;
            Ok(Posted {
                id: c.id.to_string(),
                url: c.links.html.and_then(|h| h.href),
            })
        })
    }

    fn put_status<'a>(&'a self, t: &'a Target<'a>, status: &'a CommitStatus) -> HostFuture<'a, ()> {
        Box::pin(self.build_status(t, status))
    }
}
