//! Organizations (product §4): founding one, at signup (with the account) and later by a
//! signed-in person (one function, so both get the same slug rule, secrets and audit
//! entry); listing a person's orgs and, for system admins, every org; and the org's own
//! changes: rename, plan, soft delete, restore, and its audit log.

use std::time::Duration;

use serde_json::json;

use crate::crypto::{SecretBox, WebhookSecret};
use crate::domain::{OrgName, Plan, Slug};
use crate::error::ApiError;
use crate::services::access::require_admin;
use crate::store::{
    Actor, AuditEvent, AuditRecord, Conflict, MembershipView, NewAccount, OrgRecord, OrgScope, Page, PageRequest,
    Principal, SealedSecret, SessionRecord, Store, StoreError, UserRecord,
};

/// The name and slug a founder asked for. An empty or absent slug is suggested from the
/// name (and gets a random suffix if taken); a chosen one that is taken is a 409.
#[derive(Debug, Clone)]
pub struct OrgRequest {
    pub name: OrgName,
    slug: Slug,
    slug_was_chosen: bool,
}

impl OrgRequest {
    pub fn parse(name: &str, slug: Option<&str>) -> Result<Self, ApiError> {
        let name = OrgName::parse(name)?;
        Ok(match slug.map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => Self {
                slug: Slug::parse(raw)?,
                name,
                slug_was_chosen: true,
            },
            None => Self {
                slug: Slug::suggest(name.as_str()),
                name,
                slug_was_chosen: false,
            },
        })
    }
}

/// Who founds the org, and what else is written in the same transaction.
#[derive(Debug)]
pub enum Founder<'a> {
    /// A new account: the user, their first session and the org are created together.
    Signup {
        user: &'a UserRecord,
        session: &'a SessionRecord,
    },
    /// An existing person (the acting user becomes the owner).
    Member { user: &'a UserRecord, actor: Actor },
}

/// A founded org and its webhook secrets, shown in full this once.
#[derive(Debug)]
pub struct Founded {
    pub org: OrgRecord,
    pub secrets: Vec<(WebhookSecret, SealedSecret)>,
}

/// Creates the org with one webhook secret per provider (sealed by KMS before anything is
/// written) and the founder as owner, in one transaction with its `org.created` entry.
pub async fn create_org(
    store: &Store,
    sealer: &SecretBox,
    founder: Founder<'_>,
    request: OrgRequest,
    now: i64,
) -> Result<Founded, ApiError> {
    let OrgRequest {
        name,
        mut slug,
        slug_was_chosen,
    } = request;
    let mut org = OrgRecord::new(slug.clone(), name, now);
    let secrets = crate::webhooks::new_org_secrets(sealer, &org.id)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let sealed: Vec<SealedSecret> = secrets.iter().map(|(_, s)| s.clone()).collect();
    for attempt in 0.. {
        let written = match &founder {
            Founder::Signup { user, session } => {
                let audit = AuditEvent::new("org.created", Actor::user(user))
                    .target(org.id)
                    .details(json!({ "slug": org.slug.as_str(), "via": "signup" }));
                let account = NewAccount {
                    org: org.clone(),
                    user: (*user).clone(),
                    session: (*session).clone(),
                    webhooks: sealed.clone(),
                    audit,
                };
                store.create_account(&account).await
            }
            Founder::Member { user, actor } => {
                let audit = AuditEvent::new("org.created", actor.clone())
                    .target(org.id)
                    .details(json!({ "slug": org.slug.as_str() }));
                store.create_org(&org, user, &sealed, &audit).await
            }
        };
        match written {
            Ok(()) => break,
            // A suggested slug that happens to be taken gets a random suffix.
            Err(StoreError::Conflict(Conflict::SlugTaken)) if !slug_was_chosen && attempt < 3 => {
                slug = slug.with_random_suffix();
                org.slug = slug.clone();
            }
            Err(StoreError::Conflict(Conflict::SlugTaken)) => {
                return Err(ApiError::Conflict {
                    code: "slug_taken",
                    message: format!("the organization slug '{slug}' is taken; choose another"),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(org_id = %org.id, "organization created");
    Ok(Founded { org, secrets })
}

/// The orgs `user` belongs to, with their role in each, a page at a time.
pub async fn my_orgs(store: &Store, user: &UserRecord, page: &PageRequest) -> Result<Page<MembershipView>, ApiError> {
    Ok(store.memberships_page(&user.id, page).await?)
}

/// Every organization, for system admins only (403 `system_admin_required` for anyone
/// else, before the page asked for is looked at); `search` matches slug and name. Opening
/// one is audited in that org (`system_admin.read`); the list itself is logged here.
pub async fn all_orgs(
    store: &Store,
    user: &UserRecord,
    search: Option<&str>,
    page: Result<PageRequest, ApiError>,
) -> Result<Page<OrgRecord>, ApiError> {
    if !user.is_system_admin {
        return Err(ApiError::Forbidden {
            code: "system_admin_required",
            message: "only system admins can list every organization".into(),
        });
    }
    let page = store.all_orgs_page(search, &page?).await?;
    tracing::info!(user_id = %user.id, count = page.items.len(), "system admin listed organizations");
    Ok(page)
}

/// What an update asks to change: a new name, a new plan, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgChange {
    pub name: Option<OrgName>,
    pub plan: Option<Plan>,
}

impl OrgChange {
    /// The slug never changes (its webhook URLs depend on it): 400 `slug_immutable` if one
    /// was sent at all; 400 `nothing_to_change` without a name or a plan.
    pub fn parse(name: Option<&str>, plan: Option<&str>, slug_sent: bool) -> Result<Self, ApiError> {
        if slug_sent {
            return Err(ApiError::bad_request(
                "slug_immutable",
                "an organization's slug cannot be changed (its webhook URLs depend on it); rename changes the name only",
            ));
        }
        let name = name.map(OrgName::parse).transpose()?;
        let plan = plan.map(str::parse::<Plan>).transpose()?;
        if name.is_none() && plan.is_none() {
            return Err(ApiError::bad_request("nothing_to_change", "send a name and/or a plan"));
        }
        Ok(Self { name, plan })
    }
}

/// Renames the org (its admins) and/or changes its plan (a system admin only, 403
/// `system_admin_only`), in one write with its `org.updated` entry (old and new values).
pub async fn update_org(
    store: &Store,
    scope: &OrgScope,
    principal: &Principal,
    change: OrgChange,
) -> Result<OrgRecord, ApiError> {
    require_admin(scope)?;
    let OrgChange { name, plan } = change;
    if plan.is_some() && !principal.is_system_admin() {
        return Err(ApiError::Forbidden {
            code: "system_admin_only",
            message: "only a system admin can change an organization's plan".into(),
        });
    }
    let event = scope.audit("org.updated").target(scope.org_id()).details(json!({
        "name": name.as_ref().map(OrgName::as_str),
        "previousName": scope.org().name.as_str(),
        "plan": plan,
        "previousPlan": scope.org().plan,
    }));
    Ok(store.update_org(scope, name.as_ref(), plan, &event).await?)
}

/// Soft-deletes the org (its owner or a system admin; 409 `not_owner` otherwise): purged
/// after `grace` unless restored, in one write with its `org.deleted` entry.
pub async fn delete_org(store: &Store, scope: &OrgScope, grace: Duration) -> Result<OrgRecord, ApiError> {
    if !(scope.is_owner() || scope.via_system_admin()) {
        return Err(StoreError::Conflict(Conflict::NotOwner).into());
    }
    let event = scope
        .audit("org.deleted")
        .target(scope.org_id())
        .details(json!({ "graceSeconds": grace.as_secs() }));
    let org = store.soft_delete_org(scope, grace, &event).await?;
    tracing::info!(purge_after = org.purge_after, "organization soft-deleted");
    Ok(org)
}

/// Restores a soft-deleted org (its owner or a system admin), with its `org.restored`
/// entry. Other members of a deleted org have no access at all: the same 404 as for an
/// org that does not exist.
pub async fn restore_org(store: &Store, scope: &OrgScope) -> Result<OrgRecord, ApiError> {
    if !(scope.is_owner() || scope.via_system_admin()) {
        return Err(if scope.org().is_deleted() {
            ApiError::org_not_found()
        } else {
            StoreError::Conflict(Conflict::NotOwner).into()
        });
    }
    let event = scope.audit("org.restored").target(scope.org_id());
    Ok(store.restore_org(scope, &event).await?)
}

/// The org's audit log, newest first, for its admins (checked before the page asked for
/// is looked at).
pub async fn audit_log(
    store: &Store,
    scope: &OrgScope,
    page: Result<PageRequest, ApiError>,
) -> Result<Page<AuditRecord>, ApiError> {
    require_admin(scope)?;
    Ok(store.audit_page(scope, &page?).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_slug_is_kept_and_an_empty_one_is_suggested() {
        let chosen = OrgRequest::parse("Acme Corp", Some(" acme ")).unwrap();
        assert_eq!(chosen.slug.as_str(), "acme");
        assert!(chosen.slug_was_chosen);
        let suggested = OrgRequest::parse("Acme Corp", Some("  ")).unwrap();
        assert_eq!(suggested.slug.as_str(), "acme-corp");
        assert!(!suggested.slug_was_chosen);
        assert!(OrgRequest::parse("Acme", Some("Not A Slug!")).is_err());
        assert!(OrgRequest::parse("", None).is_err());
    }

    fn code(e: ApiError) -> &'static str {
        match e {
            ApiError::BadRequest { code, .. } => code,
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn an_update_changes_a_name_or_a_plan_never_the_slug() {
        let both = OrgChange::parse(Some("New Name"), Some("team"), false).unwrap();
        assert_eq!(both.name.unwrap().as_str(), "New Name");
        assert!(both.plan.is_some());
        assert_eq!(
            code(OrgChange::parse(Some("x"), None, true).unwrap_err()),
            "slug_immutable"
        );
        assert_eq!(
            code(OrgChange::parse(None, None, false).unwrap_err()),
            "nothing_to_change"
        );
        assert!(OrgChange::parse(None, Some("no-such-plan"), false).is_err());
    }
}
