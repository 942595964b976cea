//! The review queue: what a verified delivery looks like on SQS, and how it gets there.
//!
//! The message body is the provider's payload **as received** (no envelope, so the body
//! is escaped once, by the SQS request itself); everything else travels as message
//! attributes. A payload too large for an SQS message — or not representable in one
//! (invalid UTF-8, characters SQS refuses) — goes to S3 (claim check: encrypted bucket,
//! lifecycle expiry) and the message body carries a small JSON pointer instead.

use agnus_sqs::body::sqs_safe;
use agnus_sqs::{Message, SqsSender};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};

use crate::crypto::sha256_hex;
use crate::domain::{OrgId, Provider};

pub const ATTR_ORG_ID: &str = "org_id";
pub const ATTR_PROVIDER: &str = "provider";
pub const ATTR_EVENT: &str = "event";
pub const ATTR_DELIVERY_ID: &str = "delivery_id";
pub const ATTR_RECEIVED_AT: &str = "received_at";
pub const ATTR_ENCODING: &str = "encoding";
pub const ATTR_SOURCE: &str = "source";
pub const ENCODING_INLINE: &str = "inline";
pub const ENCODING_CLAIM_CHECK: &str = "claim-check";

/// An org named by a message of our own queues (defined with the scopes it opens, in the
/// store's tenancy module).
pub use crate::store::QueuedOrg;

impl QueuedOrg {
    /// The org of a review-queue message (its `org_id` attribute).
    pub fn of_message(message: &aws_lambda_events::event::sqs::SqsMessage) -> Option<Self> {
        message
            .message_attributes
            .get(ATTR_ORG_ID)
            .and_then(|a| a.string_value.as_deref())
            .and_then(|v| v.parse().ok())
            .map(Self::from_trusted)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// A message or payload that can never be read (wrong bucket, tampered bytes).
    #[error("invalid message: {0}")]
    Invalid(String),
}

/// What identifies a delivery on the queue.
#[derive(Debug, Clone)]
pub struct DeliveryAttributes {
    pub org_id: OrgId,
    pub provider: Provider,
    pub event: String,
    pub delivery_id: String,
    pub received_at: i64,
    /// `webhook` or `manual` (a review requested through the API).
    pub source: &'static str,
}

/// The message body of a claim-checked payload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimCheck {
    pub bucket: String,
    pub key: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Whether a payload travels inline: within `inline_max` bytes and representable.
pub fn fits_inline(body: &[u8], inline_max: usize) -> Option<&str> {
    if body.len() > inline_max {
        return None;
    }
    std::str::from_utf8(body).ok().filter(|t| sqs_safe(t))
}

/// Sends deliveries to the review queue (and oversized payloads to the claim-check bucket).
#[derive(Debug, Clone)]
pub struct Enqueuer {
    /// The lean SendMessage (`agnus-sqs`): the SDK's request without its per-call cost.
    sqs: SqsSender,
    s3: aws_sdk_s3::Client,
    queue_url: String,
    bucket: String,
    inline_max: usize,
}

impl Enqueuer {
    pub fn new(
        sqs: SqsSender,
        s3: aws_sdk_s3::Client,
        queue_url: impl Into<String>,
        bucket: impl Into<String>,
        inline_max: usize,
    ) -> Self {
        Self {
            sqs,
            s3,
            queue_url: queue_url.into(),
            bucket: bucket.into(),
            inline_max,
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Opens the SQS connection during a cold start's init (credentials, signing key, TLS:
    /// see [`SqsSender::warm_up`]), so the first delivery sends like the second. At most
    /// [`crate::store::WARM_UP_TIMEOUT`]; a failure only means the first delivery connects.
    pub async fn warm_up(&self) {
        match self.sqs.warm_up(crate::store::WARM_UP_TIMEOUT).await {
            agnus_sqs::WarmUp::Answered => {}
            agnus_sqs::WarmUp::TimedOut => tracing::debug!("SQS warm-up timed out"),
            agnus_sqs::WarmUp::Failed(e) => tracing::debug!(error = %e, "SQS warm-up failed"),
        }
    }

    /// Enqueues one delivery durably; returns the SQS message id. Any failure is an
    /// error: the caller must not acknowledge the delivery.
    pub async fn enqueue(&self, meta: &DeliveryAttributes, body: &[u8]) -> Result<String, QueueError> {
        let started = std::time::Instant::now();
        let claim_json;
        let (message_body, encoding) = match fits_inline(body, self.inline_max) {
            Some(text) => (text, ENCODING_INLINE),
            None => {
                let claim = self.store_claim_check(meta, body).await?;
                claim_json = serde_json::to_string(&claim).map_err(|e| QueueError::Unavailable(e.to_string()))?;
                (claim_json.as_str(), ENCODING_CLAIM_CHECK)
            }
        };
        let id = send(&self.sqs, &self.queue_url, meta, message_body, encoding).await?;
        crate::metrics::enqueued(meta.source, started.elapsed(), encoding == ENCODING_CLAIM_CHECK);
        Ok(id)
    }

    async fn store_claim_check(&self, meta: &DeliveryAttributes, body: &[u8]) -> Result<ClaimCheck, QueueError> {
        let key = format!(
            "deliveries/{}/{}/{}",
            meta.org_id,
            meta.provider,
            sha256_hex(meta.delivery_id.as_bytes())
        );
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(ByteStream::from(body.to_vec()))
            .content_type("application/octet-stream")
            .send()
            .await
            .map_err(|e| QueueError::Unavailable(format!("{e:?}")))?;
        Ok(ClaimCheck {
            bucket: self.bucket.clone(),
            key,
            bytes: body.len() as u64,
            sha256: sha256_hex(body),
        })
    }

    /// Reads a claim-checked payload back, checking its hash.
    pub async fn fetch_claim_check(&self, claim: &ClaimCheck) -> Result<Vec<u8>, QueueError> {
        fetch_claim_check(&self.s3, claim, &self.bucket).await
    }
}

/// Sends one message (`message_body`: the payload itself, or a claim check's pointer);
/// returns its SQS message id.
async fn send(
    sqs: &SqsSender,
    queue_url: &str,
    meta: &DeliveryAttributes,
    message_body: &str,
    encoding: &'static str,
) -> Result<String, QueueError> {
    let (org_id, received_at) = (meta.org_id.to_string(), meta.received_at.to_string());
    // One fixed order: the request (and its signature) depends on the delivery alone.
    let attributes = [
        (ATTR_ORG_ID, org_id.as_str()),
        (ATTR_PROVIDER, meta.provider.as_str()),
        (ATTR_EVENT, meta.event.as_str()),
        (ATTR_DELIVERY_ID, meta.delivery_id.as_str()),
        (ATTR_RECEIVED_AT, received_at.as_str()),
        (ATTR_ENCODING, encoding),
        (ATTR_SOURCE, meta.source),
    ];
    let message = Message {
        queue_url,
        body: message_body,
        attributes: &attributes,
    };
    sqs.send_message(&message)
        .await
        .map_err(|e| QueueError::Unavailable(e.to_string()))
}

/// Sends small messages only (the repos function's manual-review requests, ~100 bytes):
/// no claim-check bucket, so a function that uses it links no S3 client — the S3 client
/// alone would put the repos bootstrap over its 6 MB budget (BENCHMARKS.md).
#[derive(Debug, Clone)]
pub struct InlineEnqueuer {
    sqs: SqsSender,
    queue_url: String,
    inline_max: usize,
}

impl InlineEnqueuer {
    pub fn new(sqs: SqsSender, queue_url: impl Into<String>, inline_max: usize) -> Self {
        Self {
            sqs,
            queue_url: queue_url.into(),
            inline_max,
        }
    }

    /// [`Enqueuer::enqueue`] for a payload that fits in the message; any other is refused
    /// (`Invalid`) instead of being claim-checked.
    pub async fn enqueue(&self, meta: &DeliveryAttributes, body: &[u8]) -> Result<String, QueueError> {
        let started = std::time::Instant::now();
        let text = fits_inline(body, self.inline_max)
            .ok_or_else(|| QueueError::Invalid("payload does not fit in a queue message".into()))?;
        let id = send(&self.sqs, &self.queue_url, meta, text, ENCODING_INLINE).await?;
        crate::metrics::enqueued(meta.source, started.elapsed(), false);
        Ok(id)
    }
}

/// Reads a claim-checked payload (the worker's side): only from `bucket`, and only if its
/// bytes match the hash the intake recorded.
pub async fn fetch_claim_check(
    s3: &aws_sdk_s3::Client,
    claim: &ClaimCheck,
    bucket: &str,
) -> Result<Vec<u8>, QueueError> {
    if claim.bucket != bucket {
        return Err(QueueError::Invalid(
            "claim check points outside the payload bucket".into(),
        ));
    }
    let out = s3
        .get_object()
        .bucket(&claim.bucket)
        .key(&claim.key)
        .send()
        .await
        .map_err(|e| QueueError::Unavailable(format!("{e:?}")))?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| QueueError::Unavailable(e.to_string()))?
        .into_bytes()
        .to_vec();
    if sha256_hex(&bytes) != claim.sha256 {
        return Err(QueueError::Invalid(
            "claim-check payload does not match its hash".into(),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_only_when_small_and_representable() {
        assert_eq!(fits_inline(b"{\"a\":1}", 100), Some("{\"a\":1}"));
        assert!(fits_inline("emoji 🚀 and \u{2028}".as_bytes(), 100).is_some());
        assert!(fits_inline(&[b'a'; 101], 100).is_none(), "too large");
        assert!(fits_inline(&[0xff, 0xfe], 100).is_none(), "not UTF-8");
        assert!(fits_inline(b"nul \0 byte", 100).is_none(), "SQS refuses NUL");
        assert!(fits_inline("\u{FFFF}".as_bytes(), 100).is_none());
        assert!(fits_inline("a\u{FFFE}".as_bytes(), 100).is_none());
        assert!(fits_inline("\u{FFFD}\u{EFFF}\u{10FFFF}\t\r\n\u{7f}".as_bytes(), 100).is_some());
    }
}
