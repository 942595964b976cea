//! Org API keys: stored as SHA-256 only, bound to one org and one role, revocable with
//! immediate effect (revocation deletes the hash lookup every request reads).

use aws_sdk_dynamodb::types::{Delete, Update};
use serde::Serialize;

use super::keys::*;
use super::records::AuditEvent;
use super::records::put_new;
use super::tenancy::OrgScope;
use super::tx::Tx;
use super::{Conflict, Item, Page, PageRequest, Store, StoreError, get_n, get_opt_n, get_opt_s, get_s, n, parse, s};
use crate::domain::{OrgId, Role, UserId};

/// A stored API key (never the key itself).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub preview: String,
    pub created_at: i64,
    pub created_by: String,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    #[serde(skip)]
    pub key_hash: String,
}

impl ApiKeyRecord {
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            id: get_s(item, "key_id")?.to_owned(),
            name: get_s(item, "name")?.to_owned(),
            role: parse(item, "role")?,
            preview: get_s(item, "preview")?.to_owned(),
            created_at: get_n(item, "created_at")?,
            created_by: get_s(item, "created_by")?.to_owned(),
            expires_at: get_opt_n(item, "key_expires_at"),
            last_used_at: get_opt_n(item, "last_used_at"),
            key_hash: get_s(item, "key_hash")?.to_owned(),
        })
    }
}

/// What authenticating a key yields.
#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    pub key_id: String,
    pub org_id: OrgId,
    pub role: Role,
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_api_key(
        &self,
        scope: &OrgScope,
        name: &str,
        role: Role,
        expires_at: Option<i64>,
        key_hash: &str,
        preview: &str,
        event: &AuditEvent,
    ) -> Result<ApiKeyRecord, StoreError> {
        let now = self.now_secs();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let record = ApiKeyRecord {
            id: id.clone(),
            name: name.to_owned(),
            role,
            preview: preview.to_owned(),
            created_at: now,
            created_by: scope.actor().id.clone(),
            expires_at,
            last_used_at: None,
            key_hash: key_hash.to_owned(),
        };
        let mut item = key(org_pk(scope.org_id()), api_key_sk(&id));
        item.insert("type".into(), s("api_key"));
        item.insert("key_id".into(), s(&id));
        item.insert("name".into(), s(name));
        item.insert("role".into(), s(role.as_str()));
        item.insert("preview".into(), s(preview));
        item.insert("created_at".into(), n(now));
        item.insert("created_by".into(), s(&record.created_by));
        item.insert("key_hash".into(), s(key_hash));
        item.insert("companion_pk".into(), s(api_key_hash_pk(key_hash)));
        item.insert("companion_sk".into(), s(API_KEY_HASH_SK));
        let mut lookup = key(api_key_hash_pk(key_hash), API_KEY_HASH_SK);
        lookup.insert("type".into(), s("api_key_hash"));
        lookup.insert("key_id".into(), s(&id));
        lookup.insert("org_id".into(), s(scope.org_id().to_string()));
        lookup.insert("role".into(), s(role.as_str()));
        if let Some(exp) = expires_at {
            item.insert("key_expires_at".into(), n(exp));
            lookup.insert("key_expires_at".into(), n(exp));
            // Clean-up only; expiry is checked on read.
            lookup.insert("expires_at".into(), n(exp + 86_400));
        }
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, item)?)?;
        tx.put(put_new(&self.table, lookup)?)?;
        self.key_maker_check(&mut tx, scope)?;
        self.org_live_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await?;
        Ok(record)
    }

    /// The maker of a key must be a person with admin rights at the moment of the write.
    /// A member maker's item counts the keys it made, so removing or demoting that member
    /// (which revokes or reduces those keys) conflicts with a key created concurrently.
    fn key_maker_check(&self, tx: &mut Tx, scope: &OrgScope) -> Result<(), StoreError> {
        if scope.actor_key().is_some() {
            // API keys never make keys (a key could otherwise outlive its own revocation).
            return Err(StoreError::Conflict(Conflict::ActorLacksRights));
        }
        match (scope.access(), scope.actor_user()) {
            (super::Access::Member(_), Some(user)) => {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(org_pk(scope.org_id()), member_sk(user))))
                    .update_expression("ADD api_keys_created :one")
                    .condition_expression("#role IN (:owner, :admin)")
                    .expression_attribute_names("#role", "role")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":owner", s(Role::Owner.as_str()))
                    .expression_attribute_values(":admin", s(Role::Admin.as_str()))
                    .build()
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                tx.update_if(update, Conflict::ActorLacksRights)
            }
            _ => self.actor_admin_check(tx, scope),
        }
    }

    /// The live keys `person` made in `org`: what removing them revokes, and what demoting
    /// them reduces.
    pub(crate) async fn keys_made_by(&self, org: &OrgId, person: &UserId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let person = person.to_string();
        self.query_all(&org_pk(org), Some(API_KEY_PREFIX_SK))
            .await?
            .iter()
            .filter(|i| !i.contains_key("revoked_at") && get_opt_s(i, "created_by") == Some(person.as_str()))
            .map(ApiKeyRecord::from_item)
            .collect()
    }

    /// The writes that revoke `record` (its lookup goes, so the next request is a 401).
    pub(crate) fn key_revocation(&self, org: &OrgId, record: &ApiKeyRecord) -> Result<(Update, Delete), StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(org_pk(org), api_key_sk(&record.id))))
            .update_expression("SET revoked_at = :now REMOVE companion_pk, companion_sk")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":now", n(self.now_secs()))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(api_key_hash_pk(&record.key_hash), API_KEY_HASH_SK)))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok((update, delete))
    }

    /// The writes that lower `record`'s role to `role` (the lookup every request reads,
    /// and the listed item).
    pub(crate) fn key_reduction(
        &self,
        org: &OrgId,
        record: &ApiKeyRecord,
        role: Role,
    ) -> Result<[Update; 2], StoreError> {
        let mut ops = Vec::with_capacity(2);
        for k in [
            key(org_pk(org), api_key_sk(&record.id)),
            key(api_key_hash_pk(&record.key_hash), API_KEY_HASH_SK),
        ] {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(k))
                .update_expression("SET #role = :role")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", s(role.as_str()))
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            ops.push(update);
        }
        let [a, b]: [Update; 2] = ops
            .try_into()
            .map_err(|_| StoreError::Backend("two updates expected".into()))?;
        Ok([a, b])
    }

    /// The org's keys that are not revoked.
    pub async fn api_keys(&self, scope: &OrgScope, page: &PageRequest) -> Result<Page<ApiKeyRecord>, StoreError> {
        let pk = org_pk(scope.org_id());
        let (items, next_cursor) = self
            .query_page(
                &pk,
                API_KEY_PREFIX_SK,
                page,
                false,
                Some("attribute_not_exists(revoked_at)"),
            )
            .await?;
        let items = items
            .iter()
            .map(ApiKeyRecord::from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    pub async fn api_key(&self, scope: &OrgScope, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let item = self.get(key(org_pk(scope.org_id()), api_key_sk(id))).await?;
        Ok(match item {
            Some(i) if !i.contains_key("revoked_at") => Some(ApiKeyRecord::from_item(&i)?),
            _ => None,
        })
    }

    /// Revokes a key: its lookup goes away in the same transaction, so the very next
    /// request with it is a 401.
    pub async fn revoke_api_key(
        &self,
        scope: &OrgScope,
        record: &ApiKeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        if scope.actor_key().is_some() {
            return Err(StoreError::Conflict(Conflict::ActorLacksRights));
        }
        let (update, delete) = self.key_revocation(scope.org_id(), record)?;
        let mut tx = Tx::new();
        tx.update_if(update, Conflict::Vanished)?;
        tx.delete(delete)?;
        self.actor_admin_check(&mut tx, scope)?;
        self.audit(&mut tx, scope, event)?;
        self.transact(tx).await
    }

    /// Authenticates a key by its hash: `None` if unknown, revoked or expired.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyAuth>, StoreError> {
        let Some(item) = self.get(key(api_key_hash_pk(key_hash), API_KEY_HASH_SK)).await? else {
            return Ok(None);
        };
        if get_opt_n::<i64>(&item, "key_expires_at").is_some_and(|exp| exp <= self.now_secs()) {
            return Ok(None);
        }
        Ok(Some(ApiKeyAuth {
            key_id: get_s(&item, "key_id")?.to_owned(),
            org_id: parse(&item, "org_id")?,
            role: parse(&item, "role")?,
        }))
    }

    /// Records use of a key, at most once a minute (a conditional write that usually
    /// fails cheaply).
    /// Takes the lookup's answer, so only a key that was just verified is touched.
    pub async fn touch_api_key(&self, auth: &ApiKeyAuth) {
        self.touch_once_a_minute(
            key(org_pk(&auth.org_id), api_key_sk(&auth.key_id)),
            "last_used_at",
            "API key use",
        )
        .await;
    }
}
