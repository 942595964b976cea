//! GitLab REST v4 (gitlab.com or self-managed: `AGNUS_GITLAB_URL`, `/api/v4` appended):
//! `GET /projects/:id/merge_requests/:iid` (title, author, `sha`, `diff_refs`, draft),
//! `GET …/merge_requests/:iid/diffs` (paged), `GET …/merge_requests/:iid/notes` (the
//! markers), `POST …/merge_requests/:iid/discussions` with a text `position` on the new
//! side (base/start/head sha, paths, `new_line`, and `old_line` for an unchanged line),
//! and the summary as `POST …/merge_requests/:iid/notes`. `:id` is the project's
//! URL-encoded path (`group%2Fsub%2Fproject`). The review's status:
//! `POST /projects/:id/statuses/:sha` (`state`, `name`, `description`, `target_url`).
//!
//! Incremental reviews: `GET /projects/:id/repository/merge_base?refs[]={since}&refs[]={head}`
//! must answer `since` itself (the new head descends from the last reviewed one; a force
//! push or rebase gives an older merge base, an unknown commit a 400/404: full review),
//! then `GET /projects/:id/repository/compare?from={since}&to={head}&straight=false` gives
//! the diffs of what was pushed since.

use agnus_shared::domain::Provider;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::diff::{ChangedFile, old_line_of};
use crate::http::{self, CallError, encode, send, send_diff, send_found};
use crate::provider::{
    CommentHost, CommitStatus, HostFuture, Note, Posted, Posting, PullRequest, STATUS_CONTEXT, Since, Target,
    same_commit,
};
use crate::validate::InlineComment;

#[derive(Debug, Clone)]
pub struct Gitlab {
    http: reqwest::Client,
    /// `…/api/v4`
    api: String,
}

#[derive(Debug, Deserialize)]
struct Author {
    #[serde(default)]
    username: String,
    #[serde(default)]
    bot: bool,
}

#[derive(Debug, Default, Deserialize)]
struct DiffRefs {
    #[serde(default)]
    base_sha: Option<String>,
    #[serde(default)]
    head_sha: Option<String>,
    #[serde(default)]
    start_sha: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MergeRequest {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: Option<String>,
    author: Option<Author>,
    #[serde(default)]
    sha: Option<String>,
    #[serde(default)]
    diff_refs: Option<DiffRefs>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    work_in_progress: bool,
    #[serde(default)]
    state: String,
    #[serde(default)]
    web_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Diff {
    #[serde(default)]
    old_path: String,
    new_path: String,
    #[serde(default)]
    diff: String,
    #[serde(default)]
    new_file: bool,
    #[serde(default)]
    renamed_file: bool,
    #[serde(default)]
    deleted_file: bool,
    #[serde(default)]
    too_large: Option<bool>,
}

/// `GET …/repository/compare`: the commits and diffs from `from` to `to`.
#[derive(Debug, Deserialize)]
struct Compare {
    #[serde(default)]
    commits: Vec<serde_json::Value>,
    #[serde(default)]
    diffs: Vec<Diff>,
    /// The comparison hit GitLab's limits: `diffs` may be incomplete.
    #[serde(default)]
    compare_timeout: bool,
}

/// `GET …/repository/merge_base`: the common ancestor commit.
#[derive(Debug, Deserialize)]
struct Commit {
    id: String,
}

#[derive(Debug, Deserialize)]
struct NoteJson {
    id: u64,
    #[serde(default)]
    body: String,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: serde_json::Value,
}

const PER_PAGE: usize = 100;
const MAX_PAGES: usize = 30;

/// GitLab's bot users: project/group access tokens (`project_7_bot_…`), `…-bot`, and
/// accounts the API marks `bot`.
fn is_bot(author: &Author) -> bool {
    let name = author.username.to_ascii_lowercase();
    author.bot || name.contains("_bot_") || name.ends_with("_bot") || name.ends_with("[bot]")
}

impl Gitlab {
    /// `base`: the instance (`https://gitlab.com`), with or without `/api/v4`.
    pub fn new(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            api: agnus_shared::provider_api::gitlab_api(base),
        }
    }

    fn mr_path(&self, t: &Target<'_>) -> String {
        format!("{}/projects/{}/merge_requests/{}", self.api, encode(t.full_name), t.pr)
    }

    fn get(&self, token: &SecretString, url: String) -> reqwest::RequestBuilder {
        self.http.get(url).bearer_auth(token.expose_secret())
    }

    /// Every page of a listing (`tail`: `diffs`, `notes`). Diffs are read within the
    /// job's download budget: a page over the caps ends the listing (the review says more
    /// files were not read).
    async fn pages<T: serde::de::DeserializeOwned>(
        &self,
        t: &Target<'_>,
        tail: &str,
        diff: bool,
    ) -> Result<Vec<T>, CallError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = format!("{}/{tail}?per_page={PER_PAGE}&page={page}", self.mr_path(t));
            let request = self.get(t.token, url);
            let read = if diff {
                send_diff(t.downloads, request).await
            } else {
                send(t.downloads, request).await
            };
            let body = match read {
                Ok((_, body)) => body,
                Err(CallError::TooLarge { .. }) if diff => {
                    t.downloads.unread();
                    break;
                }
                Err(e) => return Err(e),
            };
            let items: Vec<T> = http::decode(&body, "GitLab")?;
            let last = items.len() < PER_PAGE;
            all.extend(items);
            if last {
                break;
            }
        }
        Ok(all)
    }

    async fn merge_request(&self, t: &Target<'_>) -> Result<PullRequest, CallError> {
        let (_, body) = send(t.downloads, self.get(t.token, self.mr_path(t))).await?;
        let mr: MergeRequest = http::decode(&body, "GitLab")?;
        let refs = mr.diff_refs.unwrap_or_default();
        let head = refs.head_sha.or(mr.sha).unwrap_or_default();
        let base = refs.base_sha.unwrap_or_default();
        Ok(PullRequest {
            author_is_bot: mr.author.as_ref().is_some_and(is_bot),
            author: mr.author.map(|a| a.username).unwrap_or_default(),
            title: mr.title,
            description: mr.description.unwrap_or_default(),
            start_sha: refs.start_sha.unwrap_or_else(|| base.clone()),
            base_sha: base,
            head_sha: head,
            draft: mr.draft || mr.work_in_progress,
            open: mr.state.is_empty() || mr.state == "opened",
            web_url: mr.web_url,
            iteration: None,
            source_branch: None,
        })
    }

    async fn diffs(&self, t: &Target<'_>) -> Result<Vec<ChangedFile>, CallError> {
        let diffs: Vec<Diff> = self.pages(t, "diffs", true).await?;
        for d in diffs.iter().filter(|d| d.too_large == Some(true)) {
            t.downloads.too_large(&d.new_path);
        }
        Ok(diffs.into_iter().map(into_changed).collect())
    }

    /// What changed from `since` to the head, if the head descends from `since`.
    async fn diffs_since(
        &self,
        t: &Target<'_>,
        pr: &PullRequest,
        since: &str,
    ) -> Result<Option<Vec<ChangedFile>>, CallError> {
        let repository = format!("{}/projects/{}/repository", self.api, encode(t.full_name));
        let url = format!(
            "{repository}/merge_base?refs%5B%5D={}&refs%5B%5D={}",
            encode(since),
            encode(&pr.head_sha)
        );
        let base = match send_found(t.downloads, self.get(t.token, url)).await {
            Ok(Some(body)) => http::decode::<Commit>(&body, "GitLab")?,
            // No common ancestor (404), an unknown commit (400 "Could not find ref").
            Ok(None) | Err(CallError::Rejected { status: 400, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !same_commit(&base.id, since) {
            return Ok(None);
        }
        let url = format!(
            "{repository}/compare?from={}&to={}&straight=false",
            encode(since),
            encode(&pr.head_sha)
        );
        // Unknown to the host, or over the caps: review everything (page by page).
        let body = match send_diff(t.downloads, self.get(t.token, url)).await {
            Ok((_, body)) => body,
            Err(CallError::NotFound | CallError::TooLarge { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let compare: Compare = http::decode(&body, "GitLab")?;
        // No commits: GitLab could not resolve one side; a timeout: the diffs are partial.
        if compare.commits.is_empty() || compare.compare_timeout {
            return Ok(None);
        }
        Ok(Some(compare.diffs.into_iter().map(into_changed).collect()))
    }

    async fn all_notes(&self, t: &Target<'_>) -> Result<Vec<Note>, CallError> {
        let notes: Vec<NoteJson> = self.pages(t, "notes", false).await?;
        Ok(notes
            .into_iter()
            .map(|n| Note {
                id: n.id.to_string(),
                body: n.body,
                url: None,
            })
            .collect())
    }

    /// The discussion's `position`: new-side line, plus the old-side line when the line
    /// is unchanged (GitLab requires both for context lines).
    pub fn position(pr: &PullRequest, files: &[ChangedFile], c: &InlineComment) -> serde_json::Value {
        let file = files.iter().find(|f| f.path == c.path);
        let old_path = file.and_then(|f| f.old_path.clone()).unwrap_or_else(|| c.path.clone());
        let mut position = json!({
            "position_type": "text",
            "base_sha": pr.base_sha,
            "start_sha": pr.start_sha,
            "head_sha": pr.head_sha,
            "old_path": old_path,
            "new_path": c.path,
            "new_line": c.line,
        });
        if let Some(old) = file
            .and_then(|f| f.patch.as_deref())
            .and_then(|p| old_line_of(p, c.line))
        {
            position["old_line"] = json!(old);
        }
        position
    }
}

/// A GitLab diff entry as a changed file (the compare API's `diff` may start with the
/// `---`/`+++` lines: the hunks start at the first `@@`).
fn into_changed(d: Diff) -> ChangedFile {
    let status = if d.new_file {
        "added"
    } else if d.deleted_file {
        "removed"
    } else if d.renamed_file {
        "renamed"
    } else {
        "modified"
    };
    let hunks = match d.diff.find("@@") {
        Some(0) | None => d.diff,
        Some(at) => d.diff[at..].to_owned(),
    };
    ChangedFile {
        // Binary and too-large files come with an empty `diff`.
        patch: (!hunks.is_empty() && d.too_large != Some(true)).then_some(hunks),
        old_path: (d.old_path != d.new_path && !d.old_path.is_empty()).then_some(d.old_path),
        path: d.new_path,
        status: status.to_owned(),
    }
}

impl Gitlab {
    /// A commit status: `running | success | skipped | failed`.
    async fn commit_status(&self, t: &Target<'_>, s: &CommitStatus) -> Result<(), CallError> {
        let mut payload = json!({
            "state": s.state.name(Provider::Gitlab),
            "name": STATUS_CONTEXT,
            "description": s.description,
        });
        if let Some(url) = &s.target_url {
            payload["target_url"] = json!(url);
        }
        let url = format!(
            "{}/projects/{}/statuses/{}",
            self.api,
            encode(t.full_name),
            encode(&s.sha)
        );
        let request = self.http.post(url).bearer_auth(t.token.expose_secret()).json(&payload);
        send(t.downloads, request).await.map(drop)
    }
}

impl CommentHost for Gitlab {
    fn provider(&self) -> Provider {
        Provider::Gitlab
    }

    fn fetch_pull<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, PullRequest> {
        Box::pin(self.merge_request(t))
    }

    fn fetch_files<'a>(&'a self, t: &'a Target<'a>, _pr: &'a PullRequest) -> HostFuture<'a, Vec<ChangedFile>> {
        Box::pin(self.diffs(t))
    }

    fn fetch_files_since<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest, since: &'a str) -> Since<'a> {
        Box::pin(self.diffs_since(t, pr, since))
    }

    fn notes<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, Vec<Note>> {
        Box::pin(self.all_notes(t))
    }

    /// A discussion with a text position, or (the summary) a plain note.
    fn comment_payload(&self, p: &Posting<'_>, inline: Option<&InlineComment>, body: &str) -> serde_json::Value {
        match inline {
            Some(c) => json!({"body": body, "position": Self::position(p.pr, p.files, c)}),
            None => json!({"body": body}),
        }
    }

    fn post_comment<'a>(
        &'a self,
        t: &'a Target<'a>,
        pr: &'a PullRequest,
        inline: bool,
        payload: serde_json::Value,
    ) -> HostFuture<'a, Posted> {
        Box::pin(async move {
            let tail = if inline { "discussions" } else { "notes" };
            let request = self
                .http
                .post(format!("{}/{tail}", self.mr_path(t)))
                .bearer_auth(t.token.expose_secret())
                .json(&payload);
            let (_, created) = send(t.downloads, request).await?;
            let created: Created = http::decode(&created, "GitLab")?;
            let id = match created.id {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            Ok(Posted {
                url: pr.web_url.as_ref().map(|u| format!("{u}#note_{id}")),
                id,
            })
        })
    }

    fn put_status<'a>(&'a self, t: &'a Target<'a>, status: &'a CommitStatus) -> HostFuture<'a, ()> {
        Box::pin(self.commit_status(t, status))
    }
}
