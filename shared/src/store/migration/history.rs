//! The review history an upgrade imports: reviews with their comments (and feedback
//! signals), in parts that each fit one transaction, and the review engine's checkpoints.

use serde::Serialize;

use super::{MAX_TRANSACTION_ITEMS, MigratedKind};
use crate::domain::{OrgId, Provider};
use crate::store::keys::*;
use crate::store::records::put_new;
use crate::store::tx::Tx;
use crate::store::{Item, Store, StoreError, get_n, get_opt_n, get_opt_s, get_s, n, s};

/// One review comment of the history, with its feedback signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewComment {
    pub source_id: String,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub body: String,
    pub severity: Option<String>,
    pub confidence: Option<f64>,
    pub created_at: i64,
    /// `accepted` or `rejected`.
    pub signal: Option<String>,
    pub signal_at: Option<i64>,
}

impl ReviewComment {
    fn to_item(&self, org: &OrgId, repo_id: &str, job_id: &str, pr_number: u64, n_: usize) -> Item {
        let mut item = key(org_pk(org), comment_sk(repo_id, job_id, n_));
        item.insert("type".into(), s("review_comment"));
        item.insert("comment_id".into(), s(&self.source_id));
        item.insert("repo_id".into(), s(repo_id));
        item.insert("job_id".into(), s(job_id));
        item.insert("pr_number".into(), n(pr_number));
        if let Some(p) = &self.path {
            item.insert("path".into(), s(p));
        }
        if let Some(l) = self.line {
            item.insert("line".into(), n(l));
        }
        item.insert("body".into(), s(&self.body));
        if let Some(v) = &self.severity {
            item.insert("severity".into(), s(v));
        }
        if let Some(c) = self.confidence.filter(|c| c.is_finite()) {
            item.insert("confidence".into(), n(c));
        }
        item.insert("created_at".into(), n(self.created_at));
        if let Some(sig) = &self.signal {
            item.insert("signal".into(), s(sig));
            if let Some(at) = self.signal_at {
                item.insert("signal_at".into(), n(at));
            }
        }
        item
    }

    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            source_id: get_s(item, "comment_id")?.to_owned(),
            path: get_opt_s(item, "path").map(str::to_owned),
            line: get_opt_n(item, "line"),
            body: get_s(item, "body")?.to_owned(),
            severity: get_opt_s(item, "severity").map(str::to_owned),
            confidence: get_opt_n(item, "confidence"),
            created_at: get_n(item, "created_at")?,
            signal: get_opt_s(item, "signal").map(str::to_owned),
            signal_at: get_opt_n(item, "signal_at"),
        })
    }

    /// Rough stored size (for keeping a transaction under its byte limit).
    pub fn approx_bytes(&self) -> usize {
        400 + self.body.len() + self.path.as_ref().map_or(0, String::len)
    }
}

/// A review of the history, or a further part of its comments (`part > 0`).
#[derive(Debug, Clone)]
pub struct ImportedReview<'a> {
    pub source_id: &'a str,
    pub part: usize,
    pub repo_id: &'a str,
    pub provider: Provider,
    pub pr_number: u64,
    pub verdict: Option<&'a str>,
    pub comment_count: Option<i64>,
    pub created_at_millis: i64,
    /// The comments of this part, and the index of the first one within the review.
    pub comments: &'a [ReviewComment],
    pub first_comment: usize,
}

impl ImportedReview<'_> {
    /// The history's job id for a source review id: stable, so every part and every run
    /// name the same job.
    pub fn job_id(source_id: &str) -> String {
        format!("legacy{}", &crate::crypto::sha256_hex(source_id.as_bytes())[..24])
    }

    /// Items this part adds to a transaction.
    pub fn item_count(&self) -> usize {
        1 + self.comments.len() + usize::from(self.part == 0)
    }

    pub fn approx_bytes(&self) -> usize {
        600 + self.comments.iter().map(ReviewComment::approx_bytes).sum::<usize>()
    }

    fn marker(&self) -> (MigratedKind, String) {
        if self.part == 0 {
            (MigratedKind::Review, self.source_id.to_owned())
        } else {
            (MigratedKind::ReviewPart, format!("{}#{}", self.part, self.source_id))
        }
    }
}

/// The review engine's checkpoint for one pull request (from `pr_review_state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedCheckpoint {
    pub source_id: String,
    pub repo_id: String,
    pub provider: Provider,
    pub pr_number: u64,
    pub last_reviewed_iteration: i64,
    pub updated_at: i64,
}

impl Store {
    /// Reviews (or further parts of their comments) of the history in one transaction,
    /// each with its marker. The caller keeps the batch within
    /// [`MAX_TRANSACTION_ITEMS`] and [`MAX_TRANSACTION_BYTES`](super::MAX_TRANSACTION_BYTES).
    pub async fn import_reviews(&self, org: &OrgId, reviews: &[ImportedReview<'_>]) -> Result<(), StoreError> {
        let total: usize = reviews.iter().map(ImportedReview::item_count).sum();
        if total > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Backend(format!("{total} items do not fit one transaction")));
        }
        let mut tx = Tx::new();
        for r in reviews {
            let job_id = ImportedReview::job_id(r.source_id);
            if r.part == 0 {
                let sk = review_sk(r.repo_id, r.created_at_millis, &job_id);
                let mut item = key(org_pk(org), &sk);
                item.insert("type".into(), s("review"));
                item.insert("job_id".into(), s(&job_id));
                item.insert("repo_id".into(), s(r.repo_id));
                item.insert("provider".into(), s(r.provider.as_str()));
                item.insert("pr_number".into(), n(r.pr_number));
                item.insert("action".into(), s("migrated"));
                item.insert("delivery_id".into(), s(format!("legacy-{}", r.source_id)));
                item.insert("source".into(), s("migration"));
                item.insert("status".into(), s("completed"));
                if let Some(v) = r.verdict {
                    item.insert("verdict".into(), s(v));
                }
                if let Some(c) = r.comment_count {
                    item.insert("comment_count".into(), n(c));
                }
                item.insert("created_at".into(), n(r.created_at_millis / 1000));
                tx.put(put_new(&self.table, item)?)?;
            }
            for (i, c) in r.comments.iter().enumerate() {
                let item = c.to_item(org, r.repo_id, &job_id, r.pr_number, r.first_comment + i);
                tx.put(put_new(&self.table, item)?)?;
            }
            let (kind, marker) = r.marker();
            self.marker_put(&mut tx, kind, &marker, Some(&job_id))?;
        }
        self.transact(tx).await
    }

    /// The comments of a review of the history, in order.
    pub async fn review_comments(
        &self,
        org: &OrgId,
        repo_id: &str,
        job_id: &str,
    ) -> Result<Vec<ReviewComment>, StoreError> {
        self.query_all(&org_pk(org), Some(&comment_prefix(repo_id, job_id)))
            .await?
            .iter()
            .map(ReviewComment::from_item)
            .collect()
    }

    /// The review engine's checkpoints (last reviewed iteration per pull request), each
    /// with its marker, in one transaction (at most 50).
    pub async fn import_checkpoints(&self, org: &OrgId, checkpoints: &[ImportedCheckpoint]) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        for c in checkpoints {
            let mut item = key(org_pk(org), checkpoint_sk(&c.repo_id, c.pr_number));
            item.insert("type".into(), s("review_checkpoint"));
            item.insert("repo_id".into(), s(&c.repo_id));
            item.insert("provider".into(), s(c.provider.as_str()));
            item.insert("pr_number".into(), n(c.pr_number));
            item.insert("last_reviewed_iteration".into(), n(c.last_reviewed_iteration));
            item.insert("updated_at".into(), n(c.updated_at));
            tx.put(put_new(&self.table, item)?)?;
            self.marker_put(&mut tx, MigratedKind::Checkpoint, &c.source_id, None)?;
        }
        self.transact(tx).await
    }

    /// The last reviewed iteration of a pull request, if the review engine has one.
    pub async fn imported_iteration_checkpoint(
        &self,
        org: &OrgId,
        repo_id: &str,
        pr_number: u64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .get(key(org_pk(org), checkpoint_sk(repo_id, pr_number)))
            .await?
            .and_then(|i| get_opt_n(&i, "last_reviewed_iteration")))
    }
}
