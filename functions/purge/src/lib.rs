//! Purge job: every soft-deleted org whose grace period has ended loses all its items
//! (and the global items pointing into it). Runs hourly from an EventBridge schedule;
//! idempotent and resumable (an interrupted purge finishes on the next run).

use agnus_shared::store::{PurgeReport, Store, StoreError};

/// Purges everything due at `now` (unix seconds).
pub async fn run(store: &Store, now: i64) -> Result<PurgeReport, StoreError> {
    let report = store.purge_due(now).await?;
    tracing::info!(orgs = report.orgs, items = report.items, "purge run finished");
    Ok(report)
}
