//! `agnus mail`: the messages the local emulator's SES accepted, with their links, so a
//! developer can click through invitation, verification and password-reset flows in
//! `make dev`. Reads `GET /_agnus/ses/messages` of the project's moto emulator, else
//! LocalStack's listing (`GET /_aws/ses`, where the project's SESv2 provider records SESv2
//! mail too: localstack/providers), else moto's state dump (`GET /moto-api/data.json`,
//! section `ses`, `Message`, the first route's shape); AWS itself has no such listing, so
//! this is a local-only tool.

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("cannot read the emulator's mailbox at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the emulator's state dump has an unexpected shape: {0}")]
    Shape(String),
}

/// One message the emulator's SES accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The body the emulator kept (HTML when the message had one, else text).
    pub body: String,
    pub links: Vec<String>,
}

/// Every message sent through the emulator at `endpoint`, oldest first.
pub async fn sent(endpoint: &str) -> Result<Vec<SentMail>, MailboxError> {
    // The project's emulator (localstack/emulator.py) serves the SES part alone, fast;
    // plain moto only has the full state dump, whose `ses` section has the same shape.
    let base = endpoint.trim_end_matches('/');
    if let Ok(r) = reqwest::get(format!("{base}/_agnus/ses/messages")).await
        && r.status().is_success()
        && let Ok(dump) = r.json::<Value>().await
    {
        return parse(&dump);
    }
    if let Ok(r) = reqwest::get(format!("{base}/_aws/ses")).await
        && r.status().is_success()
        && let Ok(listing) = r.json::<Value>().await
        && listing.get("messages").is_some()
    {
        return parse_localstack(&listing);
    }
    let url = format!("{base}/moto-api/data.json");
    let unreachable = |e: reqwest::Error| MailboxError::Unreachable {
        url: url.clone(),
        reason: e.to_string(),
    };
    let dump: Value = reqwest::get(&url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(unreachable)?
        .json()
        .await
        .map_err(unreachable)?;
    parse(&dump)
}

/// The `ses.Message` list of a moto state dump (absent until SES is first used).
pub fn parse(dump: &Value) -> Result<Vec<SentMail>, MailboxError> {
    let Some(messages) = dump.get("ses").and_then(|s| s.get("Message")) else {
        return Ok(Vec::new());
    };
    let messages = messages
        .as_array()
        .ok_or_else(|| MailboxError::Shape("ses.Message is not a list".into()))?;
    let text = |m: &Value, k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(messages
        .iter()
        .map(|m| {
            let body = text(m, "body");
            SentMail {
                id: text(m, "id"),
                from: text(m, "source"),
                to: m
                    .pointer("/destinations/ToAddresses")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default(),
                subject: text(m, "subject"),
                links: agnus_shared::email::links(&body),
                body,
            }
        })
        .collect())
}

/// LocalStack's SES listing (`GET /_aws/ses`): `{"messages": [{"Id", "Source",
/// "Destination": {"ToAddresses"}, "Subject", "Body": {"text_part", "html_part"}}]}`, in the
/// order sent (raw messages have `RawData` instead of a subject and body).
pub fn parse_localstack(listing: &Value) -> Result<Vec<SentMail>, MailboxError> {
    let messages = listing
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| MailboxError::Shape("messages is not a list".into()))?;
    let text = |m: &Value, p: &str| m.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(messages
        .iter()
        .map(|m| {
            let html = text(m, "/Body/html_part");
            let body = if html.is_empty() {
                match text(m, "/Body/text_part") {
                    t if t.is_empty() => text(m, "/RawData"),
                    t => t,
                }
            } else {
                html
            };
            SentMail {
                id: text(m, "/Id"),
                from: text(m, "/Source"),
                to: m
                    .pointer("/Destination/ToAddresses")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default(),
                subject: text(m, "/Subject"),
                links: agnus_shared::email::links(&body),
                body,
            }
        })
        .collect())
}

/// The listing `agnus mail` prints: the last `last` messages (to `to`, if given), newest last.
pub fn render(mails: &[SentMail], last: usize, to: Option<&str>) -> String {
    let picked: Vec<&SentMail> = mails
        .iter()
        .filter(|m| to.is_none_or(|t| m.to.iter().any(|a| a.eq_ignore_ascii_case(t))))
        .collect();
    let skip = picked.len().saturating_sub(last);
    let mut out = String::new();
    if picked.is_empty() {
        out.push_str("no mail sent yet\n");
    }
    for m in &picked[skip..] {
        out.push_str(&format!("to {}  |  {}\n", m.to.join(", "), m.subject));
        for link in &m.links {
            out.push_str(&format!("    {link}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump() -> Value {
        serde_json::json!({"ses": {"Message": [
            {"id": "1", "source": "AgnusAI <noreply@agnus.local>", "subject": "Verify",
             "destinations": {"ToAddresses": ["a@example.com"]},
             "body": "<a href=\"http://127.0.0.1:3000/verify-email/tok1\">Verify</a>"},
            {"id": "2", "source": "AgnusAI <noreply@agnus.local>", "subject": "Reset",
             "destinations": {"ToAddresses": ["b@example.com"]},
             "body": "<a href=\"http://127.0.0.1:3000/reset-password/tok2\">Reset</a>"}
        ]}})
    }

    #[test]
    fn parses_moto_messages_with_their_links() {
        let mails = parse(&dump()).unwrap();
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[0].to, vec!["a@example.com".to_owned()]);
        assert_eq!(
            mails[1].links,
            vec!["http://127.0.0.1:3000/reset-password/tok2".to_owned()]
        );
        assert!(parse(&serde_json::json!({"dynamodb": {}})).unwrap().is_empty());
        assert!(parse(&serde_json::json!({"ses": {"Message": 3}})).is_err());
    }

    #[test]
    fn parses_localstack_messages_with_their_links() {
        let listing = serde_json::json!({"messages": [
            {"Id": "1", "Region": "us-east-1", "Source": "AgnusAI <noreply@agnus.local>",
             "Destination": {"ToAddresses": ["a@example.com"]}, "Subject": "Verify",
             "Body": {"text_part": "Verify: http://127.0.0.1:3000/verify-email/tok1",
                      "html_part": "<a href=\"http://127.0.0.1:3000/verify-email/tok1\">Verify</a>"},
             "Timestamp": "2026-12-07T13:10:41"},
            {"Id": "2", "Source": "noreply@agnus.local", "Destination": {"ToAddresses": ["b@example.com"]},
             "Subject": "Reset", "Body": {"text_part": "Reset: http://127.0.0.1:3000/reset-password/tok2", "html_part": null}}
        ]});
        let mails = parse_localstack(&listing).unwrap();
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[0].from, "AgnusAI <noreply@agnus.local>");
        assert_eq!(mails[0].to, vec!["a@example.com".to_owned()]);
        assert!(mails[0].body.starts_with("<a href"));
        assert_eq!(
            mails[1].links,
            vec!["http://127.0.0.1:3000/reset-password/tok2".to_owned()]
        );
        assert!(
            parse_localstack(&serde_json::json!({"messages": []}))
                .unwrap()
                .is_empty()
        );
        assert!(parse_localstack(&serde_json::json!({"messages": 3})).is_err());
    }

    #[test]
    fn render_keeps_the_last_messages_for_an_address() {
        let mails = parse(&dump()).unwrap();
        let all = render(&mails, 10, None);
        assert!(all.contains("tok1") && all.contains("tok2"));
        let last = render(&mails, 1, None);
        assert!(!last.contains("tok1") && last.contains("tok2"));
        let to_a = render(&mails, 10, Some("A@example.com"));
        assert!(to_a.contains("tok1") && !to_a.contains("tok2"));
        assert_eq!(render(&[], 5, None), "no mail sent yet\n");
    }
}
