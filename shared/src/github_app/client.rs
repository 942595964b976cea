//! The GitHub App calls, over the access check's HTTP client ([`RepoAccess`]): the
//! installation (`GET /app/installations/{id}`, authenticated as the app), an installation
//! access token (`POST /app/installations/{id}/access_tokens`, scoped to one repository
//! when one is named), and the repositories an installation can see
//! (`GET /installation/repositories`, with an installation token). Shapes and limits from
//! GitHub's REST reference ("GitHub Apps" → "Apps", "Installations"), API version 2022-11-28.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{AccessToken, AppKey, Installation, InstallationRepositories, InstallationRepository};
use crate::provider_api::{CallError, decode, encode};
use crate::repo_access::{Header, RepoAccess};
use crate::rfc3339::parse_rfc3339;

/// `per_page` of the repository picker (GitHub's maximum).
pub const REPOSITORIES_PER_PAGE: u32 = 100;

/// An installation access token and when GitHub says it expires (Unix seconds).
pub struct MintedToken {
    pub token: SecretString,
    pub expires_at: i64,
}

impl std::fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MintedToken(expires_at: {})", self.expires_at)
    }
}

fn headers(bearer: &str) -> [Header; 3] {
    [
        ("authorization", format!("Bearer {bearer}")),
        ("accept", "application/vnd.github+json".into()),
        ("x-github-api-version", "2022-11-28".into()),
    ]
}

fn app_jwt(key: &AppKey, app_id: u64, now: i64) -> Result<String, CallError> {
    key.jwt(app_id, now).map_err(|e| CallError::unreadable(e.to_string()))
}

/// The installation `installation_id`, asked as app `app_id` (a JWT signed with `key`):
/// 401 when GitHub refuses the JWT (wrong app id or key), 404 when the app has no such
/// installation.
pub async fn installation(
    access: &RepoAccess,
    app_id: u64,
    key: &AppKey,
    installation_id: u64,
    now: i64,
) -> Result<Installation, CallError> {
    let url = format!("{}/app/installations/{installation_id}", access.github_api());
    let jwt = app_jwt(key, app_id, now)?;
    let body = access.send("GET", url, &headers(&jwt), None).await?;
    decode(&body, "GitHub")
}

/// A new installation access token; with `repository` (the name, without the owner) it
/// can reach that repository only. A repository the installation cannot see is a 422
/// from GitHub; a removed installation a 404; a revoked key a 401.
pub async fn access_token(
    access: &RepoAccess,
    app_id: u64,
    key: &AppKey,
    installation_id: u64,
    repository: Option<&str>,
    now: i64,
) -> Result<MintedToken, CallError> {
    let url = format!(
        "{}/app/installations/{installation_id}/access_tokens",
        access.github_api()
    );
    let jwt = app_jwt(key, app_id, now)?;
    let body = match repository {
        Some(name) => json!({ "repositories": [name] }),
        None => json!({}),
    };
    let answer = access
        .send("POST", url, &headers(&jwt), Some(body.to_string().into_bytes()))
        .await?;
    let minted: AccessToken = decode(&answer, "GitHub")?;
    let expires_at = parse_rfc3339(&minted.expires_at)
        .ok_or_else(|| CallError::unreadable("GitHub's token expiry is not an RFC 3339 time"))?;
    if minted.token.is_empty() || !minted.token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CallError::unreadable(
            "GitHub's installation token is not a header value",
        ));
    }
    Ok(MintedToken {
        token: SecretString::from(minted.token),
        expires_at,
    })
}

/// One page (1-based) of the repositories `token`'s installation can see, and how many
/// there are in all.
pub async fn repositories(
    access: &RepoAccess,
    token: &SecretString,
    page: u32,
) -> Result<(Vec<InstallationRepository>, u64), CallError> {
    let url = format!(
        "{}/installation/repositories?per_page={REPOSITORIES_PER_PAGE}&page={}",
        access.github_api(),
        encode(&page.to_string())
    );
    let body = access.send("GET", url, &headers(token.expose_secret()), None).await?;
    let found: InstallationRepositories = decode(&body, "GitHub")?;
    Ok((found.repositories, found.total_count))
}
