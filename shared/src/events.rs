//! Pull-request events, normalized across providers (pure, unit-tested against the
//! providers' published example payloads in tests/fixtures).

use serde_json::Value;

use crate::domain::{Provider, RepoRef};

/// What a review is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrAction {
    Opened,
    Synchronize,
    Reopened,
    Mention,
    Manual,
}

/// A pull-request event that asks for a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrEvent {
    pub repo: RepoRef,
    pub pr_number: u64,
    pub head_sha: Option<String>,
    pub action: PrAction,
    pub title: Option<String>,
    pub author: Option<String>,
    /// The comment of a [`PrAction::Mention`] candidate: whether it asks for a review is
    /// decided with the repository's settings and identity ([`crate::trigger`]).
    pub comment: Option<Comment>,
}

/// A comment on a pull request, as far as deciding whether it asks for a review needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub body: String,
    /// The provider's stable id of the commenter (GitHub/GitLab user id, Bitbucket uuid,
    /// Azure DevOps identity id), compared with the repository token's identity.
    pub author_id: Option<String>,
    /// The commenter's login or name (compared too, case-insensitively).
    pub author_login: Option<String>,
    /// The provider says the commenter is a bot or an app (see [`crate::trigger`]).
    pub author_is_bot: bool,
}

/// The worker's verdict on an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normalized {
    Review(PrEvent),
    /// A push to the default branch: the repository's index follows it.
    Push(crate::push::PushEvent),
    /// Not a review trigger; the reason is recorded.
    Skip(&'static str),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed payload: {0}")]
pub struct MalformedPayload(pub String);

/// Longest title kept (the providers allow 255–400 characters; a 4 MB delivery must not
/// make a job record over DynamoDB's item size).
pub const MAX_TITLE_CHARS: usize = 512;
/// Longest author handle kept.
pub const MAX_AUTHOR_CHARS: usize = 256;
/// Longest head commit id kept (SHA-256 object ids are 64 hex digits); anything longer, or
/// not alphanumeric, is no commit id and is dropped (the review then reads the head).
pub const MAX_SHA_CHARS: usize = 64;

/// The first `max` characters of `s`.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => s[..end].to_owned(),
        None => s.to_owned(),
    }
}

/// Bounds what a payload may make an event carry.
fn bounded(mut e: PrEvent) -> PrEvent {
    e.title = e.title.map(|t| clip(&t, MAX_TITLE_CHARS));
    e.author = e.author.map(|a| clip(&a, MAX_AUTHOR_CHARS));
    if let Some(c) = e.comment.as_mut() {
        c.author_login = c.author_login.as_deref().map(|a| clip(a, MAX_AUTHOR_CHARS));
        c.author_id = c.author_id.as_deref().map(|a| clip(a, MAX_AUTHOR_CHARS));
    }
    e.head_sha = e
        .head_sha
        .filter(|h| !h.is_empty() && h.len() <= MAX_SHA_CHARS && h.bytes().all(|b| b.is_ascii_alphanumeric()));
    e
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_str()
}
fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_u64()
}
fn bool_at(v: &Value, path: &[&str]) -> bool {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn id_at(v: &Value, path: &[&str]) -> Option<String> {
    let found = path.iter().try_fold(v, |v, k| v.get(*k))?;
    match found {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A comment event's comment (`None`: no text, nothing can ask for a review).
fn comment(body: Option<&str>, author_id: Option<String>, login: Option<&str>, is_bot: bool) -> Option<Comment> {
    Some(Comment {
        body: body?.to_owned(),
        author_id,
        author_login: login.map(str::to_owned),
        author_is_bot: is_bot,
    })
}

fn repo(provider: Provider, full_name: Option<&str>) -> Result<RepoRef, MalformedPayload> {
    let name = full_name.ok_or_else(|| MalformedPayload("no repository name".into()))?;
    RepoRef::parse(provider, name).map_err(|e| MalformedPayload(e.message))
}

/// Normalizes a verified delivery. A comment comes back as a [`PrAction::Mention`]
/// candidate with its [`Comment`]: whether it asks for a review depends on the
/// repository's settings and identity, which the worker knows ([`crate::trigger`]). Any
/// bytes give an error or a verdict, never a panic; titles, authors and commit ids are
/// bounded ([`MAX_TITLE_CHARS`]…).
pub fn normalize(provider: Provider, event: &str, payload: &[u8]) -> Result<Normalized, MalformedPayload> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| MalformedPayload(e.to_string()))?;
    if !v.is_object() {
        return Err(MalformedPayload("not a JSON object".into()));
    }
    match crate::push::parse(provider, event, &v) {
        Some(Ok(push)) => return Ok(Normalized::Push(push)),
        Some(Err(crate::push::NotFollowed::NotDefaultBranch)) => {
            return Ok(Normalized::Skip("push_not_default_branch"));
        }
        Some(Err(crate::push::NotFollowed::Malformed)) => {
            return Err(MalformedPayload("a push without its repository or ref".into()));
        }
        None => {}
    }
    let normalized = match provider {
        Provider::Github => github(event, &v),
        Provider::Gitlab => gitlab(event, &v),
        Provider::Azure => azure(&v),
        Provider::Bitbucket => bitbucket(event, &v),
    }?;
    Ok(match normalized {
        Normalized::Review(e) => Normalized::Review(bounded(e)),
        skip => skip,
    })
}

fn github(event: &str, v: &Value) -> Result<Normalized, MalformedPayload> {
    match event {
        "pull_request" => {
            let action = match str_at(v, &["action"]) {
                Some("opened" | "ready_for_review") => PrAction::Opened,
                Some("synchronize") => PrAction::Synchronize,
                Some("reopened") => PrAction::Reopened,
                _ => return Ok(Normalized::Skip("unsupported_action")),
            };
            if bool_at(v, &["pull_request", "draft"]) {
                return Ok(Normalized::Skip("draft_pr"));
            }
            Ok(Normalized::Review(PrEvent {
                repo: repo(Provider::Github, str_at(v, &["repository", "full_name"]))?,
                pr_number: u64_at(v, &["pull_request", "number"])
                    .or_else(|| u64_at(v, &["number"]))
                    .ok_or_else(|| MalformedPayload("no pull request number".into()))?,
                head_sha: str_at(v, &["pull_request", "head", "sha"]).map(str::to_owned),
                action,
                title: str_at(v, &["pull_request", "title"]).map(str::to_owned),
                author: str_at(v, &["pull_request", "user", "login"]).map(str::to_owned),
                comment: None,
            }))
        }
        "issue_comment" => {
            if str_at(v, &["action"]) != Some("created") || v.pointer("/issue/pull_request").is_none() {
                return Ok(Normalized::Skip("not_a_pull_request_comment"));
            }
            let login = str_at(v, &["comment", "user", "login"]);
            let is_bot = str_at(v, &["comment", "user", "type"]).is_some_and(|t| !t.eq_ignore_ascii_case("User"))
                || v.pointer("/comment/performed_via_github_app")
                    .is_some_and(|a| !a.is_null())
                || login.is_some_and(|l| l.ends_with("[bot]"));
            let Some(comment) = comment(
                str_at(v, &["comment", "body"]),
                id_at(v, &["comment", "user", "id"]),
                login,
                is_bot,
            ) else {
                return Ok(Normalized::Skip("no_mention"));
            };
            Ok(Normalized::Review(PrEvent {
                repo: repo(Provider::Github, str_at(v, &["repository", "full_name"]))?,
                pr_number: u64_at(v, &["issue", "number"]).ok_or_else(|| MalformedPayload("no issue number".into()))?,
                head_sha: None,
                action: PrAction::Mention,
                title: str_at(v, &["issue", "title"]).map(str::to_owned),
                author: login.map(str::to_owned),
                comment: Some(comment),
            }))
        }
        _ => Ok(Normalized::Skip("unsupported_event")),
    }
}

fn gitlab(event: &str, v: &Value) -> Result<Normalized, MalformedPayload> {
    let kind = str_at(v, &["object_kind"]).unwrap_or(event);
    match kind {
        "merge_request" | "Merge Request Hook" => {
            let attrs = &v["object_attributes"];
            let action = match str_at(attrs, &["action"]) {
                Some("open") => PrAction::Opened,
                Some("reopen") => PrAction::Reopened,
                // An update without `oldrev` changed metadata, not code.
                Some("update") if attrs.get("oldrev").is_some_and(|o| !o.is_null()) => PrAction::Synchronize,
                Some("update") => return Ok(Normalized::Skip("no_new_commits")),
                _ => return Ok(Normalized::Skip("unsupported_action")),
            };
            if bool_at(attrs, &["draft"]) || bool_at(attrs, &["work_in_progress"]) {
                return Ok(Normalized::Skip("draft_pr"));
            }
            Ok(Normalized::Review(PrEvent {
                repo: repo(Provider::Gitlab, str_at(v, &["project", "path_with_namespace"]))?,
                pr_number: u64_at(attrs, &["iid"]).ok_or_else(|| MalformedPayload("no merge request iid".into()))?,
                head_sha: str_at(attrs, &["last_commit", "id"]).map(str::to_owned),
                action,
                title: str_at(attrs, &["title"]).map(str::to_owned),
                author: str_at(v, &["user", "username"]).map(str::to_owned),
                comment: None,
            }))
        }
        "note" | "Note Hook" => {
            if str_at(v, &["object_attributes", "noteable_type"]) != Some("MergeRequest") {
                return Ok(Normalized::Skip("not_a_pull_request_comment"));
            }
            let login = str_at(v, &["user", "username"]);
            // GitLab's webhooks carry no bot flag; its bot users have reserved names.
            let is_bot =
                login.is_some_and(crate::trigger::gitlab_bot_username) || bool_at(v, &["object_attributes", "system"]);
            let Some(comment) = comment(
                str_at(v, &["object_attributes", "note"]),
                id_at(v, &["user", "id"]).or_else(|| id_at(v, &["object_attributes", "author_id"])),
                login,
                is_bot,
            ) else {
                return Ok(Normalized::Skip("no_mention"));
            };
            Ok(Normalized::Review(PrEvent {
                repo: repo(Provider::Gitlab, str_at(v, &["project", "path_with_namespace"]))?,
                pr_number: u64_at(v, &["merge_request", "iid"])
                    .ok_or_else(|| MalformedPayload("no merge request iid".into()))?,
                head_sha: str_at(v, &["merge_request", "last_commit", "id"]).map(str::to_owned),
                action: PrAction::Mention,
                title: str_at(v, &["merge_request", "title"]).map(str::to_owned),
                author: login.map(str::to_owned),
                comment: Some(comment),
            }))
        }
        _ => Ok(Normalized::Skip("unsupported_event")),
    }
}

fn azure(v: &Value) -> Result<Normalized, MalformedPayload> {
    let r = &v["resource"];
    let mut said = None;
    let (action, pr) = match str_at(v, &["eventType"]) {
        Some("git.pullrequest.created") => (PrAction::Opened, r),
        Some("git.pullrequest.updated") => (PrAction::Synchronize, r),
        Some("ms.vss-code.git-pullrequest-comment-event") => {
            let author = &r["comment"]["author"];
            // Service identities (build service, apps) have `svc.`/`s2s.` descriptors;
            // system comments are the service's own.
            let is_bot = str_at(author, &["descriptor"]).is_some_and(crate::trigger::azure_service_descriptor)
                || str_at(r, &["comment", "commentType"]).is_some_and(|t| t.eq_ignore_ascii_case("system"));
            said = comment(
                str_at(r, &["comment", "content"]),
                id_at(author, &["id"]),
                str_at(author, &["uniqueName"]),
                is_bot,
            );
            if said.is_none() {
                return Ok(Normalized::Skip("no_mention"));
            }
            (PrAction::Mention, &r["pullRequest"])
        }
        _ => return Ok(Normalized::Skip("unsupported_event")),
    };
    if matches!(str_at(pr, &["status"]), Some("abandoned" | "completed")) {
        return Ok(Normalized::Skip("pull_request_closed"));
    }
    if bool_at(pr, &["isDraft"]) {
        return Ok(Normalized::Skip("draft_pr"));
    }
    let remote = str_at(pr, &["repository", "remoteUrl"]).or_else(|| str_at(pr, &["repository", "webUrl"]));
    Ok(Normalized::Review(PrEvent {
        repo: repo(Provider::Azure, remote)?,
        pr_number: u64_at(pr, &["pullRequestId"]).ok_or_else(|| MalformedPayload("no pullRequestId".into()))?,
        head_sha: str_at(pr, &["lastMergeSourceCommit", "commitId"]).map(str::to_owned),
        action,
        title: str_at(pr, &["title"]).map(str::to_owned),
        author: str_at(pr, &["createdBy", "uniqueName"]).map(str::to_owned),
        comment: said,
    }))
}

fn bitbucket(event: &str, v: &Value) -> Result<Normalized, MalformedPayload> {
    let mut said = None;
    let action = match event {
        "pullrequest:created" => PrAction::Opened,
        "pullrequest:updated" => PrAction::Synchronize,
        "pullrequest:comment_created" => {
            let actor = &v["actor"];
            // Bitbucket's accounts are `user`s; apps and integrations act as `app_user`
            // (or a `team`).
            let is_bot = str_at(actor, &["type"]).is_some_and(|t| t != "user");
            said = comment(
                str_at(v, &["comment", "content", "raw"]),
                id_at(actor, &["uuid"]).or_else(|| id_at(actor, &["account_id"])),
                str_at(actor, &["nickname"]),
                is_bot,
            );
            if said.is_none() {
                return Ok(Normalized::Skip("no_mention"));
            }
            PrAction::Mention
        }
        _ => return Ok(Normalized::Skip("unsupported_event")),
    };
    let pr = &v["pullrequest"];
    if bool_at(pr, &["draft"]) {
        return Ok(Normalized::Skip("draft_pr"));
    }
    Ok(Normalized::Review(PrEvent {
        repo: repo(Provider::Bitbucket, str_at(v, &["repository", "full_name"]))?,
        pr_number: u64_at(pr, &["id"]).ok_or_else(|| MalformedPayload("no pull request id".into()))?,
        head_sha: str_at(pr, &["source", "commit", "hash"]).map(str::to_owned),
        action,
        title: str_at(pr, &["title"]).map(str::to_owned),
        author: str_at(v, &["actor", "nickname"])
            .or_else(|| str_at(v, &["actor", "display_name"]))
            .map(str::to_owned),
        comment: said,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn review(provider: Provider, event: &str, path: &str) -> PrEvent {
        match normalize(provider, event, &fixture(path)).unwrap() {
            Normalized::Review(e) => e,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn github_published_examples() {
        let e = review(Provider::Github, "pull_request", "github/pull_request.opened.json");
        assert_eq!(e.repo.full_name, "codertocat/hello-world");
        assert_eq!(e.pr_number, 2);
        assert_eq!(e.head_sha.as_deref(), Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821"));
        assert_eq!(e.action, PrAction::Opened);
        assert_eq!(
            review(Provider::Github, "pull_request", "github/pull_request.synchronize.json").action,
            PrAction::Synchronize
        );
        assert_eq!(
            review(Provider::Github, "pull_request", "github/pull_request.reopened.json").action,
            PrAction::Reopened
        );
        let closed = normalize(
            Provider::Github,
            "pull_request",
            &fixture("github/pull_request.closed.json"),
        );
        assert_eq!(closed.unwrap(), Normalized::Skip("unsupported_action"));
        let ping = normalize(Provider::Github, "ping", &fixture("github/ping.json"));
        assert_eq!(ping.unwrap(), Normalized::Skip("unsupported_event"));
    }

    #[test]
    fn github_drafts_and_comment_mentions() {
        let mut v: Value = serde_json::from_slice(&fixture("github/pull_request.opened.json")).unwrap();
        v["pull_request"]["draft"] = Value::Bool(true);
        let draft = normalize(Provider::Github, "pull_request", v.to_string().as_bytes()).unwrap();
        assert_eq!(draft, Normalized::Skip("draft_pr"));

        let mut c: Value = serde_json::from_slice(&fixture("github/issue_comment.created.json")).unwrap();
        // The published example is an issue comment; a PR comment carries issue.pull_request.
        assert_eq!(
            normalize(Provider::Github, "issue_comment", c.to_string().as_bytes()).unwrap(),
            Normalized::Skip("not_a_pull_request_comment")
        );
        c["issue"]["pull_request"] =
            serde_json::json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"});
        c["comment"]["body"] = Value::from("@AgnUS please review");
        match normalize(Provider::Github, "issue_comment", c.to_string().as_bytes()).unwrap() {
            Normalized::Review(e) => {
                assert_eq!((e.action, e.pr_number, e.head_sha), (PrAction::Mention, 1, None));
                let comment = e.comment.unwrap();
                assert_eq!(comment.body, "@AgnUS please review");
                assert_eq!(comment.author_login.as_deref(), Some("Codertocat"));
                assert!(comment.author_id.is_some());
                assert!(!comment.author_is_bot);
            }
            other => panic!("{other:?}"),
        }
        // An app's or a bot account's comment is flagged as such.
        for (field, value) in [
            ("type", Value::from("Bot")),
            ("app", serde_json::json!({"id": 1, "slug": "x"})),
            ("login", Value::from("renovate[bot]")),
        ] {
            let mut bot = c.clone();
            match field {
                "app" => bot["comment"]["performed_via_github_app"] = value,
                _ => bot["comment"]["user"][field] = value,
            }
            match normalize(Provider::Github, "issue_comment", bot.to_string().as_bytes()).unwrap() {
                Normalized::Review(e) => assert!(e.comment.unwrap().author_is_bot, "{field}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn gitlab_published_examples() {
        let e = review(Provider::Gitlab, "Merge Request Hook", "gitlab/merge_request.open.json");
        assert_eq!(e.repo.full_name, "gitlabhq/gitlab-test");
        assert_eq!((e.pr_number, e.action), (1, PrAction::Opened));
        assert_eq!(e.head_sha.as_deref(), Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7"));
        let mut v: Value = serde_json::from_slice(&fixture("gitlab/merge_request.open.json")).unwrap();
        v["object_attributes"]["action"] = Value::from("update");
        assert_eq!(
            normalize(Provider::Gitlab, "Merge Request Hook", v.to_string().as_bytes()).unwrap(),
            Normalized::Skip("no_new_commits")
        );
        v["object_attributes"]["oldrev"] = Value::from("abc");
        assert!(matches!(
            normalize(Provider::Gitlab, "Merge Request Hook", v.to_string().as_bytes()).unwrap(),
            Normalized::Review(PrEvent {
                action: PrAction::Synchronize,
                ..
            })
        ));
        let mut note: Value = serde_json::from_slice(&fixture("gitlab/note.merge_request.json")).unwrap();
        note["object_attributes"]["note"] = Value::from("hey @agnus, look");
        match normalize(Provider::Gitlab, "Note Hook", note.to_string().as_bytes()).unwrap() {
            Normalized::Review(e) => assert_eq!(
                (e.action, e.pr_number, e.repo.full_name.as_str()),
                (PrAction::Mention, 1, "gitlab-org/gitlab-test")
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn azure_published_examples() {
        let e = review(
            Provider::Azure,
            "git.pullrequest.created",
            "azure/git.pullrequest.created.json",
        );
        assert_eq!(e.repo.full_name, "fabrikam/defaultcollection/fabrikam");
        assert_eq!((e.pr_number, e.action), (1, PrAction::Opened));
        assert_eq!(e.head_sha.as_deref(), Some("53d54ac915144006c2c9e90d2c7d3880920db49c"));
        // The published "updated" example is a completion: nothing to review.
        let updated = normalize(
            Provider::Azure,
            "git.pullrequest.updated",
            &fixture("azure/git.pullrequest.updated.json"),
        );
        assert_eq!(updated.unwrap(), Normalized::Skip("pull_request_closed"));
    }

    #[test]
    fn bitbucket_documented_example() {
        let e = review(
            Provider::Bitbucket,
            "pullrequest:created",
            "bitbucket/pullrequest.created.json",
        );
        assert_eq!(e.repo.full_name, "team_name/repo_name");
        assert_eq!((e.pr_number, e.head_sha.as_deref()), (1, Some("d3022fc0ca3d")));
        let other = normalize(
            Provider::Bitbucket,
            "repo:push",
            &fixture("bitbucket/pullrequest.created.json"),
        );
        assert_eq!(other.unwrap(), Normalized::Skip("push_not_default_branch"));
    }

    /// The providers' examples, each with the fields `normalize` reads.
    const SHAPES: [(Provider, &str, &str, &[&str]); 7] = [
        (
            Provider::Github,
            "pull_request",
            "github/pull_request.opened.json",
            &[
                "/action",
                "/pull_request/draft",
                "/repository/full_name",
                "/pull_request/number",
                "/pull_request/head/sha",
                "/pull_request/title",
                "/pull_request/user/login",
            ],
        ),
        (
            Provider::Github,
            "issue_comment",
            "github/issue_comment.created.json",
            &[
                "/action",
                "/issue/pull_request",
                "/comment/body",
                "/repository/full_name",
                "/issue/number",
                "/issue/title",
                "/comment/user/login",
            ],
        ),
        (
            Provider::Gitlab,
            "Merge Request Hook",
            "gitlab/merge_request.open.json",
            &[
                "/object_kind",
                "/object_attributes/action",
                "/object_attributes/oldrev",
                "/project/path_with_namespace",
                "/object_attributes/iid",
                "/object_attributes/last_commit/id",
                "/object_attributes/title",
                "/user/username",
            ],
        ),
        (
            Provider::Gitlab,
            "Note Hook",
            "gitlab/note.merge_request.json",
            &[
                "/object_attributes/noteable_type",
                "/object_attributes/note",
                "/project/path_with_namespace",
                "/merge_request/iid",
                "/merge_request/last_commit/id",
                "/merge_request/title",
                "/user/username",
            ],
        ),
        (
            Provider::Azure,
            "git.pullrequest.created",
            "azure/git.pullrequest.created.json",
            &[
                "/eventType",
                "/resource/status",
                "/resource/isDraft",
                "/resource/repository/remoteUrl",
                "/resource/pullRequestId",
                "/resource/lastMergeSourceCommit/commitId",
                "/resource/title",
                "/resource/createdBy/uniqueName",
            ],
        ),
        (
            Provider::Azure,
            "git.pullrequest.updated",
            "azure/git.pullrequest.updated.json",
            &[
                "/eventType",
                "/resource/status",
                "/resource/repository/remoteUrl",
                "/resource/pullRequestId",
            ],
        ),
        (
            Provider::Bitbucket,
            "pullrequest:created",
            "bitbucket/pullrequest.created.json",
            &[
                "/pullrequest/draft",
                "/repository/full_name",
                "/pullrequest/id",
                "/pullrequest/source/commit/hash",
                "/pullrequest/title",
                "/actor/nickname",
                "/actor/display_name",
            ],
        ),
    ];

    /// Any JSON value a field could hold: text of any script (and long), numbers of any
    /// sign and size, booleans, null, arrays, objects.
    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<String>().prop_map(Value::from),
            "\\PC{0,3}".prop_map(|s| Value::from(s.repeat(2_000))),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
            Just(Value::from("https://dev.azure.com/o/p%20q/_git/r%ZZ")),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Long text of any script, and text shaped like a commit id but too long.
    fn long_text() -> impl Strategy<Value = Value> {
        prop_oneof![
            "\\PC{1,3}".prop_map(|s| Value::from(s.repeat(1_000))),
            "[0-9a-f]{65,80}".prop_map(Value::from),
            "[0-9a-f]{8}[^0-9a-zA-Z]".prop_map(Value::from),
        ]
    }

    proptest! {
        #[test]
        fn any_bytes_are_an_error_or_a_verdict(payload in prop::collection::vec(any::<u8>(), 0..200), event in any::<String>()) {
            for provider in [Provider::Github, Provider::Gitlab, Provider::Azure, Provider::Bitbucket] {
                let _ = normalize(provider, &event, &payload);
            }
        }

        #[test]
        fn mutated_examples_never_panic_and_keep_their_bounds(
            shape in 0..SHAPES.len(),
            edits in prop::collection::vec((0usize..8, prop_oneof![2 => long_text(), 3 => any_value()]), 1..4),
        ) {
            let (provider, event, file, fields) = SHAPES[shape];
            let mut v: Value = serde_json::from_slice(&fixture(file)).unwrap();
            for (field, value) in edits {
                if let Some(slot) = v.pointer_mut(fields[field % fields.len()]) {
                    *slot = value;
                }
            }
            let payload = v.to_string();
            if let Ok(Normalized::Review(e)) = normalize(provider, event, payload.as_bytes()) {
                prop_assert!(e.title.as_ref().is_none_or(|t| t.chars().count() <= MAX_TITLE_CHARS));
                prop_assert!(e.author.as_ref().is_none_or(|a| a.chars().count() <= MAX_AUTHOR_CHARS));
                prop_assert!(e.head_sha.as_ref().is_none_or(|h| h.len() <= MAX_SHA_CHARS && h.bytes().all(|b| b.is_ascii_alphanumeric())));
                prop_assert!(e.repo.full_name.len() <= payload.len());
            }
        }
    }

    #[test]
    fn malformed_payloads_are_errors_not_skips() {
        assert!(normalize(Provider::Github, "pull_request", b"not json").is_err());
        assert!(normalize(Provider::Github, "pull_request", b"[1]").is_err());
        let no_repo = br#"{"action":"opened","pull_request":{"number":1}}"#;
        assert!(normalize(Provider::Github, "pull_request", no_repo).is_err());
    }
}
