//! Membership changes: add, change role, transfer ownership, remove, leave. Each is one
//! transaction that re-checks the actor's rights, and revokes (or lowers) the API keys the
//! member made, guarded by the member's count of keys made (a key made concurrently makes
//! the change retry).

use aws_sdk_dynamodb::types::{Delete, Update};

use super::keys::*;
use super::orgs::Needs;
use super::records::{AuditEvent, UserRecord, member_items};
use super::tenancy::OrgScope;
use super::tx::{Rule, Tx};
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

    /// The rule of the target's member item: the item as it was tells a member gone, the
    /// owner and a key made meanwhile apart.
    fn rule(self) -> Rule {
        Rule::MemberTarget { keys_seen: self.0 }
    }
}

impl Store {
    /// Sets `user`'s role on the member item (when `condition` holds, else `rule`) and on
    /// its mirror.
    #[allow(clippy::too_many_arguments)]
    fn set_role(
        &self,
        tx: &mut Tx,
        org: &OrgId,
        user: &UserId,
        role: Role,
        condition: &str,
        rule: Rule,
        keys_seen: Option<KeysSeen>,
    ) -> Result<(), StoreError> {
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
        tx.update_if(build(member.build())?, rule)?;
        tx.update_if(build(mirror.build())?, Conflict::NotMember)
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
        let mut tx = Tx::new();
        let owner_only = Conflict::NotOwner.into();
        self.set_role(&mut tx, &org, &from, Role::Admin, "#role = :owner", owner_only, None)?;
        let condition = "attribute_exists(pk) AND #role <> :owner";
        self.set_role(
            &mut tx,
            &org,
            to,
            Role::Owner,
            condition,
            Conflict::NotMember.into(),
            None,
        )?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
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
        let mut tx = Tx::new();
        tx.put_if(super::records::put_new(&self.table, member)?, Conflict::AlreadyMember)?;
        tx.put_if(super::records::put_new(&self.table, mirror)?, Conflict::AlreadyMember)?;
        self.actor_check(&mut tx, scope, Needs::Admin)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
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
            let mut tx = Tx::new();
            let condition = "attribute_exists(pk) AND #role <> :owner";
            self.set_role(&mut tx, &org, target, role, condition, seen.rule(), Some(seen))?;
            if role == Role::Member {
                for k in keys.iter().filter(|k| k.role.is_admin()) {
                    for op in self.key_reduction(&org, k, Role::Member)? {
                        tx.update(op)?;
                    }
                }
            }
            if self.commit_admin_change(scope, tx, event).await? {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable("the member's keys kept changing; retry".into()))
    }

    /// Adds the admin's rights check, the org-is-live check and the audit entry to a change
    /// of a member and commits it; `Ok(false)`: the member made a key since their keys
    /// were read (read again and retry).
    async fn commit_admin_change(&self, scope: &OrgScope, mut tx: Tx, event: &AuditEvent) -> Result<bool, StoreError> {
        self.actor_check(&mut tx, scope, Needs::Admin)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact_unless_stale(tx).await
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

    /// Deletes `user`'s member item (if it still exists, is not the owner and made no key
    /// since `keys_seen`) and its mirror.
    fn membership_deletes(
        &self,
        tx: &mut Tx,
        org: &OrgId,
        user: &UserId,
        keys_seen: KeysSeen,
    ) -> Result<(), StoreError> {
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
        tx.delete_if(build(member.build())?, keys_seen.rule())?;
        tx.delete(build(mirror.build())?)
    }

    /// Removes a non-owner member (not the actor: leaving is [`Store::leave_org`]), and
    /// revokes every key they made, in one transaction.
    pub async fn remove_member(&self, scope: &OrgScope, target: &UserId, event: &AuditEvent) -> Result<(), StoreError> {
        for _ in 0..MEMBER_KEY_RETRIES {
            let (seen, keys) = self.keys_of_member(scope, target).await?;
            let mut tx = Tx::new();
            self.membership_deletes(&mut tx, scope.org_id(), target, seen)?;
            for k in &keys {
                let (update, delete) = self.key_revocation(scope.org_id(), k)?;
                tx.update(update)?;
                tx.delete(delete)?;
            }
            if self.commit_admin_change(scope, tx, event).await? {
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
            let mut tx = Tx::new();
            self.membership_deletes(&mut tx, scope.org_id(), &user, seen)?;
            for k in &keys {
                let (update, delete) = self.key_revocation(scope.org_id(), k)?;
                tx.update(update)?;
                tx.delete(delete)?;
            }
            self.org_live_check(&mut tx, scope)?;
            self.audit(&mut tx, scope, event)?;
            if self.transact_unless_stale(tx).await? {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable("your keys kept changing; retry".into()))
    }
}
