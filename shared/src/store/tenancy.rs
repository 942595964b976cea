//! Tenancy: who is calling ([`Principal`]) and in which org they may act ([`OrgScope`]).
//! A scope is made only by the store from verified input (a session's membership or an API
//! key, [`super::Store::scope`]); every org-owned item is addressed through one.

use super::records::{Actor, AuditEvent, OrgRecord, UserRecord};
use crate::domain::{OrgId, Role, SessionId, UserId};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A person, by session cookie.
    User { user: UserRecord, session_id: SessionId },
    /// An org API key (`Authorization: Bearer agn_…`): bound to one org and one role.
    ApiKey {
        key_id: String,
        key_hash: String,
        org_id: OrgId,
        role: Role,
    },
}

impl Principal {
    /// The person behind the request, if it is one.
    pub fn user(&self) -> Option<&UserRecord> {
        match self {
            Principal::User { user, .. } => Some(user),
            Principal::ApiKey { .. } => None,
        }
    }

    pub fn is_system_admin(&self) -> bool {
        self.user().is_some_and(|u| u.is_system_admin)
    }

    /// How the caller appears in audit entries.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::User { user, .. } => Actor::user(user),
            Principal::ApiKey { key_id, .. } => Actor {
                kind: "api_key",
                id: key_id.clone(),
                email: None,
            },
        }
    }
}

/// How the caller may act in an org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Member(Role),
    /// A system admin acting in an org they are not a member of (always audited).
    SystemAdmin,
}

/// Proof that the caller may act in one org, with how. Only [`Store::scope`] makes one,
/// after checking membership (or system-admin rights) in the store; every org-owned
/// item is addressed through it.
#[derive(Debug, Clone)]
pub struct OrgScope {
    pub(super) org: OrgRecord,
    pub(super) access: Access,
    pub(super) actor: Actor,
    pub(super) actor_user: Option<UserId>,
    /// The hash of the acting API key, when the caller is one.
    pub(super) actor_key: Option<String>,
}

impl OrgScope {
    pub fn org(&self) -> &OrgRecord {
        &self.org
    }
    pub fn org_id(&self) -> &OrgId {
        &self.org.id
    }
    pub fn access(&self) -> Access {
        self.access
    }
    pub fn role(&self) -> Option<Role> {
        match self.access {
            Access::Member(r) => Some(r),
            Access::SystemAdmin => None,
        }
    }
    /// Owners, admins and system admins administer the org.
    pub fn is_admin(&self) -> bool {
        match self.access {
            Access::Member(r) => r.is_admin(),
            Access::SystemAdmin => true,
        }
    }
    pub fn is_owner(&self) -> bool {
        self.access == Access::Member(Role::Owner)
    }
    pub fn via_system_admin(&self) -> bool {
        self.access == Access::SystemAdmin
    }
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    pub fn actor_user(&self) -> Option<&UserId> {
        self.actor_user.as_ref()
    }
    /// The hash of the acting API key, when an API key is the caller.
    pub(crate) fn actor_key(&self) -> Option<&str> {
        self.actor_key.as_deref()
    }
    /// An audit event by this scope's actor.
    pub fn audit(&self, action: &str) -> AuditEvent {
        AuditEvent {
            action: action.to_owned(),
            actor: self.actor.clone(),
            target: None,
            details: serde_json::Value::Null,
            via_system_admin: self.via_system_admin(),
        }
    }
}

/// An org named by a message read from one of our own queues: the review queue (written by
/// the intake after verifying the delivery against that org's secret, or by the repos
/// function for a member's request) or the review-jobs queue (written by the worker). IAM
/// lets nobody else send to them. The only input [`super::Store::queue_scope`] accepts, so
/// no raw id turns into a scope. Read from a message by the queue module (`of_message`) and
/// the reviewer module (`of_job`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedOrg(OrgId);

impl QueuedOrg {
    /// For the trusted producers' messages only: the review queue's `org_id` attribute and
    /// the review-jobs message.
    pub(crate) fn from_trusted(org: OrgId) -> Self {
        Self(org)
    }

    pub fn id(&self) -> &OrgId {
        &self.0
    }
}
