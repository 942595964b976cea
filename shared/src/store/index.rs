//! The codebase index of a repository (docs/index.md): one record per repository in the
//! org's partition (`REPOINDEX#<repoId>`) says where its index stands — `queued`,
//! `indexing` (with the phase and files done), `ready` (the commit, the stats, where the
//! graph object is) or `failed` (a code and a sentence) — and one lease per org
//! (`INDEXLEASE`) lets one index job of the org run at a time.
//!
//! Every write by the indexer is conditional on the job id the record names: a job that
//! was superseded (a newer re-index, the repository disconnected) changes nothing. While a
//! job runs, the last ready graph (`commit`, `stats`, the object key) stays usable.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{Put, Update};
use serde::{Deserialize, Serialize};

use super::keys::*;
use super::records::AuditEvent;
use super::tenancy::OrgScope;
use super::tx::Tx;
use super::{Conflict, Item, QueueScope, Store, StoreError, build, classify, get_opt_n, get_opt_s, get_s, n, s};
use crate::domain::OrgId;

/// Where a repository's index stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexStatus {
    Queued,
    Indexing,
    Ready,
    Failed,
}

/// What a running job is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexPhase {
    Parsing,
    Graph,
    Embeddings,
}

/// A whole repository at one commit, or only the files changed since the indexed commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexKind {
    Full,
    Incremental,
}

macro_rules! lowercase_names {
    ($($T:ident { $($V:ident = $name:literal),* })*) => {$(
        impl $T {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$V => $name),* }
            }
        }
        impl std::str::FromStr for $T {
            type Err = ();
            fn from_str(v: &str) -> Result<Self, ()> {
                match v { $($name => Ok(Self::$V),)* _ => Err(()) }
            }
        }
    )*};
}
lowercase_names! {
    IndexStatus { Queued = "queued", Indexing = "indexing", Ready = "ready", Failed = "failed" }
    IndexPhase { Parsing = "parsing", Graph = "graph", Embeddings = "embeddings" }
    IndexKind { Full = "full", Incremental = "incremental" }
}

/// Files parsed so far of the job; the total is known once the archive is read through
/// (a streamed archive does not say how many files it holds up front).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexProgress {
    pub files_done: u32,
    pub files_total: Option<u32>,
}

/// What the last ready index holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexStats {
    pub files: u32,
    pub symbols: u32,
    pub edges: u32,
    /// Source bytes parsed.
    pub bytes: u64,
    pub lines: u64,
    /// Files per language.
    pub languages: BTreeMap<String, u32>,
    /// Files left out: vendored, generated, minified, binary, over the per-file cap.
    pub skipped: u32,
    /// The compressed graph object's size.
    pub graph_bytes: u64,
    /// Symbols in the vectors object (0: embeddings off, or they failed and there is none).
    #[serde(default)]
    pub vectors: u32,
}

/// Why the last job failed: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexFailure {
    pub code: String,
    pub message: String,
}

/// A repository's index record, as members see it (`GET /api/repos/{id}/index/status`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexRecord {
    pub status: IndexStatus,
    pub kind: IndexKind,
    pub phase: Option<IndexPhase>,
    pub progress: IndexProgress,
    /// The commit of the last ready index.
    pub commit: Option<String>,
    pub stats: Option<IndexStats>,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub error: Option<IndexFailure>,
    /// The job the record belongs to (the indexer's writes are conditional on it).
    #[serde(skip)]
    pub job_id: String,
    /// The commit the queued job should index (`None`: the default branch's head).
    #[serde(skip)]
    pub target: Option<String>,
    /// The last ready graph object (S3 key).
    #[serde(skip)]
    pub graph_key: Option<String>,
}

impl IndexRecord {
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        let parsed = |name: &str| get_opt_s(item, name).map(str::to_owned);
        let status = get_s(item, "status")?
            .parse()
            .map_err(|()| StoreError::Corrupt("index status".into()))?;
        let kind = get_opt_s(item, "kind")
            .and_then(|k| k.parse().ok())
            .unwrap_or(IndexKind::Full);
        let stats = match get_opt_s(item, "stats") {
            Some(json) => {
                Some(serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("index stats: {e}")))?)
            }
            None => None,
        };
        let error = match (get_opt_s(item, "error_code"), get_opt_s(item, "error_message")) {
            (Some(code), message) => Some(IndexFailure {
                code: code.to_owned(),
                message: message.unwrap_or_default().to_owned(),
            }),
            _ => None,
        };
        Ok(Self {
            status,
            kind,
            phase: get_opt_s(item, "phase").and_then(|p| p.parse().ok()),
            progress: IndexProgress {
                files_done: get_opt_n(item, "files_done").unwrap_or(0),
                files_total: get_opt_n(item, "files_total"),
            },
            commit: parsed("commit"),
            stats,
            queued_at: get_opt_n(item, "queued_at").unwrap_or(0),
            started_at: get_opt_n(item, "started_at"),
            finished_at: get_opt_n(item, "finished_at"),
            error,
            job_id: get_s(item, "job_id")?.to_owned(),
            target: parsed("target"),
            graph_key: parsed("graph_key"),
        })
    }
}

/// Why a job's write did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobWrite {
    Done,
    /// The record names another job now (a newer re-index, the repository disconnected).
    Superseded,
}

/// A job that was asked for: who asked and what to index.
#[derive(Debug, Clone)]
pub struct IndexRequest<'a> {
    pub repo_id: &'a str,
    pub kind: IndexKind,
    pub job_id: &'a str,
    /// The commit to index (`None`: the default branch's head when the job runs).
    pub target: Option<&'a str>,
}

impl Store {
    /// The `queued` record of a repository being connected (its first full index), for the
    /// connection's own transaction: the index is asked for with the connection, or not at
    /// all.
    pub(crate) fn index_first_put(&self, org: &OrgId, repo_id: &str, job_id: &str) -> Result<Put, StoreError> {
        let mut item = key(org_pk(org), repo_index_sk(repo_id));
        item.insert("type".into(), s("repo_index"));
        item.insert("repo_id".into(), s(repo_id));
        item.insert("status".into(), s(IndexStatus::Queued.as_str()));
        item.insert("kind".into(), s(IndexKind::Full.as_str()));
        item.insert("job_id".into(), s(job_id));
        item.insert("queued_at".into(), n(self.now_secs()));
        item.insert("updated_at".into(), n(self.now_secs()));
        build(Put::builder().table_name(&self.table).set_item(Some(item)).build())
    }

    /// A repository's index record (`None`: never indexed).
    pub async fn index_record(&self, scope: &OrgScope, repo_id: &str) -> Result<Option<IndexRecord>, StoreError> {
        self.index_record_of(scope.org_id(), repo_id).await
    }

    /// The indexer's and the review engine's read of the same record.
    pub async fn queued_index_record(
        &self,
        scope: &QueueScope,
        repo_id: &str,
    ) -> Result<Option<IndexRecord>, StoreError> {
        self.index_record_of(scope.org_id(), repo_id).await
    }

    async fn index_record_of(&self, org: &OrgId, repo_id: &str) -> Result<Option<IndexRecord>, StoreError> {
        self.get(key(org_pk(org), repo_index_sk(repo_id)))
            .await?
            .map(|i| IndexRecord::from_item(&i))
            .transpose()
    }

    /// Queues a job for one of the org's repositories (an admin's re-index): refused with
    /// `IndexInProgress` while another job is queued or running (unless it has not moved
    /// for `stale_secs`: a job lost with its instance does not block the repository), with
    /// `RepoNotFound` if the repository is gone. The last ready index stays until the new
    /// one replaces it.
    pub async fn queue_index(
        &self,
        scope: &OrgScope,
        request: &IndexRequest<'_>,
        stale_secs: i64,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        tx.update_if(
            self.queue_update(scope.org_id(), request, stale_secs)?,
            Conflict::IndexInProgress,
        )?;
        self.repo_exists_check(&mut tx, scope, request.repo_id)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// The same, asked for by the pipeline (a push to the default branch, a review whose
    /// base is ahead of the index): `false` when a job is queued or running already (it
    /// will be asked again by the next event).
    pub async fn queue_index_for_event(
        &self,
        scope: &QueueScope,
        request: &IndexRequest<'_>,
        stale_secs: i64,
    ) -> Result<bool, StoreError> {
        let update = self.queue_update(scope.org_id(), request, stale_secs)?;
        let result = self
            .client
            .update_item()
            .table_name(update.table_name())
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(str::to_owned))
            .set_expression_attribute_names(update.expression_attribute_names().cloned())
            .set_expression_attribute_values(update.expression_attribute_values().cloned())
            .send()
            .await;
        conditional(result)
    }

    fn queue_update(&self, org: &OrgId, request: &IndexRequest<'_>, stale_secs: i64) -> Result<Update, StoreError> {
        let now = self.now_secs();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), repo_index_sk(request.repo_id))))
            .update_expression(
                "SET #type = :type, repo_id = :repo, #status = :queued, kind = :kind, job_id = :job, \
                 queued_at = :now, updated_at = :now, files_done = :zero \
                 REMOVE phase, files_total, started_at, finished_at, error_code, error_message, target",
            )
            .condition_expression("attribute_not_exists(pk) OR #status IN (:ready, :failed) OR updated_at < :stale")
            .expression_attribute_names("#type", "type")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":type", s("repo_index"))
            .expression_attribute_values(":repo", s(request.repo_id))
            .expression_attribute_values(":queued", s(IndexStatus::Queued.as_str()))
            .expression_attribute_values(":kind", s(request.kind.as_str()))
            .expression_attribute_values(":job", s(request.job_id))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":ready", s(IndexStatus::Ready.as_str()))
            .expression_attribute_values(":failed", s(IndexStatus::Failed.as_str()))
            .expression_attribute_values(":stale", n(now - stale_secs));
        if let Some(target) = request.target {
            // SET after REMOVE of the same name is not allowed in one expression: the
            // target replaces the REMOVE.
            update = update
                .update_expression(
                    "SET #type = :type, repo_id = :repo, #status = :queued, kind = :kind, job_id = :job, \
                     queued_at = :now, updated_at = :now, files_done = :zero, target = :target \
                     REMOVE phase, files_total, started_at, finished_at, error_code, error_message",
                )
                .expression_attribute_values(":target", s(target));
        }
        build(update.build())
    }

    /// The queued job `job_id` starts (`Superseded`: the record names another job, or it
    /// is not queued any more — a redelivered message of a job that ran).
    pub async fn start_index(&self, scope: &QueueScope, repo_id: &str, job_id: &str) -> Result<JobWrite, StoreError> {
        let now = self.now_secs();
        self.job_update(
            scope.org_id(),
            repo_id,
            job_id,
            "SET #status = :indexing, phase = :parsing, started_at = :now, updated_at = :now, files_done = :zero",
            |u| {
                u.condition_expression("job_id = :job AND #status IN (:queued, :indexing)")
                    .expression_attribute_values(":indexing", s(IndexStatus::Indexing.as_str()))
                    .expression_attribute_values(":queued", s(IndexStatus::Queued.as_str()))
                    .expression_attribute_values(":parsing", s(IndexPhase::Parsing.as_str()))
                    .expression_attribute_values(":now", n(now))
                    .expression_attribute_values(":zero", n(0))
            },
        )
        .await
    }

    /// Progress of a running job.
    pub async fn index_progress(
        &self,
        scope: &QueueScope,
        repo_id: &str,
        job_id: &str,
        phase: IndexPhase,
        progress: IndexProgress,
    ) -> Result<JobWrite, StoreError> {
        let now = self.now_secs();
        let (expr, total) = match progress.files_total {
            Some(t) => (
                "SET phase = :phase, files_done = :done, files_total = :total, updated_at = :now",
                Some(t),
            ),
            None => ("SET phase = :phase, files_done = :done, updated_at = :now", None),
        };
        self.job_update(scope.org_id(), repo_id, job_id, expr, |u| {
            let u = u
                .condition_expression("job_id = :job")
                .expression_attribute_values(":phase", s(phase.as_str()))
                .expression_attribute_values(":done", n(progress.files_done))
                .expression_attribute_values(":now", n(now));
            match total {
                Some(t) => u.expression_attribute_values(":total", n(t)),
                None => u,
            }
        })
        .await
    }

    /// The job's index is ready: `commit`, its stats and where the graph object is.
    pub async fn finish_index(
        &self,
        scope: &QueueScope,
        repo_id: &str,
        job_id: &str,
        commit: &str,
        stats: &IndexStats,
        graph_key: &str,
    ) -> Result<JobWrite, StoreError> {
        let now = self.now_secs();
        let stats_json = serde_json::to_string(stats).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.job_update(
            scope.org_id(),
            repo_id,
            job_id,
            "SET #status = :ready, #commit = :commit, stats = :stats, graph_key = :key, finished_at = :now, \
             updated_at = :now, files_done = :files, files_total = :files REMOVE error_code, error_message, phase",
            |u| {
                u.condition_expression("job_id = :job")
                    .expression_attribute_names("#commit", "commit")
                    .expression_attribute_values(":ready", s(IndexStatus::Ready.as_str()))
                    .expression_attribute_values(":commit", s(commit))
                    .expression_attribute_values(":stats", s(stats_json))
                    .expression_attribute_values(":key", s(graph_key))
                    .expression_attribute_values(":files", n(stats.files))
                    .expression_attribute_values(":now", n(now))
            },
        )
        .await
    }

    /// The job failed; the last ready graph (if any) stays.
    pub async fn fail_index(
        &self,
        scope: &QueueScope,
        repo_id: &str,
        job_id: &str,
        failure: &IndexFailure,
    ) -> Result<JobWrite, StoreError> {
        self.fail_index_of(scope.org_id(), repo_id, job_id, failure).await
    }

    /// A job that was recorded but could not be queued (the queue refused it): the record
    /// says so instead of `queued` forever.
    pub async fn index_not_queued(
        &self,
        scope: &OrgScope,
        repo_id: &str,
        job_id: &str,
        failure: &IndexFailure,
    ) -> Result<JobWrite, StoreError> {
        self.fail_index_of(scope.org_id(), repo_id, job_id, failure).await
    }

    async fn fail_index_of(
        &self,
        org: &OrgId,
        repo_id: &str,
        job_id: &str,
        failure: &IndexFailure,
    ) -> Result<JobWrite, StoreError> {
        let now = self.now_secs();
        self.job_update(
            org,
            repo_id,
            job_id,
            "SET #status = :failed, error_code = :code, error_message = :msg, finished_at = :now, updated_at = :now",
            |u| {
                u.condition_expression("job_id = :job")
                    .expression_attribute_values(":failed", s(IndexStatus::Failed.as_str()))
                    .expression_attribute_values(":code", s(&failure.code))
                    .expression_attribute_values(":msg", s(&failure.message))
                    .expression_attribute_values(":now", n(now))
            },
        )
        .await
    }

    async fn job_update(
        &self,
        org: &OrgId,
        repo_id: &str,
        job_id: &str,
        expression: &str,
        more: impl FnOnce(
            aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
        ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<JobWrite, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), repo_index_sk(repo_id))))
            .update_expression(expression)
            .expression_attribute_values(":job", s(job_id));
        let update = if expression.contains("#status") {
            update.expression_attribute_names("#status", "status")
        } else {
            update
        };
        let result = more(update).send().await;
        Ok(if conditional(result)? {
            JobWrite::Done
        } else {
            JobWrite::Superseded
        })
    }

    /// One index job of the org at a time (fair share: an org's monorepo never holds more
    /// than one indexer instance). `false`: another job of the org holds the lease.
    pub async fn take_index_lease(&self, scope: &QueueScope, job_id: &str, secs: i64) -> Result<bool, StoreError> {
        let now = self.now_secs();
        let mut item = key(org_pk(scope.org_id()), INDEX_LEASE_SK);
        item.insert("type".into(), s("index_lease"));
        item.insert("job_id".into(), s(job_id));
        item.insert("until".into(), n(now + secs));
        item.insert("expires_at".into(), n(now + secs + 86_400));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #until < :now OR job_id = :job")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":job", s(job_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se)) if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                Ok(false)
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Gives the org's lease back (only if `job_id` still holds it).
    pub async fn release_index_lease(&self, scope: &QueueScope, job_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), INDEX_LEASE_SK)))
            .condition_expression("job_id = :job")
            .expression_attribute_values(":job", s(job_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// A conditional write's outcome: `false` when its condition failed.
fn conditional<O, R: std::fmt::Debug>(result: Result<O, SdkError<UpdateItemError, R>>) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(se)) if matches!(se.err(), UpdateItemError::ConditionalCheckFailedException(_)) => {
            Ok(false)
        }
        Err(e) => Err(classify(e)),
    }
}
