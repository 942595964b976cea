//! Does a pull-request comment ask for a review? (pure logic, product §7; SECURITY: the
//! bot must never trigger itself, and a handle is a mention only as a whole token.)
//!
//! A comment asks for a review when all of these hold:
//! 1. it carries none of the engine's hidden markers (`<!-- agnus-review:… -->`): nothing
//!    the engine posted ever triggers it, whatever text the model put in it;
//! 2. its author is not a bot or an app, as the provider says (GitHub `user.type`
//!    other than `User`, `performed_via_github_app`, `…[bot]` logins; Bitbucket
//!    `app_user`/`team` actors; Azure DevOps service identities (`svc.`/`s2s.`
//!    descriptors) and system comments; GitLab's reserved bot user names);
//! 3. its author is not the identity of the repository's own token (learned when the
//!    repository was connected): what the engine posts comes from that identity;
//! 4. it mentions the handle (the org's or repository's `mention` setting) as a token:
//!    not inside another word, address or path (`x@agnus.io`, `@agnusbot`, `@agnus/team`),
//!    not in code (inline or fenced) and not in a quoted line (`> …`).

/// What every posted review, summary and comment of the engine carries (in an HTML
/// comment): `<!-- agnus-review:<jobId>[:n] -->`.
pub const MARKER_PREFIX: &str = "<!-- agnus-review:";

/// Who a repository's token acts as at its provider (learned when it is connected).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenIdentity {
    /// GitHub/GitLab user id, Bitbucket account uuid, Azure DevOps identity id.
    pub id: Option<String>,
    /// Login, user name or unique name.
    pub login: Option<String>,
}

/// The commenter, as far as deciding needs.
#[derive(Debug, Clone, Copy)]
pub struct Commenter<'a> {
    pub id: Option<&'a str>,
    pub login: Option<&'a str>,
    pub is_bot: bool,
}

impl TokenIdentity {
    /// Is `who` this identity? By id when both have one, else by login (case-insensitive).
    pub fn is(&self, who: Commenter<'_>) -> bool {
        if let (Some(mine), Some(theirs)) = (self.id.as_deref(), who.id) {
            return mine == theirs;
        }
        matches!((self.login.as_deref(), who.login), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
    }
}

/// Why a comment does not ask for a review (the worker records it as the skip reason).
pub fn refuse(body: &str, who: Commenter<'_>, handle: &str, token: Option<&TokenIdentity>) -> Option<&'static str> {
    if body.contains(MARKER_PREFIX) {
        return Some("own_comment");
    }
    if who.is_bot {
        return Some("bot_comment");
    }
    if token.is_some_and(|t| t.is(who)) {
        return Some("own_token_comment");
    }
    if !mentions(body, handle) {
        return Some("no_mention");
    }
    None
}

/// Characters that continue a handle or an address around a mention.
fn joins_before(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '/' | '.' | '-' | '+' | '\\')
}
fn joins_after(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | '@')
}

/// Does `text` mention `handle` (e.g. `@agnus`) as a token, outside code and quotes?
pub fn mentions(text: &str, handle: &str) -> bool {
    if handle.len() < 2 || !handle.starts_with('@') {
        return false;
    }
    let handle: Vec<char> = handle.chars().flat_map(char::to_lowercase).collect();
    let mut in_fence = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || trimmed.starts_with('>') {
            continue;
        }
        if line_mentions(&outside_code_spans(line), &handle) {
            return true;
        }
    }
    false
}

/// The line with its `inline code` spans blanked out.
fn outside_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
            out.push(' ');
        } else {
            out.push(if in_code { ' ' } else { c });
        }
    }
    out
}

fn line_mentions(line: &str, handle: &[char]) -> bool {
    let chars: Vec<char> = line.chars().flat_map(char::to_lowercase).collect();
    let n = handle.len();
    if chars.len() < n {
        return false;
    }
    (0..=chars.len() - n).any(|i| {
        chars[i..i + n] == *handle
            && (i == 0 || !joins_before(chars[i - 1]))
            && match chars.get(i + n) {
                None => true,
                // `@agnus.` ends a sentence; `@agnus.io` is an address.
                Some('.') => !chars.get(i + n + 1).is_some_and(|c| c.is_alphanumeric()),
                Some(&c) => !joins_after(c),
            }
    })
}

/// GitLab's bot users, by their reserved names: project and group access tokens
/// (`project_<id>_bot_<hash>`, `group_<id>_bot_<hash>`), service accounts
/// (`service_account_…`) and the instance's own bots (`support-bot`, `alert-bot`, …).
pub fn gitlab_bot_username(username: &str) -> bool {
    let u = username.to_ascii_lowercase();
    let access_token_bot = ["project_", "group_"].iter().any(|prefix| {
        u.strip_prefix(prefix)
            .and_then(|rest| rest.split_once("_bot"))
            .is_some_and(|(id, tail)| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && (tail.is_empty() || tail.starts_with('_'))
            })
    });
    access_token_bot || u.starts_with("service_account_") || u.ends_with("-bot")
}

/// Azure DevOps service identities (build service, service hooks, apps): their subject
/// descriptors start with `svc.` or `s2s.`.
pub fn azure_service_descriptor(descriptor: &str) -> bool {
    let d = descriptor.to_ascii_lowercase();
    d.starts_with("svc.") || d.starts_with("s2s.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Provider;
    use crate::events::{Normalized, normalize};
    use proptest::prelude::*;
    use serde_json::Value;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn person() -> Commenter<'static> {
        Commenter {
            id: Some("7"),
            login: Some("ada"),
            is_bot: false,
        }
    }

    #[test]
    fn the_handle_is_a_mention_only_as_a_token() {
        for yes in [
            "@agnus",
            "@AgnUS please review",
            "hey @agnus, look",
            "(@agnus)",
            "please @agnus.",
            "cc: @agnus!",
            "first line\n@agnus review again",
        ] {
            assert!(mentions(yes, "@agnus"), "{yes:?}");
        }
        for no in [
            "no mention here",
            "@agnusbot review",
            "@agnus-old",
            "@agnus_2",
            "mail ops@agnus.io",
            "x@agnus",
            "-@agnus",
            ".@agnus",
            "@@agnus",
            "see @agnus/team",
            "`@agnus` is the handle",
            "```\n@agnus\n```",
            "> @agnus please review\nquoted, not asked",
            "agnus",
        ] {
            assert!(!mentions(no, "@agnus"), "{no:?}");
        }
        assert!(!mentions("@agnus", "agnus"), "a handle starts with @");
        assert!(mentions("ping @review-bot now", "@review-bot"));
    }

    #[test]
    fn the_engine_bots_and_the_token_never_trigger_a_review() {
        let body = "@agnus review";
        assert_eq!(refuse(body, person(), "@agnus", None), None);
        let ours = format!("@agnus looks fine\n{MARKER_PREFIX}j1:0 -->");
        assert_eq!(refuse(&ours, person(), "@agnus", None), Some("own_comment"));
        let bot = Commenter {
            is_bot: true,
            ..person()
        };
        assert_eq!(refuse(body, bot, "@agnus", None), Some("bot_comment"));
        let token = TokenIdentity {
            id: Some("7".into()),
            login: Some("someone-else".into()),
        };
        assert_eq!(
            refuse(body, person(), "@agnus", Some(&token)),
            Some("own_token_comment")
        );
        let by_login = TokenIdentity {
            id: None,
            login: Some("ADA".into()),
        };
        assert_eq!(
            refuse(body, person(), "@agnus", Some(&by_login)),
            Some("own_token_comment")
        );
        let other = TokenIdentity {
            id: Some("8".into()),
            login: Some("ada".into()),
        };
        assert_eq!(
            refuse(body, person(), "@agnus", Some(&other)),
            None,
            "ids decide when both are known"
        );
        assert_eq!(refuse("hello", person(), "@agnus", None), Some("no_mention"));
        assert_eq!(refuse("@agnus", person(), "@reviewer", None), Some("no_mention"));
    }

    #[test]
    fn bot_names_and_descriptors() {
        for bot in [
            "project_42_bot_8f2a",
            "group_7_bot",
            "service_account_group_9_abc",
            "support-bot",
            "alert-bot",
        ] {
            assert!(gitlab_bot_username(bot), "{bot}");
        }
        for person in ["root", "abbot", "project_x_bot_1", "robotics", "group__bot"] {
            assert!(!gitlab_bot_username(person), "{person}");
        }
        assert!(azure_service_descriptor("svc.ZmJhM2I0"));
        assert!(azure_service_descriptor("s2s.NDM0"));
        assert!(!azure_service_descriptor("aad.MDAwMDAw"));
    }

    #[test]
    fn every_provider_flags_comments_by_bots_apps_and_service_identities() {
        let comment_of = |provider, event: &str, v: &Value| match normalize(provider, event, v.to_string().as_bytes()) {
            Ok(Normalized::Review(e)) => e.comment.expect("a comment"),
            other => panic!("{other:?}"),
        };
        // GitLab: a project access token's bot user; a person.
        let mut note: Value = serde_json::from_slice(&fixture("gitlab/note.merge_request.json")).unwrap();
        note["object_attributes"]["note"] = Value::from("@agnus");
        let person = comment_of(Provider::Gitlab, "Note Hook", &note);
        assert!(!person.author_is_bot);
        assert_eq!(person.author_login.as_deref(), Some("root"));
        note["user"]["username"] = Value::from("project_278964_bot_3f2a");
        assert!(comment_of(Provider::Gitlab, "Note Hook", &note).author_is_bot);
        // Bitbucket: an app user.
        let mut bb: Value = serde_json::from_slice(&fixture("bitbucket/pullrequest.created.json")).unwrap();
        bb["comment"] = serde_json::json!({"content": {"raw": "@agnus please"}});
        bb["actor"]["type"] = Value::from("user");
        assert!(!comment_of(Provider::Bitbucket, "pullrequest:comment_created", &bb).author_is_bot);
        bb["actor"]["type"] = Value::from("app_user");
        assert!(comment_of(Provider::Bitbucket, "pullrequest:comment_created", &bb).author_is_bot);
        // Azure DevOps: a service identity's descriptor, a system comment.
        let created: Value = serde_json::from_slice(&fixture("azure/git.pullrequest.created.json")).unwrap();
        let mut az = serde_json::json!({
            "eventType": "ms.vss-code.git-pullrequest-comment-event",
            "resource": {
                "comment": {"content": "@agnus", "commentType": "text",
                            "author": {"id": "a1", "uniqueName": "ada@fabrikam.example", "descriptor": "aad.MDAw"}},
                "pullRequest": created["resource"].clone()
            }
        });
        let said = comment_of(Provider::Azure, "", &az);
        assert_eq!((said.author_id.as_deref(), said.author_is_bot), (Some("a1"), false));
        az["resource"]["comment"]["author"]["descriptor"] = Value::from("svc.ZmJh");
        assert!(comment_of(Provider::Azure, "", &az).author_is_bot);
        az["resource"]["comment"]["author"]["descriptor"] = Value::from("aad.MDAw");
        az["resource"]["comment"]["commentType"] = Value::from("system");
        assert!(comment_of(Provider::Azure, "", &az).author_is_bot);
    }

    proptest! {
        #[test]
        fn deciding_never_panics(text in "\\PC{0,200}", handle in "@[a-z-]{0,12}") {
            let _ = mentions(&text, &handle);
            let _ = refuse(&text, person(), &handle, None);
        }

        #[test]
        fn a_handle_glued_to_a_word_is_never_a_mention(word in "[a-z0-9_]{1,8}", tail in "[a-z0-9_-]{1,8}") {
            let before = format!("{word}@agnus review");
            let after = format!("@agnus{tail} review");
            prop_assert!(!mentions(&before, "@agnus"));
            prop_assert!(!mentions(&after, "@agnus"));
        }
    }
}
