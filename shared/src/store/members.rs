//! Membership changes: add, change role, transfer ownership, remove, leave. Each is one
//! transaction that re-checks the actor's rights, and revokes (or lowers) the API keys the
//! member made, guarded by the member's count of keys made (a key made concurrently makes
//! the change retry).

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};

use super::keys::*;
use super::orgs::Needs;
use super::records::{AuditEvent, UserRecord, member_items};
use super::tenancy::OrgScope;
use super::{Conflict, Store, StoreError, build, n, s};
use crate::domain::{OrgId, Role, UserId};

/// Attempts at a membership change whose member made a key meanwhile.
const MEMBER_KEY_RETRIES: usize = 3;
/// Keys revoked with their maker in one transaction (two writes each, of DynamoDB's 100).
const MAX_KEYS_REVOKED_WITH_MEMBER: usize = 40;

/// A member's count of keys made, as read before a membership change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeysSeen(Option<i64>);

impl KeysSeen {
    /// `condition` extended with "the member made no key since we read the count".
    fn guard(condition: &str, seen: Option<KeysSeen>) -> (String, Option<aws_sdk_dynamodb::types::AttributeValue>) {
        match seen {
            None => (condition.to_owned(), None),
            Some(KeysSeen(None)) => (format!("{condition} AND attribute_not_exists(api_keys_created)"), None),
            Some(KeysSeen(Some(count))) => (format!("{condition} AND api_keys_created = :kc"), Some(n(count))),
        }
    }
}

/// What a failed membership change should do next.
enum Retry {
    Again,
    Fail(StoreError),
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    fn set_role(
        &self,
        org: &OrgId,
        user: &UserId,
        role: Role,
        condition: &str,
        conflict: Conflict,
        keys_seen: Option<KeysSeen>,
    ) -> Result<[(TransactWriteItem, Option<Conflict>); 2], StoreError> {
        let (condition, kc) = KeysSeen::guard(condition, keys_seen);
        let member = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), member_sk(user))))
            .update_expression("SET #role = :role")
            .condition_expression(condition)
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", s(role.as_str()))
            .expression_attribute_values(":owner", s(Role::Owner.as_str()));
        let member = match kc {
            Some(v) => member.expression_attribute_values(":kc", v),
            None => member,
        };
        let mirror = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), user_org_sk(org))))
            .update_expression("SET #role = :role")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", s(role.as_str()));
        Ok([
            (
                TransactWriteItem::builder().update(build(member.build())?).build(),
                Some(conflict),
            ),
            (
                TransactWriteItem::builder().update(build(mirror.build())?).build(),
                Some(Conflict::NotMember),
            ),
        ])
    }

    /// Hands ownership from the acting owner to another member (who must exist); the old
    /// owner becomes an admin. One transaction: exactly one owner before and after.
    pub async fn transfer_ownership(
        &self,
        scope: &OrgScope,
        to: &UserId,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let Some(from) = scope.actor_user().copied() else {
            return Err(StoreError::Conflict(Conflict::NotOwner));
        };
        if !scope.is_owner() {
            return Err(StoreError::Conflict(Conflict::NotOwner));
        }
        let org = *scope.org_id();
        let mut items = Vec::new();
        items.extend(self.set_role(&org, &from, Role::Admin, "#role = :owner", Conflict::NotOwner, None)?);
        items.extend(self.set_role(
            &org,
            to,
            Role::Owner,
            "attribute_exists(pk) AND #role <> :owner",
            Conflict::NotMember,
            None,
        )?);
        items.push(self.org_live_check(scope)?);
        items.push(self.audit_item(scope, event)?);
        self.transact(items).await
    }

    /// Adds an existing user with `role` (admin or member).
    pub async fn add_member(
        &self,
        scope: &OrgScope,
        user: &UserRecord,
        role: Role,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (member, mirror) = member_items(scope.org(), user, role, self.now_secs());
        let mut items = vec![
            (
                super::records::put_new(&self.table, member)?,
                Some(Conflict::AlreadyMember),
            ),
            (
                super::records::put_new(&self.table, mirror)?,
                Some(Conflict::AlreadyMember),
            ),
        ];
        items.extend(self.actor_check(scope, Needs::Admin)?);
        items.push(self.org_live_check(scope)?);
        items.push(self.audit_item(scope, event)?);
        self.transact(items).await
    }

    /// Changes a non-owner member's role to admin or member. Demoting to member reduces
    /// the admin keys that member made to member keys, in the same transaction.
    pub async fn change_member_role(
        &self,
        scope: &OrgScope,
        target: &UserId,
        role: Role,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let org = *scope.org_id();
        for _ in 0..MEMBER_KEY_RETRIES {
            let (seen, keys) = self.keys_of_member(scope, target).await?;
            let mut items = Vec::new();
            items.extend(self.set_role(
                &org,
                target,
                role,
                "attribute_exists(pk) AND #role <> :owner",
                Conflict::TargetIsOwner,
                Some(seen),
            )?);
            if role == Role::Member {
                for k in keys.iter().filter(|k| k.role.is_admin()) {
                    items.extend(self.key_reduction(&org, k, Role::Member)?.map(|op| (op, None)));
                }
            }
            if self.commit_admin_change(scope, target, seen, items, event).await? {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable("the member's keys kept changing; retry".into()))
    }

    /// Adds the admin's rights check, the org-is-live check and the audit entry to a change
    /// of `target`'s membership and commits it; `Ok(false)`: the member made a key since
    /// their keys were read (read again and retry).
    async fn commit_admin_change(
        &self,
        scope: &OrgScope,
        target: &UserId,
        seen: KeysSeen,
        mut items: Vec<(TransactWriteItem, Option<Conflict>)>,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        items.extend(self.actor_check(scope, Needs::Admin)?);
        items.push(self.org_live_check(scope)?);
        items.push(self.audit_item(scope, event)?);
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(e) => match self.explain_target(scope, target, seen, e).await {
                Retry::Again => Ok(false),
                Retry::Fail(e) => Err(e),
            },
        }
    }

    /// The member's key counter as read now, and the live keys they made.
    async fn keys_of_member(
        &self,
        scope: &OrgScope,
        person: &UserId,
    ) -> Result<(KeysSeen, Vec<super::ApiKeyRecord>), StoreError> {
        let item = self.get(key(org_pk(scope.org_id()), member_sk(person))).await?;
        let Some(item) = item else {
            return Err(StoreError::Conflict(Conflict::NotMember));
        };
        let seen = KeysSeen(super::get_opt_n::<i64>(&item, "api_keys_created"));
        let keys = if seen.0.is_some() {
            self.keys_made_by(scope.org_id(), person).await?
        } else {
            Vec::new()
        };
        if keys.len() > MAX_KEYS_REVOKED_WITH_MEMBER {
            return Err(StoreError::Conflict(Conflict::TooManyKeys));
        }
        Ok((seen, keys))
    }

    fn membership_deletes(
        &self,
        org: &OrgId,
        user: &UserId,
        conflict: Conflict,
        keys_seen: KeysSeen,
    ) -> Result<[(TransactWriteItem, Option<Conflict>); 2], StoreError> {
        let (condition, kc) = KeysSeen::guard("attribute_exists(pk) AND #role <> :owner", Some(keys_seen));
        let member = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), member_sk(user))))
            .condition_expression(condition)
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":owner", s(Role::Owner.as_str()));
        let member = match kc {
            Some(v) => member.expression_attribute_values(":kc", v),
            None => member,
        };
        let mirror = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), user_org_sk(org))));
        Ok([
            (
                TransactWriteItem::builder().delete(build(member.build())?).build(),
                Some(conflict),
            ),
            (
                TransactWriteItem::builder().delete(build(mirror.build())?).build(),
                None,
            ),
        ])
    }

    /// Removes a non-owner member (not the actor: leaving is [`Store::leave_org`]), and
    /// revokes every key they made, in one transaction.
    pub async fn remove_member(&self, scope: &OrgScope, target: &UserId, event: &AuditEvent) -> Result<(), StoreError> {
        for _ in 0..MEMBER_KEY_RETRIES {
            let (seen, keys) = self.keys_of_member(scope, target).await?;
            let mut items = Vec::new();
            items.extend(self.membership_deletes(scope.org_id(), target, Conflict::TargetIsOwner, seen)?);
            for k in &keys {
                items.extend(self.key_revocation(scope.org_id(), k)?.map(|op| (op, None)));
            }
            if self.commit_admin_change(scope, target, seen, items, event).await? {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable("the member's keys kept changing; retry".into()))
    }

    /// The actor leaves the org (refused for the owner); the keys they made are revoked.
    pub async fn leave_org(&self, scope: &OrgScope, event: &AuditEvent) -> Result<(), StoreError> {
        let Some(user) = scope.actor_user().copied() else {
            return Err(StoreError::Conflict(Conflict::NotMember));
        };
        if scope.via_system_admin() {
            return Err(StoreError::Conflict(Conflict::NotMember));
        }
        for _ in 0..MEMBER_KEY_RETRIES {
            let (seen, keys) = self.keys_of_member(scope, &user).await?;
            let mut items = Vec::new();
            items.extend(self.membership_deletes(scope.org_id(), &user, Conflict::TargetIsOwner, seen)?);
            for k in &keys {
                items.extend(self.key_revocation(scope.org_id(), k)?.map(|op| (op, None)));
            }
            items.push(self.org_live_check(scope)?);
            items.push(self.audit_item(scope, event)?);
            match self.transact(items).await {
                Err(e) => match self.explain_target(scope, &user, seen, e).await {
                    Retry::Again => continue,
                    Retry::Fail(e) => return Err(e),
                },
                Ok(()) => return Ok(()),
            }
        }
        Err(StoreError::Unavailable("your keys kept changing; retry".into()))
    }

    /// The member item's condition ("exists, not owner, no key made since we looked")
    /// failed: a re-read tells which part, and whether another attempt can succeed.
    async fn explain_target(&self, scope: &OrgScope, target: &UserId, seen: KeysSeen, e: StoreError) -> Retry {
        match e {
            StoreError::Conflict(Conflict::TargetIsOwner) => {
                match self.get(key(org_pk(scope.org_id()), member_sk(target))).await {
                    Ok(None) => Retry::Fail(StoreError::Conflict(Conflict::NotMember)),
                    Ok(Some(item)) => {
                        let owner = super::get_opt_s(&item, "role") == Some(Role::Owner.as_str());
                        let now = KeysSeen(super::get_opt_n::<i64>(&item, "api_keys_created"));
                        if owner {
                            Retry::Fail(StoreError::Conflict(Conflict::TargetIsOwner))
                        } else if now != seen {
                            Retry::Again
                        } else {
                            Retry::Fail(StoreError::Conflict(Conflict::Unknown))
                        }
                    }
                    Err(read) => Retry::Fail(read),
                }
            }
            other => Retry::Fail(other),
        }
    }
}
