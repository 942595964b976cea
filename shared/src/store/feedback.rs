//! The feedback loop's items, all in the org's partition:
//! - `FEEDBACKKEY`: the org's link-signing key, KMS-sealed (made on the first review);
//! - `FBCOMMENT#<commentId>`: a posted comment (repo, PR, path, line, rule, an excerpt)
//!   and the last signal given on it; kept a day past the links' 90 days (TTL);
//! - `RULEHIT#<ruleId>#<commentId>`: a comment the model attributed to a rule (the
//!   console's 30-day violations view; TTL 31 days);
//! - `FBEX#<repoId>#<signal>#<ms>#<commentId>`: signalled comments per repository, the
//!   review prompt's recent examples;
//! - `FBSTATS#REPO#<repoId>` / `FBSTATS#RULE#<ruleId>`: helpful / not-helpful counts.
//!
//! A signal changes the comment, its example and both counters in one transaction,
//! conditioned on the signal it replaces, so concurrent clicks never double-count.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, Update};
use serde::Serialize;

use super::keys::*;
use super::repos::QueueScope;
use super::tx::{MAX_OPS, Tx};
use super::{Conflict, Item, OrgScope, Store, StoreError, build, classify, get_opt_n, get_opt_s, get_s, n, s};
use crate::crypto::FeedbackKey;
use crate::domain::OrgId;
use crate::feedback::{CommentId, FeedbackLink, LINK_TTL_SECS, Signal, VIOLATION_WINDOW_SECS};
use crate::review_settings::Severity;

/// Longest excerpt of a comment kept for the prompt's examples and the console.
pub const EXCERPT_CHARS: usize = 400;

/// A comment about to be posted, as the feedback loop remembers it.
#[derive(Debug, Clone)]
pub struct PostedComment {
    pub id: CommentId,
    pub repo_id: String,
    pub job_id: String,
    pub pr: u64,
    pub path: String,
    pub line: u32,
    pub severity: Severity,
    pub rule_id: Option<String>,
    /// The comment's text (clipped to [`EXCERPT_CHARS`] when stored).
    pub text: String,
}

/// A signalled comment of the same repository, for the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackExample {
    pub signal: Signal,
    pub path: String,
    pub excerpt: String,
}

/// One comment attributed to a rule (the console's violations view).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleViolation {
    pub comment_id: String,
    pub repo_id: String,
    pub pr: u64,
    pub path: String,
    pub line: u32,
    pub at: i64,
    pub excerpt: String,
}

/// Signal counts of one repository or rule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackStats {
    /// `repo` or `rule`.
    pub kind: &'static str,
    pub id: String,
    pub helpful: u64,
    pub not_helpful: u64,
}

/// The org a feedback link names, with its sealed key: read by id before the link is
/// verified, like an intake target. Only [`FeedbackTarget::verify`] turns it into the
/// scope a signal is written with.
#[derive(Debug)]
pub struct FeedbackTarget {
    org_id: OrgId,
    sealed_key: Vec<u8>,
}

impl FeedbackTarget {
    pub fn org_id(&self) -> &OrgId {
        &self.org_id
    }
    pub fn sealed_key(&self) -> &[u8] {
        &self.sealed_key
    }
    /// The scope of a link whose signature this org's key verifies (`None`: forged, or
    /// signed by another org's key).
    pub fn verify(&self, key: &FeedbackKey, link: &FeedbackLink) -> Option<FeedbackScope> {
        (link.org == self.org_id && key.verify(&self.org_id, &link.comment, link.signal, &link.sig))
            .then_some(FeedbackScope { org_id: self.org_id })
    }
}

/// Write access to one org's feedback, proven by a verified link.
#[derive(Debug)]
pub struct FeedbackScope {
    org_id: OrgId,
}

impl FeedbackScope {
    pub(super) fn org_id(&self) -> &OrgId {
        &self.org_id
    }
}

/// What a signal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalRecorded {
    /// Recorded (first signal, or it replaced the other one).
    Recorded,
    /// The same signal was there already (a replayed link): nothing changed.
    Unchanged,
    /// No such comment (e.g. the review was never recorded, or it expired).
    UnknownComment,
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn put(table: &str, item: Item) -> Result<Put, StoreError> {
    build(Put::builder().table_name(table).set_item(Some(item)).build())
}

impl PostedComment {
    fn items(&self, pk: &str) -> Vec<Item> {
        let at = self.id.at_millis() / 1000;
        let excerpt = clip(&self.text, EXCERPT_CHARS);
        let mut base = vec![
            ("comment_id", s(self.id.as_str())),
            ("repo_id", s(&self.repo_id)),
            ("pr", n(self.pr)),
            ("path", s(&self.path)),
            ("line", n(self.line)),
            ("created_at", n(at)),
            ("excerpt", s(&excerpt)),
        ];
        if let Some(rule) = &self.rule_id {
            base.push(("rule_id", s(rule)));
        }
        let with = |sk: String, ty: &str, expires: i64, extra: Vec<(&str, AttributeValue)>| {
            let mut item = key(pk.to_owned(), sk);
            item.insert("type".into(), s(ty));
            item.insert("expires_at".into(), n(expires));
            for (k, v) in base.iter().cloned().chain(extra) {
                item.insert(k.to_owned(), v);
            }
            item
        };
        let mut items = vec![with(
            posted_comment_sk(self.id.as_str()),
            "review_comment",
            at + LINK_TTL_SECS + 86_400,
            vec![("job_id", s(&self.job_id)), ("severity", s(self.severity.as_str()))],
        )];
        if let Some(rule) = &self.rule_id {
            items.push(with(
                rule_hit_sk(rule, self.id.as_str()),
                "rule_hit",
                at + VIOLATION_WINDOW_SECS + 86_400,
                Vec::new(),
            ));
        }
        items
    }
}

impl Store {
    /// The org's sealed feedback key, if it has one yet.
    pub async fn feedback_key(&self, scope: &QueueScope) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .get(key(org_pk(scope.org_id()), FEEDBACK_KEY_SK))
            .await?
            .and_then(|i| i.get("sealed").and_then(|v| v.as_b().ok()).map(|b| b.as_ref().to_vec())))
    }

    /// Stores a newly made key unless the org has one already; answers the key that is
    /// in force (ours, or the one a concurrent review stored first).
    pub async fn put_feedback_key(&self, scope: &QueueScope, sealed: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let mut item = key(org_pk(scope.org_id()), FEEDBACK_KEY_SK);
        item.insert("type".into(), s("feedback_key"));
        item.insert("sealed".into(), AttributeValue::B(sealed.clone().into()));
        item.insert("created_at".into(), n(self.now_secs()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(sealed),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                self.feedback_key(scope)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("feedback key vanished".into()))
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Remembers the comments of a review before it is posted (so every link in it
    /// resolves), in transactions of at most 100 items; writing them again is harmless.
    pub async fn record_comments(&self, scope: &QueueScope, comments: &[PostedComment]) -> Result<(), StoreError> {
        let pk = org_pk(scope.org_id());
        let items: Vec<Item> = comments.iter().flat_map(|c| c.items(&pk)).collect();
        for chunk in items.chunks(MAX_OPS) {
            let mut tx = Tx::new();
            for item in chunk {
                tx.put(put(&self.table, item.clone())?)?;
            }
            self.transact(tx).await?;
        }
        Ok(())
    }

    /// The most recent signalled comments of a repository, up to `per_signal` of each.
    pub async fn feedback_examples(
        &self,
        scope: &QueueScope,
        repo_id: &str,
        per_signal: i32,
    ) -> Result<Vec<FeedbackExample>, StoreError> {
        let pk = org_pk(scope.org_id());
        let mut examples = Vec::new();
        for signal in Signal::ALL {
            let page = super::PageRequest {
                limit: per_signal.max(1),
                cursor: None,
            };
            let (items, _) = self
                .query_page(
                    &pk,
                    &feedback_example_prefix(repo_id, signal.as_str()),
                    &page,
                    true,
                    None,
                )
                .await?;
            for item in items {
                examples.push(FeedbackExample {
                    signal,
                    path: get_s(&item, "path")?.to_owned(),
                    excerpt: get_s(&item, "excerpt")?.to_owned(),
                });
            }
        }
        Ok(examples)
    }

    /// The org a feedback link names, if it exists, is not deleted and has a key. Takes the
    /// link, not an org id: there is no scope before the link is verified, and only the
    /// org the link names may be read to verify it.
    pub async fn feedback_target(&self, link: &FeedbackLink) -> Result<Option<FeedbackTarget>, StoreError> {
        let org = &link.org;
        match self.org_by_id(org).await? {
            Some(record) if record.deleted_at.is_none() => {}
            _ => return Ok(None),
        }
        let item = self.get(key(org_pk(org), FEEDBACK_KEY_SK)).await?;
        Ok(item
            .and_then(|i| i.get("sealed").and_then(|v| v.as_b().ok()).map(|b| b.as_ref().to_vec()))
            .map(|sealed_key| FeedbackTarget {
                org_id: *org,
                sealed_key,
            }))
    }

    /// Records `signal` on a comment (the last signal wins; see the module docs).
    pub async fn record_signal(
        &self,
        scope: &FeedbackScope,
        comment: &CommentId,
        signal: Signal,
    ) -> Result<SignalRecorded, StoreError> {
        let pk = org_pk(&scope.org_id);
        for _ in 0..3 {
            let Some(item) = self.get(key(pk.clone(), posted_comment_sk(comment.as_str()))).await? else {
                return Ok(SignalRecorded::UnknownComment);
            };
            let previous: Option<Signal> = get_opt_s(&item, "signal").and_then(|p| p.parse().ok());
            if previous == Some(signal) {
                return Ok(SignalRecorded::Unchanged);
            }
            match self.write_signal(&pk, &item, comment, previous, signal).await {
                Err(StoreError::Conflict(Conflict::Unknown)) => continue,
                Err(e) => return Err(e),
                Ok(()) => return Ok(SignalRecorded::Recorded),
            }
        }
        Err(StoreError::Unavailable("the comment's signal kept changing".into()))
    }

    async fn write_signal(
        &self,
        pk: &str,
        comment_item: &Item,
        comment: &CommentId,
        previous: Option<Signal>,
        signal: Signal,
    ) -> Result<(), StoreError> {
        let now = self.now_millis();
        let repo_id = get_s(comment_item, "repo_id")?;
        let rule_id = get_opt_s(comment_item, "rule_id");
        let example_sk = feedback_example_sk(repo_id, signal.as_str(), now, comment.as_str());
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.to_owned(), posted_comment_sk(comment.as_str()))))
            .update_expression("SET #signal = :new, signal_at = :now, example_sk = :ex")
            .expression_attribute_names("#signal", "signal")
            .expression_attribute_values(":new", s(signal.as_str()))
            .expression_attribute_values(":now", n(now / 1000))
            .expression_attribute_values(":ex", s(&example_sk));
        update = match previous {
            Some(p) => update
                .condition_expression("#signal = :prev")
                .expression_attribute_values(":prev", s(p.as_str())),
            None => update.condition_expression("attribute_exists(pk) AND attribute_not_exists(#signal)"),
        };
        // A failed condition: another signal came first (the caller reads again).
        let mut tx = Tx::new();
        tx.update_if(build(update.build())?, Conflict::Unknown)?;
        let mut example = key(pk.to_owned(), example_sk);
        example.insert("type".into(), s("feedback_example"));
        for attr in ["comment_id", "path", "excerpt"] {
            example.insert(attr.into(), s(get_s(comment_item, attr)?));
        }
        // The comment's embedding, if it has one (`store::feedback_vectors`), goes with it.
        for attr in ["vec", "vec_model"] {
            if let Some(v) = comment_item.get(attr) {
                example.insert(attr.into(), v.clone());
            }
        }
        example.insert("expires_at".into(), n(now / 1000 + 180 * 86_400));
        tx.put(put(&self.table, example)?)?;
        if let Some(old) = get_opt_s(comment_item, "example_sk").filter(|_| previous.is_some()) {
            let delete = build(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(pk.to_owned(), old)))
                    .build(),
            )?;
            tx.delete(delete)?;
        }
        let mut counters = vec![("repo", repo_id, repo_feedback_stats_sk(repo_id))];
        if let Some(rule) = rule_id {
            counters.push(("rule", rule, rule_feedback_stats_sk(rule)));
        }
        for (kind, id, sk) in counters {
            let mut expr = "ADD #new :one".to_owned();
            let mut u = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk.to_owned(), sk)))
                .expression_attribute_names("#new", signal.as_str())
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":kind", s(kind))
                .expression_attribute_values(":id", s(id))
                .expression_attribute_values(":type", s("feedback_stats"));
            if let Some(p) = previous {
                expr.push_str(", #old :minus");
                u = u
                    .expression_attribute_names("#old", p.as_str())
                    .expression_attribute_values(":minus", n(-1));
            }
            expr.push_str(" SET kind = :kind, subject_id = :id, #type = :type");
            u = u.update_expression(expr).expression_attribute_names("#type", "type");
            tx.update(build(u.build())?)?;
        }
        self.transact(tx).await
    }

    /// The comments attributed to `rule_id` over the last 30 days, newest first (at most
    /// `limit`).
    pub async fn rule_violations(
        &self,
        scope: &OrgScope,
        rule_id: &str,
        limit: i32,
    ) -> Result<Vec<RuleViolation>, StoreError> {
        let since = self.now_millis() - VIOLATION_WINDOW_SECS * 1000;
        let prefix = rule_hit_prefix(rule_id);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(org_pk(scope.org_id())))
            .expression_attribute_values(":from", s(format!("{prefix}c{since:013}")))
            .expression_attribute_values(":to", s(format!("{prefix}d")))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(limit.clamp(1, 500))
            .send()
            .await
            .map_err(classify)?;
        out.items
            .unwrap_or_default()
            .iter()
            .map(|i| {
                Ok(RuleViolation {
                    comment_id: get_s(i, "comment_id")?.to_owned(),
                    repo_id: get_s(i, "repo_id")?.to_owned(),
                    pr: get_opt_n(i, "pr").unwrap_or(0),
                    path: get_s(i, "path")?.to_owned(),
                    line: get_opt_n(i, "line").unwrap_or(0),
                    at: get_opt_n(i, "created_at").unwrap_or(0),
                    excerpt: get_opt_s(i, "excerpt").unwrap_or_default().to_owned(),
                })
            })
            .collect()
    }

    /// Helpful / not-helpful counts of every repository and rule that has any.
    pub async fn feedback_stats(&self, scope: &OrgScope) -> Result<Vec<FeedbackStats>, StoreError> {
        let items = self
            .query_all(&org_pk(scope.org_id()), Some(FEEDBACK_STATS_PREFIX))
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let kind = match get_opt_s(i, "kind")? {
                    "repo" => "repo",
                    "rule" => "rule",
                    _ => return None,
                };
                Some(FeedbackStats {
                    kind,
                    id: get_opt_s(i, "subject_id")?.to_owned(),
                    helpful: get_opt_n::<i64>(i, "helpful").unwrap_or(0).max(0) as u64,
                    not_helpful: get_opt_n::<i64>(i, "not_helpful").unwrap_or(0).max(0) as u64,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_clipped_on_characters() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("ok", 2), "ok");
    }

    #[test]
    fn a_rule_attributed_comment_is_also_a_rule_hit() {
        let c = PostedComment {
            id: CommentId::new(1_700_000_000_000),
            repo_id: "r1".into(),
            job_id: "j1".into(),
            pr: 7,
            path: "src/a.rs".into(),
            line: 3,
            severity: Severity::Major,
            rule_id: Some("rule1".into()),
            text: "x".repeat(EXCERPT_CHARS + 10),
        };
        let items = c.items("ORG#o");
        assert_eq!(items.len(), 2);
        assert!(items[0]["sk"].as_s().unwrap().starts_with("FBCOMMENT#c1700000000000"));
        assert!(
            items[1]["sk"]
                .as_s()
                .unwrap()
                .starts_with("RULEHIT#rule1#c1700000000000")
        );
        assert_eq!(items[0]["excerpt"].as_s().unwrap().chars().count(), EXCERPT_CHARS + 1);
        let plain = PostedComment { rule_id: None, ..c };
        assert_eq!(plain.items("ORG#o").len(), 1);
    }
}
