//! Fixed-window rate-limit counters.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::keys::{key, rate_pk, rate_sk};
use super::{Store, StoreError, classify, get_opt_n, n};
use crate::config::RateLimit;

/// Outcome of a rate-limit hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    Limited { retry_after_secs: u64 },
}

fn window(limit: RateLimit, now: i64) -> (i64, u64) {
    let len = limit.window.as_secs().max(1) as i64;
    let start = now - now.rem_euclid(len);
    (start, (start + len - now).max(1) as u64)
}

impl Store {
    /// Counts one hit in the current fixed window of `bucket`/`subject`; refuses atomically
    /// (a conditional update, so concurrent requests cannot overshoot the limit).
    pub async fn rate_limit_hit(
        &self,
        bucket: &str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<RateDecision, StoreError> {
        if limit.is_disabled() {
            return Ok(RateDecision::Allowed);
        }
        let (window_start, retry_after) = window(limit, self.now_secs());
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(rate_pk(bucket, subject), rate_sk(window_start))))
            .update_expression("ADD hits :one SET expires_at = if_not_exists(expires_at, :exp)")
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit.limit))
            .expression_attribute_values(":exp", n(window_start + limit.window.as_secs() as i64 * 2))
            .send()
            .await;
        match result {
            Ok(_) => Ok(RateDecision::Allowed),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(RateDecision::Limited {
                    retry_after_secs: retry_after,
                })
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Is `bucket`/`subject` already at its limit in the current window? (Read only; for
    /// failure counters that are incremented only when a failure happens.)
    pub async fn rate_limit_peek(
        &self,
        bucket: &str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<RateDecision, StoreError> {
        if limit.is_disabled() {
            return Ok(RateDecision::Allowed);
        }
        let (window_start, retry_after) = window(limit, self.now_secs());
        let item = self.get(key(rate_pk(bucket, subject), rate_sk(window_start))).await?;
        let hits: u32 = item.as_ref().and_then(|i| get_opt_n(i, "hits")).unwrap_or(0);
        Ok(if hits >= limit.limit {
            RateDecision::Limited {
                retry_after_secs: retry_after,
            }
        } else {
            RateDecision::Allowed
        })
    }
}
