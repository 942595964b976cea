//! The JSON Schemas of the document's inputs, built from the validators' own constants and
//! character rules (`domain`, `rules`, `review_settings`, `services::*`), so the document
//! cannot promise more or less than the handlers accept: the tests below feed values at
//! every boundary to both the schema and the validator and want the same verdict.
//!
//! Where a rule is about trimmed text (names, descriptions, globs), the pattern states it
//! exactly: surrounding whitespace (Rust's `char::is_whitespace`, what `str::trim` drops)
//! is allowed, the trimmed text must start and end with a visible character, and the
//! character count of the trimmed text is bounded inside the pattern.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::domain::{Email, OrgName, Password, Slug};
use crate::review_settings::{MAX_COMMENTS_CEILING, MAX_CONTEXT_TOKENS, MAX_IGNORED_PATHS};
use crate::rules::{MAX_DESCRIPTION_CHARS, MAX_DOUBLE_STARS, MAX_GLOB_CHARS};

/// A character class of the characters `pred` holds for: `\uXXXX` for the Basic
/// Multilingual Plane (ECMA-262, Python's `re` and Rust's `regex` read it alike), the
/// character itself beyond it.
fn class_of(pred: impl Fn(char) -> bool, negate: bool) -> String {
    fn one(out: &mut String, c: char) {
        let n = u32::from(c);
        if n <= 0xFFFF {
            out.push_str(&format!("\\u{n:04X}"));
        } else {
            out.push(c);
        }
    }
    let mut out = String::from(if negate { "[^" } else { "[" });
    let mut run: Option<(char, char)> = None;
    let flush = |out: &mut String, (a, b): (char, char)| {
        one(out, a);
        if a != b {
            out.push('-');
            one(out, b);
        }
    };
    for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
        if !pred(c) {
            continue;
        }
        run = match run {
            Some((a, b)) if u32::from(b) + 1 == u32::from(c) => Some((a, c)),
            Some(r) => {
                flush(&mut out, r);
                Some((c, c))
            }
            None => Some((c, c)),
        };
    }
    if let Some(r) = run {
        flush(&mut out, r);
    }
    out.push(']');
    out
}

/// What `domain::display_name` refuses inside a name: control and invisible characters
/// (`text::is_invisible`: format, default-ignorable, blank-looking).
fn name_bad(c: char) -> bool {
    c.is_control() || crate::text::is_invisible(c)
}

/// What `rules::RuleDescription` refuses: the same, but line breaks and tabs are text.
fn description_bad(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || crate::text::is_invisible(c)
}

/// What `rules::PathGlob` refuses anywhere: control and invisible characters, `<>"`.
fn glob_bad(c: char) -> bool {
    c.is_control() || crate::text::is_invisible(c) || matches!(c, '<' | '>' | '"')
}

struct Classes {
    space: String,
    name_inner: String,
    name_edge: String,
    description_inner: String,
    description_edge: String,
    glob_first: String,
    glob_inner: String,
    glob_last: String,
}

fn classes() -> &'static Classes {
    static CLASSES: OnceLock<Classes> = OnceLock::new();
    CLASSES.get_or_init(|| Classes {
        space: class_of(char::is_whitespace, false),
        name_inner: class_of(name_bad, true),
        name_edge: class_of(|c| name_bad(c) || c.is_whitespace(), true),
        description_inner: class_of(description_bad, true),
        description_edge: class_of(|c| description_bad(c) || c.is_whitespace(), true),
        glob_first: class_of(|c| glob_bad(c) || c.is_whitespace() || c == '/', true),
        glob_inner: class_of(glob_bad, true),
        glob_last: class_of(|c| glob_bad(c) || c.is_whitespace(), true),
    })
}

/// Text that is trimmed, then must be 1 to `max` characters that start with `first`,
/// end with `last` and are `inner` between.
fn trimmed(first: &str, inner: &str, last: &str, max: usize) -> String {
    let w = &classes().space;
    format!("^{w}*{first}(?:{inner}{{0,{}}}{last})?{w}*$", max.saturating_sub(2))
}

/// A name people see (`domain::display_name`): 1–`max` characters after trimming, no
/// control or invisible formatting characters.
pub fn display_name(max: usize) -> Value {
    let c = classes();
    json!({
        "type": "string",
        "minLength": 1,
        "pattern": trimmed(&c.name_edge, &c.name_inner, &c.name_edge, max),
        "description": format!("1-{max} characters after trimming, without control or invisible formatting characters"),
    })
}

pub fn org_name() -> Value {
    display_name(OrgName::MAX_LEN)
}

pub fn api_key_name() -> Value {
    display_name(crate::services::apikeys::MAX_NAME_CHARS)
}

pub fn rule_name() -> Value {
    display_name(crate::rules::MAX_NAME_CHARS)
}

/// `rules::RuleDescription`.
pub fn rule_description() -> Value {
    let c = classes();
    json!({
        "type": "string",
        "minLength": 1,
        "pattern": trimmed(&c.description_edge, &c.description_inner, &c.description_edge, MAX_DESCRIPTION_CHARS),
        "description": format!("1-{MAX_DESCRIPTION_CHARS} characters after trimming; line breaks and tabs allowed, no other control or invisible formatting characters"),
    })
}

/// A glob with more than [`MAX_DOUBLE_STARS`] `**` segments (found anywhere).
fn too_many_double_stars() -> String {
    let w = &classes().space;
    format!("(?:^{w}*|/)\\*\\*(?:/(?:[^/]*/)*\\*\\*){{{MAX_DOUBLE_STARS}}}(?:/|{w}*$)")
}

/// `rules::PathGlob`.
pub fn path_glob() -> Value {
    let c = classes();
    json!({
        "type": "string",
        "minLength": 1,
        "pattern": trimmed(&c.glob_first, &c.glob_inner, &c.glob_last, MAX_GLOB_CHARS),
        "not": { "pattern": too_many_double_stars() },
        "description": format!("a path glob relative to the repository root (`src/payments/**`, `**/*.sql`): 1-{MAX_GLOB_CHARS} characters after trimming, no control characters, at most {MAX_DOUBLE_STARS} `**` segments"),
    })
}

/// The shape of a slug (`domain::Slug`), reserved words aside.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(?:-[a-z0-9]+)*$";

/// A slug in a path: any slug shape (the system's own orgs may have reserved words).
pub fn slug_in_path() -> Value {
    json!({ "type": "string", "pattern": SLUG_PATTERN, "minLength": Slug::MIN_LEN, "maxLength": Slug::MAX_LEN })
}

/// A slug to create an org with: the shape, not a reserved word; empty asks for one
/// suggested from the name.
pub fn new_slug() -> Value {
    json!({
        "anyOf": [
            { "type": "string", "maxLength": 0 },
            {
                "type": "string",
                "pattern": SLUG_PATTERN,
                "minLength": Slug::MIN_LEN,
                "maxLength": Slug::MAX_LEN,
                "not": { "enum": Slug::RESERVED },
            },
        ],
        "description": "3-40 lowercase letters, digits and single inner hyphens, not a reserved word; empty or absent: suggested from the name",
    })
}

pub fn email() -> Value {
    json!({ "type": "string", "format": "email", "maxLength": Email::MAX_LEN })
}

pub fn password() -> Value {
    json!({ "type": "string", "format": "password", "minLength": Password::MIN_CHARS, "maxLength": Password::MAX_CHARS })
}

/// A mailed link's token (`email`: 32 random bytes, base64url), as issued; the handlers
/// answer 404 for any other 1-128 characters and 400 `invalid_token` for none or more.
pub fn link_token() -> Value {
    json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$" })
}

/// A provider access token (`services::repos`: at most 1,024 bytes; 256 characters are
/// at most that many).
pub fn access_token() -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": 256 })
}

/// One segment of a repository's full name, in the ASCII shape the document promises
/// (`domain::RepoRef` also takes other Unicode letters and digits): no `.`/`..`, no
/// surrounding space, at most 99 characters.
const REPO_SEGMENT: &str = "[A-Za-z0-9_-](?:[A-Za-z0-9_. -]{0,97}[A-Za-z0-9_.-])?";

/// `domain::RepoRef::parse` of a full name: how many segments each provider's names have.
pub fn repo_full_name_by_provider() -> Value {
    let name = |min: usize, max: usize| {
        json!({
            "type": "string",
            "maxLength": 300,
            "pattern": format!("^{REPO_SEGMENT}(?:/{REPO_SEGMENT}){{{},{}}}$", min - 1, max - 1),
        })
    };
    json!([
        { "properties": { "provider": { "enum": ["github", "bitbucket"] }, "fullName": name(2, 2) } },
        { "properties": { "provider": { "enum": ["gitlab"] }, "fullName": name(2, 20) } },
        { "properties": { "provider": { "enum": ["azure", "azure-devops"] }, "fullName": name(3, 3) } },
    ])
}

/// A GitHub App or installation id (`services::installations::MAX_ID`).
pub fn installation_id() -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": crate::services::installations::MAX_ID })
}

/// The path form of an installation id.
pub fn installation_id_in_path() -> Value {
    json!({ "type": "string", "pattern": "^[1-9][0-9]{0,15}$" })
}

/// A GitHub App's private key, as GitHub hands it out (a PEM block; at most 16 KiB).
pub fn private_key() -> Value {
    json!({
        "type": "string",
        "maxLength": crate::github_app::MAX_PEM_BYTES,
        "pattern": "-----BEGIN (RSA )?PRIVATE KEY-----",
    })
}

pub fn string() -> Value {
    json!({ "type": "string" })
}

pub fn boolean() -> Value {
    json!({ "type": "boolean" })
}

pub fn enumeration(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// `null` or the value (`schema` must be a `{"type": …}` schema or an `anyOf`).
pub fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

pub fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

/// The store's ids (api keys, invitations, rules): 32 hex digits.
pub fn hex_id() -> Value {
    json!({ "type": "string", "pattern": "^[0-9a-f]{32}$" })
}

/// A repository id (`services::rules::parse_repo_id`): 1-64 ASCII letters and digits.
pub fn repo_id() -> Value {
    json!({ "type": "string", "pattern": "^[A-Za-z0-9]{1,64}$" })
}

/// The roles an admin may give (`services::members::assignable_role`).
pub fn assignable_role() -> Value {
    enumeration(&["admin", "member"])
}

pub fn plan() -> Value {
    enumeration(&["free", "team", "enterprise"])
}

/// `domain::Provider` (`azure-devops` is read as `azure`).
pub fn provider() -> Value {
    enumeration(&["github", "gitlab", "azure", "azure-devops", "bitbucket"])
}

pub fn rule_category() -> Value {
    enumeration(&["security", "correctness", "performance", "style", "custom"])
}

pub fn expires_in_days() -> Value {
    nullable(json!({ "type": "integer", "minimum": 1, "maximum": 3650 }))
}

pub fn pr_number() -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": u64::MAX })
}

/// `services::repos::ReviewRequest`: up to 64 hex digits.
pub fn head_sha() -> Value {
    json!({ "type": "string", "pattern": "^[0-9A-Fa-f]{0,64}$" })
}

// ---- review settings (`review_settings::patch`) ----

pub fn nullable_bool() -> Value {
    nullable(boolean())
}

pub fn ignored_paths() -> Value {
    nullable(json!({ "type": "array", "maxItems": MAX_IGNORED_PATHS, "items": path_glob() }))
}

pub fn max_comments() -> Value {
    nullable(json!({ "type": "integer", "minimum": 1, "maximum": MAX_COMMENTS_CEILING }))
}

pub fn min_severity() -> Value {
    nullable(enumeration(&["nit", "minor", "major", "critical"]))
}

/// `review_settings::Depth` (case-insensitive; `quick`, `normal`, `default`, `thorough`
/// are read as their depth). The document lists the lower-case spellings.
pub fn depth() -> Value {
    nullable(enumeration(&[
        "fast", "quick", "standard", "normal", "default", "deep", "thorough",
    ]))
}

/// `review_settings::Confidence`: from 0 to 1.
pub fn min_confidence() -> Value {
    nullable(json!({ "type": "number", "minimum": 0, "maximum": 1 }))
}

pub fn context_tokens() -> Value {
    nullable(json!({ "type": "integer", "minimum": 0, "maximum": MAX_CONTEXT_TOKENS }))
}

pub fn mention() -> Value {
    nullable(json!({ "type": "string", "pattern": "^@[A-Za-z0-9_-]{1,39}$" }))
}

pub fn nullable_repo_id() -> Value {
    nullable(repo_id())
}

pub fn nullable_path_glob() -> Value {
    nullable(path_glob())
}

#[cfg(test)]
#[path = "schemas_tests.rs"]
mod tests;
