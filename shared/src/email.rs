//! Outgoing email behind one interface. The shipped sender writes the message (with the
//! accept link) to the log, for local use and for deployments that deliver invitations
//! themselves (the link is also returned to the inviting admin). To send real mail,
//! implement [`EmailSender`] over SES (`aws-sdk-sesv2` `SendEmail`) and select it in the
//! function's `main.rs`; nothing else changes.

use std::future::Future;
use std::pin::Pin;

use crate::domain::{Email, Role};

#[derive(Debug, thiserror::Error)]
#[error("email not sent: {0}")]
pub struct EmailError(pub String);

/// An invitation to deliver.
#[derive(Debug)]
pub struct InviteEmail<'a> {
    pub to: &'a Email,
    pub org_name: &'a str,
    pub inviter: Option<&'a str>,
    pub role: Role,
    pub accept_url: &'a str,
    pub expires_at: i64,
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), EmailError>> + Send + 'a>>;

pub trait EmailSender: Send + Sync + std::fmt::Debug {
    fn send_invite<'a>(&'a self, mail: &'a InviteEmail<'a>) -> SendFuture<'a>;
}

/// Writes invitations to the log (target `agnus::mail`) instead of sending them.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogEmailSender;

impl EmailSender for LogEmailSender {
    fn send_invite<'a>(&'a self, mail: &'a InviteEmail<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(
                target: "agnus::mail",
                to = %mail.to,
                org = mail.org_name,
                role = mail.role.as_str(),
                accept_url = mail.accept_url,
                expires_at = mail.expires_at,
                "invitation (log sender: deliver this link to the invitee)"
            );
            Ok(())
        })
    }
}
