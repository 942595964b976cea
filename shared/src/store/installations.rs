//! An org's GitHub App installations (`INSTALL#<installation id>` in the org's partition):
//! the app, the installation, and the app's private key sealed by KMS under the org's and
//! the installation's context. One record per installation id and org (a conditional
//! put); the key never leaves the store unsealed and never appears in an answer.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete};
use serde::Serialize;

use super::keys::*;
use super::records::{AuditEvent, put_new};
use super::tenancy::OrgScope;
use super::tx::Tx;
use super::{Conflict, Item, Store, StoreError, build, get_n, get_opt_s, get_s, n, s};
use crate::domain::OrgId;
use crate::store::QueueScope;

/// How many installations an org may register (checked before the write).
pub const MAX_INSTALLATIONS: usize = 20;

/// A registered GitHub App installation (never its key).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationRecord {
    /// GitHub's installation id.
    pub id: u64,
    pub app_id: u64,
    pub app_slug: String,
    /// The GitHub account the app is installed on.
    pub account: String,
    /// `all` or `selected` repositories.
    pub repository_selection: String,
    /// What the engine's reviews are authored by (`<app-slug>[bot]`).
    pub bot_login: String,
    /// The private key's fingerprint, as GitHub lists it on the app's page.
    pub key_fingerprint: String,
    pub created_at: i64,
    pub created_by: String,
    #[serde(skip)]
    pub key_ciphertext: Vec<u8>,
}

impl InstallationRecord {
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id: get_n(item, "installation_id")?,
            app_id: get_n(item, "app_id")?,
            app_slug: get_s(item, "app_slug")?.to_owned(),
            account: get_s(item, "account")?.to_owned(),
            repository_selection: get_opt_s(item, "repository_selection").unwrap_or_default().to_owned(),
            bot_login: get_s(item, "bot_login")?.to_owned(),
            key_fingerprint: get_s(item, "key_fingerprint")?.to_owned(),
            created_at: get_n(item, "created_at")?,
            created_by: get_s(item, "created_by")?.to_owned(),
            key_ciphertext: item
                .get("key_ciphertext")
                .and_then(|v| v.as_b().ok())
                .map(|b| b.as_ref().to_vec())
                .ok_or_else(|| StoreError::Corrupt("installation without its key".into()))?,
        })
    }
}

/// The scopes an installation can be read in: a request's org, a queue message's org.
pub trait InstallationScope {
    fn installation_org(&self) -> &OrgId;
}
impl InstallationScope for OrgScope {
    fn installation_org(&self) -> &OrgId {
        self.org_id()
    }
}
impl InstallationScope for QueueScope {
    fn installation_org(&self) -> &OrgId {
        self.org_id()
    }
}

impl Store {
    /// Registers an installation (admins): one per installation id in an org.
    pub async fn create_installation(
        &self,
        scope: &OrgScope,
        record: &InstallationRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut item = key(org_pk(scope.org_id()), installation_sk(record.id));
        item.insert("type".into(), s("installation"));
        item.insert("installation_id".into(), n(record.id));
        item.insert("app_id".into(), n(record.app_id));
        item.insert("app_slug".into(), s(&record.app_slug));
        item.insert("account".into(), s(&record.account));
        item.insert("repository_selection".into(), s(&record.repository_selection));
        item.insert("bot_login".into(), s(&record.bot_login));
        item.insert("key_fingerprint".into(), s(&record.key_fingerprint));
        item.insert(
            "key_ciphertext".into(),
            AttributeValue::B(Blob::new(record.key_ciphertext.clone())),
        );
        item.insert("created_at".into(), n(record.created_at));
        item.insert("created_by".into(), s(&record.created_by));
        let mut tx = Tx::new();
        tx.put_if(put_new(&self.table, item)?, Conflict::InstallationExists)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// The org's installations, oldest first.
    pub async fn installations(&self, scope: &OrgScope) -> Result<Vec<InstallationRecord>, StoreError> {
        self.query_all(&org_pk(scope.org_id()), Some(INSTALLATION_PREFIX))
            .await?
            .iter()
            .map(InstallationRecord::from_item)
            .collect::<Result<Vec<_>, _>>()
            .map(|mut all| {
                all.sort_by_key(|i| (i.created_at, i.id));
                all
            })
    }

    /// One installation of the scope's org.
    pub async fn installation(
        &self,
        scope: &impl InstallationScope,
        id: u64,
    ) -> Result<Option<InstallationRecord>, StoreError> {
        self.get(key(org_pk(scope.installation_org()), installation_sk(id)))
            .await?
            .map(|i| InstallationRecord::from_item(&i))
            .transpose()
    }

    /// Removes an installation (admins). Repositories connected through it stay; their
    /// reviews end `failed: installation_removed` until they are connected again.
    pub async fn delete_installation(&self, scope: &OrgScope, id: u64, event: &AuditEvent) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(scope.org_id()), installation_sk(id))))
            .condition_expression("attribute_exists(pk)")
            .build();
        let mut tx = Tx::new();
        tx.delete_if(build(delete)?, Conflict::Vanished)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// In a repository's connect transaction: the installation it goes through still
    /// exists (a concurrent removal refuses the connection).
    pub(crate) fn installation_check(&self, tx: &mut Tx, org: &OrgId, id: u64) -> Result<(), StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), installation_sk(id))))
            .condition_expression("attribute_exists(pk)")
            .build();
        tx.check(build(check)?, Conflict::Vanished)
    }
}
