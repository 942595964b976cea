//! What the running functions read of a migrated single-tenant install: its system API key
//! (accepted in the old format only because the migration flagged its lookup `legacy`) and
//! the legacy webhook URLs' settings. The writers live in `store::migration`, compiled only
//! with the `migration` feature (the upgrade CLI), never into a Lambda.

use super::keys::*;
use super::{Store, StoreError, get_n, get_opt_n, get_s, parse};
use crate::domain::OrgId;

/// The legacy single-tenant webhook URLs: aliases of the default org until `sunset_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyWebhooks {
    pub org_id: OrgId,
    pub sunset_at: i64,
    pub last_delivery_at: Option<i64>,
}

impl Store {
    /// Authenticates a key in the old install's format: only a migrated key (its lookup
    /// is marked legacy) is accepted that way.
    pub async fn legacy_api_key_by_hash(&self, key_hash: &str) -> Result<Option<super::ApiKeyAuth>, StoreError> {
        let Some(item) = self.get(key(api_key_hash_pk(key_hash), API_KEY_HASH_SK)).await? else {
            return Ok(None);
        };
        if !super::get_bool(&item, "legacy") {
            return Ok(None);
        }
        Ok(Some(super::ApiKeyAuth {
            key_id: get_s(&item, "key_id")?.to_owned(),
            org_id: parse(&item, "org_id")?,
            role: parse(&item, "role")?,
        }))
    }

    /// The legacy webhook URLs' settings, if a migration enabled them.
    pub async fn legacy_webhooks(&self) -> Result<Option<LegacyWebhooks>, StoreError> {
        self.get(key(LEGACY_WEBHOOKS_PK.to_owned(), LEGACY_WEBHOOKS_SK))
            .await?
            .map(|i| {
                Ok(LegacyWebhooks {
                    org_id: parse(&i, "org_id")?,
                    sunset_at: get_n(&i, "sunset_at")?,
                    last_delivery_at: get_opt_n(&i, "last_delivery_at"),
                })
            })
            .transpose()
    }

    /// Records a delivery to a legacy URL, at most once a minute (a conditional write that
    /// usually fails cheaply); never fails the delivery.
    pub async fn touch_legacy_webhook_delivery(&self) {
        self.touch_once_a_minute(
            key(LEGACY_WEBHOOKS_PK.to_owned(), LEGACY_WEBHOOKS_SK),
            "last_delivery_at",
            "the legacy webhook delivery",
        )
        .await;
    }
}
