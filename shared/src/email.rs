//! Outgoing email behind one interface. [`SesEmailSender`] sends through SESv2
//! `SendEmail` from `AGNUS_MAIL_FROM` (a verified SES identity); without that setting
//! [`NoEmailSender`] refuses every message, so callers record "not sent" and nothing is
//! ever written to a log instead. A message's bodies carry bearer links (invitation,
//! verification, password reset): [`Mail`]'s `Debug` never shows them, and no sender logs
//! them — a failure is reported with the message kind and recipient only.

use std::future::Future;
use std::pin::Pin;

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::domain::{Email, Role};

#[derive(Debug, thiserror::Error)]
#[error("email not sent: {0}")]
pub struct EmailError(pub String);

/// What a message is for (a log field, and the subject's source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Invitation,
    InvitationResent,
    VerifyEmail,
    PasswordReset,
    MemberAdded,
    MemberRemoved,
    OwnershipTransferred,
    /// The link that proves a new address before the account moves to it.
    EmailChange,
    /// To the old address, once the account moved away from it.
    EmailChanged,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::InvitationResent => "invitation_resent",
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::MemberAdded => "member_added",
            Self::MemberRemoved => "member_removed",
            Self::OwnershipTransferred => "ownership_transferred",
            Self::EmailChange => "email_change",
            Self::EmailChanged => "email_changed",
        }
    }
}

/// One message: plain-text and HTML bodies of the same content.
#[derive(Clone)]
pub struct Mail {
    pub kind: MailKind,
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for Mail {
    // The bodies hold bearer links: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("kind", &self.kind)
            .field("to", &self.to.as_str())
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Escapes text for an HTML body.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A message of `lines` (paragraphs) and an optional call to action (label, link).
fn compose(kind: MailKind, to: &Email, subject: String, lines: &[String], action: Option<(&str, &str)>) -> Mail {
    let mut text = lines.join("\n\n");
    let mut html = String::from("<!doctype html><html><body style=\"font-family:sans-serif\">");
    for line in lines {
        html.push_str(&format!("<p>{}</p>", esc(line)));
    }
    if let Some((label, url)) = action {
        text.push_str(&format!("\n\n{label}: {url}"));
        html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", esc(url), esc(label)));
        html.push_str(&format!(
            "<p style=\"color:#666;font-size:small\">Or paste this link into your browser: {}</p>",
            esc(url)
        ));
    }
    text.push_str("\n\n— AgnusAI\n");
    html.push_str("<p style=\"color:#666\">— AgnusAI</p></body></html>");
    Mail {
        kind,
        to: to.clone(),
        subject,
        text,
        html,
    }
}

/// An invitation to deliver.
#[derive(Debug)]
pub struct InviteEmail<'a> {
    pub to: &'a Email,
    pub org_name: &'a str,
    pub inviter: Option<&'a str>,
    pub role: Role,
    pub accept_url: &'a str,
    pub expires_at: i64,
    /// A resend (new link; the previous one no longer works).
    pub resent: bool,
}

impl Mail {
    pub fn invitation(invite: &InviteEmail<'_>) -> Self {
        let who = invite.inviter.unwrap_or("An administrator");
        let expires = httpdate::fmt_http_date(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(invite.expires_at.max(0).unsigned_abs()),
        );
        let mut lines = vec![format!(
            "{who} invited you to join {} on AgnusAI as {}.",
            invite.org_name,
            invite.role.as_str()
        )];
        if invite.resent {
            lines.push("This is a new link; any earlier invitation link no longer works.".into());
        }
        lines.push(format!("The link works once and expires on {expires}."));
        let (kind, subject) = if invite.resent {
            (
                MailKind::InvitationResent,
                format!("Reminder: join {} on AgnusAI", invite.org_name),
            )
        } else {
            (MailKind::Invitation, format!("Join {} on AgnusAI", invite.org_name))
        };
        compose(
            kind,
            invite.to,
            subject,
            &lines,
            Some(("Accept the invitation", invite.accept_url)),
        )
    }

    pub fn verify_email(to: &Email, url: &str) -> Self {
        compose(
            MailKind::VerifyEmail,
            to,
            "Verify your email address for AgnusAI".into(),
            &[
                format!("Confirm that {to} is your address by opening the link below."),
                "The link works once and expires in 24 hours. If you did not sign up, ignore this message.".into(),
            ],
            Some(("Verify my address", url)),
        )
    }

    pub fn email_change(to: &Email, url: &str) -> Self {
        compose(
            MailKind::EmailChange,
            to,
            "Confirm your new email address for AgnusAI".into(),
            &[
                format!("Someone signed in to an AgnusAI account asked to use {to} as its address."),
                "Open the link below to confirm; until then the account keeps its old address. The link works once and expires in 24 hours. If this was not you, ignore this message.".into(),
            ],
            Some(("Use this address", url)),
        )
    }

    pub fn email_changed(to: &Email, new_address: &Email) -> Self {
        compose(
            MailKind::EmailChanged,
            to,
            "Your AgnusAI address was changed".into(),
            &[
                format!("Your AgnusAI account now uses {new_address}; this address no longer signs in."),
                "If you did not make this change, reset your password from the new address's inbox or contact your administrator at once.".into(),
            ],
            None,
        )
    }

    pub fn password_reset(to: &Email, url: &str) -> Self {
        compose(
            MailKind::PasswordReset,
            to,
            "Reset your AgnusAI password".into(),
            &[
                "Someone (hopefully you) asked to reset the password of this AgnusAI account.".into(),
                "The link works once and expires in 1 hour; using it signs you out everywhere. If you did not ask, ignore this message: your password stays as it is.".into(),
            ],
            Some(("Choose a new password", url)),
        )
    }

    pub fn member_added(to: &Email, org_name: &str, role: Role, app_url: &str) -> Self {
        compose(
            MailKind::MemberAdded,
            to,
            format!("You were added to {org_name} on AgnusAI"),
            &[format!("You are now a member of {org_name} as {}.", role.as_str())],
            Some(("Open AgnusAI", app_url)),
        )
    }

    pub fn member_removed(to: &Email, org_name: &str) -> Self {
        compose(
            MailKind::MemberRemoved,
            to,
            format!("You were removed from {org_name} on AgnusAI"),
            &[format!(
                "You are no longer a member of {org_name}. If you think this is a mistake, contact one of its administrators."
            )],
            None,
        )
    }

    pub fn ownership_transferred(to: &Email, org_name: &str, app_url: &str) -> Self {
        compose(
            MailKind::OwnershipTransferred,
            to,
            format!("You are now the owner of {org_name} on AgnusAI"),
            &[format!("Ownership of {org_name} was transferred to you.")],
            Some(("Open AgnusAI", app_url)),
        )
    }

    /// To the previous owner after a transfer: who owns the org now, and their own role.
    pub fn ownership_handed_over(to: &Email, org_name: &str, new_owner: &str, app_url: &str) -> Self {
        compose(
            MailKind::OwnershipTransferred,
            to,
            format!("You transferred ownership of {org_name} on AgnusAI"),
            &[format!(
                "Ownership of {org_name} was transferred to {new_owner}. You remain a member of {org_name} as admin."
            )],
            Some(("Open AgnusAI", app_url)),
        )
    }
}

/// Whether a message went out (stored with invitations, shown to admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailStatus {
    Sent,
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), EmailError>> + Send + 'a>>;

pub trait EmailSender: Send + Sync + std::fmt::Debug {
    fn send<'a>(&'a self, mail: &'a Mail) -> SendFuture<'a>;
}

/// Sends `mail` and reports the outcome; a failure is logged with the kind and recipient
/// domain only (never the bodies, which hold the link).
pub async fn deliver(sender: &dyn EmailSender, mail: &Mail) -> MailStatus {
    match sender.send(mail).await {
        Ok(()) => {
            tracing::info!(kind = mail.kind.as_str(), to_domain = mail.to.domain(), "mail sent");
            MailStatus::Sent
        }
        Err(e) => {
            tracing::warn!(kind = mail.kind.as_str(), to_domain = mail.to.domain(), error = %e, "mail not sent");
            MailStatus::Failed
        }
    }
}

/// Outgoing mail is not configured: every message fails (and is not logged).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEmailSender;

impl EmailSender for NoEmailSender {
    fn send<'a>(&'a self, _mail: &'a Mail) -> SendFuture<'a> {
        Box::pin(async {
            Err(EmailError(
                "outgoing mail is not configured (set AGNUS_MAIL_FROM)".into(),
            ))
        })
    }
}

/// SESv2 `SendEmail` from one verified identity.
#[derive(Debug, Clone)]
pub struct SesEmailSender {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesEmailSender {
    /// `from_address`: the verified identity (an address), shown as "AgnusAI <address>".
    pub fn new(client: aws_sdk_sesv2::Client, from_address: &str) -> Self {
        Self {
            client,
            from: format!("AgnusAI <{from_address}>"),
        }
    }
}

fn utf8(data: &str) -> Result<Content, EmailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| EmailError(e.to_string()))
}

impl EmailSender for SesEmailSender {
    fn send<'a>(&'a self, mail: &'a Mail) -> SendFuture<'a> {
        Box::pin(async move {
            let message = Message::builder()
                .subject(utf8(&mail.subject)?)
                .body(Body::builder().text(utf8(&mail.text)?).html(utf8(&mail.html)?).build())
                .build();
            self.client
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(mail.to.as_str()).build())
                .content(EmailContent::builder().simple(message).build())
                .send()
                .await
                .map_err(|e| {
                    // The service's reason only (the request, with its bodies, is never printed).
                    let reason = e
                        .as_service_error()
                        .and_then(|s| aws_sdk_sesv2::error::ProvideErrorMetadata::message(s).map(str::to_owned))
                        .unwrap_or_else(|| aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string());
                    EmailError(reason)
                })?;
            Ok(())
        })
    }
}

/// The sender a function uses: SES from `mail_from` when configured, else [`NoEmailSender`].
pub fn sender(sdk: &aws_config::SdkConfig, mail_from: Option<&str>) -> std::sync::Arc<dyn EmailSender> {
    match mail_from {
        Some(from) => std::sync::Arc::new(SesEmailSender::new(aws_sdk_sesv2::Client::new(sdk), from)),
        None => {
            tracing::warn!("AGNUS_MAIL_FROM is not set: no mail is sent (invitations show their link to the admin)");
            std::sync::Arc::new(NoEmailSender)
        }
    }
}

/// Where a password reset asked for an address no account uses sends its stand-in mail:
/// the SES mailbox simulator's "success" address, which accepts and drops it. The request
/// then does the same steps (a token stored, a reset mail sent) whether or not the account
/// exists, and no one's inbox gets mail they did not ask for.
pub const DECOY_RECIPIENT: &str = "success@simulator.amazonses.com";

/// A token for a mailed link (invitation, verification, reset): 256 bits from the OS RNG
/// as base64url, and its SHA-256 (hex) — the only form that is stored.
pub fn new_link_token() -> (secrecy::SecretString, String) {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crate::crypto::random_bytes::<32>());
    let hash = crate::crypto::sha256_hex(token.as_bytes());
    (secrecy::SecretString::from(token), hash)
}

/// Links in a message body (`http://` / `https://` up to a quote, bracket or space), in
/// order, without repeats; for `agnus mail` and the tests that click through the flows.
pub fn links(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("http://").into_iter().chain(rest.find("https://")).min() {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(tail.len());
        let link = tail[..end].replace("&amp;", "&");
        if !found.contains(&link) {
            found.push(link);
        }
        rest = &tail[end..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to() -> Email {
        Email::parse("grace@example.com").unwrap()
    }

    #[test]
    fn invitation_has_both_bodies_with_the_link_and_escapes_names() {
        let invite = InviteEmail {
            to: &to(),
            org_name: "R&D <Labs>",
            inviter: Some("ada@example.com"),
            role: Role::Admin,
            accept_url: "https://app.example.com/invite/tok_123",
            expires_at: 1_900_000_000,
            resent: false,
        };
        let mail = Mail::invitation(&invite);
        assert_eq!(mail.kind, MailKind::Invitation);
        assert!(mail.subject.contains("R&D <Labs>"));
        assert!(mail.text.contains("https://app.example.com/invite/tok_123"));
        assert!(mail.html.contains("href=\"https://app.example.com/invite/tok_123\""));
        assert!(mail.html.contains("R&amp;D &lt;Labs&gt;"));
        assert!(!mail.html.contains("<Labs>"));
        assert_eq!(
            links(&mail.html),
            vec!["https://app.example.com/invite/tok_123".to_owned()]
        );
        let resent = Mail::invitation(&InviteEmail { resent: true, ..invite });
        assert_eq!(resent.kind, MailKind::InvitationResent);
        assert!(resent.text.contains("no longer works"));
    }

    #[test]
    fn debug_never_shows_the_bodies() {
        let mail = Mail::password_reset(&to(), "https://app.example.com/reset-password/secret-token");
        let shown = format!("{mail:?}");
        assert!(!shown.contains("secret-token"), "{shown}");
        assert!(shown.contains("PasswordReset"));
    }

    #[test]
    fn every_kind_has_a_subject_and_text() {
        let url = "https://app.example.com/x";
        for mail in [
            Mail::verify_email(&to(), url),
            Mail::password_reset(&to(), url),
            Mail::member_added(&to(), "Org", Role::Member, url),
            Mail::member_removed(&to(), "Org"),
            Mail::ownership_transferred(&to(), "Org", url),
            Mail::ownership_handed_over(&to(), "Org", "new@example.com", url),
        ] {
            assert!(!mail.subject.is_empty());
            assert!(mail.text.ends_with("— AgnusAI\n"));
            assert!(mail.html.starts_with("<!doctype html>"));
        }
    }

    #[test]
    fn links_are_found_in_text_and_html() {
        assert_eq!(
            links("a http://x/verify-email/abc. <a href=\"http://x/verify-email/abc\">go</a> https://y/z?a=1&amp;b=2"),
            vec![
                "http://x/verify-email/abc.".to_owned(),
                "http://x/verify-email/abc".to_owned(),
                "https://y/z?a=1&b=2".to_owned()
            ]
        );
        assert!(links("no links").is_empty());
    }

    #[tokio::test]
    async fn the_unconfigured_sender_fails() {
        let mail = Mail::verify_email(&to(), "http://x/verify-email/t");
        assert_eq!(deliver(&NoEmailSender, &mail).await, MailStatus::Failed);
    }
}
