//! The review engine's writes on a review job (`ORG#<org>` / `REVIEW#…`):
//! `queued → reviewing → posted | skipped(reason) | failed(reason)`.
//!
//! A job is **claimed** by a conditional update (`queued`, or `reviewing` whose lease
//! ran out), so two deliveries of the same review-jobs message never review at once, and
//! a finished job is never claimed again (a redelivery posts nothing). The finish writes
//! the job's outcome, the org's monthly token usage (`USAGE#<yyyy-mm>`) and, for a posted
//! review, the PR's checkpoint (`REVIEWCKPT#<repoId>#<pr>`: the last reviewed head, for
//! incremental reviews) in one transaction.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, Update};

use super::keys::*;
use super::repos::{QueueScope, ReviewJob};
use super::tx::Tx;
use super::{Conflict, OrgScope, Store, StoreError, classify, get_opt_n, get_opt_s, n, s};
use crate::domain::Provider;

/// What a claim found.
#[derive(Debug, Clone)]
pub enum JobClaim {
    /// Ours until the lease ends. `resumed`: an earlier attempt claimed it and did not
    /// finish (it may have posted before it stopped: look for the marker first).
    Claimed {
        job: Box<ReviewJob>,
        resumed: bool,
        attempts: u32,
    },
    /// Posted, skipped or failed already: nothing to do.
    Finished(String),
    /// Another attempt holds the lease until this unix time.
    Busy { lease_until: i64 },
    /// No such job (e.g. its org was purged).
    Missing,
}

/// How a review ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewOutcome {
    /// `posted`, `skipped` or `failed`.
    pub status: &'static str,
    pub reason: Option<String>,
    pub comment_count: Option<u32>,
    pub model: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub duration_ms: Option<u64>,
    pub review_url: Option<String>,
    /// The head commit that was reviewed (`posted` only): the PR's new checkpoint.
    pub reviewed_sha: Option<String>,
    /// Incremental review: the head the diff started from.
    pub base_of_diff: Option<String>,
    /// What the codebase index gave the review (JSON: docs/review-engine.md, "Graph context").
    pub context: Option<String>,
    /// The model's comments not posted, by reason.
    pub dropped: Option<crate::review_report::Dropped>,
    /// The per-file walkthrough, as posted.
    pub walkthrough: Option<Vec<crate::review_report::WalkthroughLine>>,
    /// How the model's answer came, when it was cut short, salvaged or asked again.
    pub llm_answer: Option<crate::review_report::AnswerReport>,
}

impl ReviewOutcome {
    pub fn skipped(reason: &str) -> Self {
        Self {
            status: "skipped",
            reason: Some(reason.to_owned()),
            ..Self::default()
        }
    }
    pub fn failed(reason: &str) -> Self {
        Self {
            status: "failed",
            reason: Some(reason.to_owned()),
            ..Self::default()
        }
    }
}

/// `yyyy-mm` (UTC) of a unix time.
pub fn month_of(unix_secs: i64) -> String {
    // Howard Hinnant's civil-from-days.
    let z = unix_secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}")
}

fn update(table: &str, key: super::Item) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    Update::builder().table_name(table).set_key(Some(key))
}

impl Store {
    /// Notes on a delivery's marker that its job was handed to the review engine.
    pub async fn mark_handed_off(
        &self,
        scope: &QueueScope,
        provider: Provider,
        delivery_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), processed_sk(provider, delivery_id))))
            .update_expression("SET #status = :s")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", s("enqueued"))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Claims a job for `lease_secs` (see the module docs).
    pub async fn claim_review(
        &self,
        scope: &QueueScope,
        job_key: &str,
        lease_secs: i64,
    ) -> Result<JobClaim, StoreError> {
        if !job_key.starts_with(REVIEW_PREFIX) {
            return Ok(JobClaim::Missing);
        }
        let now = self.now_secs();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), job_key)))
            .update_expression(
                "SET #status = :reviewing, lease_until = :lease, started_at = if_not_exists(started_at, :now), \
                 attempts = if_not_exists(attempts, :zero) + :one, updated_at = :now",
            )
            .condition_expression(
                "attribute_exists(pk) AND (#status = :queued OR (#status = :reviewing AND lease_until < :now))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":reviewing", s("reviewing"))
            .expression_attribute_values(":queued", s("queued"))
            .expression_attribute_values(":lease", n(now + lease_secs))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                let attempts = get_opt_n(&item, "attempts").unwrap_or(1);
                Ok(JobClaim::Claimed {
                    job: Box::new(ReviewJob::from_item(&item)?),
                    resumed: attempts > 1,
                    attempts,
                })
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                let Some(item) = self.get(key(org_pk(scope.org_id()), job_key)).await? else {
                    return Ok(JobClaim::Missing);
                };
                Ok(match get_opt_s(&item, "status") {
                    Some("reviewing") => JobClaim::Busy {
                        lease_until: get_opt_n(&item, "lease_until").unwrap_or(now),
                    },
                    Some(other) => JobClaim::Finished(other.to_owned()),
                    None => JobClaim::Missing,
                })
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Gives a claimed job back to be tried again (its lease ends now).
    pub async fn release_review(&self, scope: &QueueScope, job_key: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), job_key)))
            .update_expression("SET lease_until = :zero")
            .condition_expression("#status = :reviewing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":reviewing", s("reviewing"))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Stores the validated answer of a claimed job before anything is posted, so a retry
    /// after a partial post posts the same answer (never a second one from the LLM).
    pub async fn save_review_answer(&self, scope: &QueueScope, job_key: &str, answer: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), job_key)))
            .update_expression("SET answer = :answer")
            .condition_expression("#status = :reviewing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":answer", s(answer))
            .expression_attribute_values(":reviewing", s("reviewing"))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Records how a claimed review ended (see the module docs); `Conflict::Unknown` if
    /// the job is no longer `reviewing`.
    pub async fn finish_review(
        &self,
        scope: &QueueScope,
        job: &ReviewJob,
        outcome: &ReviewOutcome,
    ) -> Result<(), StoreError> {
        let now = self.now_secs();
        let mut values: Vec<(&str, AttributeValue)> = vec![
            (":status", s(outcome.status)),
            (":now", n(now)),
            (":reviewing", s("reviewing")),
        ];
        let strings = [
            ("reason", ":reason", &outcome.reason),
            ("model", ":model", &outcome.model),
            ("review_url", ":url", &outcome.review_url),
            ("reviewed_sha", ":reviewed", &outcome.reviewed_sha),
            ("diff_base_sha", ":diffbase", &outcome.base_of_diff),
            ("graph_context", ":context", &outcome.context),
        ];
        let mut clauses: Vec<String> = ["#status = :status", "finished_at = :now", "updated_at = :now"]
            .map(str::to_owned)
            .to_vec();
        for (attr, placeholder, value) in strings {
            if let Some(v) = value {
                clauses.push(format!("{attr} = {placeholder}"));
                values.push((placeholder, s(v)));
            }
        }
        let numbers = [
            ("comment_count", ":comments", outcome.comment_count.map(u64::from)),
            ("prompt_tokens", ":ptok", outcome.prompt_tokens),
            ("completion_tokens", ":ctok", outcome.completion_tokens),
            ("duration_ms", ":dur", outcome.duration_ms),
        ];
        for (attr, placeholder, value) in numbers {
            if let Some(v) = value {
                clauses.push(format!("{attr} = {placeholder}"));
                values.push((placeholder, n(v)));
            }
        }
        for (attr, placeholder, value) in super::review_report::report_values(
            outcome.dropped.as_ref(),
            outcome.walkthrough.as_deref(),
            outcome.llm_answer.as_ref(),
        ) {
            clauses.push(format!("{attr} = {placeholder}"));
            values.push((placeholder, value));
        }
        let mut job_update = update(&self.table, key(org_pk(scope.org_id()), &job.sort_key))
            .update_expression(format!("SET {} REMOVE lease_until, answer", clauses.join(", ")))
            .condition_expression("#status = :reviewing")
            .expression_attribute_names("#status", "status");
        for (k, v) in values {
            job_update = job_update.expression_attribute_values(k, v);
        }
        let mut tx = Tx::new();
        let job_update = job_update.build().map_err(|e| StoreError::Backend(e.to_string()))?;
        tx.update_if(job_update, Conflict::Unknown)?;
        let tokens = outcome.prompt_tokens.unwrap_or(0) + outcome.completion_tokens.unwrap_or(0);
        if tokens > 0 {
            let usage = update(&self.table, key(org_pk(scope.org_id()), usage_sk(&month_of(now))))
                .update_expression(
                    "ADD tokens :t, prompt_tokens :p, completion_tokens :c, llm_reviews :one SET #type = :type",
                )
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":t", n(tokens))
                .expression_attribute_values(":p", n(outcome.prompt_tokens.unwrap_or(0)))
                .expression_attribute_values(":c", n(outcome.completion_tokens.unwrap_or(0)))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":type", s("usage"))
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            tx.update(usage)?;
        }
        if let (Some(sha), "posted") = (&outcome.reviewed_sha, outcome.status) {
            let ckpt = update(
                &self.table,
                key(org_pk(scope.org_id()), review_ckpt_sk(&job.repo_id, job.pr_number)),
            )
            .update_expression("SET head_sha = :sha, job_id = :job, updated_at = :now, #type = :type")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":sha", s(sha))
            .expression_attribute_values(":job", s(&job.id))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":type", s("review_checkpoint"))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
            tx.update(ckpt)?;
        }
        self.transact(tx).await
    }

    /// The head commit last reviewed on a PR, if any (incremental reviews start there).
    pub async fn review_checkpoint(
        &self,
        scope: &QueueScope,
        repo_id: &str,
        pr: u64,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(key(org_pk(scope.org_id()), review_ckpt_sk(repo_id, pr)))
            .await?
            .and_then(|i| get_opt_s(&i, "head_sha").map(str::to_owned)))
    }

    /// An org's LLM token usage in a month (`yyyy-mm`): (total tokens, reviews).
    pub async fn token_usage(&self, scope: &OrgScope, month: &str) -> Result<(u64, u64), StoreError> {
        Ok(self
            .get(key(org_pk(scope.org_id()), usage_sk(month)))
            .await?
            .map(|i| {
                (
                    get_opt_n(&i, "tokens").unwrap_or(0),
                    get_opt_n(&i, "llm_reviews").unwrap_or(0),
                )
            })
            .unwrap_or((0, 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::month_of;

    #[test]
    fn months_are_utc_calendar_months() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(951_782_400), "2000-02-29".get(..7).unwrap());
        assert_eq!(month_of(1_767_225_599), "2025-12");
        assert_eq!(month_of(1_767_225_600), "2026-01");
    }
}
