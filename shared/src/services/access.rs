//! Who may act in which org: the scope lookups every org-scoped route starts with, and
//! the rights checks, each written once.

use serde_json::json;

use crate::domain::Slug;
use crate::error::ApiError;
use crate::store::{OrgScope, Principal, Store};

/// What the request touches, for the audit entry of a system admin's read.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// `true` for a GET: a system admin's reads of another org are audited (their writes
    /// carry `viaSystemAdmin` in the write's own audit entry).
    pub is_read: bool,
    /// The request path, as the audit entry shows it.
    pub path: &'a str,
}

/// The org named by `raw_slug`, if `principal` may act in it. Anything else — a malformed
/// slug, an org that does not exist, one the caller is not in — is the same 404, so the
/// answer never tells whether an org exists.
pub async fn org_scope(
    store: &Store,
    principal: &Principal,
    raw_slug: &str,
    include_deleted: bool,
    reading: Reading<'_>,
) -> Result<OrgScope, ApiError> {
    let slug = Slug::system(raw_slug).map_err(|_| ApiError::org_not_found())?;
    let scope = store
        .scope(principal, &slug, include_deleted)
        .await?
        .ok_or_else(ApiError::org_not_found)?;
    opened(store, scope, reading).await
}

/// The active org of a request without a slug in its path (`X-Org-Slug`, an API key's
/// org, or the caller's only org).
pub async fn active_scope(
    store: &Store,
    principal: &Principal,
    req: &lambda_http::Request,
    reading: Reading<'_>,
) -> Result<OrgScope, ApiError> {
    let scope = crate::session::active_scope(store, principal, req).await?;
    opened(store, scope, reading).await
}

/// Every scope goes through here: the log line carries the org, and a system admin's
/// read of an org is audited in that org's log before anything is read.
async fn opened(store: &Store, scope: OrgScope, reading: Reading<'_>) -> Result<OrgScope, ApiError> {
    tracing::Span::current().record("org_id", tracing::field::display(scope.org_id()));
    if scope.via_system_admin() && reading.is_read {
        let event = scope
            .audit("system_admin.read")
            .details(json!({ "path": reading.path }));
        store.append_audit(&scope, &event).await?;
    }
    Ok(scope)
}

/// Owners and admins only (members read; admins change).
pub fn require_admin(scope: &OrgScope) -> Result<(), ApiError> {
    if scope.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only owners and admins of this organization can do this",
        ))
    }
}

/// A person's session: routes that change who is in an org or mint credentials refuse API
/// keys, which could outlive their maker's rights (security property 28).
pub fn require_person(principal: &Principal) -> Result<&crate::store::UserRecord, ApiError> {
    principal.user().ok_or_else(|| ApiError::Forbidden {
        code: "session_required",
        message: "this route needs a logged-in person: API keys cannot manage members, invitations or keys".into(),
    })
}
