//! An org's review rules (`RULE#<id>` in the org's partition) and their count
//! (`RULES#COUNT`, the per-org limit enforced by a conditional update in the same
//! transaction as the write, so concurrent creates cannot overshoot it).

use aws_sdk_dynamodb::types::{Delete, Put, Update};
use serde::Serialize;

use super::keys::*;
use super::records::AuditEvent;
use super::records::put_new;
use super::repos::QueueScope;
use super::tenancy::OrgScope;
use super::tx::Tx;
use super::{Conflict, Item, Page, PageRequest, Store, StoreError, build, get_n, get_opt_s, get_s, n, parse, s};
use crate::rules::{ApplicableRule, PathGlob, RuleCategory, RuleDescription};

/// A stored rule: what an admin wrote, and who wrote it when.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRecord {
    pub id: String,
    #[serde(flatten)]
    pub fields: RuleFields,
    pub created_by: String,
    pub created_at: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

/// What an admin writes (create, or the whole rule after an edit).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleFields {
    pub name: String,
    pub description: RuleDescription,
    pub category: RuleCategory,
    /// `None`: the whole org; else one repository of it.
    pub repo_id: Option<String>,
    pub path_glob: Option<PathGlob>,
    pub enabled: bool,
}

impl RuleRecord {
    pub fn as_applicable(&self) -> ApplicableRule<'_> {
        let f = &self.fields;
        ApplicableRule {
            id: &self.id,
            name: &f.name,
            category: f.category,
            description: f.description.as_str(),
            repo_id: f.repo_id.as_deref(),
            path_glob: f.path_glob.as_ref(),
            enabled: f.enabled,
        }
    }

    fn from_item(item: &Item) -> Result<Self, StoreError> {
        // Description and glob as stored: checked when written (maybe under older rules).
        Ok(Self {
            id: get_s(item, "rule_id")?.to_owned(),
            fields: RuleFields {
                name: get_s(item, "name")?.to_owned(),
                description: RuleDescription::from_stored(get_s(item, "description")?),
                category: parse(item, "category")?,
                repo_id: get_opt_s(item, "repo_id").map(str::to_owned),
                path_glob: get_opt_s(item, "path_glob").map(PathGlob::from_stored),
                enabled: super::get_bool(item, "enabled"),
            },
            created_by: get_s(item, "created_by")?.to_owned(),
            created_at: get_n(item, "created_at")?,
            updated_by: get_s(item, "updated_by")?.to_owned(),
            updated_at: get_n(item, "updated_at")?,
        })
    }

    fn to_item(&self, scope_pk: String) -> Item {
        let f = &self.fields;
        let mut item = key(scope_pk, rule_sk(&self.id));
        item.insert("type".into(), s("rule"));
        item.insert("rule_id".into(), s(&self.id));
        item.insert("name".into(), s(&f.name));
        item.insert("description".into(), s(f.description.as_str()));
        item.insert("category".into(), s(f.category.as_str()));
        if let Some(repo) = &f.repo_id {
            item.insert("repo_id".into(), s(repo));
        }
        if let Some(glob) = &f.path_glob {
            item.insert("path_glob".into(), s(glob.as_str()));
        }
        item.insert(
            "enabled".into(),
            aws_sdk_dynamodb::types::AttributeValue::Bool(f.enabled),
        );
        item.insert("created_by".into(), s(&self.created_by));
        item.insert("created_at".into(), n(self.created_at));
        item.insert("updated_by".into(), s(&self.updated_by));
        item.insert("updated_at".into(), n(self.updated_at));
        item
    }
}

impl Store {
    /// One page of the org's rules, oldest first.
    pub async fn rules(&self, scope: &OrgScope, page: &PageRequest) -> Result<Page<RuleRecord>, StoreError> {
        let (items, next_cursor) = self
            .query_page(&org_pk(scope.org_id()), RULE_PREFIX, page, false, None)
            .await?;
        let items = items.iter().map(RuleRecord::from_item).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    pub async fn rule(&self, scope: &OrgScope, id: &str) -> Result<Option<RuleRecord>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        self.get(key(org_pk(scope.org_id()), rule_sk(id)))
            .await?
            .map(|i| RuleRecord::from_item(&i))
            .transpose()
    }

    /// Every enabled rule of the org, for the review engine.
    pub async fn enabled_rules(&self, scope: &QueueScope) -> Result<Vec<RuleRecord>, StoreError> {
        let items = self.query_all(&org_pk(scope.org_id()), Some(RULE_PREFIX)).await?;
        Ok(items
            .iter()
            .map(RuleRecord::from_item)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|r| r.fields.enabled)
            .collect())
    }

    /// Creates a rule: the org is live, the actor an admin, the repository (if any) one of
    /// the org's, the org under its rule limit — all in one transaction with the audit entry.
    pub async fn create_rule(
        &self,
        scope: &OrgScope,
        fields: RuleFields,
        max_rules: u32,
        event: &AuditEvent,
    ) -> Result<RuleRecord, StoreError> {
        let now = self.now_secs();
        let record = RuleRecord {
            id: uuid::Uuid::new_v4().simple().to_string(),
            fields,
            created_by: scope.actor().id.clone(),
            created_at: now,
            updated_by: scope.actor().id.clone(),
            updated_at: now,
        };
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), RULE_COUNT_SK)))
            .update_expression("ADD rule_count :one")
            .condition_expression("attribute_not_exists(rule_count) OR rule_count < :max")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max_rules));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, record.to_item(org_pk(scope.org_id())))?)?;
        tx.update_if(build(count.build())?, Conflict::TooManyRules)?;
        self.rule_write_guards(&mut tx, scope, record.fields.repo_id.as_deref(), event)?;
        self.transact(tx).await?;
        Ok(record)
    }

    /// Replaces a rule's fields (it must still exist).
    pub async fn update_rule(
        &self,
        scope: &OrgScope,
        current: &RuleRecord,
        fields: RuleFields,
        event: &AuditEvent,
    ) -> Result<RuleRecord, StoreError> {
        let record = RuleRecord {
            fields,
            updated_by: scope.actor().id.clone(),
            updated_at: self.now_secs(),
            ..current.clone()
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(record.to_item(org_pk(scope.org_id()))))
            .condition_expression("attribute_exists(pk)");
        let mut tx = Tx::new();
        tx.put_if(build(put.build())?, Conflict::Vanished)?;
        self.rule_write_guards(&mut tx, scope, record.fields.repo_id.as_deref(), event)?;
        self.transact(tx).await?;
        Ok(record)
    }

    pub async fn delete_rule(&self, scope: &OrgScope, id: &str, event: &AuditEvent) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), rule_sk(id))))
            .condition_expression("attribute_exists(pk)");
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), RULE_COUNT_SK)))
            .update_expression("ADD rule_count :minus")
            .expression_attribute_values(":minus", n(-1));
        let mut tx = Tx::new();
        tx.delete_if(build(delete.build())?, Conflict::Vanished)?;
        tx.update(build(count.build())?)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// What every create or edit checks in its transaction: the repository (if the rule
    /// names one) is the org's, the actor is still an admin, the org is live; and the audit.
    fn rule_write_guards(
        &self,
        tx: &mut Tx,
        scope: &OrgScope,
        repo_id: Option<&str>,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        if let Some(repo_id) = repo_id {
            self.repo_exists_check(tx, scope, repo_id)?;
        }
        self.actor_admin_check(tx, scope)?;
        self.org_live_check(tx, scope)?;
        self.audit(tx, scope, event)
    }
}

/// Rule ids are what `create_rule` makes: 32 lowercase hex digits.
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}
