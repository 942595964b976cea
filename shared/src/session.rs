//! Sessions: issuing a login session (record + signed cookie) and authenticating each
//! request against the store, so logout and "log out everywhere" take effect at once.

use std::time::Duration;

use lambda_http::Request;

use crate::crypto::{SessionClaims, SessionTokens, api_key_well_formed, sha256_hex};
use crate::domain::Slug;
use crate::domain::{SessionId, UserId};
use crate::error::ApiError;
use crate::http::session_token;
use crate::principal::Principal;
use crate::store::{OrgScope, SessionRecord, Store, UserRecord};

/// A new session: the record to store and the token to put in the cookie.
#[derive(Debug)]
pub struct IssuedSession {
    pub record: SessionRecord,
    pub token: String,
}

/// Builds a session for `user` (not yet stored: signup stores it in its transaction).
pub fn issue(tokens: &SessionTokens, user: &UserRecord, ttl: Duration, now: i64) -> Result<IssuedSession, ApiError> {
    let record = SessionRecord {
        id: SessionId::new(),
        user_id: user.id,
        epoch: user.session_epoch,
        created_at: now,
        expires_at: now + ttl.as_secs() as i64,
        last_seen_at: None,
    };
    let token = tokens.issue(&SessionClaims {
        sub: user.id,
        sid: record.id,
        ep: record.epoch,
        iat: now as u64,
        exp: record.expires_at as u64,
    })?;
    Ok(IssuedSession { record, token })
}

/// An `Authorization: Bearer agn_…` API key, if the request carries one.
fn bearer_api_key(req: &Request) -> Option<&str> {
    crate::http::bearer_token(req.headers())
}

/// Could this be a key of the old single-tenant install (its one system key, migrated)?
fn legacy_api_key_shape(key: &str) -> bool {
    (16..=256).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The caller, if the request carries a live API key or a valid, live session; `None`
/// otherwise. A present but bad API key is `None` too (no fallback to the cookie).
pub async fn current(store: &Store, tokens: &SessionTokens, req: &Request) -> Result<Option<Principal>, ApiError> {
    if let Some(key) = bearer_api_key(req) {
        let key_hash = sha256_hex(key.as_bytes());
        let auth = if api_key_well_formed(key) {
            store.api_key_by_hash(&key_hash).await?
        } else if legacy_api_key_shape(key) {
            // The single-tenant install's system key, accepted only because it was migrated.
            store.legacy_api_key_by_hash(&key_hash).await?
        } else {
            return Ok(None);
        };
        let Some(auth) = auth else {
            return Ok(None);
        };
        store.touch_api_key(&auth).await;
        return Ok(Some(Principal::ApiKey {
            key_id: auth.key_id,
            key_hash,
            org_id: auth.org_id,
            role: auth.role,
        }));
    }
    let Some(token) = session_token(req) else {
        return Ok(None);
    };
    let Some(claims) = tokens.verify(&token) else {
        return Ok(None);
    };
    let Some((session, user)) = store.get_session_and_user(&claims.sub, &claims.sid).await? else {
        return Ok(None);
    };
    let now = store.now_secs();
    let live = session.expires_at > now && session.epoch == user.session_epoch && claims.ep == session.epoch;
    // "Last seen" for the sessions list: written only when the stored one is a minute old.
    if live && session.last_seen_at.unwrap_or(session.created_at) < now - 60 {
        store.touch_session(&user.id, &claims.sid).await;
    }
    Ok(live.then_some(Principal::User {
        user,
        session_id: claims.sid,
    }))
}

/// Like [`current`], but a missing or dead session is a 401.
pub async fn require(store: &Store, tokens: &SessionTokens, req: &Request) -> Result<Principal, ApiError> {
    current(store, tokens, req).await?.ok_or(ApiError::Unauthenticated)
}

/// A person's session (for account routes that an API key cannot use).
pub async fn require_user(
    store: &Store,
    tokens: &SessionTokens,
    req: &Request,
) -> Result<(UserRecord, SessionId), ApiError> {
    match require(store, tokens, req).await? {
        Principal::User { user, session_id } => Ok((user, session_id)),
        Principal::ApiKey { .. } => Err(ApiError::Forbidden {
            code: "session_required",
            message: "this route needs a logged-in user; API keys act only on org-scoped routes".into(),
        }),
    }
}

/// Ends one session.
pub async fn end(store: &Store, user: &UserId, session: &SessionId) -> Result<(), ApiError> {
    Ok(store.delete_session(user, session).await?)
}

/// The active org of an org-scoped request without a slug in its path (product §3): the
/// `X-Org-Slug` header, else the caller's only org, else a 400 asking for one.
pub async fn active_scope(store: &Store, principal: &Principal, req: &Request) -> Result<OrgScope, ApiError> {
    if let Principal::ApiKey { org_id, .. } = principal {
        // An API key's org is its only org; a header naming another one finds nothing.
        let org = store.org_by_id(org_id).await?.ok_or_else(ApiError::org_not_found)?;
        let named = req
            .headers()
            .get("x-org-slug")
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        if named.is_some_and(|n| !n.is_empty() && n != org.slug.as_str()) {
            return Err(ApiError::org_not_found());
        }
        return store
            .scope(principal, &org.slug, false)
            .await?
            .ok_or_else(ApiError::org_not_found);
    }
    let header = req
        .headers()
        .get("x-org-slug")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let slug = match header {
        Some(raw) => Slug::system(raw).map_err(|_| ApiError::org_not_found())?,
        None => {
            let user = principal.user().ok_or(ApiError::Unauthenticated)?;
            let orgs = store.memberships_of(&user.id).await?;
            match orgs.as_slice() {
                [only] => only.org.slug.clone(),
                _ => {
                    return Err(ApiError::bad_request(
                        "org_required",
                        "name the organization with the X-Org-Slug header",
                    ));
                }
            }
        }
    };
    store
        .scope(principal, &slug, false)
        .await?
        .ok_or_else(ApiError::org_not_found)
}
