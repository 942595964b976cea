//! Repositories and their review history. A repository identity (provider + full name)
//! belongs to at most one org (`REPOIDENT#…`, claimed by a conditional write). Review jobs
//! are written by the worker with a processing marker in the same transaction, so a
//! delivery processed twice yields one job.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Delete};
use serde::Serialize;

use super::keys::*;
use super::records::AuditEvent;
use super::records::put_new;
use super::tenancy::{OrgScope, QueuedOrg};
use super::tx::Tx;
use super::{
    Conflict, Item, Page, PageRequest, Store, StoreError, classify, get_n, get_opt_n, get_opt_s, get_s, n, parse, s,
};
use crate::domain::{OrgId, Plan, Provider, RepoRef, Slug};
use crate::events::PrAction;
use crate::trigger::TokenIdentity;

/// A connected repository.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoRecord {
    pub id: String,
    pub provider: Provider,
    pub full_name: String,
    pub url: Option<String>,
    pub token_preview: Option<String>,
    /// The GitHub App installation it is connected through (no token of its own then).
    pub installation_id: Option<u64>,
    pub created_at: i64,
    pub created_by: String,
    #[serde(skip)]
    pub token_ciphertext: Option<Vec<u8>>,
    /// Who the token acts as at the provider (its comments never ask for a review).
    #[serde(skip)]
    pub token_identity: Option<TokenIdentity>,
}

impl RepoRecord {
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id: get_s(item, "repo_id")?.to_owned(),
            provider: parse(item, "provider")?,
            full_name: get_s(item, "full_name")?.to_owned(),
            url: get_opt_s(item, "url").map(str::to_owned),
            token_preview: get_opt_s(item, "token_preview").map(str::to_owned),
            installation_id: get_opt_n(item, "installation_id"),
            created_at: get_n(item, "created_at")?,
            created_by: get_s(item, "created_by")?.to_owned(),
            token_ciphertext: item
                .get("token_ciphertext")
                .and_then(|v| v.as_b().ok())
                .map(|b| b.as_ref().to_vec()),
            token_identity: match (get_opt_s(item, "token_user_id"), get_opt_s(item, "token_login")) {
                (None, None) => None,
                (id, login) => Some(TokenIdentity {
                    id: id.map(str::to_owned),
                    login: login.map(str::to_owned),
                }),
            },
        })
    }

    /// Is this GitHub's repository `full_name` (GitHub's names are case-insensitive)?
    pub fn is_github_repo(&self, full_name: &str) -> bool {
        self.provider == Provider::Github && self.full_name.eq_ignore_ascii_case(full_name)
    }

    pub fn repo_ref(&self) -> RepoRef {
        RepoRef {
            provider: self.provider,
            full_name: self.full_name.clone(),
        }
    }
}

/// A review job: what the review engine consumes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewJob {
    pub id: String,
    pub repo_id: String,
    pub provider: Provider,
    pub pr_number: u64,
    pub head_sha: Option<String>,
    pub action: String,
    pub title: Option<String>,
    pub author: Option<String>,
    pub delivery_id: String,
    pub source: String,
    pub status: String,
    pub created_at: i64,
    /// Why a job was skipped or failed (`stale`, `draft`, `token_invalid`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Link to the posted review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_sha: Option<String>,
    /// Set for an incremental review: the previously reviewed head the diff starts at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_base_sha: Option<String>,
    /// What the codebase index gave the review: `mode` (`graph` or `diff_only`), `reason`,
    /// `indexCommit`, the changed symbols with their callers, neighbours and tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// The model's comments not posted, by reason (jobs that asked the LLM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<crate::review_report::Dropped>,
    /// One line per changed file, as posted in the summary's walkthrough.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walkthrough: Option<Vec<crate::review_report::WalkthroughLine>>,
    /// How the model's answer came: cut short at `max_tokens`, comments salvaged from it,
    /// a second smaller request (only when one of these happened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm_answer: Option<crate::review_report::AnswerReport>,
    #[serde(skip)]
    pub sort_key: String,
    /// The validated answer an attempt stored before posting (a retry posts it and never
    /// asks the LLM again).
    #[serde(skip)]
    pub answer: Option<String>,
}

impl ReviewJob {
    pub(crate) fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id: get_s(item, "job_id")?.to_owned(),
            repo_id: get_s(item, "repo_id")?.to_owned(),
            provider: parse(item, "provider")?,
            pr_number: get_n(item, "pr_number")?,
            head_sha: get_opt_s(item, "head_sha").map(str::to_owned),
            action: get_s(item, "action")?.to_owned(),
            title: get_opt_s(item, "title").map(str::to_owned),
            author: get_opt_s(item, "author").map(str::to_owned),
            delivery_id: get_s(item, "delivery_id")?.to_owned(),
            source: get_s(item, "source")?.to_owned(),
            status: get_s(item, "status")?.to_owned(),
            created_at: get_n(item, "created_at")?,
            reason: get_opt_s(item, "reason").map(str::to_owned),
            comment_count: get_opt_n(item, "comment_count"),
            model: get_opt_s(item, "model").map(str::to_owned),
            prompt_tokens: get_opt_n(item, "prompt_tokens"),
            completion_tokens: get_opt_n(item, "completion_tokens"),
            duration_ms: get_opt_n(item, "duration_ms"),
            review_url: get_opt_s(item, "review_url").map(str::to_owned),
            reviewed_sha: get_opt_s(item, "reviewed_sha").map(str::to_owned),
            diff_base_sha: get_opt_s(item, "diff_base_sha").map(str::to_owned),
            context: get_opt_s(item, "graph_context").and_then(|c| serde_json::from_str(c).ok()),
            finished_at: get_opt_n(item, "finished_at"),
            dropped: super::review_report::dropped_of(item),
            walkthrough: super::review_report::walkthrough_of(item),
            llm_answer: super::review_report::llm_answer_of(item),
            sort_key: get_s(item, "sk")?.to_owned(),
            answer: get_opt_s(item, "answer").map(str::to_owned),
        })
    }
}

/// The worker's handle on one org: only [`Store::queue_scope`] makes one, for an org that
/// exists and is not deleted. The org id comes from a queue message the intake wrote
/// after verifying the delivery against that org's secret.
#[derive(Debug, Clone)]
pub struct QueueScope {
    org_id: OrgId,
    plan: Plan,
    slug: Slug,
}

impl QueueScope {
    pub fn org_id(&self) -> &OrgId {
        &self.org_id
    }
    /// The org's slug when the message was taken (links to its console pages).
    pub fn slug(&self) -> &Slug {
        &self.slug
    }
    /// The org's plan when the message was taken (its monthly LLM token budget).
    pub fn plan(&self) -> Plan {
        self.plan
    }
}

/// Where an event's repository lives.
#[derive(Debug, Clone)]
pub enum RepoLookup {
    Ours(Box<RepoRecord>),
    /// Connected to another org: never processed for this one.
    OtherOrg,
    Unknown,
}

/// What the worker already did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    Job {
        repo_id: String,
        sort_key: String,
        status: String,
    },
    Skipped(String),
}

/// A new review job to record.
#[derive(Debug, Clone)]
pub struct NewReviewJob<'a> {
    pub repo: &'a RepoRecord,
    pub provider: Provider,
    pub delivery_id: &'a str,
    pub pr_number: u64,
    pub head_sha: Option<&'a str>,
    pub action: PrAction,
    pub title: Option<&'a str>,
    pub author: Option<&'a str>,
    pub source: &'a str,
}

impl Store {
    /// Connects a repository to the org (admins). The identity claim makes it exclusive;
    /// its first index job is queued in the same transaction (the record says `queued`).
    pub async fn create_repo(
        &self,
        scope: &OrgScope,
        record: &RepoRecord,
        index_job_id: &str,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let ident = repo_ident_pk(record.provider, &record.full_name);
        let mut item = key(org_pk(scope.org_id()), repo_sk(&record.id));
        item.insert("type".into(), s("repo"));
        item.insert("repo_id".into(), s(&record.id));
        item.insert("provider".into(), s(record.provider.as_str()));
        item.insert("full_name".into(), s(&record.full_name));
        if let Some(url) = &record.url {
            item.insert("url".into(), s(url));
        }
        if let (Some(c), Some(p)) = (&record.token_ciphertext, &record.token_preview) {
            item.insert("token_ciphertext".into(), AttributeValue::B(Blob::new(c.clone())));
            item.insert("token_preview".into(), s(p));
        }
        if let Some(installation) = record.installation_id {
            item.insert("installation_id".into(), n(installation));
        }
        if let Some(who) = &record.token_identity {
            if let Some(id) = &who.id {
                item.insert("token_user_id".into(), s(id));
            }
            if let Some(login) = &who.login {
                item.insert("token_login".into(), s(login));
            }
        }
        item.insert("created_at".into(), n(record.created_at));
        item.insert("created_by".into(), s(&record.created_by));
        item.insert("companion_pk".into(), s(&ident));
        item.insert("companion_sk".into(), s(REPO_IDENT_SK));
        let mut claim = key(ident, REPO_IDENT_SK);
        claim.insert("org_id".into(), s(scope.org_id().to_string()));
        claim.insert("repo_id".into(), s(&record.id));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, item)?)?;
        tx.put_if(put_new(&self.table, claim)?, Conflict::RepoTaken)?;
        tx.put(self.index_first_put(scope.org_id(), &record.id, index_job_id)?)?;
        if let Some(installation) = record.installation_id {
            self.installation_check(&mut tx, scope.org_id(), installation)?;
        }
        self.actor_admin_check(&mut tx, scope)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    pub async fn repos(&self, scope: &OrgScope, page: &PageRequest) -> Result<Page<RepoRecord>, StoreError> {
        let (items, next_cursor) = self
            .query_page(&org_pk(scope.org_id()), REPO_PREFIX, page, false, None)
            .await?;
        let items = items.iter().map(RepoRecord::from_item).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Every repository of the org (the installation picker marks the connected ones).
    pub async fn all_repos(&self, scope: &OrgScope) -> Result<Vec<RepoRecord>, StoreError> {
        self.query_all(&org_pk(scope.org_id()), Some(REPO_PREFIX))
            .await?
            .iter()
            .map(RepoRecord::from_item)
            .collect()
    }

    pub async fn repo(&self, scope: &OrgScope, id: &str) -> Result<Option<RepoRecord>, StoreError> {
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        self.get(key(org_pk(scope.org_id()), repo_sk(id)))
            .await?
            .map(|i| RepoRecord::from_item(&i))
            .transpose()
    }

    /// Disconnects a repository (admins); its identity becomes free, its history stays
    /// until the org is purged.
    pub async fn delete_repo(
        &self,
        scope: &OrgScope,
        record: &RepoRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let repo = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), repo_sk(&record.id))))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let claim = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                repo_ident_pk(record.provider, &record.full_name),
                REPO_IDENT_SK,
            )))
            .condition_expression("org_id = :org")
            .expression_attribute_values(":org", s(scope.org_id().to_string()))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        // Its index record goes with it (a running job's writes are then superseded; the
        // graph objects expire with the bucket's lifecycle rule).
        let index = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), repo_index_sk(&record.id))))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = Tx::new();
        tx.delete_if(repo, Conflict::Unknown)?;
        tx.delete_if(claim, Conflict::Unknown)?;
        tx.delete(index)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// A repository's review history, newest first.
    pub async fn reviews(
        &self,
        scope: &OrgScope,
        repo_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ReviewJob>, StoreError> {
        let (items, next_cursor) = self
            .query_page(&org_pk(scope.org_id()), &review_prefix(repo_id), page, true, None)
            .await?;
        let items = items.iter().map(ReviewJob::from_item).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// In a transaction: `repo_id` names one of the scope's org's repositories (a write that
    /// points at a repository — a rule, a settings override — fails with `RepoNotFound`).
    pub(crate) fn repo_exists_check(&self, tx: &mut Tx, scope: &OrgScope, repo_id: &str) -> Result<(), StoreError> {
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), repo_sk(repo_id))))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        tx.check(check, Conflict::RepoNotFound)
    }

    /// The worker's scope for an org named by a queue message: `None` if the org is gone.
    pub async fn queue_scope(&self, org: &QueuedOrg) -> Result<Option<QueueScope>, StoreError> {
        Ok(self
            .org_by_id(org.id())
            .await?
            .filter(|o| !o.is_deleted())
            .map(|o| QueueScope {
                org_id: o.id,
                plan: o.plan,
                slug: o.slug,
            }))
    }

    /// Finds the repository of an event, checking it belongs to the event's org.
    pub async fn repo_for_event(&self, scope: &QueueScope, repo: &RepoRef) -> Result<RepoLookup, StoreError> {
        let Some(claim) = self
            .get(key(repo_ident_pk(repo.provider, &repo.full_name), REPO_IDENT_SK))
            .await?
        else {
            return Ok(RepoLookup::Unknown);
        };
        if get_s(&claim, "org_id")? != scope.org_id.to_string() {
            return Ok(RepoLookup::OtherOrg);
        }
        let repo_id = get_s(&claim, "repo_id")?;
        Ok(match self.get(key(org_pk(&scope.org_id), repo_sk(repo_id))).await? {
            Some(item) => RepoLookup::Ours(Box::new(RepoRecord::from_item(&item)?)),
            None => RepoLookup::Unknown,
        })
    }

    /// A repository by id for the worker (manual review requests carry the id).
    pub async fn repo_in_queue_scope(
        &self,
        scope: &QueueScope,
        repo_id: &str,
    ) -> Result<Option<RepoRecord>, StoreError> {
        if repo_id.is_empty() || repo_id.len() > 64 || !repo_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        self.get(key(org_pk(&scope.org_id), repo_sk(repo_id)))
            .await?
            .map(|i| RepoRecord::from_item(&i))
            .transpose()
    }

    /// What the worker did with a delivery before, if anything.
    pub async fn processed(
        &self,
        scope: &QueueScope,
        provider: Provider,
        delivery_id: &str,
    ) -> Result<Option<Processed>, StoreError> {
        let Some(item) = self
            .get(key(org_pk(&scope.org_id), processed_sk(provider, delivery_id)))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(match get_opt_s(&item, "skip_reason") {
            Some(reason) => Processed::Skipped(reason.to_owned()),
            None => Processed::Job {
                repo_id: get_s(&item, "repo_id")?.to_owned(),
                sort_key: get_s(&item, "job_sk")?.to_owned(),
                status: get_opt_s(&item, "status").unwrap_or("queued").to_owned(),
            },
        }))
    }

    /// Records a review job and the delivery's processing marker in one transaction;
    /// `Conflict::AlreadyProcessed` if the delivery was processed before.
    pub async fn record_review_job(&self, scope: &QueueScope, job: &NewReviewJob<'_>) -> Result<ReviewJob, StoreError> {
        let now = self.now_secs();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let sk = review_sk(&job.repo.id, self.now_millis(), &id);
        let action = serde_json::to_value(job.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut item = key(org_pk(&scope.org_id), &sk);
        item.insert("type".into(), s("review"));
        item.insert("job_id".into(), s(&id));
        item.insert("repo_id".into(), s(&job.repo.id));
        item.insert("provider".into(), s(job.provider.as_str()));
        item.insert("pr_number".into(), n(job.pr_number));
        if let Some(sha) = job.head_sha {
            item.insert("head_sha".into(), s(sha));
        }
        item.insert("action".into(), s(&action));
        if let Some(t) = job.title {
            item.insert("title".into(), s(t));
        }
        if let Some(a) = job.author {
            item.insert("author".into(), s(a));
        }
        item.insert("delivery_id".into(), s(job.delivery_id));
        item.insert("source".into(), s(job.source));
        item.insert("status".into(), s("queued"));
        item.insert("created_at".into(), n(now));
        let mut marker = key(org_pk(&scope.org_id), processed_sk(job.provider, job.delivery_id));
        marker.insert("type".into(), s("processed"));
        marker.insert("repo_id".into(), s(&job.repo.id));
        marker.insert("job_sk".into(), s(&sk));
        marker.insert("processed_at".into(), n(now));
        marker.insert("expires_at".into(), n(now + DELIVERY_RETENTION_SECS));
        let mut tx = Tx::new();
        tx.put_if(put_new(&self.table, marker)?, Conflict::AlreadyProcessed)?;
        tx.put(put_new(&self.table, item.clone())?)?;
        self.transact(tx).await?;
        ReviewJob::from_item(&item)
    }

    /// Records that a delivery was skipped, and why (idempotent).
    pub async fn record_skip(
        &self,
        scope: &QueueScope,
        provider: Provider,
        delivery_id: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = self.now_secs();
        let mut marker = key(org_pk(&scope.org_id), processed_sk(provider, delivery_id));
        marker.insert("type".into(), s("processed"));
        marker.insert("skip_reason".into(), s(reason));
        marker.insert("processed_at".into(), n(now));
        marker.insert("expires_at".into(), n(now + DELIVERY_RETENTION_SECS));
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(marker))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
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

    /// Moves a job to `status` (e.g. `ready` once handed to the review engine) and notes
    /// it on the delivery's marker.
    pub async fn set_review_status(
        &self,
        scope: &QueueScope,
        provider: Provider,
        delivery_id: &str,
        job_sort_key: &str,
        status: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(&scope.org_id), job_sort_key)))
            .update_expression("SET #status = :s, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", s(status))
            .expression_attribute_values(":now", n(self.now_secs()))
            .send()
            .await
            .map_err(classify)?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(&scope.org_id), processed_sk(provider, delivery_id))))
            .update_expression("SET #status = :s")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", s(status))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// One review job by its sort key (the worker's retry of a hand-off).
    pub async fn review_job(&self, scope: &QueueScope, sort_key: &str) -> Result<Option<ReviewJob>, StoreError> {
        if !sort_key.starts_with(REVIEW_PREFIX) {
            return Ok(None);
        }
        self.get(key(org_pk(&scope.org_id), sort_key))
            .await?
            .map(|i| ReviewJob::from_item(&i))
            .transpose()
    }

    /// Number of review jobs for a delivery in an org (tests and diagnostics).
    pub async fn review_count_for_delivery(&self, scope: &QueueScope, delivery_id: &str) -> Result<usize, StoreError> {
        let items = self.query_all(&org_pk(&scope.org_id), Some(REVIEW_PREFIX)).await?;
        Ok(items
            .iter()
            .filter(|i| get_opt_s(i, "delivery_id") == Some(delivery_id))
            .count())
    }
}
