//! The org's webhook secrets: listing them with their delivery health, and rotating one (a
//! new secret shown once, the previous one still accepted for an overlap so providers can
//! be updated without dropped deliveries).

use std::time::Duration;

use serde_json::json;

use crate::crypto::{SecretBox, WebhookSecret};
use crate::domain::Provider;
use crate::error::ApiError;
use crate::services::access::require_admin;
use crate::store::{Conflict, OrgScope, Store, StoreError, WebhookRecord};
use crate::webhooks::new_sealed_secret;

/// The org's webhooks, one per provider (previews of the secrets, never the secrets, and
/// the last delivery and rejection), for its admins.
pub async fn list_webhooks(store: &Store, scope: &OrgScope) -> Result<Vec<WebhookRecord>, ApiError> {
    require_admin(scope)?;
    Ok(store.webhooks(scope).await?)
}

/// A rotated secret: the new one (shown in full this once) and until when the previous one
/// still verifies deliveries.
#[derive(Debug)]
pub struct Rotated {
    pub secret: WebhookSecret,
    pub previous_valid_until: i64,
}

/// Replaces `provider`'s secret (sealed by KMS before anything is written), in one
/// conditional write with its audit entry: two concurrent rotations cannot both win.
pub async fn rotate_secret(
    store: &Store,
    sealer: &SecretBox,
    scope: &OrgScope,
    provider: Provider,
    overlap: Duration,
) -> Result<Rotated, ApiError> {
    require_admin(scope)?;
    let current = store
        .webhooks(scope)
        .await?
        .into_iter()
        .find(|h| h.provider == provider)
        .ok_or(ApiError::NotFound)?;
    let (secret, sealed) = new_sealed_secret(sealer, scope.org_id(), provider)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let previous_valid_until = store.now_secs() + overlap.as_secs() as i64;
    let event = scope
        .audit("webhook.secret_rotated")
        .target(provider)
        .details(json!({ "previousValidUntil": previous_valid_until, "preview": sealed.preview }));
    store
        .rotate_webhook(scope, &current, &sealed, previous_valid_until, &event)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(Conflict::Unknown) => ApiError::Conflict {
                code: "rotation_conflict",
                message: "the secret was rotated concurrently; list the webhooks and retry".into(),
            },
            other => other.into(),
        })?;
    tracing::info!(provider = %provider, "webhook secret rotated");
    Ok(Rotated {
        secret,
        previous_valid_until,
    })
}
