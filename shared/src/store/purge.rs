//! Erasing organizations whose soft-delete grace period has ended (the hourly purge
//! function): every item of the org's partition and the global items it owns.

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};

use super::keys::*;
use super::{Item, Store, StoreError, build, classify, get_opt_s, get_s, n, parse, s};
use crate::domain::OrgId;

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub orgs: usize,
    pub items: usize,
}

impl Store {
    /// Soft-deleted orgs whose grace period has ended.
    async fn orgs_due_for_purge(&self, now: i64) -> Result<Vec<OrgId>, StoreError> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :g AND gsi1sk <= :bound")
                .expression_attribute_values(":g", s(DELETED_ORGS))
                .expression_attribute_values(":bound", s(format!("{now:012}#~")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in out.items() {
                ids.push(parse(item, "org_id")?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(ids),
            }
        }
    }

    /// Deletes every item of a soft-deleted org whose grace period has ended, with the
    /// global items that point into it (slug claim, membership mirrors, token/key
    /// lookups). Marks the org `purging` first, so a restore cannot race the purge. The
    /// org's META item goes last: an interrupted purge is found and finished next run.
    async fn purge_org(&self, org: &OrgId, now: i64) -> Result<usize, StoreError> {
        let mark = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), META)))
            .update_expression("SET purging = :t")
            .condition_expression("attribute_exists(deleted_at) AND purge_after <= :now")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        if let Err(e) = mark {
            return match e.as_service_error() {
                Some(se) if se.is_conditional_check_failed_exception() => Ok(0),
                _ => Err(classify(e)),
            };
        }
        let pk = org_pk(org);
        let mut keys: Vec<Item> = Vec::new();
        for item in self.query_all(&pk, None).await? {
            let sk = get_s(&item, "sk")?;
            if let (Some(cpk), Some(csk)) = (get_opt_s(&item, "companion_pk"), get_opt_s(&item, "companion_sk")) {
                keys.push(key(cpk.to_owned(), csk));
            }
            if sk != META {
                keys.push(key(pk.clone(), sk));
            }
        }
        keys.push(key(pk.clone(), META));
        let count = keys.len();
        self.batch_delete(keys).await?;
        Ok(count)
    }

    pub(crate) async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let (last, rest): (Vec<Item>, Vec<Item>) = {
            let mut keys = keys;
            let last = keys.pop().into_iter().collect();
            (last, keys)
        };
        // Everything but the last key first, then the last one (the META item).
        for batch in [rest, last] {
            for chunk in batch.chunks(25) {
                let mut requests: Vec<WriteRequest> = chunk
                    .iter()
                    .map(|k| {
                        build(DeleteRequest::builder().set_key(Some(k.clone())).build())
                            .map(|d| WriteRequest::builder().delete_request(d).build())
                    })
                    .collect::<Result<_, _>>()?;
                for attempt in 0..10u32 {
                    if requests.is_empty() {
                        break;
                    }
                    if attempt > 0 {
                        tokio::time::sleep(Duration::from_millis(25 << attempt.min(5))).await;
                    }
                    let out = self
                        .client
                        .batch_write_item()
                        .request_items(&self.table, std::mem::take(&mut requests))
                        .send()
                        .await
                        .map_err(classify)?;
                    requests = out
                        .unprocessed_items
                        .unwrap_or_default()
                        .remove(&self.table)
                        .unwrap_or_default();
                }
                if !requests.is_empty() {
                    return Err(StoreError::Unavailable("batch delete left unprocessed items".into()));
                }
            }
        }
        Ok(())
    }

    /// Purges every org whose grace period has ended.
    pub async fn purge_due(&self, now: i64) -> Result<PurgeReport, StoreError> {
        let mut report = PurgeReport::default();
        for org in self.orgs_due_for_purge(now).await? {
            let items = self.purge_org(&org, now).await?;
            if items > 0 {
                tracing::info!(org_id = %org, items, "purged deleted organization");
                report.orgs += 1;
                report.items += items;
            }
        }
        Ok(report)
    }
}
