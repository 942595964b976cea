//! A person's account (product §3), beyond signing up and logging in: proving the address
//! (verify, resend), moving to another address (the password proves the person, a link to
//! the new address proves the address), resetting a forgotten password by mailed link,
//! the sessions (list, end one, end all), and the system admin seeded from `ADMIN_EMAIL`.
//! Mailed-link tokens are stored as hashes, single-use and expiring; the rate limits, the
//! same-answer rules and the mail are here once.

use secrecy::{ExposeSecret, SecretString};

use crate::config::AuthConfig;
use crate::crypto::{PasswordHasher, SecretBox, SessionTokens, Verified, sha256_hex};
use crate::domain::{Email, Password, SessionId, UserId};
use crate::email::{self, EmailSender, Mail, MailStatus};
use crate::error::ApiError;
use crate::store::{Conflict, MailTokenPurpose, RateDecision, SessionRecord, Store, StoreError, TokenUse, UserRecord};

/// What the account use cases need: built per request from the auth function's state (all
/// borrowed). Signing up, logging in and out and `me` are in `services::sessions`.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a> {
    pub store: &'a Store,
    pub hasher: &'a PasswordHasher,
    /// Signs the session tokens (`session::issue`).
    pub tokens: &'a SessionTokens,
    /// Seals the webhook secrets of an org founded at signup.
    pub sealer: &'a SecretBox,
    /// Verification, address-change and password-reset mail.
    pub mailer: &'a dyn EmailSender,
    /// The limits, the access policy, `ADMIN_EMAIL` and where mail links point.
    pub config: &'a AuthConfig,
}

/// An address change asked for: whether the link went out and until when it works.
#[derive(Debug)]
pub struct EmailChange {
    pub mail_status: MailStatus,
    pub valid_until: i64,
}

pub(super) fn limited(decision: RateDecision) -> Result<(), ApiError> {
    match decision {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after_secs } => Err(ApiError::RateLimited { retry_after_secs }),
    }
}

/// The stored hash of a link's token (400 `invalid_token` for one that cannot be ours).
fn token_hash(raw: &str) -> Result<String, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 128 {
        return Err(ApiError::bad_request(
            "invalid_token",
            "the link's token is missing or malformed",
        ));
    }
    Ok(sha256_hex(raw.as_bytes()))
}

/// A used token's answer: 404 never issued, 410 used already or expired.
fn token_outcome(used: TokenUse) -> Result<UserId, ApiError> {
    match used {
        TokenUse::Done(id) => Ok(id),
        TokenUse::Unknown => Err(ApiError::NotFoundWhat {
            code: "token_not_found",
            message: "this link is not valid".into(),
        }),
        TokenUse::Gone => Err(ApiError::Gone {
            code: "token_gone",
            message: "this link was used already or has expired; ask for a new one".into(),
        }),
    }
}

/// Creates a verification token for `user`'s address and mails its link
/// (`{app_base_url}/verify-email/{token}`): the only way an address becomes verified besides
/// a reset or address-change link, which are mailed there too. Sent at signup, on request,
/// and to an account created by accepting an invitation.
pub async fn send_verification(
    store: &Store,
    mailer: &dyn EmailSender,
    app_base_url: &str,
    user: &UserRecord,
) -> Result<MailStatus, ApiError> {
    let (token, hash) = email::new_link_token();
    store
        .create_mail_token(MailTokenPurpose::VerifyEmail, &hash, user)
        .await?;
    let url = format!("{app_base_url}/verify-email/{}", token.expose_secret());
    Ok(email::deliver(mailer, &Mail::verify_email(&user.email, &url)).await)
}

/// Whether a session still works: not expired, and not ended by a "log out everywhere".
fn is_live(session: &SessionRecord, user: &UserRecord, now: i64) -> bool {
    session.expires_at > now && session.epoch == user.session_epoch
}

impl Accounts<'_> {
    /// The link for a mailed token: `{AGNUS_APP_BASE_URL}/{page}/{token}`.
    fn link(&self, page: &str, token: &SecretString) -> String {
        format!(
            "{}/{page}/{}",
            self.config.app_base_url.as_deref().unwrap_or_default(),
            token.expose_secret()
        )
    }

    /// Creates a verification token for the user's address and mails its link (at signup
    /// and on request).
    pub async fn send_verification(&self, user: &UserRecord) -> Result<MailStatus, ApiError> {
        let base = self.config.app_base_url.as_deref().unwrap_or_default();
        send_verification(self.store, self.mailer, base, user).await
    }

    /// Verifies an address with a link's token: the signup's (or a re-sent) link, or the
    /// link of an address change (which then moves the account to the new address and
    /// tells the old one). The account as it now is.
    pub async fn verify_email(&self, token: &str) -> Result<UserRecord, ApiError> {
        let hash = token_hash(token)?;
        let used = match self.store.verify_email_with_token(&hash).await? {
            TokenUse::Unknown => {
                let (used, old) = self.store.change_email_with_token(&hash).await?;
                if let (TokenUse::Done(id), Some(old)) = (used, old)
                    && let Some(user) = self.store.get_user(&id).await?
                {
                    tracing::info!(user_id = %id, "email address changed");
                    email::deliver(self.mailer, &Mail::email_changed(&old, &user.email)).await;
                }
                used
            }
            used => used,
        };
        let id = token_outcome(used)?;
        tracing::Span::current().record("user_id", tracing::field::display(id));
        tracing::info!("email address verified");
        self.account(&id).await
    }

    /// Sends the verification link again (409 `already_verified`; rate-limited per
    /// person).
    pub async fn resend_verification(&self, user: &UserRecord) -> Result<MailStatus, ApiError> {
        if user.email_verified {
            return Err(ApiError::Conflict {
                code: "already_verified",
                message: "your email address is verified already".into(),
            });
        }
        limited(
            self.store
                .rate_limit_hit(
                    "verify-resend",
                    &user.id.to_string(),
                    self.config.verify_resend_per_user,
                )
                .await?,
        )?;
        self.send_verification(user).await
    }

    /// Asks to move the account to `new_email`: the current password proves the person, a
    /// link mailed to the new address proves the address. Nothing changes until that link
    /// is used; the answer is the same whether or not another account uses the address.
    pub async fn change_email(
        &self,
        user: &UserRecord,
        new_email: &Email,
        password: &SecretString,
    ) -> Result<EmailChange, ApiError> {
        if *new_email == user.email {
            return Err(ApiError::bad_request(
                "same_email",
                "this is your current address already",
            ));
        }
        self.config.policy.check_account(new_email)?;
        limited(
            self.store
                .rate_limit_hit("email-change", &user.id.to_string(), self.config.verify_resend_per_user)
                .await?,
        )?;
        if matches!(
            self.hasher
                .verify(password.expose_secret(), &user.password_hash)
                .await?,
            Verified::Wrong
        ) {
            return Err(ApiError::Forbidden {
                code: "wrong_password",
                message: "the password is not correct".into(),
            });
        }
        let (token, hash) = email::new_link_token();
        let valid_until = self.store.create_email_change_token(&hash, user, new_email).await?;
        let url = self.link("verify-email", &token);
        let mail_status = email::deliver(self.mailer, &Mail::email_change(new_email, &url)).await;
        Ok(EmailChange {
            mail_status,
            valid_until,
        })
    }

    /// Mails a password-reset link if an account uses `email`. The caller learns nothing
    /// either way: per source address over the limit is a 429, but per address over the
    /// limit (or for one the policy refuses) nothing is sent and the answer does not change,
    /// so an address can neither be flooded nor probed. Nor can it be probed by timing:
    /// for an address no account uses, the same steps run — a token is stored (naming no
    /// account) and a reset mail is sent, to the SES mailbox simulator
    /// ([`email::DECOY_RECIPIENT`]) instead of the address.
    pub async fn request_password_reset(&self, email: &Email, client_ip: &str) -> Result<(), ApiError> {
        limited(
            self.store
                .rate_limit_hit("reset-ip", client_ip, self.config.password_reset_per_ip)
                .await?,
        )?;
        let address_allowed = matches!(
            self.store
                .rate_limit_hit("reset-email", email.as_str(), self.config.password_reset_per_email)
                .await?,
            RateDecision::Allowed
        );
        if !address_allowed || self.config.policy.check_account(email).is_err() {
            return Ok(());
        }
        let found = self.store.find_user_by_email(email).await?;
        let (token, hash) = email::new_link_token();
        let to = match &found {
            Some(user) => {
                self.store
                    .create_mail_token(MailTokenPurpose::PasswordReset, &hash, user)
                    .await?;
                user.email.clone()
            }
            None => {
                self.store.create_stand_in_reset_token(&hash, email).await?;
                Email::parse(email::DECOY_RECIPIENT).map_err(|_| ApiError::Internal("the stand-in recipient".into()))?
            }
        };
        let url = self.link("reset-password", &token);
        email::deliver(self.mailer, &Mail::password_reset(&to, &url)).await;
        Ok(())
    }

    /// Sets a new password with a reset link's token; every session of the account ends
    /// (in the same write). The account as it now is.
    pub async fn reset_password(&self, token: &str, password: SecretString) -> Result<UserRecord, ApiError> {
        let hash = token_hash(token)?;
        let password = Password::parse(password)?;
        let password_hash = self.hasher.hash(&password).await?;
        let id = token_outcome(self.store.reset_password_with_token(&hash, &password_hash).await?)?;
        tracing::Span::current().record("user_id", tracing::field::display(id));
        tracing::info!("password reset; every session ended");
        self.account(&id).await
    }

    /// The person's live sessions (expired ones and those a "log out everywhere" ended are
    /// left out), as stored.
    pub async fn live_sessions(&self, user: &UserRecord) -> Result<Vec<SessionRecord>, ApiError> {
        let now = self.store.now_secs();
        Ok(self
            .store
            .sessions_of(&user.id)
            .await?
            .into_iter()
            .filter(|s| is_live(s, user, now))
            .collect())
    }

    /// Ends one of the person's own live sessions (another user's id is simply not found:
    /// the lookup is under the person's key); the id ended.
    pub async fn end_session(&self, user: &UserRecord, raw_id: &str) -> Result<SessionId, ApiError> {
        let not_found = || ApiError::NotFoundWhat {
            code: "session_not_found",
            message: "no such session of yours".into(),
        };
        let id: SessionId = raw_id.parse().map_err(|_| not_found())?;
        if !self.live_sessions(user).await?.iter().any(|s| s.id == id) {
            return Err(not_found());
        }
        crate::session::end(self.store, &user.id, &id).await?;
        tracing::info!(user_id = %user.id, "session ended from the sessions list");
        Ok(id)
    }

    /// Ends every session of the person: the epoch moves on (every token issued before
    /// stops working) and the current session is deleted.
    pub async fn log_out_everywhere(&self, user: &UserRecord, current: &SessionId) -> Result<(), ApiError> {
        self.store.bump_session_epoch(&user.id).await?;
        crate::session::end(self.store, &user.id, current).await?;
        tracing::info!(user_id = %user.id, "logged out everywhere");
        Ok(())
    }

    /// An account named by a used token, promoted first if it is `ADMIN_EMAIL`'s (its owner
    /// has just proved the address).
    async fn account(&self, id: &UserId) -> Result<UserRecord, ApiError> {
        let mut user = self
            .store
            .get_user(id)
            .await?
            .ok_or_else(|| ApiError::Internal("token names a missing user".into()))?;
        user.is_system_admin = self.promote_if_admin(&user).await?;
        Ok(user)
    }

    /// `ADMIN_EMAIL`'s account becomes system admin once its owner has proved the address.
    async fn promote_if_admin(&self, user: &UserRecord) -> Result<bool, ApiError> {
        let Some(seed) = &self.config.admin else {
            return Ok(false);
        };
        if seed.email != user.email || user.is_system_admin {
            return Ok(user.is_system_admin);
        }
        let promoted = self.store.promote_verified_admin(&user.id).await?;
        if promoted {
            tracing::info!(user_id = %user.id, "verified ADMIN_EMAIL account promoted to system admin");
        }
        Ok(promoted)
    }

    /// Seeds the system admin from `ADMIN_EMAIL`/`ADMIN_PASSWORD` (idempotent): creates the
    /// account (verified) if the email is new; an existing account is promoted, its
    /// password kept, only if its owner verified the address — otherwise it is left as it
    /// is, with a warning, and promoted when its owner verifies the address (verify-email,
    /// reset link) or at the next cold start after that.
    pub async fn bootstrap_admin(&self) -> Result<(), ApiError> {
        let Some(seed) = &self.config.admin else {
            return Ok(());
        };
        for _ in 0..3 {
            if let Some(user) = self.store.find_user_by_email(&seed.email).await? {
                if !user.is_system_admin {
                    if self.store.promote_verified_admin(&user.id).await? {
                        tracing::info!(user_id = %user.id, "existing account promoted to system admin");
                    } else {
                        tracing::warn!(
                            user_id = %user.id,
                            "ADMIN_EMAIL names an existing account whose address is not verified: not promoted until its owner verifies it"
                        );
                    }
                }
                return Ok(());
            }
            let user = UserRecord {
                id: UserId::new(),
                email: seed.email.clone(),
                password_hash: self.hasher.hash(&seed.password).await?,
                is_system_admin: true,
                session_epoch: 0,
                created_at: self.store.now_secs(),
                // The operator chose this address and password: it needs no mailed proof.
                email_verified: true,
            };
            match self.store.create_user(&user).await {
                Ok(()) => {
                    tracing::info!(user_id = %user.id, "system admin created");
                    return Ok(());
                }
                // Another cold start created it concurrently: loop and promote/confirm.
                Err(StoreError::Conflict(Conflict::EmailTaken)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Internal("could not seed the system admin".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_that_cannot_be_ours_is_refused_before_any_lookup() {
        assert_eq!(token_hash("  ").unwrap_err().code(), "invalid_token");
        assert_eq!(token_hash(&"a".repeat(129)).unwrap_err().code(), "invalid_token");
        assert_eq!(token_hash(" abc ").unwrap(), token_hash("abc").unwrap());
    }

    #[test]
    fn a_used_token_answers_404_unknown_and_410_gone() {
        let id = UserId::new();
        assert_eq!(token_outcome(TokenUse::Done(id)).unwrap(), id);
        assert_eq!(token_outcome(TokenUse::Unknown).unwrap_err().code(), "token_not_found");
        assert_eq!(token_outcome(TokenUse::Gone).unwrap_err().code(), "token_gone");
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_link_token_hashes_or_is_refused(raw in prop_oneof![any::<String>(), "\\PC{120,140}"]) {
            if let Ok(hash) = token_hash(&raw) {
                prop_assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
                prop_assert!(raw.trim().len() <= 128);
            }
        }
    }
}
