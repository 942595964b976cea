//! Who is calling: the authenticated principal of a request.

use crate::domain::{OrgId, Role, SessionId};
use crate::store::{Actor, UserRecord};

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
