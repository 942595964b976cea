//! Founding an organization: at signup (with the account) and later by a signed-in
//! person. One function, so both get the same slug rule, secrets and audit entry.

use serde_json::json;

use crate::crypto::{SecretBox, WebhookSecret};
use crate::domain::{OrgName, Slug};
use crate::error::ApiError;
use crate::store::{
    Actor, AuditEvent, Conflict, NewAccount, OrgRecord, SealedSecret, SessionRecord, Store, StoreError, UserRecord,
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
}
