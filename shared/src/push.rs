//! A push to a repository's default branch (docs/index.md, "When the index is updated"):
//! the worker answers it with an incremental index job. Read from the providers' push
//! webhooks — GitHub `push`, GitLab `Push Hook`, Azure DevOps `git.push` — each of which
//! names the repository's default branch. (Bitbucket's `repo:push` does not: a Bitbucket
//! repository's index catches up when a review finds it behind.)

use serde_json::Value;

use crate::domain::{Provider, RepoRef};

/// A push that moved the default branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    pub repo: RepoRef,
    /// The default branch's new head.
    pub after: String,
}

/// Why a push is not one the index follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFollowed {
    /// Another branch, a tag, a deleted branch, or a provider that does not say.
    NotDefaultBranch,
    /// The payload does not have the documented fields.
    Malformed,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_str()
}

/// A commit id as the providers write them (hex, 7–64 digits), not the all-zero id of a
/// deleted branch.
fn commit(sha: Option<&str>) -> Option<String> {
    let sha = sha?;
    let ok = (7..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit());
    (ok && !sha.bytes().all(|b| b == b'0')).then(|| sha.to_ascii_lowercase())
}

/// `Some`: `event` is a push webhook of `provider` (followed or not); `None`: another
/// event.
pub fn parse(provider: Provider, event: &str, v: &Value) -> Option<Result<PushEvent, NotFollowed>> {
    let (full_name, refname, after, default_branch) = match provider {
        Provider::Github if event == "push" => (
            str_at(v, &["repository", "full_name"]),
            str_at(v, &["ref"]),
            str_at(v, &["after"]),
            str_at(v, &["repository", "default_branch"]),
        ),
        Provider::Gitlab if str_at(v, &["object_kind"]) == Some("push") || event == "Push Hook" => (
            str_at(v, &["project", "path_with_namespace"]),
            str_at(v, &["ref"]),
            str_at(v, &["after"]),
            str_at(v, &["project", "default_branch"]),
        ),
        Provider::Azure if str_at(v, &["eventType"]) == Some("git.push") => {
            let update = v.pointer("/resource/refUpdates/0").unwrap_or(&Value::Null);
            (
                str_at(v, &["resource", "repository", "remoteUrl"]),
                str_at(update, &["name"]),
                str_at(update, &["newObjectId"]),
                str_at(v, &["resource", "repository", "defaultBranch"])
                    .map(|b| b.strip_prefix("refs/heads/").unwrap_or(b)),
            )
        }
        Provider::Bitbucket if event == "repo:push" => return Some(Err(NotFollowed::NotDefaultBranch)),
        _ => return None,
    };
    Some(followed(provider, full_name, refname, after, default_branch))
}

fn followed(
    provider: Provider,
    full_name: Option<&str>,
    refname: Option<&str>,
    after: Option<&str>,
    default_branch: Option<&str>,
) -> Result<PushEvent, NotFollowed> {
    let (Some(full_name), Some(refname)) = (full_name, refname) else {
        return Err(NotFollowed::Malformed);
    };
    let branch = refname.strip_prefix("refs/heads/");
    if branch.is_none() || branch != default_branch {
        return Err(NotFollowed::NotDefaultBranch);
    }
    let after = commit(after).ok_or(NotFollowed::NotDefaultBranch)?;
    let repo = RepoRef::parse(provider, full_name).map_err(|_| NotFollowed::Malformed)?;
    Ok(PushEvent { repo, after })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_push_to_the_default_branch_is_followed_on_each_provider() {
        let sha = "a".repeat(40);
        let gh = json!({"ref": "refs/heads/main", "after": sha,
            "repository": {"full_name": "octo/lib", "default_branch": "main"}});
        let p = parse(Provider::Github, "push", &gh).unwrap().unwrap();
        assert_eq!(
            (p.repo.full_name.as_str(), p.after.as_str()),
            ("octo/lib", sha.as_str())
        );
        let gl = json!({"object_kind": "push", "ref": "refs/heads/trunk", "after": sha,
            "project": {"path_with_namespace": "group/sub/lib", "default_branch": "trunk"}});
        assert!(parse(Provider::Gitlab, "Push Hook", &gl).unwrap().is_ok());
        let az = json!({"eventType": "git.push", "resource": {
            "refUpdates": [{"name": "refs/heads/main", "newObjectId": sha}],
            "repository": {"remoteUrl": "https://dev.azure.com/org/proj/_git/lib", "defaultBranch": "refs/heads/main"}}});
        assert_eq!(
            parse(Provider::Azure, "git.push", &az).unwrap().unwrap().repo.full_name,
            "org/proj/lib"
        );
    }

    #[test]
    fn other_branches_tags_deletions_and_other_events_are_not_followed() {
        let base = |r: &str, after: &str| json!({"ref": r, "after": after, "repository": {"full_name": "octo/lib", "default_branch": "main"}});
        let sha = "b".repeat(40);
        for (r, after) in [
            ("refs/heads/feature", sha.as_str()),
            ("refs/tags/main", sha.as_str()),
            ("refs/heads/main", "0000000000000000000000000000000000000000"),
            ("refs/heads/main", "not-a-sha"),
        ] {
            assert_eq!(
                parse(Provider::Github, "push", &base(r, after)),
                Some(Err(NotFollowed::NotDefaultBranch)),
                "{r} {after}"
            );
        }
        assert_eq!(
            parse(Provider::Github, "pull_request", &base("refs/heads/main", &sha)),
            None
        );
        assert_eq!(
            parse(Provider::Github, "push", &json!({"after": sha})),
            Some(Err(NotFollowed::Malformed))
        );
        assert_eq!(
            parse(Provider::Bitbucket, "repo:push", &json!({})),
            Some(Err(NotFollowed::NotDefaultBranch))
        );
    }
}
