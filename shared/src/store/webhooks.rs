//! Webhook secrets (KMS ciphertext only), rotation with an overlap window, the
//! delivery ledger that makes intake idempotent, and the per-provider delivery status.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure, Update};

use super::keys::*;
use super::records::AuditEvent;
use super::records::OrgRecord;
use super::records::SealedSecret;
use super::tenancy::OrgScope;
use super::tx::Tx;
use super::{Conflict, Item, Store, StoreError, classify, get_n, get_opt_n, get_opt_s, get_s, n, s};
use crate::domain::{OrgId, Provider, Slug};

/// A provider's webhook configuration and delivery status in one org.
#[derive(Debug, Clone)]
pub struct WebhookRecord {
    pub provider: Provider,
    pub ciphertext: Vec<u8>,
    pub preview: String,
    pub version: u64,
    pub created_at: i64,
    pub rotated_at: Option<i64>,
    /// The previous secret, valid until `previous_valid_until` (rotation overlap).
    pub previous_ciphertext: Option<Vec<u8>>,
    pub previous_valid_until: Option<i64>,
    pub last_delivery_at: Option<i64>,
    pub last_delivery_outcome: Option<String>,
    pub last_delivery_id: Option<String>,
    pub last_rejected_at: Option<i64>,
    pub last_rejected_reason: Option<String>,
    pub rejected_count: u64,
}

fn get_b(item: &Item, name: &str) -> Option<Vec<u8>> {
    item.get(name).and_then(|v| v.as_b().ok()).map(|b| b.as_ref().to_vec())
}

impl WebhookRecord {
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            provider: get_s(item, "provider")?
                .parse()
                .map_err(|_| StoreError::Corrupt("provider".into()))?,
            ciphertext: get_b(item, "ciphertext").ok_or_else(|| StoreError::Corrupt("ciphertext".into()))?,
            preview: get_s(item, "preview")?.to_owned(),
            version: get_n(item, "version")?,
            created_at: get_n(item, "created_at")?,
            rotated_at: get_opt_n(item, "rotated_at"),
            previous_ciphertext: get_b(item, "prev_ciphertext"),
            previous_valid_until: get_opt_n(item, "prev_valid_until"),
            last_delivery_at: get_opt_n(item, "last_delivery_at"),
            last_delivery_outcome: get_opt_s(item, "last_delivery_outcome").map(str::to_owned),
            last_delivery_id: get_opt_s(item, "last_delivery_id").map(str::to_owned),
            last_rejected_at: get_opt_n(item, "last_rejected_at"),
            last_rejected_reason: get_opt_s(item, "last_rejected_reason").map(str::to_owned),
            rejected_count: get_opt_n(item, "rejected_count").unwrap_or(0),
        })
    }

    /// The previous secret's ciphertext while its overlap window is open at `now`.
    pub fn previous_if_valid(&self, now: i64) -> Option<&[u8]> {
        match (&self.previous_ciphertext, self.previous_valid_until) {
            (Some(c), Some(until)) if until > now => Some(c),
            _ => None,
        }
    }
}

/// Where an intake delivery goes: the org named in the URL and its secret(s) for the
/// provider. Only [`Store::intake_target`] makes one; ledger writes go through it, so a
/// delivery can only ever touch the partition of the org its URL names.
#[derive(Debug, Clone)]
pub struct IntakeTarget {
    org_id: OrgId,
    slug: Slug,
    provider: Provider,
    webhook: WebhookRecord,
}

impl IntakeTarget {
    pub fn org_id(&self) -> &OrgId {
        &self.org_id
    }
    pub fn slug(&self) -> &Slug {
        &self.slug
    }
    pub fn provider(&self) -> Provider {
        self.provider
    }
    pub fn webhook(&self) -> &WebhookRecord {
        &self.webhook
    }
}

/// Result of claiming a delivery id in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time: enqueue it, then mark it done (or release it on failure).
    New,
    /// Already enqueued: acknowledge without enqueueing again.
    Duplicate,
    /// Another attempt is enqueueing it right now: ask the provider to retry.
    InFlight,
}

impl Store {
    /// Every provider's webhook record of the org.
    pub async fn webhooks(&self, scope: &OrgScope) -> Result<Vec<WebhookRecord>, StoreError> {
        let items = self.query_all(&org_pk(scope.org_id()), Some(WEBHOOK_PREFIX)).await?;
        let mut hooks = items
            .iter()
            .map(WebhookRecord::from_item)
            .collect::<Result<Vec<_>, _>>()?;
        hooks.sort_by_key(|h| h.provider);
        Ok(hooks)
    }

    /// Replaces a provider's secret; the previous one stays valid until `overlap_until`.
    /// Conditional on the version read, so two concurrent rotations cannot both win.
    pub async fn rotate_webhook(
        &self,
        scope: &OrgScope,
        current: &WebhookRecord,
        new: &SealedSecret,
        overlap_until: i64,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let now = self.now_secs();
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), webhook_sk(new.provider))))
            .update_expression(
                "SET prev_ciphertext = ciphertext, prev_valid_until = :until, ciphertext = :c, preview = :p, \
                 rotated_at = :now, version = version + :one",
            )
            .condition_expression("version = :v")
            .expression_attribute_values(":until", n(overlap_until))
            .expression_attribute_values(":c", AttributeValue::B(Blob::new(new.ciphertext.clone())))
            .expression_attribute_values(":p", s(&new.preview))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":v", n(current.version))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = Tx::new();
        // A failed condition: another rotation came first (a 409).
        tx.update_if(update, Conflict::Unknown)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// Resolves the org of an intake URL and its webhook record for `provider`. `None`
    /// for an unknown or deleted org (the caller answers the same 401 for both).
    pub async fn intake_target(&self, slug: &Slug, provider: Provider) -> Result<Option<IntakeTarget>, StoreError> {
        let Some(claim) = self.get(key(slug_pk(slug), SLUG_SK)).await? else {
            return Ok(None);
        };
        let org_id: OrgId = super::parse(&claim, "org_id")?;
        let (meta, hook) = tokio::join!(
            self.get(key(org_pk(&org_id), META)),
            self.get(key(org_pk(&org_id), webhook_sk(provider)))
        );
        let (Some(meta), Some(hook)) = (meta?, hook?) else {
            return Ok(None);
        };
        if OrgRecord::from_item(&meta)?.is_deleted() {
            return Ok(None);
        }
        Ok(Some(IntakeTarget {
            org_id,
            slug: slug.clone(),
            provider,
            webhook: WebhookRecord::from_item(&hook)?,
        }))
    }

    /// Claims `delivery_id` for enqueueing (a conditional write): new, a duplicate of a
    /// delivery already enqueued, or in flight elsewhere. A claim whose lease ran out
    /// (its enqueue failed without releasing) can be taken again.
    pub async fn ledger_claim(
        &self,
        target: &IntakeTarget,
        delivery_id: &str,
        lease_secs: i64,
    ) -> Result<Claim, StoreError> {
        let now = self.now_secs();
        let mut item = key(org_pk(&target.org_id), delivery_sk(target.provider, delivery_id));
        item.insert("type".into(), s("delivery"));
        item.insert("status".into(), s("pending"));
        item.insert("lease_until".into(), n(now + lease_secs));
        item.insert("received_at".into(), n(now));
        item.insert("expires_at".into(), n(now + DELIVERY_RETENTION_SECS));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR (#status = :pending AND lease_until < :now)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::New),
            Err(SdkError::ServiceError(se)) if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                let PutItemError::ConditionalCheckFailedException(e) = se.err() else {
                    unreachable!("matched above")
                };
                let done = e
                    .item()
                    .and_then(|i| get_opt_s(i, "status"))
                    .is_none_or(|st| st == "done");
                Ok(if done { Claim::Duplicate } else { Claim::InFlight })
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Marks a claimed delivery as enqueued (only after SQS accepted it).
    pub async fn ledger_done(
        &self,
        target: &IntakeTarget,
        delivery_id: &str,
        message_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                org_pk(&target.org_id),
                delivery_sk(target.provider, delivery_id),
            )))
            .update_expression("SET #status = :done, message_id = :m REMOVE lease_until")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":m", s(message_id))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Gives a claim back after a failed enqueue, so the provider's retry is not a
    /// "duplicate". (If this fails too, the lease expires on its own.)
    pub async fn ledger_release(&self, target: &IntakeTarget, delivery_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(
                org_pk(&target.org_id),
                delivery_sk(target.provider, delivery_id),
            )))
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The ledger status of a delivery (`pending`, `done`), if any.
    pub async fn ledger_status(&self, target: &IntakeTarget, delivery_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(key(org_pk(&target.org_id), delivery_sk(target.provider, delivery_id)))
            .await?
            .and_then(|i| get_opt_s(&i, "status").map(str::to_owned)))
    }

    /// Records the provider's last delivery (accepted, duplicate, ping) for the listing.
    pub async fn record_delivery(
        &self,
        target: &IntakeTarget,
        outcome: &str,
        delivery_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(&target.org_id), webhook_sk(target.provider))))
            .update_expression("SET last_delivery_at = :now, last_delivery_outcome = :o, last_delivery_id = :d")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(self.now_secs()))
            .expression_attribute_values(":o", s(outcome))
            .expression_attribute_values(":d", s(delivery_id))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Records a rejected delivery for the org's admins.
    /// Adds `count` rejected deliveries (the last one's reason) to the webhook's counters.
    pub async fn record_rejections(&self, target: &IntakeTarget, reason: &str, count: u64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(&target.org_id), webhook_sk(target.provider))))
            .update_expression("SET last_rejected_at = :now, last_rejected_reason = :r ADD rejected_count :c")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(self.now_secs()))
            .expression_attribute_values(":r", s(reason))
            .expression_attribute_values(":c", n(count))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Appends an audit entry about a delivery to the org the intake verified it for.
    pub async fn append_intake_audit(&self, target: &IntakeTarget, event: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        tx.put(self.audit_put(&target.org_id, event)?)?;
        self.transact(tx).await
    }
}
