//! What the upgrade from the single-tenant AgnusAI writes (product §10). Reading the old
//! PostgreSQL database is the `agnus-migrate` crate's job (linked only by the CLI); this
//! module writes the multi-org model through the same key builders as everything else.
//!
//! Every step is one transaction that also puts a marker `MIGRATED#<kind>` / `<source id>`
//! (conditional: it must not exist), so an interrupted run resumes where it stopped, a
//! re-run writes nothing, and a step can never be applied twice ([`Conflict::AlreadyProcessed`]).
//! `SCHEMA`/`VERSION` records the schema version (1: single-tenant, 2: multi-org) and the
//! default org's id. The legacy webhook URLs' settings (sunset date, last delivery) are one
//! item, `LEGACYWEBHOOKS`/`CONFIG`, written by the migration and read by the intake.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put};
use serde::Serialize;

use super::keys::*;
use super::records::{Actor, AuditEvent, member_items};
use super::records::{OrgRecord, UserRecord, email_claim, put_new};
use super::records::{SealedSecret, webhook_item};
use super::tx::Tx;
use super::{
    Conflict, Item, RepoRecord, Store, StoreError, build, classify, get_n, get_opt_n, get_opt_s, get_s, n, parse, s,
};
use crate::crypto::PasswordHashString;
use crate::domain::{Email, OrgId, Role, UserId};

mod history;

pub use history::{ImportedCheckpoint, ImportedReview, ReviewComment};

/// Most items one transaction may hold (DynamoDB's limit).
pub const MAX_TRANSACTION_ITEMS: usize = super::tx::MAX_OPS;
/// A budget for one transaction's payload (DynamoDB allows 4 MB).
pub const MAX_TRANSACTION_BYTES: usize = 3_000_000;

/// The kinds of source rows, each with its own marker partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MigratedKind {
    User,
    Invite,
    Repo,
    /// A review with its comments (and their feedback).
    Review,
    /// Comments of a review beyond what fits its first transaction.
    ReviewPart,
    Checkpoint,
    ApiKey,
    Setting,
}

impl MigratedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MigratedKind::User => "user",
            MigratedKind::Invite => "invite",
            MigratedKind::Repo => "repo",
            MigratedKind::Review => "review",
            MigratedKind::ReviewPart => "review-part",
            MigratedKind::Checkpoint => "checkpoint",
            MigratedKind::ApiKey => "api-key",
            MigratedKind::Setting => "setting",
        }
    }
}

/// The migration's progress record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaVersion {
    pub version: u32,
    pub default_org: Option<OrgId>,
}

/// An account of the old install.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub source_id: String,
    pub email: Email,
    /// bcrypt (`$2a$10$…`), verified once at the next login and then replaced by argon2id.
    pub password_hash: PasswordHashString,
    pub role: Role,
    pub created_at: i64,
}

/// An unused invite of the old install (system-level there; an invitation of `default` here).
#[derive(Debug, Clone)]
pub struct ImportedInvite {
    pub source_id: String,
    pub email: Email,
    /// SHA-256 of the old token, so the old link keeps working; the token itself is not kept.
    pub token_hash: String,
    pub invited_by: Option<UserId>,
    pub invited_by_email: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The old install's indexing state of a repository, kept as repository metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoMetadata {
    pub repo_path: Option<String>,
    pub indexed_at: Option<i64>,
    pub symbol_count: Option<i64>,
}

fn marker_item(kind: MigratedKind, source_id: &str, target: Option<&str>, now: i64) -> Item {
    let mut item = key(migrated_pk(kind.as_str()), source_id);
    item.insert("type".into(), s("migrated"));
    if let Some(t) = target {
        item.insert("target".into(), s(t));
    }
    item.insert("migrated_at".into(), n(now));
    item
}

impl Store {
    /// The "already migrated" marker of one source row, refused if it exists (a re-run
    /// skips what a previous run wrote).
    fn marker_put(
        &self,
        tx: &mut Tx,
        kind: MigratedKind,
        source_id: &str,
        target: Option<&str>,
    ) -> Result<(), StoreError> {
        let marker = marker_item(kind, source_id, target, self.now_secs());
        tx.put_if(put_new(&self.table, marker)?, Conflict::AlreadyProcessed)
    }
}

/// The default org a migration creates (slug `default`, reserved for it).
pub fn default_org(name: &crate::domain::OrgName, now: i64) -> Result<OrgRecord, StoreError> {
    let slug = crate::domain::Slug::system("default").map_err(|e| StoreError::Corrupt(e.message))?;
    Ok(OrgRecord::new(slug, name.clone(), now))
}

impl Store {
    // ---- progress ----

    pub async fn schema_version(&self) -> Result<SchemaVersion, StoreError> {
        let item = self.get(key(SCHEMA_PK.to_owned(), VERSION_SK)).await?;
        Ok(match item {
            None => SchemaVersion {
                version: 1,
                default_org: None,
            },
            Some(i) => SchemaVersion {
                version: get_n(&i, "version")?,
                default_org: get_opt_s(&i, "default_org_id").and_then(|o| o.parse().ok()),
            },
        })
    }

    pub async fn set_schema_version(&self, version: u32) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(SCHEMA_PK.to_owned(), VERSION_SK)))
            .update_expression("SET version = :v, updated_at = :now")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":now", n(self.now_secs()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The default org the schema item records (the upgrade runs before anyone could hold
    /// a scope of it).
    pub async fn recorded_default_org(&self, schema: &SchemaVersion) -> Result<Option<OrgRecord>, StoreError> {
        match &schema.default_org {
            Some(id) => self.org_by_id(id).await,
            None => Ok(None),
        }
    }

    /// The source ids of `kind` already migrated, each with its target id (if any).
    pub async fn migrated(&self, kind: MigratedKind) -> Result<HashMap<String, Option<String>>, StoreError> {
        self.query_all(&migrated_pk(kind.as_str()), None)
            .await?
            .iter()
            .map(|i| Ok((get_s(i, "sk")?.to_owned(), get_opt_s(i, "target").map(str::to_owned))))
            .collect()
    }

    // ---- the steps ----

    /// Creates the default org (slug `default`) with its webhook secrets, once; records its
    /// id in the schema item in the same transaction, so a resumed run finds it.
    pub async fn create_default_org(&self, org: &OrgRecord, secrets: &[SealedSecret]) -> Result<OrgId, StoreError> {
        if let Some(existing) = self.schema_version().await?.default_org {
            return Ok(existing);
        }
        let mut claim = key(slug_pk(&org.slug), SLUG_SK);
        claim.insert("org_id".into(), s(org.id.to_string()));
        let mut schema = key(SCHEMA_PK.to_owned(), VERSION_SK);
        schema.insert("version".into(), n(1));
        schema.insert("default_org_id".into(), s(org.id.to_string()));
        schema.insert("updated_at".into(), n(self.now_secs()));
        let schema_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(schema))
            .condition_expression("attribute_not_exists(default_org_id)");
        let audit = AuditEvent::new("org.created", Actor::system("migration"))
            .details(serde_json::json!({ "slug": "default", "source": "single-tenant upgrade" }));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, org.to_item())?)?;
        tx.put_if(put_new(&self.table, claim)?, Conflict::SlugTaken)?;
        tx.put_if(build(schema_put.build())?, Conflict::AlreadyProcessed)?;
        tx.put(self.audit_put(&org.id, &audit)?)?;
        for secret in secrets {
            tx.put(put_new(&self.table, webhook_item(&org.id, secret, org.created_at))?)?;
        }
        self.transact(tx).await?;
        Ok(org.id)
    }

    /// Migrates one account: the account (or the existing one with that email, which keeps
    /// its password), its membership of the default org with `role`, the marker — one
    /// transaction. A new account's address counts as verified (the old install knew it).
    pub async fn import_user(&self, org: &OrgRecord, user: &ImportedUser) -> Result<(UserId, bool), StoreError> {
        let (record, create) = match self.find_user_by_email(&user.email).await? {
            Some(u) => (u, false),
            None => (
                UserRecord {
                    id: UserId::new(),
                    email: user.email.clone(),
                    password_hash: user.password_hash.clone(),
                    is_system_admin: false,
                    session_epoch: 0,
                    created_at: user.created_at,
                    // Their addresses count as verified (the old install knew them).
                    email_verified: true,
                },
                true,
            ),
        };
        let now = self.now_secs();
        let mut tx = Tx::new();
        if create {
            let mut profile = record.to_item();
            profile.insert("migrated_from".into(), s(&user.source_id));
            profile.insert("email_verified_at".into(), n(now));
            tx.put(put_new(&self.table, profile)?)?;
            tx.put_if(put_new(&self.table, email_claim(&record))?, Conflict::EmailTaken)?;
        }
        if !self.member_exists(&org.id, &record.id).await? {
            let (mut member, mirror) = member_items(org, &record, user.role, now);
            member.insert("created_by".into(), s("migration"));
            tx.put_if(put_new(&self.table, member)?, Conflict::AlreadyMember)?;
            tx.put_if(put_new(&self.table, mirror)?, Conflict::AlreadyMember)?;
        }
        self.marker_put(
            &mut tx,
            MigratedKind::User,
            &user.source_id,
            Some(&record.id.to_string()),
        )?;
        self.transact(tx).await?;
        Ok((record.id, create))
    }

    /// An unused invite of the old install as a pending invitation of the default org
    /// (role member), reachable by its old token until `expires_at`.
    pub async fn import_invite(&self, org: &OrgId, invite: &ImportedInvite) -> Result<(), StoreError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let invited_by = invite
            .invited_by
            .map_or_else(|| "migration".to_owned(), |u| u.to_string());
        let mut item = key(org_pk(org), invite_sk(&id));
        item.insert("type".into(), s("invite"));
        item.insert("invite_id".into(), s(&id));
        item.insert("org_id".into(), s(org.to_string()));
        item.insert("email".into(), s(invite.email.as_str()));
        item.insert("role".into(), s(Role::Member.as_str()));
        item.insert("status".into(), s("pending"));
        item.insert("invited_by".into(), s(&invited_by));
        if let Some(e) = &invite.invited_by_email {
            item.insert("invited_by_email".into(), s(e));
        }
        item.insert("created_at".into(), n(invite.created_at));
        item.insert("expires_at_invite".into(), n(invite.expires_at));
        item.insert("token_hash".into(), s(&invite.token_hash));
        item.insert("companion_pk".into(), s(invite_token_pk(&invite.token_hash)));
        item.insert("companion_sk".into(), s(INVITE_TOKEN_SK));
        item.insert("migrated_from".into(), s(&invite.source_id));
        let mut token = key(invite_token_pk(&invite.token_hash), INVITE_TOKEN_SK);
        token.insert("type".into(), s("invite_token"));
        token.insert("org_id".into(), s(org.to_string()));
        token.insert("invite_id".into(), s(&id));
        token.insert("status".into(), s("live"));
        token.insert("expires_at".into(), n(invite.expires_at + super::INVITE_TTL_SECS));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, item)?)?;
        tx.put_if(put_new(&self.table, token)?, Conflict::InviteNotPending)?;
        self.marker_put(&mut tx, MigratedKind::Invite, &invite.source_id, Some(&id))?;
        self.transact(tx).await
    }

    /// A repository (token sealed by the caller) of the default org, with the old
    /// install's indexing state as metadata.
    pub async fn import_repo(
        &self,
        org: &OrgId,
        source_id: &str,
        repo: &RepoRecord,
        metadata: &RepoMetadata,
    ) -> Result<(), StoreError> {
        let ident = repo_ident_pk(repo.provider, &repo.full_name);
        let mut item = key(org_pk(org), repo_sk(&repo.id));
        item.insert("type".into(), s("repo"));
        item.insert("repo_id".into(), s(&repo.id));
        item.insert("provider".into(), s(repo.provider.as_str()));
        item.insert("full_name".into(), s(&repo.full_name));
        if let Some(url) = &repo.url {
            item.insert("url".into(), s(url));
        }
        if let (Some(c), Some(p)) = (&repo.token_ciphertext, &repo.token_preview) {
            item.insert("token_ciphertext".into(), AttributeValue::B(Blob::new(c.clone())));
            item.insert("token_preview".into(), s(p));
        }
        item.insert("created_at".into(), n(repo.created_at));
        item.insert("created_by".into(), s(&repo.created_by));
        if let Some(p) = &metadata.repo_path {
            item.insert("index_repo_path".into(), s(p));
        }
        if let Some(at) = metadata.indexed_at {
            item.insert("indexed_at".into(), n(at));
        }
        if let Some(c) = metadata.symbol_count {
            item.insert("symbol_count".into(), n(c));
        }
        item.insert("migrated_from".into(), s(source_id));
        item.insert("companion_pk".into(), s(&ident));
        item.insert("companion_sk".into(), s(REPO_IDENT_SK));
        let mut claim = key(ident, REPO_IDENT_SK);
        claim.insert("org_id".into(), s(org.to_string()));
        claim.insert("repo_id".into(), s(&repo.id));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, item)?)?;
        tx.put_if(put_new(&self.table, claim)?, Conflict::RepoTaken)?;
        self.marker_put(&mut tx, MigratedKind::Repo, source_id, Some(&repo.id))?;
        self.transact(tx).await
    }

    /// A repository's indexing metadata (`None`: not an imported repository or none kept).
    pub async fn repo_metadata(&self, org: &OrgId, repo_id: &str) -> Result<Option<RepoMetadata>, StoreError> {
        Ok(self
            .get(key(org_pk(org), repo_sk(repo_id)))
            .await?
            .map(|i| RepoMetadata {
                repo_path: get_opt_s(&i, "index_repo_path").map(str::to_owned),
                indexed_at: get_opt_n(&i, "indexed_at"),
                symbol_count: get_opt_n(&i, "symbol_count"),
            }))
    }

    /// The org's review depth setting (from the old per-user settings: the most common).
    pub async fn import_review_depth(&self, org: &OrgId, depth: &str) -> Result<(), StoreError> {
        let mut item = key(org_pk(org), REVIEW_SETTINGS_SK);
        item.insert("type".into(), s("review_settings"));
        item.insert("review_depth".into(), s(depth));
        item.insert("updated_at".into(), n(self.now_secs()));
        item.insert("updated_by".into(), s("migration"));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, item)?)?;
        self.marker_put(&mut tx, MigratedKind::Setting, "review_depth", None)?;
        self.transact(tx).await
    }

    pub async fn review_depth(&self, org: &OrgId) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(key(org_pk(org), REVIEW_SETTINGS_SK))
            .await?
            .and_then(|i| get_opt_s(&i, "review_depth").map(str::to_owned)))
    }

    /// The old install's system API key as an API key of the default org (hash only).
    /// Marked legacy: it is accepted in its old format, which new keys never have.
    pub async fn import_api_key(
        &self,
        org: &OrgId,
        source_id: &str,
        name: &str,
        key_hash: &str,
        role: Role,
        created_at: i64,
    ) -> Result<String, StoreError> {
        let id = format!("legacy{}", uuid::Uuid::new_v4().simple());
        let mut item = key(org_pk(org), api_key_sk(&id));
        item.insert("type".into(), s("api_key"));
        item.insert("key_id".into(), s(&id));
        item.insert("name".into(), s(name));
        item.insert("role".into(), s(role.as_str()));
        item.insert("preview".into(), s("(migrated system key)"));
        item.insert("created_at".into(), n(created_at));
        item.insert("created_by".into(), s("migration"));
        item.insert("key_hash".into(), s(key_hash));
        item.insert("legacy".into(), AttributeValue::Bool(true));
        item.insert("companion_pk".into(), s(api_key_hash_pk(key_hash)));
        item.insert("companion_sk".into(), s(API_KEY_HASH_SK));
        let mut lookup = key(api_key_hash_pk(key_hash), API_KEY_HASH_SK);
        lookup.insert("type".into(), s("api_key_hash"));
        lookup.insert("key_id".into(), s(&id));
        lookup.insert("org_id".into(), s(org.to_string()));
        lookup.insert("role".into(), s(role.as_str()));
        lookup.insert("legacy".into(), AttributeValue::Bool(true));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, item)?)?;
        tx.put_if(put_new(&self.table, lookup)?, Conflict::Unknown)?;
        self.marker_put(&mut tx, MigratedKind::ApiKey, source_id, Some(&id))?;
        self.transact(tx).await?;
        Ok(id)
    }

    // ---- the legacy webhook URLs ----

    /// Enables (or moves) the sunset of the legacy webhook URLs; keeps the last delivery.
    pub async fn set_legacy_webhooks(&self, org: &OrgId, sunset_at: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(LEGACY_WEBHOOKS_PK.to_owned(), LEGACY_WEBHOOKS_SK)))
            .update_expression("SET #type = :t, org_id = :o, sunset_at = :s, updated_at = :now")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":t", s("legacy_webhooks"))
            .expression_attribute_values(":o", s(org.to_string()))
            .expression_attribute_values(":s", n(sunset_at))
            .expression_attribute_values(":now", n(self.now_secs()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    // ---- `down` and checks ----

    /// `down`: removes the default org's memberships that the migration created (by the
    /// user markers) and the markers; accounts, repositories and history stay, so
    /// `migrate` again restores the same memberships. Returns how many were removed.
    pub async fn unimport_users(&self, org: &OrgId) -> Result<usize, StoreError> {
        let mut removed = 0;
        for (source, target) in self.migrated(MigratedKind::User).await? {
            let mut tx = Tx::new();
            if let Some(user) = target.and_then(|t| t.parse::<UserId>().ok()) {
                for k in [
                    key(org_pk(org), member_sk(&user)),
                    key(user_pk(&user), user_org_sk(org)),
                ] {
                    tx.delete(build(
                        Delete::builder().table_name(&self.table).set_key(Some(k)).build(),
                    )?)?;
                }
            }
            let marker = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(migrated_pk(MigratedKind::User.as_str()), source)));
            tx.delete(build(marker.build())?)?;
            self.transact(tx).await?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Members of an org, all pages (the migration's checks).
    pub async fn org_member_ids(&self, org: &OrgId) -> Result<Vec<(UserId, Role)>, StoreError> {
        self.query_all(&org_pk(org), Some(MEMBER_PREFIX))
            .await?
            .iter()
            .map(|i| Ok((parse(i, "user_id")?, parse(i, "role")?)))
            .collect()
    }

    /// Counts an org's items of one kind (`repos`, `reviews`, `comments`, `feedback`,
    /// `invites`, `api_keys`, `checkpoints`), all pages.
    pub async fn count_org_items(&self, org: &OrgId, kind: &str) -> Result<usize, StoreError> {
        let prefix = match kind {
            "repos" => REPO_PREFIX,
            "reviews" => REVIEW_PREFIX,
            "comments" | "feedback" => COMMENT_PREFIX,
            "invites" => INVITE_PREFIX,
            "api_keys" => API_KEY_PREFIX_SK,
            "checkpoints" => CHECKPOINT_PREFIX,
            _ => return Err(StoreError::Backend(format!("unknown kind {kind}"))),
        };
        let items = self.query_all(&org_pk(org), Some(prefix)).await?;
        Ok(if kind == "feedback" {
            items.iter().filter(|i| i.contains_key("signal")).count()
        } else {
            items.len()
        })
    }
}
