//! Key builders: the only place a `pk`/`sk` string is assembled.

use std::collections::HashMap;

use super::{Item, s};
use crate::domain::{Email, OrgId, Provider, SessionId, Slug, UserId};

pub(crate) const PROFILE: &str = "PROFILE";
pub(crate) const META: &str = "META";
pub(crate) const EMAIL_SK: &str = "EMAIL";
pub(crate) const SLUG_SK: &str = "SLUG";
pub(crate) const MEMBER_PREFIX: &str = "MEMBER#";
pub(crate) const AUDIT_PREFIX: &str = "AUDIT#";
pub(crate) const USER_ORG_PREFIX: &str = "ORG#";
pub(crate) const WEBHOOK_PREFIX: &str = "WEBHOOK#";
pub(crate) const INVITE_PREFIX: &str = "INVITE#";
pub(crate) const API_KEY_PREFIX_SK: &str = "APIKEY#";
pub(crate) const REPO_PREFIX: &str = "REPO#";
/// An org's review rules, and their count (the per-org limit).
pub(crate) const RULE_PREFIX: &str = "RULE#";
pub(crate) const RULE_COUNT_SK: &str = "RULES#COUNT";
pub(crate) const REPO_IDENT_SK: &str = "REPOIDENT";
pub(crate) const REVIEW_PREFIX: &str = "REVIEW#";
pub(crate) const API_KEY_HASH_SK: &str = "APIKEYHASH";
pub(crate) const INVITE_TOKEN_SK: &str = "INVITETOKEN";
/// How long the delivery ledger remembers a delivery id (TTL cleans up after).
pub(crate) const DELIVERY_RETENTION_SECS: i64 = 7 * 86_400;
/// GSI partition listing soft-deleted orgs by purge time.
pub(crate) const DELETED_ORGS: &str = "DELETED_ORGS";

pub(crate) fn user_pk(id: &UserId) -> String {
    format!("USER#{id}")
}
pub(crate) fn org_pk(id: &OrgId) -> String {
    format!("ORG#{id}")
}
pub(crate) fn email_pk(email: &Email) -> String {
    format!("EMAIL#{email}")
}
pub(crate) fn slug_pk(slug: &Slug) -> String {
    format!("SLUG#{slug}")
}
pub(crate) fn session_sk(id: &SessionId) -> String {
    format!("{}{id}", session_sk_prefix())
}
pub(crate) fn session_sk_prefix() -> &'static str {
    "SESSION#"
}
pub(crate) fn member_sk(id: &UserId) -> String {
    format!("{MEMBER_PREFIX}{id}")
}
pub(crate) fn user_org_sk(id: &OrgId) -> String {
    format!("{USER_ORG_PREFIX}{id}")
}
/// Audit entries sort by time (zero-padded milliseconds) then a random id.
pub(crate) fn audit_sk(at_millis: i64, id: &uuid::Uuid) -> String {
    format!("{AUDIT_PREFIX}{at_millis:015}#{}", id.simple())
}
pub(crate) fn webhook_sk(provider: Provider) -> String {
    format!("{WEBHOOK_PREFIX}{provider}")
}
pub(crate) fn delivery_sk(provider: Provider, delivery_id: &str) -> String {
    format!("DELIVERY#{provider}#{delivery_id}")
}
pub(crate) fn invite_sk(id: &str) -> String {
    format!("{INVITE_PREFIX}{id}")
}
pub(crate) fn invite_token_pk(token_hash: &str) -> String {
    format!("INVITETOKEN#{token_hash}")
}
pub(crate) fn api_key_sk(id: &str) -> String {
    format!("{API_KEY_PREFIX_SK}{id}")
}
pub(crate) fn api_key_hash_pk(hash: &str) -> String {
    format!("APIKEYHASH#{hash}")
}
/// A repository's override of the org's review settings.
pub(crate) fn repo_settings_sk(repo_id: &str) -> String {
    format!("{REVIEW_SETTINGS_SK}#{repo_id}")
}
pub(crate) fn rule_sk(id: &str) -> String {
    format!("{RULE_PREFIX}{id}")
}
pub(crate) fn repo_sk(id: &str) -> String {
    format!("{REPO_PREFIX}{id}")
}
pub(crate) fn repo_ident_pk(provider: Provider, full_name: &str) -> String {
    format!("REPOIDENT#{provider}#{full_name}")
}
/// Review history per repository, in time order: `REVIEW#<repoId>#<ms>#<jobId>`.
pub(crate) fn review_prefix(repo_id: &str) -> String {
    format!("{REVIEW_PREFIX}{repo_id}#")
}
pub(crate) fn review_sk(repo_id: &str, at_millis: i64, job_id: &str) -> String {
    format!("{REVIEW_PREFIX}{repo_id}#{at_millis:015}#{job_id}")
}
/// The last reviewed head of a pull request (incremental reviews).
pub(crate) fn review_ckpt_sk(repo_id: &str, pr: u64) -> String {
    format!("REVIEWCKPT#{repo_id}#{pr}")
}
/// A pull request's head under review or reviewed within the repeat window
/// (`REVIEWHEAD#<repoId>#<pr>#<sha>`): one review per head.
pub(crate) fn review_head_sk(repo_id: &str, pr: u64, head_sha: &str) -> String {
    format!("REVIEWHEAD#{repo_id}#{pr}#{}", head_sha.trim().to_ascii_lowercase())
}
/// An org's LLM-backed reviews in one hour (`REVIEWRATE#<hour start>`).
pub(crate) fn review_rate_sk(hour_start: i64) -> String {
    format!("REVIEWRATE#{hour_start}")
}
/// An org's LLM token usage in a month (`yyyy-mm`).
pub(crate) fn usage_sk(month: &str) -> String {
    format!("USAGE#{month}")
}
pub(crate) fn processed_sk(provider: Provider, delivery_id: &str) -> String {
    format!("PROCESSED#{provider}#{delivery_id}")
}
pub(crate) const MAIL_TOKEN_SK: &str = "MAILTOKEN";
pub(crate) fn mail_token_pk(token_hash: &str) -> String {
    format!("MAILTOKEN#{token_hash}")
}
pub(crate) fn rate_pk(bucket: &str, subject: &str) -> String {
    format!("RATE#{bucket}#{subject}")
}
pub(crate) fn rate_sk(window_start: i64) -> String {
    format!("W#{window_start}")
}

/// A repository's codebase-index record, and the org's one-job-at-a-time index lease.
pub(crate) fn repo_index_sk(repo_id: &str) -> String {
    format!("REPOINDEX#{repo_id}")
}
pub(crate) const INDEX_LEASE_SK: &str = "INDEXLEASE";

/// An org's GitHub App installations, by GitHub's installation id.
pub(crate) const INSTALLATION_PREFIX: &str = "INSTALL#";
pub(crate) fn installation_sk(id: u64) -> String {
    format!("{INSTALLATION_PREFIX}{id}")
}

pub(crate) fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

// ---- the single-tenant upgrade (store::migration) ----

/// The upgrade's progress record (schema version, the default org's id).
#[cfg(feature = "migration")]
pub(crate) const SCHEMA_PK: &str = "SCHEMA";
#[cfg(feature = "migration")]
pub(crate) const VERSION_SK: &str = "VERSION";
/// The legacy single-tenant webhook URLs' settings (one item for the install).
pub(crate) const LEGACY_WEBHOOKS_PK: &str = "LEGACYWEBHOOKS";
pub(crate) const LEGACY_WEBHOOKS_SK: &str = "CONFIG";
/// An org's review settings (the review engine's depth, …).
pub(crate) const REVIEW_SETTINGS_SK: &str = "SETTINGS#REVIEW";
#[cfg(feature = "migration")]
pub(crate) const COMMENT_PREFIX: &str = "COMMENT#";
#[cfg(feature = "migration")]
pub(crate) const CHECKPOINT_PREFIX: &str = "CHECKPOINT#";

/// "This source row was migrated": one partition per kind, the source id as sort key.
#[cfg(feature = "migration")]
pub(crate) fn migrated_pk(kind: &str) -> String {
    format!("MIGRATED#{kind}")
}
/// A review's comments, in order: `COMMENT#<repoId>#<jobId>#<n>`.
#[cfg(feature = "migration")]
pub(crate) fn comment_prefix(repo_id: &str, job_id: &str) -> String {
    format!("{COMMENT_PREFIX}{repo_id}#{job_id}#")
}
#[cfg(feature = "migration")]
pub(crate) fn comment_sk(repo_id: &str, job_id: &str, n: usize) -> String {
    format!("{COMMENT_PREFIX}{repo_id}#{job_id}#{n:06}")
}
/// The review engine's checkpoint for one pull request.
#[cfg(feature = "migration")]
pub(crate) fn checkpoint_sk(repo_id: &str, pr_number: u64) -> String {
    format!("{CHECKPOINT_PREFIX}{repo_id}#{pr_number:010}")
}

// ---- the feedback loop (store::feedback) ----

/// The org's feedback signing key, KMS-sealed.
pub(crate) const FEEDBACK_KEY_SK: &str = "FEEDBACKKEY";
/// Per-repository and per-rule counts of helpful / not-helpful signals.
pub(crate) const FEEDBACK_STATS_PREFIX: &str = "FBSTATS#";
/// A posted comment (what its feedback links point at).
pub(crate) fn posted_comment_sk(id: &str) -> String {
    format!("FBCOMMENT#{id}")
}
/// A comment attributed to a rule, by time (comment ids start with their time).
pub(crate) fn rule_hit_prefix(rule_id: &str) -> String {
    format!("RULEHIT#{rule_id}#")
}
pub(crate) fn rule_hit_sk(rule_id: &str, comment_id: &str) -> String {
    format!("RULEHIT#{rule_id}#{comment_id}")
}
/// Signalled comments per repository and signal, newest last (the prompt's examples).
pub(crate) fn feedback_example_prefix(repo_id: &str, signal: &str) -> String {
    format!("FBEX#{repo_id}#{signal}#")
}
pub(crate) fn feedback_example_sk(repo_id: &str, signal: &str, at_millis: i64, comment_id: &str) -> String {
    format!("FBEX#{repo_id}#{signal}#{at_millis:015}#{comment_id}")
}
pub(crate) fn repo_feedback_stats_sk(repo_id: &str) -> String {
    format!("{FEEDBACK_STATS_PREFIX}REPO#{repo_id}")
}
pub(crate) fn rule_feedback_stats_sk(rule_id: &str) -> String {
    format!("{FEEDBACK_STATS_PREFIX}RULE#{rule_id}")
}
