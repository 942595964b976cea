//! GitHub App installations of an org (bot identity): registering one (the app's JWT
//! proven against GitHub, the private key sealed by KMS under the org's and the
//! installation's context and never shown again), listing and removing them, and the
//! repository picker (what an installation can see, and which of it is connected here).

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use crate::crypto::SecretBox;
use crate::error::ApiError;
use crate::github_app::client::{self, REPOSITORIES_PER_PAGE};
use crate::github_app::{AppKey, Installation, MAX_PEM_BYTES};
use crate::provider_api::CallError;
use crate::repo_token::{RepoTokens, TokenFailure, app_key_context};
use crate::services::access::require_admin;
use crate::store::{InstallationRecord, MAX_INSTALLATIONS, OrgScope, Store};

/// The largest id accepted (JSON's exact integers; GitHub's ids are far below).
pub const MAX_ID: u64 = (1 << 53) - 1;
/// The picker's last page (100,000 repositories).
pub const MAX_PICKER_PAGE: u32 = 1000;

/// The picker's `page` query parameter: 1 when absent.
pub fn parse_page(raw: Option<&str>) -> Result<u32, ApiError> {
    let Some(raw) = raw else { return Ok(1) };
    raw.parse::<u32>()
        .ok()
        .filter(|p| (1..=MAX_PICKER_PAGE).contains(p))
        .ok_or_else(|| {
            invalid(
                "invalid_page",
                format!("page must be an integer from 1 to {MAX_PICKER_PAGE}"),
            )
        })
}

/// An installation to register, as the admin sent it.
#[derive(Debug)]
pub struct NewInstallation<'a> {
    pub app_id: u64,
    pub installation_id: u64,
    pub private_key: &'a SecretString,
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message.into())
}

/// An id from a path or body: 1 ..= 2^53-1.
pub fn parse_id(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 16 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u64>().ok().filter(|id| (1..=MAX_ID).contains(id))
}

/// GitHub's refusal while registering, as the admin's error.
fn registration_error(e: CallError) -> ApiError {
    match e {
        CallError::Unauthorized(_) => invalid(
            "app_auth_failed",
            "GitHub refused the app's token: check the app id and that the private key is one of this app's keys",
        ),
        CallError::NotFound => invalid(
            "installation_not_found",
            "the app has no installation with this id (GitHub: Settings → Applications → the app → Configure: the id ends the address)",
        ),
        CallError::RetryLater { why, .. } => ApiError::Unavailable(format!("GitHub: {why}")),
        other => invalid(
            "app_check_failed",
            format!("GitHub did not confirm the installation: {other}"),
        ),
    }
}

/// What GitHub said about the installation, checked against what the admin sent.
fn check_installation(found: &Installation, request: &NewInstallation<'_>) -> Result<(), ApiError> {
    if found.id != request.installation_id || found.app_id != request.app_id {
        return Err(invalid(
            "installation_not_found",
            "this installation belongs to another app",
        ));
    }
    if found.suspended_at.is_some() {
        return Err(invalid(
            "installation_suspended",
            "the installation is suspended on GitHub; unsuspend it first",
        ));
    }
    let missing = found.missing_permissions();
    if !missing.is_empty() {
        return Err(invalid(
            "app_permissions_missing",
            format!(
                "the app's installation lacks the permissions reviews need: {} (GitHub: the app's Permissions page, then accept the new permissions on the installation)",
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Registers a GitHub App installation (admins): validated against GitHub with the app's
/// JWT, the key sealed, one write with its audit entry.
pub async fn register(
    store: &Store,
    sealer: &SecretBox,
    tokens: &RepoTokens,
    scope: &OrgScope,
    request: NewInstallation<'_>,
) -> Result<InstallationRecord, ApiError> {
    require_admin(scope)?;
    for (name, id) in [("appId", request.app_id), ("installationId", request.installation_id)] {
        if !(1..=MAX_ID).contains(&id) {
            return Err(invalid("invalid_id", format!("{name} must be a positive integer")));
        }
    }
    let pem = request.private_key.expose_secret();
    if pem.len() > MAX_PEM_BYTES {
        return Err(invalid("invalid_private_key", "the private key is longer than 16 KiB"));
    }
    let key = AppKey::from_pem(pem).map_err(|e| invalid("invalid_private_key", e.to_string()))?;
    if store.installations(scope).await?.len() >= MAX_INSTALLATIONS {
        return Err(ApiError::Conflict {
            code: "too_many_installations",
            message: format!(
                "an organization may register at most {MAX_INSTALLATIONS} installations; remove one first"
            ),
        });
    }
    let found = client::installation(
        tokens.access(),
        request.app_id,
        &key,
        request.installation_id,
        store.now_secs(),
    )
    .await
    .map_err(registration_error)?;
    check_installation(&found, &request)?;
    let org = scope.org_id().to_string();
    let context = app_key_context(&org, &found.id.to_string());
    let context: Vec<(&str, &str)> = context.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sealed = sealer
        .seal(&context, pem.as_bytes())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let record = InstallationRecord {
        id: found.id,
        app_id: found.app_id,
        bot_login: found.bot_login(),
        app_slug: found.app_slug,
        account: found.account.map(|a| a.login).unwrap_or_default(),
        repository_selection: found.repository_selection,
        key_fingerprint: key.fingerprint().to_owned(),
        created_at: store.now_secs(),
        created_by: scope.actor().id.clone(),
        key_ciphertext: sealed,
    };
    let event = scope
        .audit("installation.added")
        .target(record.id.to_string())
        .details(json!({
            "appId": record.app_id,
            "appSlug": record.app_slug,
            "account": record.account,
            "keyFingerprint": record.key_fingerprint,
        }));
    store.create_installation(scope, &record, &event).await?;
    Ok(record)
}

/// One of the org's installations, or 404 `installation_not_found`.
pub async fn find(store: &Store, scope: &OrgScope, raw_id: &str) -> Result<InstallationRecord, ApiError> {
    let not_found = || ApiError::NotFoundWhat {
        code: "installation_not_found",
        message: "no such GitHub App installation in this organization".into(),
    };
    let id = parse_id(raw_id).ok_or_else(not_found)?;
    store.installation(scope, id).await?.ok_or_else(not_found)
}

/// Removes an installation (admins); its sealed key goes with it.
pub async fn remove(store: &Store, scope: &OrgScope, raw_id: &str) -> Result<(), ApiError> {
    require_admin(scope)?;
    let record = find(store, scope, raw_id).await?;
    let event = scope
        .audit("installation.removed")
        .target(record.id.to_string())
        .details(json!({ "appSlug": record.app_slug, "account": record.account }));
    store.delete_installation(scope, record.id, &event).await?;
    Ok(())
}

/// A repository of the picker.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickerRepository {
    pub full_name: String,
    pub private: bool,
    /// The id of this org's repository connected under that name, if any.
    pub connected_repo_id: Option<String>,
}

/// One page of the picker.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickerPage {
    pub repositories: Vec<PickerRepository>,
    pub total_count: u64,
    pub page: u32,
    pub next_page: Option<u32>,
}

/// What installation `raw_id` can see, page `page` (admins: it mints a token).
pub async fn repositories(
    store: &Store,
    sealer: &SecretBox,
    tokens: &RepoTokens,
    scope: &OrgScope,
    raw_id: &str,
    page: u32,
) -> Result<PickerPage, ApiError> {
    require_admin(scope)?;
    let record = find(store, scope, raw_id).await?;
    let org = scope.org_id().to_string();
    let token = tokens
        .installation_token(sealer, &org, &record, None, store.now_secs())
        .await
        .map_err(|e| match e {
            TokenFailure::Unavailable(why) => ApiError::Unavailable(why),
            other => ApiError::Forbidden {
                code: "installation_refused",
                message: format!("GitHub refused the installation ({other}); register it again"),
            },
        })?;
    let (found, total_count) = client::repositories(tokens.access(), &token, page)
        .await
        .map_err(|e| match e {
            CallError::RetryLater { why, .. } => ApiError::Unavailable(format!("GitHub: {why}")),
            other => ApiError::Forbidden {
                code: "installation_refused",
                message: format!("GitHub refused the installation's repository list: {other}"),
            },
        })?;
    let connected = store.all_repos(scope).await?;
    let repositories = found
        .into_iter()
        .map(|r| PickerRepository {
            connected_repo_id: connected
                .iter()
                .find(|c| c.is_github_repo(&r.full_name))
                .map(|c| c.id.clone()),
            full_name: r.full_name,
            private: r.private,
        })
        .collect();
    let next_page = (u64::from(page) * u64::from(REPOSITORIES_PER_PAGE) < total_count).then_some(page + 1);
    Ok(PickerPage {
        repositories,
        total_count,
        page,
        next_page,
    })
}
