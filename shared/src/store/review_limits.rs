//! What keeps reviews from being asked for without limit (product §7; issue: "anyone who
//! can comment can make it review without limit"), all in the org's partition:
//!
//! - **one review per head**: `REVIEWHEAD#<repoId>#<pr>#<sha>` is taken by the job that
//!   reviews that head and kept for the repeat window; a mention or a manual request takes
//!   it only if it is free, expired or already its own (a conditional put), so one for a
//!   head reviewed in that window ends `skipped: already_reviewed` (a manual request
//!   naming the head: 409). The provider's own events (opened, reopened, a push) are
//!   reviewed and take it. A job that fails gives it back, so a retry by hand is not
//!   blocked;
//! - **reviews per org per hour**: `REVIEWRATE#<hour>` counts the reviews that reach the
//!   LLM, refused atomically at the limit (`skipped: rate_limited`);
//! - **the monthly token budget** of the org's plan: `USAGE#<yyyy-mm>` (written by
//!   [`Store::finish_review`]) against the plan's budget (`skipped: budget_exhausted`).

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::keys::*;
use super::repos::QueueScope;
use super::reviews::month_of;
use super::tenancy::OrgScope;
use super::{Store, StoreError, classify, get_opt_n, n, s};
use crate::domain::OrgId;

impl Store {
    /// Takes `head` of a pull request for `job_id` until `now + window_secs`; `false`: another
    /// job reviews it or reviewed it within the window. `always`: take it whoever has it (a
    /// review the provider's own event asked for: opened, reopened, a push).
    #[allow(clippy::too_many_arguments)]
    pub async fn claim_review_head(
        &self,
        scope: &QueueScope,
        repo_id: &str,
        pr: u64,
        head_sha: &str,
        job_id: &str,
        window_secs: i64,
        always: bool,
    ) -> Result<bool, StoreError> {
        let now = self.now_secs();
        let mut item = key(org_pk(scope.org_id()), review_head_sk(repo_id, pr, head_sha));
        item.insert("type".into(), s("review_head"));
        item.insert("job_id".into(), s(job_id));
        item.insert("taken_at".into(), n(now));
        item.insert("until".into(), n(now + window_secs));
        // TTL removes it a day after the window.
        item.insert("expires_at".into(), n(now + window_secs + 86_400));
        let mut put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        if !always {
            put = put
                .condition_expression("attribute_not_exists(pk) OR #until < :now OR job_id = :job")
                .expression_attribute_names("#until", "until")
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":job", s(job_id));
        }
        let result = put.send().await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se)) if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                Ok(false)
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Gives a head back (the job that took it failed): the next request may review it.
    pub async fn release_review_head(
        &self,
        scope: &QueueScope,
        repo_id: &str,
        pr: u64,
        head_sha: &str,
        job_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), review_head_sk(repo_id, pr, head_sha))))
            .update_expression("SET #until = :zero")
            .condition_expression("job_id = :job")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":job", s(job_id))
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

    /// Was `head` reviewed (or is it being reviewed) within the repeat window?
    pub async fn review_head_taken(
        &self,
        scope: &OrgScope,
        repo_id: &str,
        pr: u64,
        head_sha: &str,
    ) -> Result<bool, StoreError> {
        let now = self.now_secs();
        Ok(self
            .get(key(org_pk(scope.org_id()), review_head_sk(repo_id, pr, head_sha)))
            .await?
            .and_then(|i| get_opt_n::<i64>(&i, "until"))
            .is_some_and(|until| until >= now))
    }

    /// Counts one review against the org's hourly limit; `false`: the limit is reached
    /// (refused atomically, so concurrent jobs cannot overshoot it).
    pub async fn count_org_review(&self, scope: &QueueScope, per_hour: u32) -> Result<bool, StoreError> {
        let now = self.now_secs();
        let hour = now - now.rem_euclid(3600);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), review_rate_sk(hour))))
            .update_expression("ADD reviews :one SET #type = :type, expires_at = if_not_exists(expires_at, :exp)")
            .condition_expression("attribute_not_exists(reviews) OR reviews < :limit")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":type", s("review_rate"))
            .expression_attribute_values(":limit", n(per_hour))
            .expression_attribute_values(":exp", n(hour + 7_200))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// The org's usage now (its usage page).
    pub async fn org_usage(&self, scope: &OrgScope) -> Result<OrgUsage, StoreError> {
        self.usage_of(scope.org_id()).await
    }

    /// The org's usage now (the review engine, before asking the LLM).
    pub async fn queued_org_usage(&self, scope: &QueueScope) -> Result<OrgUsage, StoreError> {
        self.usage_of(scope.org_id()).await
    }

    async fn usage_of(&self, org: &OrgId) -> Result<OrgUsage, StoreError> {
        let now = self.now_secs();
        let hour = now - now.rem_euclid(3600);
        let month = month_of(now);
        let pk = org_pk(org);
        let (rate, usage) = tokio::try_join!(
            self.get(key(pk.clone(), review_rate_sk(hour))),
            self.get(key(pk.clone(), usage_sk(&month)))
        )?;
        Ok(OrgUsage {
            month,
            tokens: usage.as_ref().and_then(|i| get_opt_n(i, "tokens")).unwrap_or(0),
            llm_reviews: usage.as_ref().and_then(|i| get_opt_n(i, "llm_reviews")).unwrap_or(0),
            reviews_this_hour: rate.as_ref().and_then(|i| get_opt_n(i, "reviews")).unwrap_or(0),
        })
    }
}

/// An org's review usage: this month's LLM tokens and reviews, this hour's reviews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUsage {
    /// `yyyy-mm` (UTC).
    pub month: String,
    pub tokens: u64,
    pub llm_reviews: u64,
    pub reviews_this_hour: u64,
}
