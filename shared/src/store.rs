//! DynamoDB access. This is the only module that knows the table's key layout:
//! handlers pass typed ids and get typed records back, and never assemble a key.
//!
//! Key layout (single table, `pk`/`sk` strings, `expires_at` TTL attribute):
//!
//! | pk                    | sk                  | item                                   |
//! |-----------------------|---------------------|----------------------------------------|
//! | `USER#<userId>`       | `PROFILE`           | user: email, PHC hash, admin flag, epoch |
//! | `USER#<userId>`       | `SESSION#<sid>`     | login session (TTL)                    |
//! | `USER#<userId>`       | `ORG#<orgId>`       | mirror of a membership ("my orgs")     |
//! | `EMAIL#<email>`       | `EMAIL`             | unique email → user id                 |
//! | `ORG#<orgId>`         | `META`              | organization                           |
//! | `ORG#<orgId>`         | `MEMBER#<userId>`   | membership with role                   |
//! | `SLUG#<slug>`         | `SLUG`              | unique slug → org id                   |
//! | `RATE#<bucket>#<key>` | `W#<windowStart>`   | fixed-window rate-limit counter (TTL)  |
//!
//! Uniqueness is enforced with conditional writes; multi-item changes use
//! `TransactWriteItems`, never read-then-write.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};

use crate::config::RateLimit;
use crate::crypto::PasswordHashString;
use crate::domain::{Email, OrgId, OrgName, Plan, Role, SessionId, Slug, UserId};

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("email already registered")]
    EmailTaken,
    #[error("slug already taken")]
    SlugTaken,
    #[error("item already exists")]
    AlreadyExists,
    #[error("dynamodb unavailable: {0}")]
    Unavailable(String),
    #[error("dynamodb error: {0}")]
    Backend(String),
    #[error("corrupt item: {0}")]
    Corrupt(String),
}

/// Throttling, timeouts and 5xx are worth a retry by the client (503); the rest is a bug.
fn classify<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
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
                    | "ResourceNotFoundException"
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

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

// ---- key builders (private: nothing outside this module builds keys) ----

fn user_pk(id: &UserId) -> String {
    format!("USER#{id}")
}
fn org_pk(id: &OrgId) -> String {
    format!("ORG#{id}")
}
fn email_pk(email: &Email) -> String {
    format!("EMAIL#{email}")
}
fn slug_pk(slug: &Slug) -> String {
    format!("SLUG#{slug}")
}
const PROFILE: &str = "PROFILE";
const META: &str = "META";
fn session_sk(id: &SessionId) -> String {
    format!("SESSION#{id}")
}
fn member_sk(id: &UserId) -> String {
    format!("MEMBER#{id}")
}
fn user_org_sk(id: &OrgId) -> String {
    format!("ORG#{id}")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| StoreError::Corrupt(format!("missing string attribute {name}")))
}
fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("missing number attribute {name}")))
}
fn get_opt_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}
fn get_bool(item: &Item, name: &str) -> bool {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
}
fn parse<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    get_s(item, name)?
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("unparsable attribute {name}")))
}

// ---- records ----

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub email: Email,
    pub password_hash: PasswordHashString,
    pub is_system_admin: bool,
    pub session_epoch: u64,
    pub created_at: i64,
}

impl UserRecord {
    fn to_item(&self) -> Item {
        let mut item = key(user_pk(&self.id), PROFILE);
        item.insert("type".into(), s("user"));
        item.insert("user_id".into(), s(self.id.to_string()));
        item.insert("email".into(), s(self.email.as_str()));
        item.insert("password_hash".into(), s(self.password_hash.as_str()));
        item.insert("is_system_admin".into(), AttributeValue::Bool(self.is_system_admin));
        item.insert("session_epoch".into(), n(self.session_epoch));
        item.insert("created_at".into(), n(self.created_at));
        item
    }

    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse(item, "user_id")?,
            email: Email::parse(get_s(item, "email")?).map_err(|e| StoreError::Corrupt(e.message))?,
            password_hash: PasswordHashString::from_stored(get_s(item, "password_hash")?.to_owned()),
            is_system_admin: get_bool(item, "is_system_admin"),
            session_epoch: get_n(item, "session_epoch")?,
            created_at: get_n(item, "created_at")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct OrgRecord {
    pub id: OrgId,
    pub slug: Slug,
    pub name: OrgName,
    pub plan: Plan,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl OrgRecord {
    fn to_item(&self) -> Item {
        let mut item = key(org_pk(&self.id), META);
        item.insert("type".into(), s("org"));
        item.insert("org_id".into(), s(self.id.to_string()));
        item.insert("slug".into(), s(self.slug.as_str()));
        item.insert("name".into(), s(self.name.as_str()));
        item.insert("plan".into(), s(self.plan.as_str()));
        item.insert("created_at".into(), n(self.created_at));
        item.insert("updated_at".into(), n(self.updated_at));
        if let Some(d) = self.deleted_at {
            item.insert("deleted_at".into(), n(d));
        }
        item
    }

    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse(item, "org_id")?,
            slug: Slug::system(get_s(item, "slug")?).map_err(|e| StoreError::Corrupt(e.message))?,
            name: OrgName::parse(get_s(item, "name")?).map_err(|e| StoreError::Corrupt(e.message))?,
            plan: parse(item, "plan")?,
            created_at: get_n(item, "created_at")?,
            updated_at: get_n(item, "updated_at")?,
            deleted_at: get_opt_n(item, "deleted_at"),
        })
    }
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user_id: UserId,
    pub epoch: u64,
    pub created_at: i64,
    pub expires_at: i64,
}

impl SessionRecord {
    fn to_item(&self) -> Item {
        let mut item = key(user_pk(&self.user_id), session_sk(&self.id));
        item.insert("type".into(), s("session"));
        item.insert("epoch".into(), n(self.epoch));
        item.insert("created_at".into(), n(self.created_at));
        item.insert("expires_at".into(), n(self.expires_at));
        item
    }
}

/// An org the user belongs to, with their role there.
#[derive(Debug, Clone)]
pub struct MembershipView {
    pub org: OrgRecord,
    pub role: Role,
    pub joined_at: i64,
}

/// Everything signup writes, in one transaction.
#[derive(Debug)]
pub struct NewAccount {
    pub user: UserRecord,
    pub org: OrgRecord,
    pub session: SessionRecord,
}

/// Outcome of a rate-limit hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    Limited { retry_after_secs: u64 },
}

fn put_new(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The store; cheap to clone (the SDK client is reference-counted).
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get(&self, item_key: Item) -> Result<Option<Item>, StoreError> {
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

    /// Creates user, email claim, org, slug claim, owner membership (and its mirror) and
    /// the first session in one transaction: either all exist afterwards or none.
    pub async fn create_account(&self, account: &NewAccount) -> Result<(), StoreError> {
        let NewAccount { user, org, session } = account;
        let mut email_item = key(email_pk(&user.email), "EMAIL");
        email_item.insert("user_id".into(), s(user.id.to_string()));
        let mut slug_item = key(slug_pk(&org.slug), "SLUG");
        slug_item.insert("org_id".into(), s(org.id.to_string()));
        let mut member = key(org_pk(&org.id), member_sk(&user.id));
        member.insert("type".into(), s("member"));
        member.insert("user_id".into(), s(user.id.to_string()));
        member.insert("role".into(), s(Role::Owner.as_str()));
        member.insert("joined_at".into(), n(org.created_at));
        let mut mirror = key(user_pk(&user.id), user_org_sk(&org.id));
        mirror.insert("type".into(), s("user_org"));
        mirror.insert("org_id".into(), s(org.id.to_string()));
        mirror.insert("role".into(), s(Role::Owner.as_str()));
        mirror.insert("joined_at".into(), n(org.created_at));

        // Order matters: cancellation reasons are reported by index.
        const EMAIL_INDEX: usize = 1;
        const SLUG_INDEX: usize = 3;
        let items = vec![
            put_new(&self.table, user.to_item())?,
            put_new(&self.table, email_item)?,
            put_new(&self.table, org.to_item())?,
            put_new(&self.table, slug_item)?,
            put_new(&self.table, member)?,
            put_new(&self.table, mirror)?,
            put_new(&self.table, session.to_item())?,
        ];
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), TransactWriteItemsError::TransactionCanceledException(_)) =>
            {
                let TransactWriteItemsError::TransactionCanceledException(tce) = se.err() else {
                    unreachable!("matched above")
                };
                let failed = |i: usize| {
                    tce.cancellation_reasons()
                        .get(i)
                        .and_then(|r| r.code())
                        .is_some_and(|c| c == "ConditionalCheckFailed")
                };
                if failed(EMAIL_INDEX) {
                    Err(StoreError::EmailTaken)
                } else if failed(SLUG_INDEX) {
                    Err(StoreError::SlugTaken)
                } else if tce.cancellation_reasons().is_empty() {
                    // Some emulators omit reasons: find out which claim exists.
                    if self.find_user_by_email(&user.email).await?.is_some() {
                        Err(StoreError::EmailTaken)
                    } else if self.get(key(slug_pk(&org.slug), "SLUG")).await?.is_some() {
                        Err(StoreError::SlugTaken)
                    } else {
                        Err(StoreError::Unavailable(format!("transaction cancelled: {tce:?}")))
                    }
                } else {
                    // Conflicts with concurrent transactions: retryable.
                    Err(StoreError::Unavailable(format!("transaction cancelled: {tce:?}")))
                }
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Creates a user without an org (the seeded system admin), claiming the email.
    pub async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let mut email_item = key(email_pk(&user.email), "EMAIL");
        email_item.insert("user_id".into(), s(user.id.to_string()));
        let items = vec![put_new(&self.table, user.to_item())?, put_new(&self.table, email_item)?];
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), TransactWriteItemsError::TransactionCanceledException(_)) =>
            {
                Err(StoreError::EmailTaken)
            }
            Err(e) => Err(classify(e)),
        }
    }

    pub async fn set_system_admin(&self, user: &UserId) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), PROFILE)))
            .update_expression("SET is_system_admin = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    pub async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        let Some(claim) = self.get(key(email_pk(email), "EMAIL")).await? else {
            return Ok(None);
        };
        let id: UserId = parse(&claim, "user_id")?;
        self.get_user(&id).await
    }

    pub async fn get_user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError> {
        self.get(key(user_pk(id), PROFILE))
            .await?
            .map(|item| UserRecord::from_item(&item))
            .transpose()
    }

    /// Stores a stronger hash after a successful login with a weaker one.
    pub async fn update_password_hash(&self, id: &UserId, hash: &PasswordHashString) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(id), PROFILE)))
            .update_expression("SET password_hash = :h")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":h", s(hash.as_str()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    pub async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session.to_item()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The session and its user, read together (each request's authentication).
    pub async fn get_session_and_user(
        &self,
        user: &UserId,
        session: &SessionId,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let (sess, usr) = tokio::join!(self.get(key(user_pk(user), session_sk(session))), self.get_user(user));
        let (Some(sess), Some(usr)) = (sess?, usr?) else {
            return Ok(None);
        };
        let record = SessionRecord {
            id: *session,
            user_id: *user,
            epoch: get_n(&sess, "epoch")?,
            created_at: get_n(&sess, "created_at")?,
            expires_at: get_n(&sess, "expires_at")?,
        };
        Ok(Some((record, usr)))
    }

    pub async fn delete_session(&self, user: &UserId, session: &SessionId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), session_sk(session))))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// "Log out everywhere": bumping the epoch invalidates every session issued before.
    pub async fn bump_session_epoch(&self, user: &UserId) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), PROFILE)))
            .update_expression("ADD session_epoch :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(classify)?;
        out.attributes
            .as_ref()
            .map(|a| get_n(a, "session_epoch"))
            .transpose()?
            .ok_or_else(|| StoreError::Corrupt("no epoch returned".into()))
    }

    /// The live (not deleted) orgs a user belongs to, with roles, oldest membership first.
    pub async fn memberships_of(&self, user: &UserId) -> Result<Vec<MembershipView>, StoreError> {
        let mut mirrors = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(user_pk(user)))
                .expression_attribute_values(":prefix", s("ORG#"))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            mirrors.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        let mut roles: HashMap<OrgId, (Role, i64)> = HashMap::new();
        for m in &mirrors {
            roles.insert(parse(m, "org_id")?, (parse(m, "role")?, get_n(m, "joined_at")?));
        }
        let orgs = self.get_orgs(roles.keys().copied().collect()).await?;
        let mut views: Vec<MembershipView> = orgs
            .into_iter()
            .filter(|o| o.deleted_at.is_none())
            .filter_map(|org| {
                roles.get(&org.id).map(|(role, joined_at)| MembershipView {
                    role: *role,
                    joined_at: *joined_at,
                    org,
                })
            })
            .collect();
        views.sort_by(|a, b| {
            a.joined_at
                .cmp(&b.joined_at)
                .then_with(|| a.org.slug.as_str().cmp(b.org.slug.as_str()))
        });
        Ok(views)
    }

    async fn get_orgs(&self, ids: Vec<OrgId>) -> Result<Vec<OrgRecord>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let mut pending: Vec<Item> = chunk.iter().map(|id| key(org_pk(id), META)).collect();
            for attempt in 0..8u32 {
                if pending.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(20 << attempt.min(5))).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(classify)?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    found.push(OrgRecord::from_item(&item)?);
                }
                pending = out
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(&self.table)
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Unavailable("batch get left unprocessed keys".into()));
            }
        }
        Ok(found)
    }

    /// Counts one hit in the current fixed window of `bucket`/`subject`; refuses atomically
    /// (a conditional update, so concurrent requests cannot overshoot the limit).
    pub async fn rate_limit_hit(
        &self,
        bucket: &str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<RateDecision, StoreError> {
        if limit.is_disabled() {
            return Ok(RateDecision::Allowed);
        }
        let (window_start, retry_after) = window(limit);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                format!("RATE#{bucket}#{subject}"),
                format!("W#{window_start}"),
            )))
            .update_expression("ADD hits :one SET expires_at = if_not_exists(expires_at, :exp)")
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit.limit))
            .expression_attribute_values(":exp", n(window_start + limit.window.as_secs() as i64 * 2))
            .send()
            .await;
        match result {
            Ok(_) => Ok(RateDecision::Allowed),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(RateDecision::Limited {
                    retry_after_secs: retry_after,
                })
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Is `bucket`/`subject` already at its limit in the current window? (Read only; used
    /// for failure counters that are incremented only when a failure happens.)
    pub async fn rate_limit_peek(
        &self,
        bucket: &str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<RateDecision, StoreError> {
        if limit.is_disabled() {
            return Ok(RateDecision::Allowed);
        }
        let (window_start, retry_after) = window(limit);
        let item = self
            .get(key(format!("RATE#{bucket}#{subject}"), format!("W#{window_start}")))
            .await?;
        let hits: u32 = item.as_ref().and_then(|i| get_opt_n(i, "hits")).unwrap_or(0);
        Ok(if hits >= limit.limit {
            RateDecision::Limited {
                retry_after_secs: retry_after,
            }
        } else {
            RateDecision::Allowed
        })
    }
}

fn window(limit: RateLimit) -> (i64, u64) {
    let now = now_secs();
    let len = limit.window.as_secs().max(1) as i64;
    let start = now - now.rem_euclid(len);
    (start, (start + len - now).max(1) as u64)
}
