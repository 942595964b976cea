//! Users, sessions, signup and "my orgs".

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::keys::*;
use super::records::{MembershipView, NewAccount, OrgRecord, SessionRecord, UserRecord, email_claim, put_new};
use super::tx::Tx;
use super::{Conflict, Item, Page, PageRequest, Store, StoreError, classify, get_n, get_s, n, parse, s};
use crate::crypto::PasswordHashString;
use crate::domain::{Email, OrgId, Role, SessionId, UserId};

impl Store {
    /// Creates user, email claim, org, slug claim, owner membership (and its mirror), the
    /// org's initial items, the audit entry and the first session in one transaction:
    /// either all exist afterwards or none.
    pub async fn create_account(&self, account: &NewAccount) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, account.user.to_item())?)?;
        tx.put_if(put_new(&self.table, email_claim(&account.user))?, Conflict::EmailTaken)?;
        tx.put(put_new(&self.table, account.session.to_item())?)?;
        self.new_org_items(&mut tx, &account.org, &account.user, &account.webhooks, &account.audit)?;
        self.transact(tx).await
    }

    /// Creates a user without an org (the seeded system admin), claiming the email.
    pub async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, user.to_item())?)?;
        tx.put_if(put_new(&self.table, email_claim(user))?, Conflict::EmailTaken)?;
        self.transact(tx).await.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(Conflict::EmailTaken),
            other => other,
        })
    }

    pub async fn set_system_admin(&self, user: &UserId) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), PROFILE)))
            .update_expression("SET is_system_admin = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    pub async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        let Some(claim) = self.get(key(email_pk(email), EMAIL_SK)).await? else {
            // The same two reads as for a known address, so timing does not tell them apart.
            let _ = self.get(key(user_pk(&UserId::new()), PROFILE)).await?;
            return Ok(None);
        };
        let id: UserId = parse(&claim, "user_id")?;
        self.get_user(&id).await
    }

    pub async fn get_user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError> {
        self.get(key(user_pk(id), PROFILE))
            .await?
            .map(|item| UserRecord::from_item(&item))
            .transpose()
    }

    /// Stores a stronger hash after a successful login with a weaker one.
    pub async fn update_password_hash(&self, id: &UserId, hash: &PasswordHashString) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(id), PROFILE)))
            .update_expression("SET password_hash = :h")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":h", s(hash.as_str()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    pub async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session.to_item()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The session and its user, read together (each request's authentication).
    pub async fn get_session_and_user(
        &self,
        user: &UserId,
        session: &SessionId,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let (sess, usr) = tokio::join!(self.get(key(user_pk(user), session_sk(session))), self.get_user(user));
        let (Some(sess), Some(usr)) = (sess?, usr?) else {
            return Ok(None);
        };
        let record = SessionRecord::from_item(*user, *session, &sess)?;
        Ok(Some((record, usr)))
    }

    /// Every stored session of `user` (live or not: the caller filters), newest first.
    pub async fn sessions_of(&self, user: &UserId) -> Result<Vec<SessionRecord>, StoreError> {
        let mut sessions = Vec::new();
        for item in self.query_all(&user_pk(user), Some(session_sk_prefix())).await? {
            let sk = get_s(&item, "sk")?;
            let id = sk
                .strip_prefix(session_sk_prefix())
                .and_then(|raw| raw.parse().ok())
                .ok_or_else(|| StoreError::Corrupt(format!("session key {sk}")))?;
            sessions.push(SessionRecord::from_item(*user, id, &item)?);
        }
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(sessions)
    }

    /// Records that a request used the session (at most one write a minute).
    pub async fn touch_session(&self, user: &UserId, session: &SessionId) {
        self.touch_once_a_minute(key(user_pk(user), session_sk(session)), "last_seen_at", "session use")
            .await;
    }

    pub async fn delete_session(&self, user: &UserId, session: &SessionId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), session_sk(session))))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// "Log out everywhere": bumping the epoch invalidates every session issued before.
    pub async fn bump_session_epoch(&self, user: &UserId) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), PROFILE)))
            .update_expression("ADD session_epoch :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(classify)?;
        out.attributes
            .as_ref()
            .map(|a| get_n(a, "session_epoch"))
            .transpose()?
            .ok_or_else(|| StoreError::Corrupt("no epoch returned".into()))
    }

    /// Every live (not deleted) org of a user, with roles, oldest membership first.
    pub async fn memberships_of(&self, user: &UserId) -> Result<Vec<MembershipView>, StoreError> {
        let mut all = Vec::new();
        let mut page = PageRequest {
            limit: PageRequest::MAX_LIMIT,
            cursor: None,
        };
        loop {
            let p = self.memberships_page(user, &page).await?;
            all.extend(p.items);
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        all.sort_by(|a, b| {
            a.joined_at
                .cmp(&b.joined_at)
                .then_with(|| a.org.slug.as_str().cmp(b.org.slug.as_str()))
        });
        Ok(all)
    }

    /// One page of a user's live orgs (ordered by org id; deleted orgs are skipped).
    pub async fn memberships_page(
        &self,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<MembershipView>, StoreError> {
        let (mirrors, next_cursor) = self
            .query_page(&user_pk(user), USER_ORG_PREFIX, page, false, None)
            .await?;
        let mut roles: HashMap<OrgId, (Role, i64)> = HashMap::new();
        for m in &mirrors {
            roles.insert(parse(m, "org_id")?, (parse(m, "role")?, get_n(m, "joined_at")?));
        }
        let orgs = self.get_orgs(roles.keys().copied().collect()).await?;
        let mut items: Vec<MembershipView> = orgs
            .into_iter()
            .filter(|o| !o.is_deleted())
            .filter_map(|org| {
                roles.get(&org.id).map(|(role, joined_at)| MembershipView {
                    role: *role,
                    joined_at: *joined_at,
                    org,
                })
            })
            .collect();
        items.sort_by_key(|m| m.org.id);
        Ok(Page { items, next_cursor })
    }

    pub(crate) async fn get_orgs(&self, ids: Vec<OrgId>) -> Result<Vec<OrgRecord>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let mut pending: Vec<Item> = chunk.iter().map(|id| key(org_pk(id), META)).collect();
            for attempt in 0..8u32 {
                if pending.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(20 << attempt.min(5))).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(classify)?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    found.push(OrgRecord::from_item(&item)?);
                }
                pending = out
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(&self.table)
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Unavailable("batch get left unprocessed keys".into()));
            }
        }
        Ok(found)
    }
}
