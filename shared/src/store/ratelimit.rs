//! Fixed-window rate-limit counters.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::keys::{key, rate_pk, rate_sk};
use super::{Store, StoreError, classify, n};
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

/// One hit counted by [`Store::rate_limit_count`], to give back with
/// [`Store::rate_limit_refund`] (in the window it was counted in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    bucket: String,
    subject: String,
    window_start: i64,
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
        Ok(self.rate_limit_count(bucket, subject, limit).await?.0)
    }

    /// [`Self::rate_limit_hit`], also answering the hit it counted (`None`: refused, or the
    /// limit is disabled) so that it can be given back. An attempt counted this way before
    /// the work it limits is done can never be overtaken by parallel attempts: the
    /// increment that refuses past the limit is the check.
    pub async fn rate_limit_count(
        &self,
        bucket: &str,
        subject: &str,
        limit: RateLimit,
    ) -> Result<(RateDecision, Option<Counted>), StoreError> {
        if limit.is_disabled() {
            return Ok((RateDecision::Allowed, None));
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
            Ok(_) => Ok((
                RateDecision::Allowed,
                Some(Counted {
                    bucket: bucket.to_owned(),
                    subject: subject.to_owned(),
                    window_start,
                }),
            )),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok((
                    RateDecision::Limited {
                        retry_after_secs: retry_after,
                    },
                    None,
                ))
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Gives back a counted hit (a login attempt that turned out not to be a failure);
    /// never below zero.
    pub async fn rate_limit_refund(&self, counted: &Counted) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                rate_pk(&counted.bucket, &counted.subject),
                rate_sk(counted.window_start),
            )))
            .update_expression("ADD hits :minus_one")
            .condition_expression("hits > :zero")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(())
            }
            Err(e) => Err(classify(e)),
        }
    }
}
