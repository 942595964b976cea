//! Signing up (the account, its first session and its org in one transaction), logging in
//! (the per-address limit, the lockout per account and source address counted before the
//! check, the slowdown per account, the same answer and work for an unknown address and a
//! wrong password, the hash upgrade), logging out, and `me` (the caller's orgs and the active one). The
//! password hasher and the session token signing stay in `crypto` and `session`; the
//! cookie is the adapter's.

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{Verified, WebhookSecret};
use crate::domain::{Email, Password, Role, UserId};
use crate::email::MailStatus;
use crate::error::ApiError;
use crate::services::account::{Accounts, limited};
use crate::services::orgs::{self, Founded, Founder, OrgRequest};
use crate::session::{self, IssuedSession};
use crate::store::{MembershipView, Principal, RateDecision, SealedSecret, UserRecord};

/// How long each login attempt waits once an account has many failures from anywhere.
const LOGIN_SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(1);

/// A signup as parsed: the address, the password (its length rules checked) and the org.
#[derive(Debug)]
pub struct Signup {
    pub email: Email,
    pub password: Password,
    pub org: OrgRequest,
}

/// A new account: the user, their org (as owner), its webhook secrets (shown in full this
/// once), the first session and whether the verification mail went out.
#[derive(Debug)]
pub struct SignedUp {
    pub user: UserRecord,
    pub membership: MembershipView,
    pub secrets: Vec<(WebhookSecret, SealedSecret)>,
    pub session: IssuedSession,
    pub verification: MailStatus,
}

/// A login: the user, their orgs and the new session.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: UserRecord,
    pub orgs: Vec<MembershipView>,
    pub session: IssuedSession,
}

impl Accounts<'_> {
    /// Signs up: the access policy for org founders, then the per-address limit, then the
    /// user, their first session and their org in one transaction (`services::orgs`). The
    /// verification mail follows; the account exists whatever happens to it.
    pub async fn sign_up(&self, signup: Signup, client_ip: &str) -> Result<SignedUp, ApiError> {
        let Signup { email, password, org } = signup;
        self.config.policy.check_org_creation(&email)?;
        limited(
            self.store
                .rate_limit_hit("signup-ip", client_ip, self.config.signup_per_ip)
                .await?,
        )?;
        let password_hash = self.hasher.hash(&password).await?;
        let now = self.store.now_secs();
        let user = UserRecord {
            id: UserId::new(),
            email,
            password_hash,
            is_system_admin: false,
            session_epoch: 0,
            created_at: now,
            email_verified: false,
        };
        let session = session::issue(self.tokens, &user, self.config.session_ttl, self.store.now_secs())?;
        let founder = Founder::Signup {
            user: &user,
            session: &session.record,
        };
        let Founded { org, secrets } = orgs::create_org(self.store, self.sealer, founder, org, now).await?;
        tracing::Span::current().record("user_id", tracing::field::display(user.id));
        tracing::info!(org_id = %org.id, "signed up");
        crate::metrics::signup();
        // A failure can be resent.
        let verification = match self.send_verification(&user).await {
            Ok(status) => status,
            Err(e) => {
                tracing::warn!(error = %e, "verification link not created");
                MailStatus::Failed
            }
        };
        let membership = MembershipView {
            org,
            role: Role::Owner,
            joined_at: now,
        };
        Ok(SignedUp {
            user,
            membership,
            secrets,
            session,
            verification,
        })
    }

    /// Logs in. Any malformed address, unknown address or wrong password is the same 401,
    /// after the same password work (`PasswordHasher::check_login`). Lockout is per
    /// (account, source address): a stranger elsewhere cannot lock the owner out; per
    /// account from anywhere, failures only slow attempts down. Each attempt is counted
    /// before its password is checked, by an increment that refuses past the limit, so
    /// parallel attempts get no more checks than the limit allows; a success gives its
    /// count back. A hash at older parameters is upgraded.
    pub async fn log_in(&self, email: &str, password: &SecretString, client_ip: &str) -> Result<LoggedIn, ApiError> {
        let email = Email::parse(email).map_err(|_| ApiError::InvalidCredentials)?;
        limited(
            self.store
                .rate_limit_hit("login-ip", client_ip, self.config.login_per_ip)
                .await?,
        )?;
        self.config.policy.check_account(&email)?;
        let pair = format!("{}|{}", email.as_str(), client_ip);
        let (decision, pair_count) = self
            .store
            .rate_limit_count("login-fail-pair", &pair, self.config.login_failures_per_email)
            .await?;
        limited(decision)?;
        let (decision, account_count) = self
            .store
            .rate_limit_count("login-fail-email", email.as_str(), self.config.login_slowdown_per_email)
            .await?;
        if let RateDecision::Limited { .. } = decision {
            tokio::time::sleep(LOGIN_SLOWDOWN).await;
        }

        let password = password.expose_secret();
        let found = self.store.find_user_by_email(&email).await?;
        let verified = self
            .hasher
            .check_login(password, found.as_ref().map(|u| &u.password_hash))
            .await?;
        let user = match (found, verified) {
            (Some(user), Verified::Ok) => user,
            (Some(user), Verified::OkNeedsRehash) => {
                self.upgrade_hash(&user, password).await;
                user
            }
            // The attempt stays counted as a failure.
            _ => return Err(ApiError::InvalidCredentials),
        };
        for counted in [pair_count, account_count].iter().flatten() {
            self.store.rate_limit_refund(counted).await?;
        }
        tracing::Span::current().record("user_id", tracing::field::display(user.id));
        let session = session::issue(self.tokens, &user, self.config.session_ttl, self.store.now_secs())?;
        self.store.create_session(&session.record).await?;
        let orgs = self.store.memberships_of(&user.id).await?;
        tracing::info!("logged in");
        Ok(LoggedIn { user, orgs, session })
    }

    /// Stores a hash at the current parameters after a login with an older, weaker one.
    async fn upgrade_hash(&self, user: &UserRecord, password: &str) {
        let Ok(password) = Password::parse(SecretString::from(password.to_owned())) else {
            return; // Legacy passwords outside today's length rules keep their hash.
        };
        let result = async {
            let hash = self.hasher.hash(&password).await?;
            self.store.update_password_hash(&user.id, &hash).await?;
            Ok::<_, ApiError>(())
        }
        .await;
        match result {
            Ok(()) => tracing::info!(user_id = %user.id, "password hash upgraded to current parameters"),
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e, "password hash upgrade failed; will retry next login")
            }
        }
    }

    /// Ends the caller's session, if the request carried a person's live one (logging out
    /// without one, or with an API key, is not an error).
    pub async fn log_out(&self, caller: Option<Principal>) -> Result<(), ApiError> {
        if let Some(Principal::User { user, session_id }) = caller {
            session::end(self.store, &user.id, &session_id).await?;
            tracing::info!(user_id = %user.id, "logged out");
        }
        Ok(())
    }

    /// The orgs `user` belongs to (all of them), for `me`.
    pub async fn my_orgs(&self, user: &UserRecord) -> Result<Vec<MembershipView>, ApiError> {
        tracing::Span::current().record("user_id", tracing::field::display(user.id));
        Ok(self.store.memberships_of(&user.id).await?)
    }
}

/// The active org among `orgs`: the one `requested` names (`X-Org-Slug`; 403 `not_a_member`
/// whether the org exists or the caller is not in it), else the only one, else none.
pub fn active_org<'a>(
    orgs: &'a [MembershipView],
    requested: Option<&str>,
) -> Result<Option<&'a MembershipView>, ApiError> {
    Ok(match requested {
        Some(slug) => Some(
            orgs.iter()
                .find(|m| m.org.slug.as_str() == slug)
                .ok_or(ApiError::Forbidden {
                    code: "not_a_member",
                    message: "you are not a member of that organization".into(),
                })?,
        ),
        None if orgs.len() == 1 => orgs.first(),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrgName, Slug};
    use crate::store::OrgRecord;

    fn member_of(slug: &str) -> MembershipView {
        MembershipView {
            org: OrgRecord::new(Slug::parse(slug).unwrap(), OrgName::parse("Acme").unwrap(), 0),
            role: Role::Member,
            joined_at: 0,
        }
    }

    #[test]
    fn the_active_org_is_the_named_one_else_the_only_one() {
        let one = vec![member_of("acme")];
        let two = vec![member_of("acme"), member_of("other")];
        assert_eq!(active_org(&one, None).unwrap().unwrap().org.slug.as_str(), "acme");
        assert!(active_org(&two, None).unwrap().is_none());
        assert_eq!(
            active_org(&two, Some("other")).unwrap().unwrap().org.slug.as_str(),
            "other"
        );
        assert!(matches!(
            active_org(&two, Some("nope")),
            Err(ApiError::Forbidden {
                code: "not_a_member",
                ..
            })
        ));
        assert!(matches!(
            active_org(&[], Some("")),
            Err(ApiError::Forbidden {
                code: "not_a_member",
                ..
            })
        ));
    }
}
