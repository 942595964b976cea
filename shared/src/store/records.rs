//! Records and item builders the store's modules share (users, orgs, memberships, audit
//! entries, webhook secrets). They depend on nothing else in the store but the key
//! builders, so `orgs`, `users`, `webhooks` and the rest depend on them and never on each
//! other in a circle.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use serde::Serialize;

use super::keys::*;
use super::tx::Tx;
use super::{Conflict, Item, Store, StoreError, get_bool, get_n, get_opt_n, get_s, n, parse, s};
use crate::crypto::PasswordHashString;
use crate::domain::{Email, OrgId, OrgName, Plan, Provider, Role, SessionId, Slug, UserId};

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub email: Email,
    pub password_hash: PasswordHashString,
    pub is_system_admin: bool,
    pub session_epoch: u64,
    pub created_at: i64,
    /// The owner proved the address (verification link, invitation or reset link).
    pub email_verified: bool,
}

impl UserRecord {
    pub(crate) fn to_item(&self) -> Item {
        let mut item = key(user_pk(&self.id), PROFILE);
        item.insert("type".into(), s("user"));
        item.insert("user_id".into(), s(self.id.to_string()));
        item.insert("email".into(), s(self.email.as_str()));
        item.insert("password_hash".into(), s(self.password_hash.as_str()));
        item.insert("is_system_admin".into(), AttributeValue::Bool(self.is_system_admin));
        item.insert("session_epoch".into(), n(self.session_epoch));
        item.insert("created_at".into(), n(self.created_at));
        item.insert("email_verified".into(), AttributeValue::Bool(self.email_verified));
        item
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            email_verified: get_bool(item, "email_verified"),
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
    pub purge_after: Option<i64>,
}

impl OrgRecord {
    pub fn new(slug: Slug, name: OrgName, now: i64) -> Self {
        Self {
            id: OrgId::new(),
            slug,
            name,
            plan: Plan::Free,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            purge_after: None,
        }
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub(crate) fn to_item(&self) -> Item {
        let mut item = key(org_pk(&self.id), META);
        item.insert("type".into(), s("org"));
        item.insert("org_id".into(), s(self.id.to_string()));
        item.insert("slug".into(), s(self.slug.as_str()));
        item.insert("name".into(), s(self.name.as_str()));
        item.insert("plan".into(), s(self.plan.as_str()));
        item.insert("created_at".into(), n(self.created_at));
        item.insert("updated_at".into(), n(self.updated_at));
        // Purge deletes the slug claim together with the org.
        item.insert("companion_pk".into(), s(slug_pk(&self.slug)));
        item.insert("companion_sk".into(), s(SLUG_SK));
        if let Some(d) = self.deleted_at {
            item.insert("deleted_at".into(), n(d));
        }
        if let Some(p) = self.purge_after {
            item.insert("purge_after".into(), n(p));
        }
        item
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse(item, "org_id")?,
            slug: Slug::system(get_s(item, "slug")?).map_err(|e| StoreError::Corrupt(e.message))?,
            name: OrgName::parse(get_s(item, "name")?).map_err(|e| StoreError::Corrupt(e.message))?,
            plan: parse(item, "plan")?,
            created_at: get_n(item, "created_at")?,
            updated_at: get_n(item, "updated_at")?,
            deleted_at: get_opt_n(item, "deleted_at"),
            purge_after: get_opt_n(item, "purge_after"),
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
    /// When a request last used it (recorded at most once a minute); `None`: not since login.
    pub last_seen_at: Option<i64>,
}

impl SessionRecord {
    pub(super) fn from_item(user_id: UserId, id: SessionId, item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id,
            user_id,
            epoch: get_n(item, "epoch")?,
            created_at: get_n(item, "created_at")?,
            expires_at: get_n(item, "expires_at")?,
            last_seen_at: get_opt_n(item, "last_seen_at"),
        })
    }

    pub(crate) fn to_item(&self) -> Item {
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
    /// The org's webhook secrets, sealed by KMS, created with it.
    pub webhooks: Vec<SealedSecret>,
    pub audit: AuditEvent,
}

/// A put of an item that must not exist yet.
pub(crate) fn put_new(table: &str, item: Item) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(|e| StoreError::Backend(e.to_string()))
}

pub(crate) fn email_claim(user: &UserRecord) -> Item {
    let mut item = key(email_pk(&user.email), EMAIL_SK);
    item.insert("user_id".into(), s(user.id.to_string()));
    item
}

pub(crate) fn slug_claim(org: &OrgRecord) -> Item {
    let mut item = key(slug_pk(&org.slug), SLUG_SK);
    item.insert("org_id".into(), s(org.id.to_string()));
    item
}

impl Store {
    /// Adds the items that create an org with its owner (shared by signup and
    /// `POST /api/orgs`) to `tx`.
    pub(crate) fn new_org_items(
        &self,
        tx: &mut Tx,
        org: &OrgRecord,
        owner: &UserRecord,
        webhooks: &[SealedSecret],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let table = &self.table;
        let (member, mirror) = member_items(org, owner, Role::Owner, org.created_at);
        tx.put(put_new(table, org.to_item())?)?;
        tx.put_if(put_new(table, slug_claim(org))?, Conflict::SlugTaken)?;
        tx.put(put_new(table, member)?)?;
        tx.put(put_new(table, mirror)?)?;
        tx.put(self.audit_put(&org.id, audit)?)?;
        for secret in webhooks {
            tx.put(put_new(table, webhook_item(&org.id, secret, org.created_at))?)?;
        }
        Ok(())
    }

    /// The audit entry of a write, put in the write's own transaction.
    pub(crate) fn audit_put(&self, org: &OrgId, event: &AuditEvent) -> Result<Put, StoreError> {
        audit_put_at(&self.table, org, event, self.now_millis())
    }
}

/// Who did something, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Actor {
    pub fn user(user: &UserRecord) -> Self {
        Self {
            kind: "user",
            id: user.id.to_string(),
            email: Some(user.email.to_string()),
        }
    }
    pub fn system(what: &str) -> Self {
        Self {
            kind: "system",
            id: what.to_owned(),
            email: None,
        }
    }
}

/// An audit entry to append: who did what to whom.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub action: String,
    pub actor: Actor,
    pub target: Option<String>,
    pub details: serde_json::Value,
    pub via_system_admin: bool,
}

impl AuditEvent {
    pub fn new(action: &str, actor: Actor) -> Self {
        Self {
            action: action.to_owned(),
            actor,
            target: None,
            details: serde_json::Value::Null,
            via_system_admin: false,
        }
    }
    pub fn target(mut self, target: impl ToString) -> Self {
        self.target = Some(target.to_string());
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

fn audit_put_at(table: &str, org: &OrgId, event: &AuditEvent, at: i64) -> Result<Put, StoreError> {
    let id = uuid::Uuid::new_v4();
    let mut item = key(org_pk(org), audit_sk(at, &id));
    item.insert("type".into(), s("audit"));
    item.insert("audit_id".into(), s(id.simple().to_string()));
    item.insert("at".into(), n(at / 1000));
    item.insert("action".into(), s(&event.action));
    item.insert("actor_type".into(), s(event.actor.kind));
    item.insert("actor_id".into(), s(&event.actor.id));
    if let Some(email) = &event.actor.email {
        item.insert("actor_email".into(), s(email));
    }
    if let Some(target) = &event.target {
        item.insert("target".into(), s(target));
    }
    if !event.details.is_null() {
        item.insert("details".into(), s(event.details.to_string()));
    }
    item.insert("via_system_admin".into(), AttributeValue::Bool(event.via_system_admin));
    put_new(table, item)
}

/// The membership item (in the org's partition) and its mirror under the user.
pub(crate) fn member_items(org: &OrgRecord, user: &UserRecord, role: Role, joined_at: i64) -> (Item, Item) {
    let mut member = key(org_pk(&org.id), member_sk(&user.id));
    member.insert("type".into(), s("member"));
    member.insert("user_id".into(), s(user.id.to_string()));
    member.insert("email".into(), s(user.email.as_str()));
    member.insert("role".into(), s(role.as_str()));
    member.insert("joined_at".into(), n(joined_at));
    // Purge removes the mirror together with the membership.
    member.insert("companion_pk".into(), s(user_pk(&user.id)));
    member.insert("companion_sk".into(), s(user_org_sk(&org.id)));
    let mut mirror = key(user_pk(&user.id), user_org_sk(&org.id));
    mirror.insert("type".into(), s("user_org"));
    mirror.insert("org_id".into(), s(org.id.to_string()));
    mirror.insert("role".into(), s(role.as_str()));
    mirror.insert("joined_at".into(), n(joined_at));
    (member, mirror)
}

/// A secret sealed by KMS, ready to store.
#[derive(Debug, Clone)]
pub struct SealedSecret {
    pub provider: Provider,
    pub ciphertext: Vec<u8>,
    pub preview: String,
}

pub(crate) fn webhook_item(org: &OrgId, secret: &SealedSecret, now: i64) -> Item {
    let mut item = key(org_pk(org), webhook_sk(secret.provider));
    item.insert("type".into(), s("webhook"));
    item.insert("provider".into(), s(secret.provider.as_str()));
    item.insert(
        "ciphertext".into(),
        AttributeValue::B(Blob::new(secret.ciphertext.clone())),
    );
    item.insert("preview".into(), s(&secret.preview));
    item.insert("version".into(), n(1));
    item.insert("created_at".into(), n(now));
    item
}
