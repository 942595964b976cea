//! The single-tenant layout and its migration into the default org (SPEC §10).
//!
//! A single-tenant AgnusAI table held (all under `LEGACY#…` partitions, enumerable through
//! `gsi1` by type):
//!
//! | pk | sk | item |
//! |---|---|---|
//! | `LEGACY#USER#<id>` | `LEGACY` | email, argon2 `password_hash`, `role` (`admin`/`member`), `created_at` |
//! | `LEGACY#REPO#<id>` | `LEGACY` | `provider`, `full_name`, optional plaintext `token` |
//! | `LEGACY#REVIEW#<repoId>` | `<reviewId>` | `pr_number`, `head_sha`, `status`, `created_at` |
//! | `LEGACY#APIKEY#<id>` | `LEGACY` | `name`, `key_hash` (SHA-256), optional `owner` (legacy user id) |
//! | `LEGACY#CONFIG` | `WEBHOOK` | the global webhook `secret` (GitHub and Azure DevOps) |
//!
//! Each legacy item is migrated by one transaction that also stamps it `migrated_*`, so an
//! interrupted run resumes where it stopped and a re-run is a no-op. Legacy items stay
//! (the upgrade is reversible for memberships, `down`); API keys that cannot be scoped to
//! a member of the default org are deleted and reported. `SCHEMA`/`VERSION` records the
//! schema version (1: single-tenant, 2: multi-org).

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};

use super::keys::*;
use super::orgs::{Actor, AuditEvent, audit_put, member_items};
use super::users::{OrgRecord, UserRecord, email_claim, put_new};
use super::webhooks::{SealedSecret, webhook_item};
use super::{Conflict, Item, Store, StoreError, classify, get_n, get_opt_s, get_s, n, now_secs, parse, s};
use crate::crypto::PasswordHashString;
use crate::domain::{Email, OrgId, Provider, RepoRef, Role, UserId};

/// The legacy item types, as enumerated for the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyKind {
    User,
    Repo,
    ApiKey,
}

impl LegacyKind {
    fn gsi(self) -> &'static str {
        match self {
            LegacyKind::User => "LEGACY#USER",
            LegacyKind::Repo => "LEGACY#REPO",
            LegacyKind::ApiKey => "LEGACY#APIKEY",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LegacyUser {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: i64,
    pub migrated_user_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LegacyRepo {
    pub id: String,
    pub provider: Provider,
    pub full_name: String,
    pub token: Option<String>,
    pub created_at: i64,
    pub migrated_repo_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LegacyReview {
    pub repo_id: String,
    pub id: String,
    pub pr_number: u64,
    pub head_sha: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub migrated: bool,
}

#[derive(Debug, Clone)]
pub struct LegacyApiKey {
    pub id: String,
    pub name: String,
    pub key_hash: String,
    pub owner: Option<String>,
    pub created_at: i64,
}

/// The migration's progress record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaVersion {
    pub version: u32,
    pub default_org: Option<OrgId>,
}

fn legacy_pk(kind: LegacyKind, id: &str) -> String {
    format!("{}#{id}", kind.gsi())
}
fn legacy_review_pk(repo_id: &str) -> String {
    format!("LEGACY#REVIEW#{repo_id}")
}
const LEGACY_SK: &str = "LEGACY";
const SCHEMA_PK: &str = "SCHEMA";
const VERSION_SK: &str = "VERSION";

fn legacy_item(kind: LegacyKind, id: &str) -> Item {
    let mut item = key(legacy_pk(kind, id), LEGACY_SK);
    item.insert("gsi1pk".into(), s(kind.gsi()));
    item.insert("gsi1sk".into(), s(id));
    item.insert("legacy_id".into(), s(id));
    item
}

fn build<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Backend(e.to_string()))
}

fn stamp(table: &str, pk: String, sk: &str, attr: &str, value: &str) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(pk, sk)))
        .update_expression(format!("SET {attr} = :v"))
        .condition_expression(format!("attribute_exists(pk) AND attribute_not_exists({attr})"))
        .expression_attribute_values(":v", s(value));
    Ok(TransactWriteItem::builder().update(build(update.build())?).build())
}

impl Store {
    // ---- legacy data (written by the single-tenant app; here for tests and tools) ----

    pub async fn put_legacy_user(&self, u: &LegacyUser) -> Result<(), StoreError> {
        let mut item = legacy_item(LegacyKind::User, &u.id);
        item.insert("email".into(), s(&u.email));
        item.insert("password_hash".into(), s(&u.password_hash));
        item.insert("role".into(), s(u.role.as_str()));
        item.insert("created_at".into(), n(u.created_at));
        self.put_plain(item).await
    }

    pub async fn put_legacy_repo(&self, r: &LegacyRepo) -> Result<(), StoreError> {
        let mut item = legacy_item(LegacyKind::Repo, &r.id);
        item.insert("provider".into(), s(r.provider.as_str()));
        item.insert("full_name".into(), s(&r.full_name));
        if let Some(t) = &r.token {
            item.insert("token".into(), s(t));
        }
        item.insert("created_at".into(), n(r.created_at));
        self.put_plain(item).await
    }

    pub async fn put_legacy_review(&self, r: &LegacyReview) -> Result<(), StoreError> {
        let mut item = key(legacy_review_pk(&r.repo_id), &r.id);
        item.insert("pr_number".into(), n(r.pr_number));
        if let Some(sha) = &r.head_sha {
            item.insert("head_sha".into(), s(sha));
        }
        item.insert("status".into(), s(&r.status));
        item.insert("created_at".into(), n(r.created_at));
        self.put_plain(item).await
    }

    pub async fn put_legacy_api_key(&self, k: &LegacyApiKey) -> Result<(), StoreError> {
        let mut item = legacy_item(LegacyKind::ApiKey, &k.id);
        item.insert("name".into(), s(&k.name));
        item.insert("key_hash".into(), s(&k.key_hash));
        if let Some(o) = &k.owner {
            item.insert("owner".into(), s(o));
        }
        item.insert("created_at".into(), n(k.created_at));
        self.put_plain(item).await
    }

    pub async fn put_legacy_webhook_secret(&self, secret: &str) -> Result<(), StoreError> {
        let mut item = key("LEGACY#CONFIG".to_owned(), "WEBHOOK");
        item.insert("secret".into(), s(secret));
        self.put_plain(item).await
    }

    async fn put_plain(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    // ---- reading the legacy data ----

    async fn legacy_items(&self, kind: LegacyKind) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :g")
                .expression_attribute_values(":g", s(kind.gsi()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            // The index may lag: read each item itself, consistently.
            for entry in out.items() {
                if let Some(item) = self.get(key(get_s(entry, "pk")?.to_owned(), LEGACY_SK)).await? {
                    items.push(item);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    pub async fn legacy_users(&self) -> Result<Vec<LegacyUser>, StoreError> {
        let mut users = self
            .legacy_items(LegacyKind::User)
            .await?
            .iter()
            .map(|i| {
                Ok(LegacyUser {
                    id: get_s(i, "legacy_id")?.to_owned(),
                    email: get_s(i, "email")?.to_owned(),
                    password_hash: get_s(i, "password_hash")?.to_owned(),
                    role: parse(i, "role")?,
                    created_at: get_n(i, "created_at")?,
                    migrated_user_id: get_opt_s(i, "migrated_user_id").map(str::to_owned),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        users.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(users)
    }

    pub async fn legacy_repos(&self) -> Result<Vec<LegacyRepo>, StoreError> {
        let mut repos = self
            .legacy_items(LegacyKind::Repo)
            .await?
            .iter()
            .map(|i| {
                Ok(LegacyRepo {
                    id: get_s(i, "legacy_id")?.to_owned(),
                    provider: parse(i, "provider")?,
                    full_name: get_s(i, "full_name")?.to_owned(),
                    token: get_opt_s(i, "token").map(str::to_owned),
                    created_at: get_n(i, "created_at")?,
                    migrated_repo_id: get_opt_s(i, "migrated_repo_id").map(str::to_owned),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        repos.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(repos)
    }

    pub async fn legacy_reviews(&self, repo_id: &str) -> Result<Vec<LegacyReview>, StoreError> {
        self.query_all(&legacy_review_pk(repo_id), None)
            .await?
            .iter()
            .map(|i| {
                Ok(LegacyReview {
                    repo_id: repo_id.to_owned(),
                    id: get_s(i, "sk")?.to_owned(),
                    pr_number: get_n(i, "pr_number")?,
                    head_sha: get_opt_s(i, "head_sha").map(str::to_owned),
                    status: get_s(i, "status")?.to_owned(),
                    created_at: get_n(i, "created_at")?,
                    migrated: i.contains_key("migrated"),
                })
            })
            .collect()
    }

    pub async fn legacy_api_keys(&self) -> Result<Vec<LegacyApiKey>, StoreError> {
        self.legacy_items(LegacyKind::ApiKey)
            .await?
            .iter()
            .map(|i| {
                Ok(LegacyApiKey {
                    id: get_s(i, "legacy_id")?.to_owned(),
                    name: get_s(i, "name")?.to_owned(),
                    key_hash: get_s(i, "key_hash")?.to_owned(),
                    owner: get_opt_s(i, "owner").map(str::to_owned),
                    created_at: get_n(i, "created_at")?,
                })
            })
            .collect()
    }

    pub async fn legacy_webhook_secret(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(key("LEGACY#CONFIG".to_owned(), "WEBHOOK"))
            .await?
            .and_then(|i| get_opt_s(&i, "secret").map(str::to_owned)))
    }

    // ---- schema version ----

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
            .expression_attribute_values(":now", n(now_secs()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

/// The default org a migration creates (slug `default`, reserved for it).
pub fn default_org(name: &crate::domain::OrgName) -> Result<OrgRecord, StoreError> {
    let slug = crate::domain::Slug::system("default").map_err(|e| StoreError::Corrupt(e.message))?;
    Ok(OrgRecord::new(slug, name.clone(), now_secs()))
}

impl Store {
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
        schema.insert("updated_at".into(), n(now_secs()));
        let schema_put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(schema))
            .condition_expression("attribute_not_exists(default_org_id)");
        let mut items = vec![
            (put_new(&self.table, org.to_item())?, None),
            (put_new(&self.table, claim)?, Some(Conflict::SlugTaken)),
            (
                TransactWriteItem::builder().put(build(schema_put.build())?).build(),
                Some(Conflict::Unknown),
            ),
            (
                audit_put(
                    &self.table,
                    &org.id,
                    &AuditEvent::new("org.created", Actor::system("migration"))
                        .details(serde_json::json!({ "slug": "default" })),
                )?,
                None,
            ),
        ];
        for secret in secrets {
            items.push((
                put_new(&self.table, webhook_item(&org.id, secret, org.created_at))?,
                None,
            ));
        }
        self.transact(items).await?;
        Ok(org.id)
    }

    /// Migrates one legacy user: account (or the one an earlier run created), membership in
    /// the default org with `role`, and the legacy stamp — one transaction.
    pub async fn migrate_user(&self, org: &OrgRecord, legacy: &LegacyUser, role: Role) -> Result<UserId, StoreError> {
        let email = Email::parse(&legacy.email).map_err(|e| StoreError::Corrupt(e.message))?;
        let existing = self.find_user_by_email(&email).await?;
        let (user, create) = match existing {
            Some(u) => (u, false),
            None => (
                UserRecord {
                    id: UserId::new(),
                    email,
                    password_hash: PasswordHashString::from_stored(legacy.password_hash.clone()),
                    is_system_admin: false,
                    session_epoch: 0,
                    created_at: legacy.created_at,
                    email_verified: false,
                },
                true,
            ),
        };
        let (member, mirror) = member_items(org, &user, role, now_secs());
        let mut items = Vec::new();
        if create {
            let mut profile = user.to_item();
            profile.insert("migrated_from".into(), s(&legacy.id));
            items.push((put_new(&self.table, profile)?, None));
            items.push((put_new(&self.table, email_claim(&user))?, Some(Conflict::EmailTaken)));
        }
        if !self.is_member(&org.id, &user.id).await? {
            items.push((put_new(&self.table, member)?, Some(Conflict::AlreadyMember)));
            items.push((put_new(&self.table, mirror)?, Some(Conflict::AlreadyMember)));
        }
        items.push((
            stamp(
                &self.table,
                legacy_pk(LegacyKind::User, &legacy.id),
                LEGACY_SK,
                "migrated_user_id",
                &user.id.to_string(),
            )?,
            Some(Conflict::Unknown),
        ));
        self.transact(items).await?;
        Ok(user.id)
    }

    /// Migrates one legacy repository (token sealed by the caller) into the default org.
    pub async fn migrate_repo(
        &self,
        org: &OrgId,
        legacy: &LegacyRepo,
        repo: &super::RepoRecord,
    ) -> Result<(), StoreError> {
        let ident = repo_ident_pk(repo.provider, &repo.full_name);
        let mut item = key(org_pk(org), repo_sk(&repo.id));
        item.insert("type".into(), s("repo"));
        item.insert("repo_id".into(), s(&repo.id));
        item.insert("provider".into(), s(repo.provider.as_str()));
        item.insert("full_name".into(), s(&repo.full_name));
        if let (Some(c), Some(p)) = (&repo.token_ciphertext, &repo.token_preview) {
            item.insert(
                "token_ciphertext".into(),
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(c.clone())),
            );
            item.insert("token_preview".into(), s(p));
        }
        item.insert("created_at".into(), n(repo.created_at));
        item.insert("created_by".into(), s("migration"));
        item.insert("companion_pk".into(), s(&ident));
        item.insert("companion_sk".into(), s(REPO_IDENT_SK));
        let mut claim = key(ident, REPO_IDENT_SK);
        claim.insert("org_id".into(), s(org.to_string()));
        claim.insert("repo_id".into(), s(&repo.id));
        self.transact(vec![
            (put_new(&self.table, item)?, None),
            (put_new(&self.table, claim)?, Some(Conflict::RepoTaken)),
            (
                stamp(
                    &self.table,
                    legacy_pk(LegacyKind::Repo, &legacy.id),
                    LEGACY_SK,
                    "migrated_repo_id",
                    &repo.id,
                )?,
                Some(Conflict::Unknown),
            ),
        ])
        .await
    }

    /// Migrates up to 45 reviews of one repository in one transaction.
    pub async fn migrate_reviews(
        &self,
        org: &OrgId,
        provider: Provider,
        repo_id: &str,
        reviews: &[LegacyReview],
    ) -> Result<(), StoreError> {
        let mut items = Vec::new();
        for (i, r) in reviews.iter().enumerate() {
            let job_id = format!(
                "legacy{}",
                r.id.chars().filter(char::is_ascii_alphanumeric).collect::<String>()
            );
            let sk = review_sk(repo_id, r.created_at * 1000 + i as i64 % 1000, &job_id);
            let mut item = key(org_pk(org), &sk);
            item.insert("type".into(), s("review"));
            item.insert("job_id".into(), s(&job_id));
            item.insert("repo_id".into(), s(repo_id));
            item.insert("provider".into(), s(provider.as_str()));
            item.insert("pr_number".into(), n(r.pr_number));
            if let Some(sha) = &r.head_sha {
                item.insert("head_sha".into(), s(sha));
            }
            item.insert("action".into(), s("migrated"));
            item.insert("delivery_id".into(), s(format!("legacy-{}", r.id)));
            item.insert("source".into(), s("migration"));
            item.insert("status".into(), s(&r.status));
            item.insert("created_at".into(), n(r.created_at));
            items.push((put_new(&self.table, item)?, None));
            items.push((
                stamp(&self.table, legacy_review_pk(&r.repo_id), &r.id, "migrated", "true")?,
                Some(Conflict::Unknown),
            ));
        }
        self.transact(items).await
    }

    /// Scopes a legacy API key to the default org with `role`; it keeps working (same hash).
    pub async fn migrate_api_key(&self, org: &OrgId, legacy: &LegacyApiKey, role: Role) -> Result<(), StoreError> {
        let id = format!(
            "legacy{}",
            legacy
                .id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        );
        let mut item = key(org_pk(org), api_key_sk(&id));
        item.insert("type".into(), s("api_key"));
        item.insert("key_id".into(), s(&id));
        item.insert("name".into(), s(&legacy.name));
        item.insert("role".into(), s(role.as_str()));
        item.insert("preview".into(), s("agn_…(migrated)"));
        item.insert("created_at".into(), n(legacy.created_at));
        item.insert("created_by".into(), s("migration"));
        item.insert("key_hash".into(), s(&legacy.key_hash));
        item.insert("companion_pk".into(), s(api_key_hash_pk(&legacy.key_hash)));
        item.insert("companion_sk".into(), s(API_KEY_HASH_SK));
        let mut lookup = key(api_key_hash_pk(&legacy.key_hash), API_KEY_HASH_SK);
        lookup.insert("type".into(), s("api_key_hash"));
        lookup.insert("key_id".into(), s(&id));
        lookup.insert("org_id".into(), s(org.to_string()));
        lookup.insert("role".into(), s(role.as_str()));
        let remove = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(legacy_pk(LegacyKind::ApiKey, &legacy.id), LEGACY_SK)));
        self.transact(vec![
            (put_new(&self.table, item)?, None),
            (put_new(&self.table, lookup)?, None),
            (
                TransactWriteItem::builder().delete(build(remove.build())?).build(),
                None,
            ),
        ])
        .await
    }

    /// Removes a legacy API key that cannot be scoped to the default org.
    pub async fn remove_legacy_api_key(&self, legacy: &LegacyApiKey) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(legacy_pk(LegacyKind::ApiKey, &legacy.id), LEGACY_SK)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// `down`: removes the default org's memberships that the migration created and clears
    /// the users' stamps (accounts, repos and history stay).
    pub async fn unmigrate_user(&self, org: &OrgId, legacy: &LegacyUser) -> Result<(), StoreError> {
        let Some(user_id) = legacy.migrated_user_id.as_deref() else {
            return Ok(());
        };
        let user: UserId = user_id
            .parse()
            .map_err(|_| StoreError::Corrupt("migrated_user_id".into()))?;
        let member = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), member_sk(&user))));
        let mirror = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&user), user_org_sk(org))));
        let clear = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(legacy_pk(LegacyKind::User, &legacy.id), LEGACY_SK)))
            .update_expression("REMOVE migrated_user_id");
        self.transact(vec![
            (
                TransactWriteItem::builder().delete(build(member.build())?).build(),
                None,
            ),
            (
                TransactWriteItem::builder().delete(build(mirror.build())?).build(),
                None,
            ),
            (TransactWriteItem::builder().update(build(clear.build())?).build(), None),
        ])
        .await
    }

    /// Members of an org, all pages (the migration's checks).
    pub async fn org_member_ids(&self, org: &OrgId) -> Result<Vec<(UserId, Role)>, StoreError> {
        self.query_all(&org_pk(org), Some(MEMBER_PREFIX))
            .await?
            .iter()
            .map(|i| Ok((parse(i, "user_id")?, parse(i, "role")?)))
            .collect()
    }

    /// Counts an org's items with a sort-key prefix (`REPO#`, `REVIEW#`, `APIKEY#`).
    pub async fn count_org_items(&self, org: &OrgId, prefix: &str) -> Result<usize, StoreError> {
        Ok(self.query_all(&org_pk(org), Some(prefix)).await?.len())
    }
}

/// A legacy repository's identity (for sealing its token before `migrate_repo`).
pub fn legacy_repo_ref(legacy: &LegacyRepo) -> Result<RepoRef, StoreError> {
    RepoRef::parse(legacy.provider, &legacy.full_name).map_err(|e| StoreError::Corrupt(e.message))
}
