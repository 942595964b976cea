//! Who is calling: the authenticated principal of a request.

use crate::domain::SessionId;
use crate::store::{Actor, UserRecord};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A person, by session cookie.
    User { user: UserRecord, session_id: SessionId },
}

impl Principal {
    /// The person behind the request, if it is one.
    pub fn user(&self) -> Option<&UserRecord> {
        match self {
            Principal::User { user, .. } => Some(user),
        }
    }

    pub fn is_system_admin(&self) -> bool {
        self.user().is_some_and(|u| u.is_system_admin)
    }

    /// How the caller appears in audit entries.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::User { user, .. } => Actor::user(user),
        }
    }
}
