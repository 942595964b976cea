//! Members of an org (product §5): the list, a role change, a removal, leaving, and the
//! ownership transfer. People only, never API keys (the adapters refuse keys before the
//! scope: `require_person`). The rights — owners transfer, admins change and remove, nobody
//! changes their own role or removes themselves — are here once, and re-checked by the store
//! inside each transaction; the mail that reports a change goes out after it is committed.

use serde_json::json;

use crate::domain::{Email, Role, UserId};
use crate::email::{self, EmailSender, Mail};
use crate::error::ApiError;
use crate::services::access::require_admin;
use crate::store::{Conflict, MemberRecord, OrgScope, Page, PageRequest, Store, StoreError, UserRecord};

/// What the member use cases need besides the scope: built per request from the
/// function's state (all borrowed).
#[derive(Debug, Clone, Copy)]
pub struct Members<'a> {
    pub store: &'a Store,
    /// Membership mail ("you were removed", "ownership transferred").
    pub mailer: &'a dyn EmailSender,
    /// The console's public origin: links in mails point there.
    pub app_base_url: &'a str,
}

/// The role an admin may give (to a member or an API key): admin or member. Ownership
/// moves only by transfer.
pub fn assignable_role(raw: &str) -> Result<Role, ApiError> {
    match raw.parse::<Role>()? {
        Role::Owner => Err(ApiError::bad_request(
            "invalid_role",
            "ownership moves only with POST /api/orgs/{slug}/transfer; use admin or member",
        )),
        role => Ok(role),
    }
}

/// A user id from a path: one that does not parse is no member (404 `member_not_found`,
/// the answer for an unknown one).
pub fn member_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse()
        .map_err(|_| StoreError::Conflict(Conflict::NotMember).into())
}

impl Members<'_> {
    /// The org's members, a page at a time (any member may read them).
    pub async fn list(&self, scope: &OrgScope, page: &PageRequest) -> Result<Page<MemberRecord>, ApiError> {
        Ok(self.store.members_page(scope, page).await?)
    }

    /// Hands the org to another member: the owner only (403 `owner_only` otherwise), not to
    /// themselves. One transaction with its audit entry; then the new owner and `owner`
    /// (the person calling) are told by mail.
    pub async fn transfer_ownership(&self, scope: &OrgScope, owner: &UserRecord, to: UserId) -> Result<(), ApiError> {
        if !scope.is_owner() {
            return Err(StoreError::Conflict(Conflict::NotOwner).into());
        }
        if Some(&to) == scope.actor_user() {
            return Err(ApiError::bad_request(
                "already_owner",
                "you already own this organization",
            ));
        }
        // The new owner's address, read before the change (for the mail that reports it).
        let new_owner = self.store.member(scope, &to).await?;
        let event = scope.audit("org.ownership_transferred").target(to);
        self.store.transfer_ownership(scope, &to, &event).await?;
        let org = scope.org();
        let url = self.org_url(scope);
        if let Some(new_owner) = new_owner.as_ref().and_then(|m| Email::parse(&m.email).ok()) {
            self.notify(Mail::ownership_transferred(&new_owner, org.name.as_str(), &url))
                .await;
            self.notify(Mail::ownership_handed_over(
                &owner.email,
                org.name.as_str(),
                new_owner.as_str(),
                &url,
            ))
            .await;
        }
        Ok(())
    }

    /// Gives a member another role: admins only, never one's own role (403 `own_role`).
    pub async fn change_role(&self, scope: &OrgScope, target: UserId, role: Role) -> Result<(), ApiError> {
        require_admin(scope)?;
        if Some(&target) == scope.actor_user() {
            return Err(ApiError::Forbidden {
                code: "own_role",
                message: "you cannot change your own role".into(),
            });
        }
        let event = scope
            .audit("member.role_changed")
            .target(target)
            .details(json!({ "role": role }));
        self.store.change_member_role(scope, &target, role, &event).await?;
        Ok(())
    }

    /// Removes a member: admins only; oneself leaves instead (400 `use_leave`). The removed
    /// person is told by mail.
    pub async fn remove(&self, scope: &OrgScope, target: UserId) -> Result<(), ApiError> {
        require_admin(scope)?;
        if Some(&target) == scope.actor_user() {
            return Err(ApiError::bad_request(
                "use_leave",
                "to remove yourself, use POST /api/orgs/{slug}/leave",
            ));
        }
        let removed = self.store.member(scope, &target).await?;
        let event = scope.audit("member.removed").target(target);
        self.store.remove_member(scope, &target, &event).await?;
        if let Some(to) = removed.as_ref().and_then(|m| Email::parse(&m.email).ok()) {
            self.notify(Mail::member_removed(&to, scope.org().name.as_str())).await;
        }
        Ok(())
    }

    /// Leaves the org (the store refuses the last owner). A system admin acting in an org
    /// is no member of it (400 `not_a_member`).
    pub async fn leave(&self, scope: &OrgScope) -> Result<(), ApiError> {
        if scope.via_system_admin() {
            return Err(ApiError::bad_request(
                "not_a_member",
                "you are not a member of this organization",
            ));
        }
        let event = scope
            .audit("member.left")
            .target(scope.actor_user().map(|u| u.to_string()).unwrap_or_default());
        self.store.leave_org(scope, &event).await?;
        Ok(())
    }

    /// The console page of the org (the link in membership mail).
    fn org_url(&self, scope: &OrgScope) -> String {
        format!("{}/orgs/{}", self.app_base_url, scope.org().slug.as_str())
    }

    /// Sends `mail` after the action it reports has been committed: a failure is logged
    /// and never undoes or fails the action.
    async fn notify(&self, mail: Mail) {
        email::deliver(self.mailer, &mail).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_and_member_can_be_given() {
        assert_eq!(assignable_role("admin").unwrap(), Role::Admin);
        assert_eq!(assignable_role("member").unwrap(), Role::Member);
        assert_eq!(assignable_role("owner").unwrap_err().code(), "invalid_role");
        assert!(assignable_role("boss").is_err());
    }

    #[test]
    fn an_unparsable_member_id_is_no_member() {
        assert_eq!(member_id("not-a-user").unwrap_err().code(), "member_not_found");
    }
}
