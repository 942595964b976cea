//! Review settings: the org default (`SETTINGS#REVIEW`, the item the single-tenant upgrade
//! writes its review depth into) and per-repository overrides
//! (`SETTINGS#REVIEW#<repoId>`), each holding only the fields it sets.

use aws_sdk_dynamodb::types::{AttributeValue, Put};

use super::keys::*;
use super::records::AuditEvent;
use super::repos::QueueScope;
use super::tenancy::OrgScope;
use super::tx::Tx;
use super::{Item, Store, StoreError, get_opt_n, get_opt_s, n, s};
use crate::domain::OrgId;
use crate::review_settings::{Confidence, SettingsLayer};
use crate::rules::PathGlob;

fn layer_from_item(item: &Item) -> SettingsLayer {
    let flag = |name: &str| match item.get(name) {
        Some(AttributeValue::Bool(b)) => Some(*b),
        _ => None,
    };
    SettingsLayer {
        auto_review: flag("auto_review"),
        review_on_push: flag("review_on_push"),
        skip_drafts: flag("skip_drafts"),
        ignored_paths: match item.get("ignored_paths") {
            Some(AttributeValue::L(list)) => Some(
                list.iter()
                    .filter_map(|v| v.as_s().ok())
                    // As stored: checked when written (maybe under older rules).
                    .map(|g| PathGlob::from_stored(g))
                    .collect(),
            ),
            _ => None,
        },
        max_comments: get_opt_n(item, "max_comments"),
        min_severity: get_opt_s(item, "min_severity").and_then(|v| v.parse().ok()),
        // The single-tenant upgrade's word for it, too.
        depth: get_opt_s(item, "review_depth").and_then(|v| v.parse().ok()),
        mention: get_opt_s(item, "mention").map(str::to_owned),
        reviews_per_hour: get_opt_n(item, "reviews_per_hour"),
        min_confidence: get_opt_n::<f64>(item, "min_confidence").and_then(Confidence::new),
        context_tokens: get_opt_n(item, "context_tokens"),
    }
}

fn layer_to_item(org: &OrgId, sort_key: String, layer: &SettingsLayer, actor: &str, now: i64) -> Item {
    let mut item = key(org_pk(org), sort_key);
    item.insert("type".into(), s("review_settings"));
    let flags = [
        ("auto_review", layer.auto_review),
        ("review_on_push", layer.review_on_push),
        ("skip_drafts", layer.skip_drafts),
    ];
    for (name, value) in flags {
        if let Some(v) = value {
            item.insert(name.into(), AttributeValue::Bool(v));
        }
    }
    if let Some(globs) = &layer.ignored_paths {
        let list = globs.iter().map(|g| s(g.as_str())).collect();
        item.insert("ignored_paths".into(), AttributeValue::L(list));
    }
    if let Some(v) = layer.max_comments {
        item.insert("max_comments".into(), n(v));
    }
    if let Some(v) = layer.min_severity {
        item.insert("min_severity".into(), s(v.as_str()));
    }
    if let Some(v) = layer.depth {
        item.insert("review_depth".into(), s(v.as_str()));
    }
    if let Some(v) = &layer.mention {
        item.insert("mention".into(), s(v));
    }
    if let Some(v) = layer.reviews_per_hour {
        item.insert("reviews_per_hour".into(), n(v));
    }
    if let Some(v) = layer.min_confidence {
        item.insert("min_confidence".into(), n(v.get()));
    }
    if let Some(v) = layer.context_tokens {
        item.insert("context_tokens".into(), n(v));
    }
    item.insert("updated_at".into(), n(now));
    item.insert("updated_by".into(), s(actor));
    item
}

fn sort_key(repo_id: Option<&str>) -> String {
    repo_id.map_or_else(|| REVIEW_SETTINGS_SK.to_owned(), repo_settings_sk)
}

impl Store {
    /// The org default (`repo_id` None) or a repository's override.
    pub async fn settings_layer(&self, scope: &OrgScope, repo_id: Option<&str>) -> Result<SettingsLayer, StoreError> {
        self.read_layer(scope.org_id(), repo_id).await
    }

    /// Both layers for the review engine: (org default, repository override).
    pub async fn review_settings_layers(
        &self,
        scope: &QueueScope,
        repo_id: &str,
    ) -> Result<(SettingsLayer, SettingsLayer), StoreError> {
        Ok((
            self.read_layer(scope.org_id(), None).await?,
            self.read_layer(scope.org_id(), Some(repo_id)).await?,
        ))
    }

    async fn read_layer(&self, org: &OrgId, repo_id: Option<&str>) -> Result<SettingsLayer, StoreError> {
        Ok(self
            .get(key(org_pk(org), sort_key(repo_id)))
            .await?
            .map(|i| layer_from_item(&i))
            .unwrap_or_default())
    }

    /// Replaces a layer: the actor is still an admin, the org live, the repository (for an
    /// override) the org's — with the audit entry, in one transaction.
    pub async fn put_settings_layer(
        &self,
        scope: &OrgScope,
        repo_id: Option<&str>,
        layer: &SettingsLayer,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let item = layer_to_item(
            scope.org_id(),
            sort_key(repo_id),
            layer,
            &scope.actor().id,
            self.now_secs(),
        );
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = Tx::new();
        tx.put(put)?;
        if let Some(repo_id) = repo_id {
            self.repo_exists_check(&mut tx, scope, repo_id)?;
        }
        self.actor_admin_check(&mut tx, scope)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }
}
