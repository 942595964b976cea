//! Invitations (product §6): an admin invites an address with a role, the invitee accepts
//! with the account they have or a new one. Every entry point (the JSON routes today, the
//! console's forms, a CLI) goes through these functions, so the rules — no owner invites,
//! no duplicate members, the per-org daily quota, the one-use link, the mail and its
//! status, the audit entry — are written once.

use secrecy::ExposeSecret;
use serde_json::json;

use crate::config::RateLimit;
use crate::crypto::sha256_hex;
use crate::domain::{Email, Role};
use crate::email::{self, EmailSender, InviteEmail, Mail, MailStatus};
use crate::error::ApiError;
use crate::services::access::require_admin;
use crate::services::account::send_verification;
use crate::store::{
    Acceptor, Actor, AuditEvent, Conflict, InviteRecord, InviteStatus, OrgRecord, OrgScope, Page, PageRequest,
    RateDecision, SessionRecord, Store, StoreError, TokenLookup, UserRecord,
};

/// What the invitation use cases need besides the scope: built per request from the
/// function's state (all borrowed).
#[derive(Debug, Clone, Copy)]
pub struct Invitations<'a> {
    pub store: &'a Store,
    pub mailer: &'a dyn EmailSender,
    /// The console's public origin: links in mails point there.
    pub app_base_url: &'a str,
    pub per_org_per_day: RateLimit,
}

/// An invitation just (re)issued: its record (with whether the mail went out) and the one
/// accept link, shown to the admin this once.
#[derive(Debug)]
pub struct Issued {
    pub invite: InviteRecord,
    pub accept_url: String,
}

/// The person accepting.
#[derive(Debug, Clone, Copy)]
pub enum Accepting<'a> {
    /// Logged in: their account must carry the invited address.
    Existing(&'a UserRecord),
    /// A new account for the invited address, created with its first session.
    New {
        user: &'a UserRecord,
        session: &'a SessionRecord,
    },
}

fn not_found(message: &str) -> ApiError {
    ApiError::NotFoundWhat {
        code: "invite_not_found",
        message: message.into(),
    }
}

fn not_pending() -> ApiError {
    StoreError::Conflict(Conflict::InviteNotPending).into()
}

impl Invitations<'_> {
    /// Invites `email` as `role` (admin or member: ownership moves only by transfer).
    pub async fn invite(&self, scope: &OrgScope, email: &Email, role: Role) -> Result<Issued, ApiError> {
        require_admin(scope)?;
        if role == Role::Owner {
            return Err(ApiError::bad_request(
                "invalid_role",
                "invite as admin or member; ownership moves only by transfer",
            ));
        }
        if let Some(user) = self.store.find_user_by_email(email).await?
            && self.store.is_member(scope, &user.id).await?
        {
            return Err(StoreError::Conflict(Conflict::AlreadyMember).into());
        }
        self.quota(scope).await?;
        let (token, hash) = email::new_link_token();
        let event = scope
            .audit("invite.created")
            .details(json!({ "email": email.as_str(), "role": role }));
        let invite = self.store.create_invite(scope, email, role, &hash, &event).await?;
        let issued = self.deliver(scope, invite, token.expose_secret(), false).await;
        tracing::info!(invite_id = %issued.invite.id, "invitation created");
        crate::metrics::invitation_sent();
        Ok(issued)
    }

    /// The org's pending invitations, a page at a time.
    pub async fn pending(&self, scope: &OrgScope, page: &PageRequest) -> Result<Page<InviteRecord>, ApiError> {
        require_admin(scope)?;
        Ok(self.store.pending_invites(scope, page).await?)
    }

    /// Withdraws an invitation: its link stops working.
    pub async fn revoke(&self, scope: &OrgScope, id: &str) -> Result<(), ApiError> {
        require_admin(scope)?;
        let invite = self.find(scope, id).await?;
        let event = scope
            .audit("invite.revoked")
            .target(&invite.id)
            .details(json!({ "email": invite.email }));
        self.store.revoke_invite(scope, &invite, &event).await?;
        Ok(())
    }

    /// Sends a pending invitation again with a new link (the old one stops working).
    pub async fn resend(&self, scope: &OrgScope, id: &str) -> Result<Issued, ApiError> {
        require_admin(scope)?;
        let invite = self.find(scope, id).await?;
        if invite.status != InviteStatus::Pending {
            return Err(not_pending());
        }
        self.quota(scope).await?;
        let (token, hash) = email::new_link_token();
        let event = scope
            .audit("invite.resent")
            .target(&invite.id)
            .details(json!({ "email": invite.email }));
        crate::metrics::invitation_sent();
        let invite = self.store.resend_invite(scope, &invite, &hash, &event).await?;
        Ok(self.deliver(scope, invite, token.expose_secret(), true).await)
    }

    /// A link's live invitation and its org, or the right error: 404 never issued, 410
    /// used / revoked / replaced / expired / org deleted.
    pub async fn live(&self, token: &str) -> Result<(InviteRecord, OrgRecord), ApiError> {
        let not_valid = || not_found("this invitation link is not valid");
        if token.is_empty() || token.len() > 128 {
            return Err(not_valid());
        }
        match self.store.lookup_invite_token(&sha256_hex(token.as_bytes())).await? {
            TokenLookup::Unknown => Err(not_valid()),
            TokenLookup::Spent => Err(not_pending()),
            TokenLookup::Live(found) => {
                let (invite, org) = *found;
                if invite.status != InviteStatus::Pending
                    || invite.is_expired(self.store.now_secs())
                    || org.is_deleted()
                {
                    Err(not_pending())
                } else {
                    Ok((invite, org))
                }
            }
        }
    }

    /// Refuses a new account for an address that has one: the invitee logs in first.
    pub async fn require_no_account(&self, invited: &Email) -> Result<(), ApiError> {
        if self.store.find_user_by_email(invited).await?.is_some() {
            return Err(ApiError::Conflict {
                code: "account_exists",
                message: "an account with the invited email exists; log in with it, then accept the invitation".into(),
            });
        }
        Ok(())
    }

    /// Makes the person a member with the invited role (the invitation is spent in the same
    /// transaction), then welcomes them by mail. Accepting verifies no address (the link
    /// was shown to the admin too): a new account gets a verification mail, as at signup,
    /// and its status is answered (`None` for an existing account).
    pub async fn accept(
        &self,
        invite: &InviteRecord,
        org: &OrgRecord,
        who: Accepting<'_>,
    ) -> Result<Option<MailStatus>, ApiError> {
        let (user, acceptor) = match who {
            Accepting::Existing(user) => {
                if Email::parse(&invite.email).map_or(true, |invited| invited != user.email) {
                    return Err(ApiError::Forbidden {
                        code: "invite_email_mismatch",
                        message: "this invitation was sent to another email address; log in with that address, or ask for an invitation to yours".into(),
                    });
                }
                (user, Acceptor::Existing(user))
            }
            Accepting::New { user, session } => (user, Acceptor::New(user, session)),
        };
        let event = AuditEvent::new("invite.accepted", Actor::user(user))
            .target(&invite.id)
            .details(json!({ "email": invite.email, "role": invite.role }));
        self.store.accept_invite(invite, org, acceptor, &event).await?;
        tracing::info!(user_id = %user.id, new_account = matches!(who, Accepting::New { .. }), "invitation accepted");
        crate::metrics::invitation_accepted();
        self.welcome(&user.email, invite, org).await;
        if !matches!(who, Accepting::New { .. }) {
            return Ok(None);
        }
        // The account exists whatever happens to this mail; a failure can be resent.
        Ok(Some(
            match send_verification(self.store, self.mailer, self.app_base_url, user).await {
                Ok(status) => status,
                Err(e) => {
                    tracing::warn!(error = %e, "verification link not created");
                    MailStatus::Failed
                }
            },
        ))
    }

    async fn find(&self, scope: &OrgScope, id: &str) -> Result<InviteRecord, ApiError> {
        self.store
            .invite(scope, id)
            .await?
            .ok_or_else(|| not_found("no such invitation in this organization"))
    }

    async fn quota(&self, scope: &OrgScope) -> Result<(), ApiError> {
        match self
            .store
            .rate_limit_hit("invites-org", &scope.org_id().to_string(), self.per_org_per_day)
            .await?
        {
            RateDecision::Allowed => Ok(()),
            RateDecision::Limited { retry_after_secs } => Err(ApiError::RateLimited { retry_after_secs }),
        }
    }

    /// Mails the invitation and records on it whether it went out (the admin sees "not
    /// sent — resend"). The invitation stands either way; the link is never logged.
    async fn deliver(&self, scope: &OrgScope, mut invite: InviteRecord, token: &str, resent: bool) -> Issued {
        let accept_url = format!("{}/invite/{token}", self.app_base_url);
        let status = match Email::parse(&invite.email) {
            Ok(to) => {
                let mail = Mail::invitation(&InviteEmail {
                    to: &to,
                    org_name: scope.org().name.as_str(),
                    inviter: invite.invited_by_email.as_deref(),
                    role: invite.role,
                    accept_url: &accept_url,
                    expires_at: invite.expires_at,
                    resent,
                });
                email::deliver(self.mailer, &mail).await
            }
            Err(_) => MailStatus::Failed,
        };
        if status == MailStatus::Failed {
            tracing::warn!(invite_id = %invite.id, "invitation not sent; the admin can resend it");
        }
        if let Err(e) = self.store.set_invite_mail_status(&invite, status).await {
            tracing::warn!(invite_id = %invite.id, error = %e, "mail status not recorded");
        }
        invite.mail_status = Some(status);
        Issued { invite, accept_url }
    }

    /// "You were added to {org}", once the membership exists. A failed send is logged and
    /// never undoes the acceptance.
    async fn welcome(&self, to: &Email, invite: &InviteRecord, org: &OrgRecord) {
        let url = format!("{}/orgs/{}", self.app_base_url, org.slug.as_str());
        let mail = Mail::member_added(to, org.name.as_str(), invite.role, &url);
        email::deliver(self.mailer, &mail).await;
    }
}
