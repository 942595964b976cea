//! Azure DevOps Services REST 7.1 (`AGNUS_AZURE_DEVOPS_URL`, default `https://dev.azure.com`;
//! the connected repository is `org/project/repo`):
//! `GET {org}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}`,
//! `GET …/pullRequests/{id}/iterations` (the latest one's source and common commits),
//! `GET …/pullRequests/{id}/iterations/{n}/changes` (paged by `$top`/`$skip`), each changed
//! file's content at both commits (`GET …/items?path=…&includeContent=true&versionDescriptor…`)
//! diffed here (Azure DevOps serves no patches), `GET …/pullRequests/{id}/threads` (the
//! markers), and `POST …/pullRequests/{id}/threads`: one thread per inline comment with
//! `threadContext` {filePath, rightFileStart, rightFileEnd} on the new side, and the summary
//! as a thread without context. Credentials: a personal access token (HTTP Basic, empty
//! user name). The review's status: `POST …/pullRequests/{id}/statuses` (`state`,
//! `description`, `context` {name, genre}, `targetUrl`, `iterationId`).
//!
//! Incremental reviews: every push makes a new iteration. The last reviewed head is the
//! `sourceRefCommit` of an earlier iteration; the changes of the iterations after it are
//! `…/iterations/{latest}/changes?$compareTo={that one}`, diffed between the two commits.
//! An iteration made by a force push or a rebase (`reason`) in between, or no iteration
//! with that commit: full review.

use agnus_shared::domain::Provider;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::diff::{ChangedFile, unified_diff};
use crate::http::{self, CallError, encode, send, send_diff};
use crate::provider::{
    CommentHost, CommitStatus, HostFuture, Note, Posted, Posting, PullRequest, STATUS_CONTEXT, Since, Target,
    same_commit,
};
use crate::validate::InlineComment;

const API_VERSION: &str = "api-version=7.1";

#[derive(Debug, Clone)]
pub struct Azure {
    http: reqwest::Client,
    base: String,
    /// Contents are fetched until their diffs pass this many bytes (the review budget);
    /// later files are listed without a patch.
    max_diff_bytes: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    unique_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommitRef {
    #[serde(default)]
    commit_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PullJson {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    created_by: Identity,
    #[serde(default)]
    status: String,
    #[serde(default)]
    is_draft: bool,
    #[serde(default)]
    last_merge_source_commit: CommitRef,
    #[serde(default)]
    last_merge_target_commit: CommitRef,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Iteration {
    id: u64,
    #[serde(default)]
    source_ref_commit: CommitRef,
    #[serde(default)]
    common_ref_commit: CommitRef,
    /// `IterationReason` (flags): `push`, `forcePush`, `create`, `rebase`, … — as names
    /// (`"forcePush"`, `"push, forcePush"`) or as the number.
    #[serde(default)]
    reason: serde_json::Value,
}

impl Iteration {
    /// Made by a push that rewrote history (force push or rebase: flags 1 and 4).
    fn rewrote_history(&self) -> bool {
        match &self.reason {
            serde_json::Value::String(s) => {
                let s = s.to_ascii_lowercase();
                s.contains("forcepush") || s.contains("rebase")
            }
            serde_json::Value::Number(n) => n.as_u64().is_some_and(|n| n & (1 | 4) != 0),
            _ => false,
        }
    }
}

#[derive(Debug, Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    #[serde(default)]
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Change {
    #[serde(default)]
    item: Item,
    #[serde(default)]
    change_type: String,
    #[serde(default)]
    original_path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Changes {
    #[serde(default)]
    change_entries: Vec<Change>,
    #[serde(default)]
    next_skip: u64,
}

#[derive(Debug, Deserialize)]
struct Content {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ThreadComment {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Thread {
    id: u64,
    #[serde(default)]
    comments: Vec<ThreadComment>,
}

const PAGE: u64 = 100;
const MAX_PAGES: usize = 30;
/// Files whose contents are fetched at most (two requests each).
const MAX_FILES: usize = 100;

impl Azure {
    pub fn new(http: reqwest::Client, base: &str, max_diff_bytes: usize) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            max_diff_bytes,
        }
    }

    fn repo_path(&self, t: &Target<'_>) -> String {
        agnus_shared::provider_api::azure_repository(&self.base, t.full_name)
    }

    fn pr_path(&self, t: &Target<'_>) -> String {
        format!("{}/pullRequests/{}", self.repo_path(t), t.pr)
    }

    fn auth(&self, token: &SecretString, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let basic = STANDARD.encode(format!(":{}", token.expose_secret()));
        request.header("authorization", format!("Basic {basic}"))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, t: &Target<'_>, url: &str) -> Result<T, CallError> {
        let (_, body) = send(t.downloads, self.auth(t.token, self.http.get(url))).await?;
        http::decode(&body, "Azure DevOps")
    }

    async fn iterations(&self, t: &Target<'_>) -> Result<Vec<Iteration>, CallError> {
        let list: List<Iteration> = self
            .get_json(t, &format!("{}/iterations?{API_VERSION}", self.pr_path(t)))
            .await?;
        Ok(list.value)
    }

    async fn pull(&self, t: &Target<'_>) -> Result<PullRequest, CallError> {
        let pr: PullJson = self.get_json(t, &format!("{}?{API_VERSION}", self.pr_path(t))).await?;
        let iterations = self.iterations(t).await?;
        let last = iterations.iter().max_by_key(|i| i.id);
        let head = last
            .map(|i| i.source_ref_commit.commit_id.clone())
            .filter(|c| !c.is_empty())
            .unwrap_or(pr.last_merge_source_commit.commit_id);
        let base = last
            .map(|i| i.common_ref_commit.commit_id.clone())
            .filter(|c| !c.is_empty())
            .unwrap_or(pr.last_merge_target_commit.commit_id);
        let author = pr.created_by.unique_name.clone().unwrap_or_default();
        let (_, rest) = t.full_name.split_once('/').unwrap_or_default();
        let (project, repo) = rest.split_once('/').unwrap_or_default();
        let org = t.full_name.split('/').next().unwrap_or_default();
        Ok(PullRequest {
            author_is_bot: pr.created_by.display_name.ends_with("Build Service")
                || pr.created_by.display_name.ends_with("[bot]"),
            author: if author.is_empty() {
                pr.created_by.display_name
            } else {
                author
            },
            title: pr.title,
            description: pr.description.unwrap_or_default(),
            head_sha: head,
            start_sha: base.clone(),
            base_sha: base,
            draft: pr.is_draft,
            open: pr.status.is_empty() || pr.status == "active",
            web_url: Some(format!(
                "{}/{}/{}/_git/{}/pullrequest/{}",
                self.base,
                encode(org),
                encode(project),
                encode(repo),
                t.pr
            )),
            iteration: last.map(|i| i.id),
            source_branch: None,
        })
    }

    /// A file's text at a commit (`None`: absent, binary, or not text), within the job's
    /// download caps (`TooLarge` past them).
    async fn content(&self, t: &Target<'_>, path: &str, commit: &str) -> Result<Option<String>, CallError> {
        let url = format!(
            "{}/items?path={}&includeContent=true&versionDescriptor.versionType=commit&versionDescriptor.version={}&{API_VERSION}",
            self.repo_path(t),
            encode(&format!("/{path}")),
            encode(commit)
        );
        let answer = send_diff(t.downloads, self.auth(t.token, self.http.get(url)))
            .await
            .and_then(|(_, body)| http::decode::<Content>(&body, "Azure DevOps"));
        match answer {
            Ok(c) => Ok(c.content.filter(|text| !text.contains('\0'))),
            Err(CallError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn changes(&self, t: &Target<'_>, pr: &PullRequest) -> Result<Vec<ChangedFile>, CallError> {
        let Some(iteration) = pr.iteration else {
            return Ok(Vec::new());
        };
        self.changes_between(t, pr, iteration, None, &pr.base_sha).await
    }

    /// What changed in the iterations after the one whose source commit is `since`.
    async fn changes_since(
        &self,
        t: &Target<'_>,
        pr: &PullRequest,
        since: &str,
    ) -> Result<Option<Vec<ChangedFile>>, CallError> {
        let Some(latest) = pr.iteration else {
            return Ok(None);
        };
        let iterations = self.iterations(t).await?;
        let Some(reviewed) = iterations
            .iter()
            .filter(|i| same_commit(&i.source_ref_commit.commit_id, since))
            .map(|i| i.id)
            .max()
        else {
            return Ok(None);
        };
        let rewritten = iterations
            .iter()
            .any(|i| i.id > reviewed && i.id <= latest && i.rewrote_history());
        if reviewed >= latest || rewritten {
            return Ok(None);
        }
        let files = self.changes_between(t, pr, latest, Some(reviewed), since).await?;
        Ok(Some(files))
    }

    /// The changes of `iteration` (against `compare_to`, else the merge base), each file
    /// diffed from its content at `old_commit` to the head's.
    async fn changes_between(
        &self,
        t: &Target<'_>,
        pr: &PullRequest,
        iteration: u64,
        compare_to: Option<u64>,
        old_commit: &str,
    ) -> Result<Vec<ChangedFile>, CallError> {
        let compare = compare_to.map(|c| format!("$compareTo={c}&")).unwrap_or_default();
        let mut entries = Vec::new();
        let mut skip = 0;
        for _ in 0..MAX_PAGES {
            let url = format!(
                "{}/iterations/{iteration}/changes?{compare}$top={PAGE}&$skip={skip}&{API_VERSION}",
                self.pr_path(t)
            );
            let page: Changes = self.get_json(t, &url).await?;
            entries.extend(page.change_entries);
            if page.next_skip == 0 {
                break;
            }
            skip = page.next_skip;
        }
        let mut files = Vec::new();
        let mut used = 0usize;
        for (n, change) in entries.into_iter().enumerate() {
            let kind = change.change_type.to_ascii_lowercase();
            // Paths come as `/dir/file`; the review (and the comments' anchors) use `dir/file`.
            let path = change.item.path.trim_start_matches('/').to_owned();
            if path.is_empty() || kind.contains("folder") {
                continue;
            }
            let status = if kind.contains("add") {
                "added"
            } else if kind.contains("delete") {
                "removed"
            } else if kind.contains("rename") {
                "renamed"
            } else {
                "modified"
            };
            let old_path = change.original_path.map(|p| p.trim_start_matches('/').to_owned());
            // Ignored files are never fetched; past the job's download budget nothing is.
            let patch =
                if status == "removed" || n >= MAX_FILES || used > self.max_diff_bytes || t.downloads.ignores(&path) {
                    None
                } else if t.downloads.exhausted() {
                    t.downloads.too_large(&path);
                    None
                } else {
                    let old_side = old_path.as_deref().unwrap_or(&path);
                    match self
                        .both_sides(t, &path, old_side, status == "added", &pr.head_sha, old_commit)
                        .await
                    {
                        Err(CallError::TooLarge { .. }) => {
                            t.downloads.too_large(&path);
                            None
                        }
                        Err(e) => return Err(e),
                        Ok(Some((old, new))) => Some(unified_diff(&old, &new)).filter(|d| !d.is_empty()),
                        Ok(None) => None,
                    }
                };
            used += patch.as_ref().map_or(0, String::len);
            files.push(ChangedFile {
                path,
                status: status.to_owned(),
                patch,
                old_path,
            });
        }
        Ok(files)
    }

    /// A file's text before (`old_commit`, empty when added) and at the head.
    async fn both_sides(
        &self,
        t: &Target<'_>,
        path: &str,
        old_path: &str,
        added: bool,
        head: &str,
        old_commit: &str,
    ) -> Result<Option<(String, String)>, CallError> {
        let Some(new) = self.content(t, path, head).await? else {
            return Ok(None);
        };
        let old = if added {
            Some(String::new())
        } else {
            self.content(t, old_path, old_commit).await?
        };
        Ok(old.map(|old| (old, new)))
    }

    async fn threads(&self, t: &Target<'_>) -> Result<Vec<Note>, CallError> {
        let list: List<Thread> = self
            .get_json(t, &format!("{}/threads?{API_VERSION}", self.pr_path(t)))
            .await?;
        Ok(list
            .value
            .into_iter()
            .flat_map(|th| {
                let id = th.id.to_string();
                th.comments.into_iter().map(move |c| Note {
                    id: id.clone(),
                    body: c.content.unwrap_or_default(),
                    url: None,
                })
            })
            .collect())
    }
}

/// The genre of the review's pull request status (shown as `genre/name`).
const STATUS_GENRE: &str = "code-review";

impl Azure {
    /// A pull request status on the reviewed iteration: `pending | succeeded |
    /// notApplicable | error`. Without the iteration (a commit the pull request moved on
    /// from) there is nowhere to put it.
    async fn pr_status(&self, t: &Target<'_>, s: &CommitStatus) -> Result<(), CallError> {
        let Some(iteration) = s.iteration else {
            return Ok(());
        };
        let mut payload = json!({
            "state": s.state.name(Provider::Azure),
            "description": s.description,
            "context": {"name": STATUS_CONTEXT, "genre": STATUS_GENRE},
            "iterationId": iteration,
        });
        if let Some(url) = &s.target_url {
            payload["targetUrl"] = json!(url);
        }
        let url = format!("{}/statuses?{API_VERSION}", self.pr_path(t));
        send(t.downloads, self.auth(t.token, self.http.post(url)).json(&payload))
            .await
            .map(drop)
    }
}

impl CommentHost for Azure {
    fn provider(&self) -> Provider {
        Provider::Azure
    }

    fn fetch_pull<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, PullRequest> {
        Box::pin(self.pull(t))
    }

    fn fetch_files<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest) -> HostFuture<'a, Vec<ChangedFile>> {
        Box::pin(self.changes(t, pr))
    }

    fn fetch_files_since<'a>(&'a self, t: &'a Target<'a>, pr: &'a PullRequest, since: &'a str) -> Since<'a> {
        Box::pin(self.changes_since(t, pr, since))
    }

    fn notes<'a>(&'a self, t: &'a Target<'a>) -> HostFuture<'a, Vec<Note>> {
        Box::pin(self.threads(t))
    }

    /// A new active thread with one markdown text comment; an inline one is anchored by
    /// `threadContext` on the new side (`rightFileStart`/`rightFileEnd`).
    fn comment_payload(&self, _p: &Posting<'_>, inline: Option<&InlineComment>, body: &str) -> serde_json::Value {
        let mut payload = json!({
            "comments": [{"parentCommentId": 0, "content": body, "commentType": 1}],
            "status": 1,
        });
        if let Some(c) = inline {
            payload["threadContext"] = json!({
                "filePath": format!("/{}", c.path),
                "rightFileStart": {"line": c.line, "offset": 1},
                "rightFileEnd": {"line": c.line, "offset": 1},
            });
        }
        payload
    }

    fn post_comment<'a>(
        &'a self,
        t: &'a Target<'a>,
        pr: &'a PullRequest,
        _inline: bool,
        payload: serde_json::Value,
    ) -> HostFuture<'a, Posted> {
        Box::pin(async move {
            let url = format!("{}/threads?{API_VERSION}", self.pr_path(t));
            let (_, body) = send(t.downloads, self.auth(t.token, self.http.post(url)).json(&payload)).await?;
            let thread: Thread = http::decode(&body, "Azure DevOps")?;
            let id = thread.id.to_string();
            Ok(Posted {
                url: pr.web_url.as_ref().map(|u| format!("{u}?discussionId={id}")),
                id,
            })
        })
    }

    fn put_status<'a>(&'a self, t: &'a Target<'a>, status: &'a CommitStatus) -> HostFuture<'a, ()> {
        Box::pin(self.pr_status(t, status))
    }
}
