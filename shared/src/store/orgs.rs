//! Organizations, membership, ownership, soft delete and purge, and the audit log.
//! Every mutation is one transaction that also (a) re-checks the actor's rights on the
//! actor's own membership item, (b) checks the org is not deleted, and (c) appends the
//! audit entry — so a concurrently demoted admin cannot slip a change through, and no
//! change is ever unaudited.

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Update};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::keys::*;
use super::records::SealedSecret;
use super::records::{Actor, AuditEvent};
use super::records::{OrgRecord, UserRecord};
use super::tenancy::Principal;
use super::tenancy::{Access, OrgScope};
use super::tx::Tx;
use super::{
    Conflict, Item, Page, PageRequest, Store, StoreError, build, classify, get_bool, get_n, get_opt_s, get_s, n, parse,
    s,
};
use crate::domain::{OrgId, OrgName, Plan, Role, Slug, UserId};

/// A stored audit entry.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub id: String,
    pub at: i64,
    pub action: String,
    pub actor: Actor,
    pub target: Option<String>,
    pub details: serde_json::Value,
    pub via_system_admin: bool,
}

/// A member of an org.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRecord {
    pub user_id: UserId,
    pub email: String,
    pub role: Role,
    pub joined_at: i64,
}

fn audit_from_item(item: &Item) -> Result<AuditRecord, StoreError> {
    let kind = match get_s(item, "actor_type")? {
        "user" => "user",
        "api_key" => "api_key",
        _ => "system",
    };
    Ok(AuditRecord {
        id: get_s(item, "audit_id")?.to_owned(),
        at: get_n(item, "at")?,
        action: get_s(item, "action")?.to_owned(),
        actor: Actor {
            kind,
            id: get_s(item, "actor_id")?.to_owned(),
            email: get_opt_s(item, "actor_email").map(str::to_owned),
        },
        target: get_opt_s(item, "target").map(str::to_owned),
        details: get_opt_s(item, "details")
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(serde_json::Value::Null),
        via_system_admin: get_bool(item, "via_system_admin"),
    })
}

pub(super) fn member_from_item(item: &Item) -> Result<MemberRecord, StoreError> {
    Ok(MemberRecord {
        user_id: parse(item, "user_id")?,
        email: get_s(item, "email")?.to_owned(),
        role: parse(item, "role")?,
        joined_at: get_n(item, "joined_at")?,
    })
}

/// The rights an action needs from its actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Needs {
    Admin,
    /// Owner, or a system admin.
    OwnerOrSystemAdmin,
}

impl Store {
    /// Resolves `slug` to an org the caller may act in: a member (any role), or a system
    /// admin naming the org. `None` when the org does not exist, is deleted (unless
    /// `include_deleted`), or the caller has no access — the same answer for all three.
    pub async fn scope(
        &self,
        principal: &Principal,
        slug: &Slug,
        include_deleted: bool,
    ) -> Result<Option<OrgScope>, StoreError> {
        let Some(claim) = self.get(key(slug_pk(slug), SLUG_SK)).await? else {
            return Ok(None);
        };
        let org_id: OrgId = parse(&claim, "org_id")?;
        if let Principal::ApiKey {
            org_id: key_org,
            role,
            key_hash,
            ..
        } = principal
        {
            // An API key acts only in its own org, with its own role.
            if *key_org != org_id {
                return Ok(None);
            }
            let Some(org) = self.org_by_id(&org_id).await? else {
                return Ok(None);
            };
            if org.is_deleted() && !include_deleted {
                return Ok(None);
            }
            return Ok(Some(OrgScope {
                org,
                access: Access::Member(*role),
                actor: principal.actor(),
                actor_user: None,
                actor_key: Some(key_hash.clone()),
            }));
        }
        let user = principal.user();
        let member_key = user.map(|u| key(org_pk(&org_id), member_sk(&u.id)));
        let (meta, member) = tokio::join!(self.get(key(org_pk(&org_id), META)), async {
            match member_key {
                Some(k) => self.get(k).await,
                None => Ok(None),
            }
        });
        let Some(meta) = meta? else { return Ok(None) };
        let org = OrgRecord::from_item(&meta)?;
        if org.is_deleted() && !include_deleted {
            return Ok(None);
        }
        let access = match member? {
            Some(m) => Access::Member(parse(&m, "role")?),
            None if principal.is_system_admin() => Access::SystemAdmin,
            None => return Ok(None),
        };
        Ok(Some(OrgScope {
            org,
            access,
            actor: principal.actor(),
            actor_user: user.map(|u| u.id),
            actor_key: None,
        }))
    }

    /// Creates an org owned by `owner` (with its initial items and audit entry).
    pub async fn create_org(
        &self,
        org: &OrgRecord,
        owner: &UserRecord,
        webhooks: &[SealedSecret],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        self.new_org_items(&mut tx, org, owner, webhooks, audit)?;
        self.transact(tx).await
    }

    /// Re-checks the actor's rights inside the transaction.
    pub(super) fn actor_check(&self, tx: &mut Tx, scope: &OrgScope, needs: Needs) -> Result<(), StoreError> {
        if let Some(key_hash) = &scope.actor_key {
            // API keys administer (admin role) but never act as owner.
            if needs != Needs::Admin {
                return Err(StoreError::Conflict(Conflict::ActorLacksRights));
            }
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(api_key_hash_pk(key_hash), API_KEY_HASH_SK)))
                .condition_expression("attribute_exists(pk) AND #role IN (:owner, :admin)")
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":owner", s(Role::Owner.as_str()))
                .expression_attribute_values(":admin", s(Role::Admin.as_str()));
            return tx.check(build(check.build())?, Conflict::ActorLacksRights);
        }
        let Some(user) = scope.actor_user else {
            return Err(StoreError::Conflict(Conflict::ActorLacksRights));
        };
        let check = match (scope.access, needs) {
            (Access::SystemAdmin, _) => ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user), PROFILE)))
                .condition_expression("is_system_admin = :t")
                .expression_attribute_values(":t", AttributeValue::Bool(true)),
            (Access::Member(_), needs) => {
                let b = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(org_pk(scope.org_id()), member_sk(&user))))
                    .expression_attribute_names("#role", "role");
                match needs {
                    Needs::Admin => b
                        .condition_expression("#role IN (:owner, :admin)")
                        .expression_attribute_values(":owner", s(Role::Owner.as_str()))
                        .expression_attribute_values(":admin", s(Role::Admin.as_str())),
                    Needs::OwnerOrSystemAdmin => b
                        .condition_expression("#role = :owner")
                        .expression_attribute_values(":owner", s(Role::Owner.as_str())),
                }
            }
        };
        tx.check(build(check.build())?, Conflict::ActorLacksRights)
    }

    pub(crate) fn actor_admin_check(&self, tx: &mut Tx, scope: &OrgScope) -> Result<(), StoreError> {
        self.actor_check(tx, scope, Needs::Admin)
    }

    /// The org exists and is not deleted, checked inside the transaction.
    pub(crate) fn org_live_check(&self, tx: &mut Tx, scope: &OrgScope) -> Result<(), StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), META)))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
            .build();
        tx.check(build(check)?, Conflict::OrgDeleted)
    }

    /// The write's audit entry in the scope's org, in the write's transaction.
    pub(crate) fn audit(&self, tx: &mut Tx, scope: &OrgScope, event: &AuditEvent) -> Result<(), StoreError> {
        tx.put(self.audit_put(scope.org_id(), event)?)
    }

    /// Appends an audit entry on its own (a system admin's reads), in the scope's org.
    pub async fn append_audit(&self, scope: &OrgScope, event: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// An org by raw id: for the store's own lookups before a scope exists (a scope, a
    /// queue message's org, a feedback link's org, an API key's org); handlers read their
    /// org from their scope.
    pub(crate) async fn org_by_id(&self, org: &OrgId) -> Result<Option<OrgRecord>, StoreError> {
        self.get(key(org_pk(org), META))
            .await?
            .map(|i| OrgRecord::from_item(&i))
            .transpose()
    }

    pub async fn member(&self, scope: &OrgScope, user: &UserId) -> Result<Option<MemberRecord>, StoreError> {
        self.get(key(org_pk(scope.org_id()), member_sk(user)))
            .await?
            .map(|i| member_from_item(&i))
            .transpose()
    }

    pub async fn members_page(&self, scope: &OrgScope, page: &PageRequest) -> Result<Page<MemberRecord>, StoreError> {
        let (items, next_cursor) = self
            .query_page(&org_pk(scope.org_id()), MEMBER_PREFIX, page, false, None)
            .await?;
        let items = items.iter().map(member_from_item).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// The audit log, newest first.
    pub async fn audit_page(&self, scope: &OrgScope, page: &PageRequest) -> Result<Page<AuditRecord>, StoreError> {
        let (items, next_cursor) = self
            .query_page(&org_pk(scope.org_id()), AUDIT_PREFIX, page, true, None)
            .await?;
        let items = items.iter().map(audit_from_item).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Renames the org and/or changes its plan (the caller checks who may change what).
    pub async fn update_org(
        &self,
        scope: &OrgScope,
        name: Option<&OrgName>,
        plan: Option<Plan>,
        event: &AuditEvent,
    ) -> Result<OrgRecord, StoreError> {
        let mut expr = vec!["updated_at = :now"];
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), META)))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
            .expression_attribute_values(":now", n(self.now_secs()));
        if let Some(name) = name {
            expr.push("#name = :name");
            update = update
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", s(name.as_str()));
        }
        if let Some(plan) = plan {
            expr.push("#plan = :plan");
            update = update
                .expression_attribute_names("#plan", "plan")
                .expression_attribute_values(":plan", s(plan.as_str()));
        }
        let update = update.update_expression(format!("SET {}", expr.join(", ")));
        let mut tx = Tx::new();
        tx.update_if(build(update.build())?, Conflict::OrgDeleted)?;
        self.actor_check(&mut tx, scope, Needs::Admin)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await?;
        self.org_by_id(scope.org_id())
            .await?
            .ok_or_else(|| StoreError::Corrupt("org vanished after update".into()))
    }

    /// Soft delete: members lose access at once; data stays until purge after `grace`.
    pub async fn soft_delete_org(
        &self,
        scope: &OrgScope,
        grace: Duration,
        event: &AuditEvent,
    ) -> Result<OrgRecord, StoreError> {
        let now = self.now_secs();
        let purge_after = now + grace.as_secs() as i64;
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), META)))
            .update_expression("SET deleted_at = :now, purge_after = :pa, updated_at = :now, gsi1pk = :g, gsi1sk = :gs")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":pa", n(purge_after))
            .expression_attribute_values(":g", s(DELETED_ORGS))
            .expression_attribute_values(":gs", s(format!("{purge_after:012}#{}", scope.org_id())));
        let mut tx = Tx::new();
        tx.update_if(build(update.build())?, Conflict::OrgDeleted)?;
        self.actor_check(&mut tx, scope, Needs::OwnerOrSystemAdmin)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await?;
        self.org_by_id(scope.org_id())
            .await?
            .ok_or_else(|| StoreError::Corrupt("org vanished after delete".into()))
    }

    /// Undoes a soft delete within the grace period (and before a purge has begun).
    pub async fn restore_org(&self, scope: &OrgScope, event: &AuditEvent) -> Result<OrgRecord, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), META)))
            .update_expression("SET updated_at = :now REMOVE deleted_at, purge_after, gsi1pk, gsi1sk")
            .condition_expression(
                "attribute_exists(deleted_at) AND purge_after > :now AND attribute_not_exists(purging)",
            )
            .expression_attribute_values(":now", n(self.now_secs()));
        let mut tx = Tx::new();
        tx.update_if(build(update.build())?, Conflict::NotRestorable)?;
        self.actor_check(&mut tx, scope, Needs::OwnerOrSystemAdmin)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await?;
        self.org_by_id(scope.org_id())
            .await?
            .ok_or_else(|| StoreError::Corrupt("org vanished after restore".into()))
    }

    /// Every organization (deleted ones too), for the system admin's list: a page of up to
    /// `page.limit` orgs whose slug or name contains `search`. There is no index of all
    /// orgs, so this scans the table (filtered server-side, the cursor is the last org
    /// returned); it serves an occasional admin page, never a user's request.
    pub async fn all_orgs_page(&self, search: Option<&str>, page: &PageRequest) -> Result<Page<OrgRecord>, StoreError> {
        let mut start = match page.cursor.as_deref() {
            None => None,
            Some(c) => {
                let raw = URL_SAFE_NO_PAD.decode(c).map_err(|_| StoreError::BadCursor)?;
                let id: OrgId = std::str::from_utf8(&raw)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .ok_or(StoreError::BadCursor)?;
                Some(key(org_pk(&id), META))
            }
        };
        let want = usize::try_from(page.limit).unwrap_or(1).max(1);
        let mut items = Vec::new();
        loop {
            let mut scan = self
                .client
                .scan()
                .table_name(&self.table)
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":org", s("org"))
                .set_exclusive_start_key(start.take());
            scan = match search.map(str::trim).filter(|q| !q.is_empty()) {
                Some(q) => scan
                    .filter_expression("#type = :org AND (contains(slug, :q) OR contains(#name, :q))")
                    .expression_attribute_names("#name", "name")
                    .expression_attribute_values(":q", s(q)),
                None => scan.filter_expression("#type = :org"),
            };
            let out = scan.send().await.map_err(classify)?;
            for item in out.items() {
                items.push(OrgRecord::from_item(item)?);
                if items.len() == want {
                    let last = items.last().map(|o: &OrgRecord| o.id.to_string()).unwrap_or_default();
                    return Ok(Page {
                        items,
                        next_cursor: Some(URL_SAFE_NO_PAD.encode(last.as_bytes())),
                    });
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => {
                    return Ok(Page {
                        items,
                        next_cursor: None,
                    });
                }
            }
        }
    }
}
