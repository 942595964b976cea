//! The org's API keys (product §4): an admin mints one bound to the org and a role (shown
//! once, only its hash stored), lists them, revokes one. Minting and revoking are for
//! people only (the adapters refuse keys before the scope: `require_person`): a key that
//! could make keys could outlive its maker's rights.

use serde_json::json;

use crate::crypto::{generate_api_key, sha256_hex};
use crate::domain::{Role, display_name};
use crate::error::ApiError;
use crate::services::access::require_admin;
use crate::services::members::assignable_role;
use crate::store::{ApiKeyRecord, OrgScope, Page, PageRequest, Store};

/// Longest a key's name may be, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A key to mint, as the admin asked for it (checked before the org is looked up).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    name: String,
    role: Role,
    expires_in_days: Option<u32>,
}

impl NewApiKey {
    /// A name (1-100 characters), a role an admin may give (admin or member) and an
    /// optional lifetime of 1 to 3,650 days.
    pub fn parse(name: &str, role: &str, expires_in_days: Option<u32>) -> Result<Self, ApiError> {
        let name = display_name(name, MAX_NAME_CHARS)?;
        let role = assignable_role(role)?;
        if expires_in_days.is_some_and(|days| !(1..=3650).contains(&days)) {
            return Err(ApiError::bad_request(
                "invalid_expiry",
                "expiresInDays must be from 1 to 3650",
            ));
        }
        Ok(Self {
            name,
            role,
            expires_in_days,
        })
    }

    /// When the key stops working, counted from `now` (unix seconds).
    fn expires_at(&self, now: i64) -> Option<i64> {
        self.expires_in_days.map(|days| now + i64::from(days) * 86_400)
    }
}

/// A key just minted: its record and the key itself, shown this once.
#[derive(Debug)]
pub struct Minted {
    pub record: ApiKeyRecord,
    pub key: String,
}

/// The preview shown in lists: the prefix and the key's last four characters.
fn preview(key: &str) -> String {
    format!("agn_…{}", &key[key.len() - 4..])
}

/// Mints a key (admins only): one write with its `api_key.created` entry; only the key's
/// hash is stored.
pub async fn create_api_key(store: &Store, scope: &OrgScope, request: &NewApiKey) -> Result<Minted, ApiError> {
    let expires_at = request.expires_at(store.now_secs());
    require_admin(scope)?;
    let key = generate_api_key();
    let hash = sha256_hex(key.as_bytes());
    let preview = preview(&key);
    let name = request.name.as_str();
    let role = request.role;
    let event = scope
        .audit("api_key.created")
        .details(json!({ "name": name, "role": role, "preview": preview, "expiresAt": expires_at }));
    let record = store
        .create_api_key(scope, name, role, expires_at, &hash, &preview, &event)
        .await?;
    Ok(Minted { record, key })
}

/// The org's keys, a page at a time (admins only; previews, never keys).
pub async fn list_api_keys(
    store: &Store,
    scope: &OrgScope,
    page: &PageRequest,
) -> Result<Page<ApiKeyRecord>, ApiError> {
    require_admin(scope)?;
    Ok(store.api_keys(scope, page).await?)
}

/// Revokes a key (admins only; 404 `api_key_not_found` for one not of this org): it stops
/// working at once.
pub async fn revoke_api_key(store: &Store, scope: &OrgScope, id: &str) -> Result<(), ApiError> {
    require_admin(scope)?;
    let record = store.api_key(scope, id).await?.ok_or_else(|| ApiError::NotFoundWhat {
        code: "api_key_not_found",
        message: "no such API key in this organization".into(),
    })?;
    let event = scope
        .audit("api_key.revoked")
        .target(&record.id)
        .details(json!({ "name": record.name, "preview": record.preview }));
    store.revoke_api_key(scope, &record, &event).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_request_is_checked_name_role_then_lifetime() {
        let ok = NewApiKey::parse(" CI ", "member", Some(30)).unwrap();
        assert_eq!(ok.expires_at(1_000), Some(1_000 + 30 * 86_400));
        assert_eq!(NewApiKey::parse("CI", "admin", None).unwrap().expires_at(1_000), None);
        assert_eq!(
            NewApiKey::parse("CI", "owner", Some(0)).unwrap_err().code(),
            "invalid_role"
        );
        for days in [0, 3651] {
            assert_eq!(
                NewApiKey::parse("CI", "member", Some(days)).unwrap_err().code(),
                "invalid_expiry"
            );
        }
        assert!(NewApiKey::parse("", "member", None).is_err());
    }

    #[test]
    fn the_preview_shows_only_the_last_four_characters() {
        assert_eq!(preview("agn_abcdefgh1234"), "agn_…1234");
    }
}
