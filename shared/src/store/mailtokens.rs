//! Single-use tokens sent by mail: email verification (24 h) and password reset (1 h).
//! Same rules as invitation tokens: 256 random bits shown once in the link, only the
//! SHA-256 stored (`MAILTOKEN#<hash>`), spent by a conditional write in the same
//! transaction that changes the account, so a token works once even under races.
//!
//! A token names the address it was issued for (as its SHA-256, so the token item holds no
//! address): if the account's address changed since, it no longer does anything. Every
//! token also carries the account's session epoch, and the transaction that spends it
//! requires the account to be at that epoch still ([`Conflict::TokenVoided`]): a password
//! reset or "log out everywhere" bumps the epoch (ending every session), which voids every
//! verification, address-change and reset link issued before it — an address change asked
//! for by someone who held a session does not survive the owner's recovery.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Update};

use super::keys::*;
use super::records::{UserRecord, email_claim, put_new};
use super::tx::Tx;
use super::{Conflict, Item, Store, StoreError, get_n, get_opt_s, get_s, n, parse, s};
use crate::crypto::{PasswordHashString, sha256_hex};
use crate::domain::{Email, UserId};

/// Lifetime of an email verification link.
pub const VERIFY_TTL_SECS: i64 = 86_400;
/// Lifetime of a password reset link.
pub const RESET_TTL_SECS: i64 = 3_600;
/// Spent and expired tokens are kept this long (answering 410), then TTL removes them.
const KEEP_SECS: i64 = 7 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTokenPurpose {
    VerifyEmail,
    PasswordReset,
    /// Proves a new address before the account moves to it (the item names that address).
    ChangeEmail,
}

impl MailTokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::ChangeEmail => "change_email",
        }
    }
    fn ttl(self) -> i64 {
        match self {
            Self::VerifyEmail | Self::ChangeEmail => VERIFY_TTL_SECS,
            Self::PasswordReset => RESET_TTL_SECS,
        }
    }
}

/// What using a token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// Never issued (or issued for the other purpose).
    Unknown,
    /// Used, expired, or overtaken (address changed; password reset since).
    Gone,
    /// Done, for this account.
    Done(UserId),
}

struct Stored {
    user: UserRecord,
    epoch: u64,
    valid_until: i64,
    new_email: Option<String>,
}

/// The condition on the account a token changes: it exists, still has the address (`:e`)
/// and the session epoch (`:ep`) the token was issued for. Its failure is
/// [`Conflict::TokenVoided`].
const STILL_ISSUED_FOR: &str = "attribute_exists(pk) AND email = :e AND session_epoch = :ep";

fn spend(table: &str, token_hash: &str, now: i64) -> Result<Update, StoreError> {
    Update::builder()
        .table_name(table)
        .set_key(Some(key(mail_token_pk(token_hash), MAIL_TOKEN_SK)))
        .update_expression("SET #status = :spent, spent_at = :now")
        .condition_expression("#status = :live AND valid_until > :now")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":spent", s("spent"))
        .expression_attribute_values(":live", s("live"))
        .expression_attribute_values(":now", n(now))
        .build()
        .map_err(|e| StoreError::Backend(e.to_string()))
}

impl Store {
    /// Stores a new live token for `user`; answers its expiry (unix seconds).
    pub async fn create_mail_token(
        &self,
        purpose: MailTokenPurpose,
        token_hash: &str,
        user: &UserRecord,
    ) -> Result<i64, StoreError> {
        self.put_mail_token(purpose, token_hash, (&user.id, &user.email, user.session_epoch), None)
            .await
    }

    /// Stores a reset token for an address no account uses — the same write as for an
    /// account, so a reset request costs the same whether or not the account exists. It
    /// names a user id that exists nowhere: using it resets nothing (410).
    pub async fn create_stand_in_reset_token(&self, token_hash: &str, email: &Email) -> Result<i64, StoreError> {
        let nobody = UserId::new();
        self.put_mail_token(MailTokenPurpose::PasswordReset, token_hash, (&nobody, email, 0), None)
            .await
    }

    /// Stores a token that moves `user` to `new_email` once used (it was mailed there).
    pub async fn create_email_change_token(
        &self,
        token_hash: &str,
        user: &UserRecord,
        new_email: &Email,
    ) -> Result<i64, StoreError> {
        let owner = (&user.id, &user.email, user.session_epoch);
        self.put_mail_token(MailTokenPurpose::ChangeEmail, token_hash, owner, Some(new_email))
            .await
    }

    /// `owner`: the account's id, the address the token is sent for and the session epoch.
    async fn put_mail_token(
        &self,
        purpose: MailTokenPurpose,
        token_hash: &str,
        (user_id, address, epoch): (&UserId, &Email, u64),
        new_email: Option<&Email>,
    ) -> Result<i64, StoreError> {
        let valid_until = self.now_secs() + purpose.ttl();
        let mut item: Item = key(mail_token_pk(token_hash), MAIL_TOKEN_SK);
        item.insert("type".into(), s("mail_token"));
        item.insert("purpose".into(), s(purpose.as_str()));
        item.insert("user_id".into(), s(user_id.to_string()));
        item.insert("address_sha256".into(), s(sha256_hex(address.as_str().as_bytes())));
        item.insert("epoch".into(), n(epoch));
        if let Some(new_email) = new_email {
            item.insert("new_email".into(), s(new_email.as_str()));
        }
        item.insert("status".into(), s("live"));
        item.insert("valid_until".into(), n(valid_until));
        item.insert("expires_at".into(), n(valid_until + KEEP_SECS));
        let mut tx = Tx::new();
        tx.put(put_new(&self.table, item)?)?;
        self.transact(tx).await?;
        Ok(valid_until)
    }

    /// `None`: no token issued for `purpose`; `Some(None)`: issued, but its account is gone,
    /// no longer has the address it was sent to, or moved to another session epoch; else
    /// the token and its account. (A read: the spending transaction checks it again.)
    async fn mail_token(
        &self,
        purpose: MailTokenPurpose,
        token_hash: &str,
    ) -> Result<Option<Option<Stored>>, StoreError> {
        let Some(item) = self.get(key(mail_token_pk(token_hash), MAIL_TOKEN_SK)).await? else {
            return Ok(None);
        };
        if get_opt_s(&item, "purpose") != Some(purpose.as_str()) {
            return Ok(None);
        }
        let user_id: UserId = parse(&item, "user_id")?;
        let Some(user) = self.get_user(&user_id).await? else {
            return Ok(Some(None));
        };
        let epoch: u64 = get_n(&item, "epoch")?;
        if sha256_hex(user.email.as_str().as_bytes()) != get_s(&item, "address_sha256")? || epoch != user.session_epoch
        {
            return Ok(Some(None));
        }
        Ok(Some(Some(Stored {
            user,
            epoch,
            valid_until: get_n(&item, "valid_until")?,
            new_email: get_opt_s(&item, "new_email").map(str::to_owned),
        })))
    }

    /// A token of `purpose` that can still be used at `now`, or what using it would answer
    /// (`Unknown`: never issued; `Gone`: expired or overtaken).
    async fn live_token(
        &self,
        purpose: MailTokenPurpose,
        token_hash: &str,
        now: i64,
    ) -> Result<Result<Stored, TokenUse>, StoreError> {
        Ok(match self.mail_token(purpose, token_hash).await? {
            None => Err(TokenUse::Unknown),
            Some(None) => Err(TokenUse::Gone),
            Some(Some(token)) if token.valid_until <= now => Err(TokenUse::Gone),
            Some(Some(token)) => Ok(token),
        })
    }

    /// Spends a verification token and marks its account's address verified (if the
    /// account still has the address the token was sent to, at the token's session epoch),
    /// in one transaction.
    pub async fn verify_email_with_token(&self, token_hash: &str) -> Result<TokenUse, StoreError> {
        let now = self.now_secs();
        let token = match self.live_token(MailTokenPurpose::VerifyEmail, token_hash, now).await? {
            Ok(token) => token,
            Err(used) => return Ok(used),
        };
        let user = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&token.user.id), PROFILE)))
            .update_expression("SET email_verified = :t")
            .condition_expression(STILL_ISSUED_FOR)
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":e", s(token.user.email.as_str()))
            .expression_attribute_values(":ep", n(token.epoch))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = Tx::new();
        tx.update_if(spend(&self.table, token_hash, now)?, Conflict::Vanished)?;
        tx.update_if(user, Conflict::TokenVoided)?;
        match self.transact(tx).await {
            Ok(()) => Ok(TokenUse::Done(token.user.id)),
            Err(StoreError::Conflict(_)) => Ok(TokenUse::Gone),
            Err(e) => Err(e),
        }
    }

    /// Spends a reset token: stores the new password hash, bumps the session epoch (every
    /// session ends, and every other reset link dies) and marks the address verified (the
    /// link reached it) — one transaction.
    pub async fn reset_password_with_token(
        &self,
        token_hash: &str,
        new_hash: &PasswordHashString,
    ) -> Result<TokenUse, StoreError> {
        let now = self.now_secs();
        let token = match self
            .live_token(MailTokenPurpose::PasswordReset, token_hash, now)
            .await?
        {
            Ok(token) => token,
            Err(used) => return Ok(used),
        };
        let user = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&token.user.id), PROFILE)))
            .update_expression("SET password_hash = :h, email_verified = :t ADD session_epoch :one")
            .condition_expression(STILL_ISSUED_FOR)
            .expression_attribute_values(":h", s(new_hash.as_str()))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":e", s(token.user.email.as_str()))
            .expression_attribute_values(":ep", n(token.epoch))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = Tx::new();
        tx.update_if(spend(&self.table, token_hash, now)?, Conflict::Vanished)?;
        tx.update_if(user, Conflict::TokenVoided)?;
        match self.transact(tx).await {
            Ok(()) => Ok(TokenUse::Done(token.user.id)),
            Err(StoreError::Conflict(_)) => Ok(TokenUse::Gone),
            Err(e) => Err(e),
        }
    }

    /// Spends an address-change token: the account (still at the address and session
    /// epoch the token was issued for) moves to the new address (verified: the link
    /// reached it), the old address's claim is released, the new one claimed
    /// (409 if another account took it meanwhile), and every membership's copy of the
    /// address follows — one transaction. Answers the old address, for the notice.
    pub async fn change_email_with_token(&self, token_hash: &str) -> Result<(TokenUse, Option<Email>), StoreError> {
        let now = self.now_secs();
        let token = match self.live_token(MailTokenPurpose::ChangeEmail, token_hash, now).await? {
            Ok(token) => token,
            Err(used) => return Ok((used, None)),
        };
        let Some(new_email) = token.new_email.as_deref().and_then(|e| Email::parse(e).ok()) else {
            return Ok((TokenUse::Gone, None));
        };
        let old = token.user.email.clone();
        let user = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&token.user.id), PROFILE)))
            .update_expression("SET email = :new, email_verified = :t, updated_at = :now")
            .condition_expression(STILL_ISSUED_FOR)
            .expression_attribute_values(":new", s(new_email.as_str()))
            .expression_attribute_values(":e", s(old.as_str()))
            .expression_attribute_values(":ep", n(token.epoch))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":now", n(now))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let release = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(email_pk(&old), EMAIL_SK)))
            .condition_expression("user_id = :me")
            .expression_attribute_values(":me", s(token.user.id.to_string()))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut moved = token.user.clone();
        moved.email = new_email;
        let mut tx = Tx::new();
        tx.update_if(spend(&self.table, token_hash, now)?, Conflict::Vanished)?;
        tx.update_if(user, Conflict::TokenVoided)?;
        tx.delete_if(release, Conflict::Vanished)?;
        tx.put_if(put_new(&self.table, email_claim(&moved))?, Conflict::EmailTaken)?;
        for membership in self.memberships_of(&token.user.id).await? {
            let member = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(org_pk(&membership.org.id), member_sk(&token.user.id))))
                .update_expression("SET email = :new")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":new", s(moved.email.as_str()))
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            tx.update_if(member, Conflict::Vanished)?;
        }
        match self.transact(tx).await {
            Ok(()) => Ok((TokenUse::Done(token.user.id), Some(old))),
            Err(StoreError::Conflict(Conflict::EmailTaken)) => Err(StoreError::Conflict(Conflict::EmailTaken)),
            Err(StoreError::Conflict(_)) => Ok((TokenUse::Gone, None)),
            Err(e) => Err(e),
        }
    }

    /// Makes a verified account system admin (the `ADMIN_EMAIL` seed); refuses (`Ok(false)`)
    /// an account whose address is not verified.
    pub async fn promote_verified_admin(&self, user: &UserId) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), PROFILE)))
            .update_expression("SET is_system_admin = :t")
            .condition_expression("attribute_exists(pk) AND email_verified = :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(super::classify(e)),
        }
    }
}
