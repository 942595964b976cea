//! DynamoDB access. This is the only module that knows the table's key layout
//! (`keys.rs`): handlers pass typed ids and an [`OrgScope`] and get typed records back.
//! An `OrgScope` can only be obtained from [`Store::scope`], which checks membership
//! (or system-admin rights) against the store, so no handler can touch another org's
//! partition.
//!
//! Uniqueness is enforced with conditional writes; multi-item changes use
//! `TransactWriteItems` (with the audit entry inside the same transaction), never
//! read-then-write, built with `tx::Tx`: each condition names the rule it stands for. The key layout is documented in docs/data-model.md.

mod apikeys;
mod feedback;
mod feedback_vectors;
mod index;
mod installations;
mod invites;
mod keys;
pub mod legacy;
mod mailtokens;
mod members;
/// The upgrade's writers: only the `agnus-migrate` crate (the CLI) enables them.
#[cfg(feature = "migration")]
pub mod migration;
mod orgs;
mod purge;
mod ratelimit;
mod records;
mod repos;
mod review_limits;
mod review_report;
mod reviews;
mod rules;
mod settings;
mod tenancy;
mod tx;
mod users;
mod webhooks;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::clock::Clock;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use apikeys::{ApiKeyAuth, ApiKeyRecord};
pub use feedback::{
    EXCERPT_CHARS, FeedbackExample, FeedbackScope, FeedbackStats, FeedbackTarget, PostedComment, RuleViolation,
    SignalRecorded,
};
pub use feedback_vectors::{EmbedSource, FeedbackCandidate, embed_text};
pub use index::{
    IndexFailure, IndexKind, IndexPhase, IndexProgress, IndexRecord, IndexRequest, IndexStats, IndexStatus, JobWrite,
};
pub use installations::{InstallationRecord, InstallationScope, MAX_INSTALLATIONS};
pub use invites::{Acceptor, INVITE_TTL_SECS, InviteRecord, InviteStatus, TokenLookup};
pub use mailtokens::{MailTokenPurpose, RESET_TTL_SECS, TokenUse, VERIFY_TTL_SECS};
pub use orgs::{AuditRecord, MemberRecord};
pub use purge::PurgeReport;
pub use ratelimit::{Counted, RateDecision};
pub use records::{Actor, AuditEvent, MembershipView, NewAccount, OrgRecord, SealedSecret, SessionRecord, UserRecord};
pub use repos::{NewReviewJob, Processed, QueueScope, RepoLookup, RepoRecord, ReviewJob};
pub use review_limits::OrgUsage;
pub use reviews::{JobClaim, ReviewOutcome, month_of};
pub use rules::{RuleFields, RuleRecord, valid_id as valid_rule_id};
pub use tenancy::{Access, OrgScope, Principal, QueuedOrg};
pub use webhooks::{Claim, IntakeTarget, WebhookRecord};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// A business rule a conditional write refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    EmailTaken,
    SlugTaken,
    AlreadyMember,
    NotMember,
    TargetIsOwner,
    /// The acting member no longer has the rights the action needs (demoted or removed
    /// concurrently).
    ActorLacksRights,
    NotOwner,
    OrgDeleted,
    NotRestorable,
    /// The repository is connected to an org already.
    RepoTaken,
    /// The worker processed this delivery before.
    AlreadyProcessed,
    /// The invitation was used, revoked, re-sent or has expired.
    InviteNotPending,
    /// The member made more keys than one transaction can revoke with them.
    TooManyKeys,
    /// The org has as many review rules as it may.
    TooManyRules,
    /// A repository-scoped write names no repository of this org.
    RepoNotFound,
    /// The item the request names is gone (revoked, deleted) by the time of the write.
    Vanished,
    /// A mailed token's account moved on since the token was issued: its address changed,
    /// or its session epoch did (a password reset or "log out everywhere" voids every
    /// pending link).
    TokenVoided,
    /// A codebase-index job of the repository is queued or running.
    IndexInProgress,
    /// The org registered this GitHub App installation already.
    InstallationExists,
    /// A condition failed but the backend did not say which.
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("dynamodb unavailable: {0}")]
    Unavailable(String),
    #[error("dynamodb error: {0}")]
    Backend(String),
    #[error("corrupt item: {0}")]
    Corrupt(String),
    #[error("invalid pagination cursor")]
    BadCursor,
    /// A transaction would touch one item twice (the request names the same thing twice,
    /// e.g. an admin inviting themselves): refused while the transaction is built.
    #[error("one transaction touches {0} twice")]
    DuplicateTarget(String),
}

/// Throttling, timeouts, 5xx and transaction conflicts are worth a retry by the client
/// (503); the rest is a bug (500) — including `ResourceNotFoundException`: a missing table
/// is a misconfiguration that no retry fixes, and a 503 would hide it.
pub(crate) fn classify<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    match &e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(format!("{e:?}"))
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            let retryable = matches!(
                code,
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionConflictException"
                    | "TransactionInProgressException"
            );
            let msg = format!("{code}: {}", se.err().message().unwrap_or_default());
            if retryable {
                StoreError::Unavailable(msg)
            } else {
                StoreError::Backend(msg)
            }
        }
        _ => StoreError::Backend(format!("{e:?}")),
    }
}

// ---- attribute helpers ----

/// An SDK builder's error (a missing required field: a bug here) as a store error.
pub(crate) fn build<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Backend(e.to_string()))
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| StoreError::Corrupt(format!("missing string attribute {name}")))
}
pub(crate) fn get_opt_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}
pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    get_opt_n(item, name).ok_or_else(|| StoreError::Corrupt(format!("missing number attribute {name}")))
}
pub(crate) fn get_opt_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}
pub(crate) fn get_bool(item: &Item, name: &str) -> bool {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
}
pub(crate) fn parse<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    get_s(item, name)?
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("unparsable attribute {name}")))
}

/// One page of a list plus the opaque cursor for the next page (`None`: last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A page request: `limit` (1–100) and an opaque cursor from a previous page.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: i32,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: i32 = 50;
    pub const MAX_LIMIT: i32 = 100;
}

/// DynamoDB's limit on a sort key's size.
const MAX_SORT_KEY_BYTES: usize = 1_024;

/// Cursors carry only the sort key of the last item, base64url-encoded; the partition
/// key always comes from the caller's scope, so a forged cursor cannot leave it.
pub(crate) fn encode_cursor(last: Option<&Item>) -> Option<String> {
    let last = last?;
    let sk = get_opt_s(last, "sk")?;
    Some(URL_SAFE_NO_PAD.encode(sk.as_bytes()))
}

pub(crate) fn decode_cursor(cursor: Option<&str>, pk: &str, sk_prefix: &str) -> Result<Option<Item>, StoreError> {
    let Some(cursor) = cursor else { return Ok(None) };
    // A sort key is at most 1,024 bytes (4/3 of that encoded): a longer cursor is none of
    // ours, and DynamoDB would refuse it as a server error.
    if cursor.len() > MAX_SORT_KEY_BYTES.div_ceil(3) * 4 {
        return Err(StoreError::BadCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::BadCursor)?;
    let sk = String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)?;
    if sk.len() > MAX_SORT_KEY_BYTES || !sk.starts_with(sk_prefix) {
        return Err(StoreError::BadCursor);
    }
    Ok(Some(HashMap::from([
        ("pk".to_owned(), s(pk)),
        ("sk".to_owned(), s(sk)),
    ])))
}

/// How long a cold start waits for [`Store::warm_up`].
pub const WARM_UP_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// The store; cheap to clone (the SDK client is reference-counted).
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
    clock: Clock,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            clock: Clock::system(),
        }
    }

    /// The same store reading time from `clock` (tests move a [`Clock::manual`]).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Unix seconds by this store's clock: every expiry, lease and window uses it.
    pub fn now_secs(&self) -> i64 {
        self.clock.now_secs()
    }

    pub(crate) fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Opens the table's connection during a cold start (Lambda's init phase), so the first
    /// invocation pays neither the connection (TCP + TLS in AWS) nor the SDK's one-time work
    /// (credentials, endpoint resolution): one eventually consistent `GetItem` of a key no
    /// item has (an org partition no org id can name, inside every function's
    /// `dynamodb:LeadingKeys` grant). Best effort: an error or a slow answer (bounded by
    /// `WARM_UP_TIMEOUT`) only means the first request opens the connection itself.
    pub async fn warm_up(&self) {
        let get = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("ORG#~warm-up".to_owned()))
            .key("sk", AttributeValue::S("~warm-up".to_owned()))
            .send();
        match tokio::time::timeout(WARM_UP_TIMEOUT, get).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::debug!(error = %classify(e), "warm-up read failed"),
            Err(_) => tracing::debug!("warm-up read timed out"),
        }
    }

    pub(crate) async fn get(&self, item_key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item)
    }

    /// One page of the items of partition `pk` whose sort key starts with `prefix`
    /// (`newest_first`: descending sort keys), and the cursor of the next page.
    pub(crate) async fn query_page(
        &self,
        pk: &str,
        prefix: &str,
        page: &PageRequest,
        newest_first: bool,
        filter: Option<&str>,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .set_filter_expression(filter.map(str::to_owned))
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .scan_index_forward(!newest_first)
            .consistent_read(true)
            .limit(page.limit)
            .set_exclusive_start_key(decode_cursor(page.cursor.as_deref(), pk, prefix)?)
            .send()
            .await
            .map_err(classify)?;
        let next = out
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .and_then(|k| encode_cursor(Some(&k)));
        Ok((out.items.unwrap_or_default(), next))
    }

    /// Every item of partition `pk` (with a sort-key prefix, if given), all pages.
    pub(crate) async fn query_all(&self, pk: &str, prefix: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            query = match prefix {
                Some(p) => query
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(p)),
                None => query.key_condition_expression("pk = :pk"),
            };
            let out = query.send().await.map_err(classify)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// Sets `attr` of the item at `item_key` to now, at most once a minute (a conditional
    /// write that usually fails cheaply); never fails the caller, only logs.
    pub(crate) async fn touch_once_a_minute(&self, item_key: Item, attr: &str, what: &str) {
        let now = self.now_secs();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .update_expression("SET #attr = :now")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(#attr) OR #attr < :recent)")
            .expression_attribute_names("#attr", attr)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":recent", n(now - 60))
            .send()
            .await;
        if let Err(e) = result
            && !e
                .as_service_error()
                .is_some_and(|se| se.is_conditional_check_failed_exception())
        {
            tracing::warn!(error = %classify(e), "could not record {what}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_stay_in_their_partition_and_prefix() {
        let mut item = HashMap::new();
        item.insert("pk".to_owned(), s("ORG#a"));
        item.insert("sk".to_owned(), s("MEMBER#42"));
        let c = encode_cursor(Some(&item)).unwrap();
        let key = decode_cursor(Some(&c), "ORG#b", "MEMBER#").unwrap().unwrap();
        assert_eq!(
            key["pk"].as_s().unwrap(),
            "ORG#b",
            "pk comes from the scope, not the cursor"
        );
        assert_eq!(key["sk"].as_s().unwrap(), "MEMBER#42");
        assert!(matches!(
            decode_cursor(Some(&c), "ORG#b", "AUDIT#"),
            Err(StoreError::BadCursor)
        ));
        assert!(matches!(
            decode_cursor(Some("!!!"), "ORG#b", "MEMBER#"),
            Err(StoreError::BadCursor)
        ));
        assert!(decode_cursor(None, "ORG#b", "MEMBER#").unwrap().is_none());
    }

    use proptest::prelude::*;

    proptest! {
        /// A cursor is the caller's text: any string, or a well-encoded one of any length.
        #[test]
        fn any_cursor_is_refused_or_stays_in_its_partition_and_bounded(
            raw in prop_oneof![
                any::<String>(),
                "\\PC{0,3000}".prop_map(|sk| URL_SAFE_NO_PAD.encode(format!("MEMBER#{sk}"))),
            ],
        ) {
            if let Ok(Some(key)) = decode_cursor(Some(&raw), "ORG#b", "MEMBER#") {
                prop_assert_eq!(key["pk"].as_s().unwrap(), "ORG#b");
                let sk = key["sk"].as_s().unwrap();
                prop_assert!(sk.starts_with("MEMBER#"));
                prop_assert!(sk.len() <= 1_024, "a DynamoDB sort key is at most 1,024 bytes: {}", sk.len());
            }
        }
    }
}
