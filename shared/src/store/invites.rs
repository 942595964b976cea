//! Org-scoped invitations. Only the SHA-256 of a token is stored; the token item
//! (`INVITETOKEN#<hash>`) is the single-use switch, consumed by a conditional write in the
//! same transaction that creates the membership (and the account, for a new user).

use aws_sdk_dynamodb::types::Update;
use serde::Serialize;

use super::keys::*;
use super::records::{AuditEvent, member_items};
use super::records::{OrgRecord, SessionRecord, UserRecord, email_claim, put_new};
use super::tenancy::OrgScope;
use super::tx::Tx;
use super::{Conflict, Item, Page, PageRequest, Store, StoreError, get_n, get_opt_s, get_s, n, parse, s};
use crate::domain::{Email, OrgId, Role, UserId};
use crate::email::MailStatus;

/// Invitation lifetime.
pub const INVITE_TTL_SECS: i64 = 7 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InviteStatus {
    Pending,
    Accepted,
    Revoked,
}

/// A stored invitation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteRecord {
    pub id: String,
    #[serde(skip)]
    pub org_id: OrgId,
    pub email: String,
    pub role: Role,
    pub status: InviteStatus,
    pub invited_by: String,
    pub invited_by_email: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    #[serde(skip)]
    pub token_hash: String,
    /// Whether the latest invitation mail went out (`None`: created before mail existed).
    pub mail_status: Option<MailStatus>,
}

impl InviteRecord {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at <= now
    }

    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id: get_s(item, "invite_id")?.to_owned(),
            org_id: parse(item, "org_id")?,
            email: get_s(item, "email")?.to_owned(),
            role: parse(item, "role")?,
            status: match get_s(item, "status")? {
                "pending" => InviteStatus::Pending,
                "accepted" => InviteStatus::Accepted,
                _ => InviteStatus::Revoked,
            },
            invited_by: get_s(item, "invited_by")?.to_owned(),
            invited_by_email: get_opt_s(item, "invited_by_email").map(str::to_owned),
            created_at: get_n(item, "created_at")?,
            expires_at: get_n(item, "expires_at_invite")?,
            token_hash: get_s(item, "token_hash")?.to_owned(),
            mail_status: match get_opt_s(item, "mail_status") {
                Some("sent") => Some(MailStatus::Sent),
                Some("failed") => Some(MailStatus::Failed),
                _ => None,
            },
        })
    }
}

/// What a token resolves to.
#[derive(Debug, Clone)]
pub enum TokenLookup {
    /// Never issued.
    Unknown,
    /// Issued, but used, revoked or replaced by a resend.
    Spent,
    /// Live token of this invitation (whose own status/expiry still need checking).
    Live(Box<(InviteRecord, OrgRecord)>),
}

/// What accepting creates besides the membership.
#[derive(Debug)]
pub enum Acceptor<'a> {
    /// A logged-in user with the invited email.
    Existing(&'a UserRecord),
    /// A new account with the invited email, and its first session.
    New(&'a UserRecord, &'a SessionRecord),
}

fn token_item(token_hash: &str, org: &OrgId, invite_id: &str, expires_at: i64) -> Item {
    let mut item = key(invite_token_pk(token_hash), INVITE_TOKEN_SK);
    item.insert("type".into(), s("invite_token"));
    item.insert("org_id".into(), s(org.to_string()));
    item.insert("invite_id".into(), s(invite_id));
    item.insert("status".into(), s("live"));
    // Kept (as "spent") past expiry for a while so reuse answers 410, then cleaned by TTL.
    item.insert("expires_at".into(), n(expires_at + INVITE_TTL_SECS));
    item
}

/// Spends a live invitation token (a spent one is `InviteNotPending`).
fn spend_token(tx: &mut Tx, table: &str, token_hash: &str) -> Result<(), StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(invite_token_pk(token_hash), INVITE_TOKEN_SK)))
        .update_expression("SET #status = :spent")
        .condition_expression("#status = :live")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":spent", s("spent"))
        .expression_attribute_values(":live", s("live"))
        .build()
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    tx.update_if(update, Conflict::InviteNotPending)
}

impl Store {
    /// Creates a pending invitation and its token lookup.
    pub async fn create_invite(
        &self,
        scope: &OrgScope,
        email: &Email,
        role: Role,
        token_hash: &str,
        event: &AuditEvent,
    ) -> Result<InviteRecord, StoreError> {
        let now = self.now_secs();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let record = InviteRecord {
            id: id.clone(),
            org_id: *scope.org_id(),
            email: email.to_string(),
            role,
            status: InviteStatus::Pending,
            invited_by: scope.actor().id.clone(),
            invited_by_email: scope.actor().email.clone(),
            created_at: now,
            expires_at: now + INVITE_TTL_SECS,
            token_hash: token_hash.to_owned(),
            mail_status: None,
        };
        let mut item = key(org_pk(scope.org_id()), invite_sk(&id));
        item.insert("type".into(), s("invite"));
        item.insert("invite_id".into(), s(&id));
        item.insert("org_id".into(), s(scope.org_id().to_string()));
        item.insert("email".into(), s(email.as_str()));
        item.insert("role".into(), s(role.as_str()));
        item.insert("status".into(), s("pending"));
        item.insert("invited_by".into(), s(&record.invited_by));
        if let Some(e) = &record.invited_by_email {
            item.insert("invited_by_email".into(), s(e));
        }
        item.insert("created_at".into(), n(now));
        item.insert("expires_at_invite".into(), n(record.expires_at));
        item.insert("token_hash".into(), s(token_hash));
        item.insert("companion_pk".into(), s(invite_token_pk(token_hash)));
        item.insert("companion_sk".into(), s(INVITE_TOKEN_SK));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, item)?)?;
        let token = token_item(token_hash, scope.org_id(), &id, record.expires_at);
        tx.put(put_new(&self.table, token)?)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await?;
        Ok(record)
    }

    pub async fn invite(&self, scope: &OrgScope, id: &str) -> Result<Option<InviteRecord>, StoreError> {
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        self.get(key(org_pk(scope.org_id()), invite_sk(id)))
            .await?
            .map(|i| InviteRecord::from_item(&i))
            .transpose()
    }

    /// Pending, unexpired invitations of the org (a page of the org's invites, filtered).
    pub async fn pending_invites(
        &self,
        scope: &OrgScope,
        page: &PageRequest,
    ) -> Result<Page<InviteRecord>, StoreError> {
        let (items, next_cursor) = self
            .query_page(&org_pk(scope.org_id()), INVITE_PREFIX, page, false, None)
            .await?;
        let now = self.now_secs();
        let items = items
            .iter()
            .map(InviteRecord::from_item)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|i| i.status == InviteStatus::Pending && !i.is_expired(now))
            .collect();
        Ok(Page { items, next_cursor })
    }

    /// Revokes a pending invitation; its token dies with it.
    pub async fn revoke_invite(
        &self,
        scope: &OrgScope,
        invite: &InviteRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), invite_sk(&invite.id))))
            .update_expression("SET #status = :revoked")
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":revoked", s("revoked"))
            .expression_attribute_values(":pending", s("pending"))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = Tx::new();
        tx.update_if(update, Conflict::InviteNotPending)?;
        spend_token(&mut tx, &self.table, &invite.token_hash)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// Replaces a pending invitation's token (the old one dies) and restarts its expiry.
    pub async fn resend_invite(
        &self,
        scope: &OrgScope,
        invite: &InviteRecord,
        new_token_hash: &str,
        event: &AuditEvent,
    ) -> Result<InviteRecord, StoreError> {
        let now = self.now_secs();
        let expires_at = now + INVITE_TTL_SECS;
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), invite_sk(&invite.id))))
            .update_expression("SET token_hash = :h, expires_at_invite = :e, companion_pk = :cpk")
            .condition_expression("#status = :pending AND token_hash = :old")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":h", s(new_token_hash))
            .expression_attribute_values(":e", n(expires_at))
            .expression_attribute_values(":cpk", s(invite_token_pk(new_token_hash)))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":old", s(&invite.token_hash))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = Tx::new();
        tx.update_if(update, Conflict::InviteNotPending)?;
        spend_token(&mut tx, &self.table, &invite.token_hash)?;
        let token = token_item(new_token_hash, scope.org_id(), &invite.id, expires_at);
        tx.put(put_new(&self.table, token)?)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await?;
        Ok(InviteRecord {
            expires_at,
            token_hash: new_token_hash.to_owned(),
            mail_status: None,
            ..invite.clone()
        })
    }

    /// Resolves a token hash (public preview and acceptance).
    pub async fn lookup_invite_token(&self, token_hash: &str) -> Result<TokenLookup, StoreError> {
        let Some(token) = self.get(key(invite_token_pk(token_hash), INVITE_TOKEN_SK)).await? else {
            return Ok(TokenLookup::Unknown);
        };
        if get_opt_s(&token, "status") != Some("live") {
            return Ok(TokenLookup::Spent);
        }
        let org_id: OrgId = parse(&token, "org_id")?;
        let invite_id = get_s(&token, "invite_id")?;
        let (invite, org) = tokio::join!(
            self.get(key(org_pk(&org_id), invite_sk(invite_id))),
            self.org_by_id(&org_id)
        );
        match (invite?, org?) {
            (Some(invite), Some(org)) => Ok(TokenLookup::Live(Box::new((InviteRecord::from_item(&invite)?, org)))),
            _ => Ok(TokenLookup::Spent),
        }
    }

    /// Accepts an invitation: spends the token, marks the invite accepted and creates the
    /// membership (and, for a new user, the account and session) in one transaction. The
    /// address is not marked verified: the accept link is also shown to the inviting admin,
    /// so using it proves nothing about the inbox.
    pub async fn accept_invite(
        &self,
        invite: &InviteRecord,
        org: &OrgRecord,
        acceptor: Acceptor<'_>,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let now = self.now_secs();
        let user = match acceptor {
            Acceptor::Existing(u) | Acceptor::New(u, _) => u,
        };
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(&org.id), invite_sk(&invite.id))))
            .update_expression("SET #status = :accepted, accepted_by = :u, accepted_at = :now")
            .condition_expression("#status = :pending AND token_hash = :h AND expires_at_invite > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":accepted", s("accepted"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":u", s(user.id.to_string()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":h", s(&invite.token_hash))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let (member, mirror) = member_items(org, user, invite.role, now);
        let live = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(&org.id), META)))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = Tx::new();
        spend_token(&mut tx, &self.table, &invite.token_hash)?;
        tx.update_if(update, Conflict::InviteNotPending)?;
        tx.put_if(put_new(&self.table, member)?, Conflict::AlreadyMember)?;
        tx.put_if(put_new(&self.table, mirror)?, Conflict::AlreadyMember)?;
        tx.check(live, Conflict::OrgDeleted)?;
        tx.put(self.audit_put(&org.id, event)?)?;
        if let Acceptor::New(user, session) = acceptor {
            tx.put(put_new(&self.table, user.to_item())?)?;
            tx.put_if(put_new(&self.table, email_claim(user))?, Conflict::EmailTaken)?;
            tx.put(put_new(&self.table, session.to_item())?)?;
        }
        self.transact(tx).await
    }

    /// Records whether the mail of the invite's current token went out (a later resend's
    /// status is never overwritten by an earlier one: the token hash must still match).
    pub async fn set_invite_mail_status(&self, invite: &InviteRecord, status: MailStatus) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(&invite.org_id), invite_sk(&invite.id))))
            .update_expression("SET mail_status = :m")
            .condition_expression("token_hash = :h")
            .expression_attribute_values(":m", s(status.as_str()))
            .expression_attribute_values(":h", s(&invite.token_hash))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(super::classify(e)),
        }
    }

    /// Is `user` a member of the scope's org? (A read for a friendlier answer; the
    /// acceptance transaction enforces it.)
    pub async fn is_member(&self, scope: &OrgScope, user: &UserId) -> Result<bool, StoreError> {
        self.member_exists(scope.org_id(), user).await
    }

    /// Store-internal (the upgrade path works before any scope exists).
    pub(super) async fn member_exists(&self, org: &OrgId, user: &UserId) -> Result<bool, StoreError> {
        Ok(self.get(key(org_pk(org), member_sk(user))).await?.is_some())
    }
}
