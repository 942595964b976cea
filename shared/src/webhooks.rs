//! Webhook verification and delivery metadata per provider (product §7). Pure functions
//! over the raw body bytes and headers; every comparison is constant-time and SHA-1 is
//! never accepted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::HeaderMap;
use serde::Deserialize;

use crate::crypto::{KmsError, SecretBox, WebhookSecret, constant_time_eq, hmac_sha256_verify, sha256_hex};
use crate::domain::{OrgId, Provider, Slug};
use crate::store::SealedSecret;

/// The KMS encryption context of a webhook secret: it names the org and the provider,
/// so the ciphertext opens nowhere else.
pub fn secret_context(org: &str, provider: Provider) -> [(&'static str, &str); 2] {
    [("orgId", org), ("provider", provider.as_str())]
}

/// A fresh secret for `provider`, sealed for `org`: the plaintext (shown once) and what
/// the store keeps.
pub async fn new_sealed_secret(
    sealer: &SecretBox,
    org: &OrgId,
    provider: Provider,
) -> Result<(WebhookSecret, SealedSecret), KmsError> {
    let secret = WebhookSecret::generate(provider);
    let org = org.to_string();
    let ciphertext = sealer
        .seal(&secret_context(&org, provider), secret.expose().as_bytes())
        .await?;
    let sealed = SealedSecret {
        provider,
        ciphertext,
        preview: secret.preview(),
    };
    Ok((secret, sealed))
}

/// One secret per provider for a new org (KMS calls in parallel).
pub async fn new_org_secrets(sealer: &SecretBox, org: &OrgId) -> Result<Vec<(WebhookSecret, SealedSecret)>, KmsError> {
    let [a, b, c, d] = Provider::ALL;
    let (a, b, c, d) = tokio::join!(
        new_sealed_secret(sealer, org, a),
        new_sealed_secret(sealer, org, b),
        new_sealed_secret(sealer, org, c),
        new_sealed_secret(sealer, org, d)
    );
    Ok(vec![a?, b?, c?, d?])
}

/// Opens a stored secret with its org/provider context.
pub async fn open_secret(
    sealer: &SecretBox,
    org: &OrgId,
    provider: Provider,
    ciphertext: &[u8],
) -> Result<WebhookSecret, KmsError> {
    let org = org.to_string();
    let bytes = sealer.open(&secret_context(&org, provider), ciphertext).await?;
    String::from_utf8(bytes)
        .map(WebhookSecret::from_plaintext)
        .map_err(|_| KmsError::Invalid)
}

/// The intake URL of an org for a provider (a path when no public base URL is set).
pub fn webhook_url(base: Option<&str>, provider: Provider, slug: &Slug) -> String {
    format!("{}/api/webhooks/{provider}/{slug}", base.unwrap_or_default())
}

/// The JSON shown once when secrets are created or rotated.
pub fn secrets_json(base: Option<&str>, slug: &Slug, secrets: &[(WebhookSecret, SealedSecret)]) -> serde_json::Value {
    serde_json::Value::Array(
        secrets
            .iter()
            .map(|(secret, sealed)| {
                serde_json::json!({
                    "provider": sealed.provider,
                    "url": webhook_url(base, sealed.provider, slug),
                    "secret": secret.expose(),
                })
            })
            .collect(),
    )
}

/// Standard-Webhooks timestamp tolerance.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 300;

/// Why a delivery was refused. Never sent to the caller (who gets one generic 401);
/// recorded for the org's admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    MissingSignature,
    MalformedSignature,
    Sha1Refused,
    BadSignature,
    StaleTimestamp,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::MissingSignature => "missing_signature",
            Rejection::MalformedSignature => "malformed_signature",
            Rejection::Sha1Refused => "sha1_refused",
            Rejection::BadSignature => "bad_signature",
            Rejection::StaleTimestamp => "stale_timestamp",
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// `sha256=<64 hex>` → the 32 signature bytes.
fn sha256_hex_signature(value: &str) -> Result<[u8; 32], Rejection> {
    if value.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("sha1=")) {
        return Err(Rejection::Sha1Refused);
    }
    let hexpart = value.strip_prefix("sha256=").ok_or(Rejection::MalformedSignature)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hexpart, &mut out).map_err(|_| Rejection::MalformedSignature)?;
    Ok(out)
}

fn verify_hmac_header(value: Option<&str>, body: &[u8], secrets: &[WebhookSecret]) -> Result<(), Rejection> {
    let signature = sha256_hex_signature(value.ok_or(Rejection::MissingSignature)?)?;
    if secrets
        .iter()
        .any(|s| hmac_sha256_verify(s.hmac_key(), &[body], &signature))
    {
        Ok(())
    } else {
        Err(Rejection::BadSignature)
    }
}

fn verify_standard_webhooks(
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[WebhookSecret],
    now: i64,
) -> Result<(), Rejection> {
    let id = header(headers, "webhook-id").ok_or(Rejection::MalformedSignature)?;
    let ts_raw = header(headers, "webhook-timestamp").ok_or(Rejection::MalformedSignature)?;
    let ts: i64 = ts_raw.parse().map_err(|_| Rejection::MalformedSignature)?;
    if (now - ts).abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(Rejection::StaleTimestamp);
    }
    let signatures: Vec<Vec<u8>> = header(headers, "webhook-signature")
        .unwrap_or_default()
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    if signatures.is_empty() {
        return Err(Rejection::MalformedSignature);
    }
    let keys: Vec<Vec<u8>> = secrets
        .iter()
        .filter_map(WebhookSecret::standard_webhooks_key)
        .collect();
    let ok = keys.iter().any(|key| {
        signatures
            .iter()
            .any(|sig| hmac_sha256_verify(key, &[id.as_bytes(), b".", ts_raw.as_bytes(), b".", body], sig))
    });
    if ok { Ok(()) } else { Err(Rejection::BadSignature) }
}

fn verify_basic_password(value: Option<&str>, secrets: &[WebhookSecret]) -> Result<(), Rejection> {
    let value = value.ok_or(Rejection::MissingSignature)?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or(Rejection::MalformedSignature)?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| Rejection::MalformedSignature)?;
    let colon = decoded
        .iter()
        .position(|b| *b == b':')
        .ok_or(Rejection::MalformedSignature)?;
    let password = &decoded[colon + 1..];
    if secrets
        .iter()
        .any(|s| constant_time_eq(password, s.expose().as_bytes()))
    {
        Ok(())
    } else {
        Err(Rejection::BadSignature)
    }
}

/// Verifies a delivery against any of `secrets` (the current one and, during a rotation
/// overlap, the previous one), over the exact body bytes received.
pub fn verify(
    provider: Provider,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[WebhookSecret],
    now: i64,
) -> Result<(), Rejection> {
    match provider {
        Provider::Github => {
            let sig = header(headers, "x-hub-signature-256");
            if sig.is_none() && headers.contains_key("x-hub-signature") {
                return Err(Rejection::Sha1Refused);
            }
            verify_hmac_header(sig, body, secrets)
        }
        Provider::Bitbucket => verify_hmac_header(header(headers, "x-hub-signature"), body, secrets),
        Provider::Gitlab => {
            if headers.contains_key("webhook-signature") {
                verify_standard_webhooks(headers, body, secrets, now)
            } else {
                let token = header(headers, "x-gitlab-token").ok_or(Rejection::MissingSignature)?;
                if secrets
                    .iter()
                    .any(|s| constant_time_eq(token.as_bytes(), s.expose().as_bytes()))
                {
                    Ok(())
                } else {
                    Err(Rejection::BadSignature)
                }
            }
        }
        Provider::Azure => verify_basic_password(header(headers, "authorization"), secrets),
    }
}

/// What the queue and the ledger need to know about a verified delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryMeta {
    pub event: String,
    pub delivery_id: String,
    pub is_ping: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AzureEnvelope {
    #[serde(default)]
    event_type: Option<String>,
    #[serde(default)]
    notification_id: Option<serde_json::Value>,
    #[serde(default)]
    subscription_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

/// Delivery ids end up in keys: keep them short and plain, hash anything else.
fn clean_id(raw: &str) -> String {
    let ok = !raw.is_empty()
        && raw.len() <= 128
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        raw.to_owned()
    } else {
        format!("sha256:{}", sha256_hex(raw.as_bytes()))
    }
}

/// Event type and delivery id, from the provider's headers (Azure: from the payload).
/// Without a delivery id, the body's SHA-256 stands in, so exact resends still dedupe.
pub fn meta(provider: Provider, headers: &HeaderMap, body: &[u8]) -> DeliveryMeta {
    let h = |name| header(headers, name).filter(|v| !v.is_empty());
    let (event, id) = match provider {
        Provider::Github => (h("x-github-event"), h("x-github-delivery").map(str::to_owned)),
        // A Standard-Webhooks delivery signs its `webhook-id`: that is the delivery, and no
        // unsigned header may change it (else a replay with a new `Idempotency-Key` would be
        // a "new" delivery). A token-authenticated delivery has only unsigned ids.
        Provider::Gitlab if h("webhook-signature").is_some() => {
            (h("x-gitlab-event"), h("webhook-id").map(str::to_owned))
        }
        Provider::Gitlab => (
            h("x-gitlab-event"),
            h("idempotency-key")
                .or_else(|| h("x-gitlab-event-uuid"))
                .map(str::to_owned),
        ),
        Provider::Bitbucket => (
            h("x-event-key"),
            h("x-request-uuid").or_else(|| h("x-hook-uuid")).map(str::to_owned),
        ),
        Provider::Azure => {
            let env: Option<AzureEnvelope> = serde_json::from_slice(body).ok();
            let event = env.as_ref().and_then(|e| e.event_type.clone());
            let notification = env.as_ref().and_then(|e| match &e.notification_id {
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                _ => None,
            });
            let id = match (env.as_ref().and_then(|e| e.subscription_id.clone()), notification) {
                (Some(sub), Some(n)) => Some(format!("{sub}:{n}")),
                (None, Some(n)) => Some(n),
                _ => env.as_ref().and_then(|e| e.id.clone()),
            };
            return DeliveryMeta {
                event: event.unwrap_or_else(|| "unknown".into()),
                delivery_id: id
                    .map(|i| clean_id(&i))
                    .unwrap_or_else(|| format!("sha256:{}", sha256_hex(body))),
                is_ping: false,
            };
        }
    };
    let event = event.unwrap_or("unknown").to_owned();
    DeliveryMeta {
        is_ping: provider == Provider::Github && event == "ping",
        event,
        delivery_id: id
            .map(|i| clean_id(&i))
            .unwrap_or_else(|| format!("sha256:{}", sha256_hex(body))),
    }
}

/// GitHub can send `application/x-www-form-urlencoded` deliveries; we take JSON only.
pub fn is_form_encoded(headers: &HeaderMap) -> bool {
    header(headers, "content-type")
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hmac_sha256;
    use lambda_http::http::HeaderValue;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }
    fn secret(s: &str) -> WebhookSecret {
        WebhookSecret::from_plaintext(s.to_owned())
    }
    fn gh_sig(secret: &str, body: &[u8]) -> String {
        format!("sha256={}", hex::encode(hmac_sha256(secret.as_bytes(), &[body])))
    }

    #[test]
    fn github_documented_vector_and_byte_exact_bodies() {
        let s = secret("It's a Secret to Everybody");
        let h = headers(&[(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".into(),
        )]);
        assert_eq!(
            verify(Provider::Github, &h, b"Hello, World!", std::slice::from_ref(&s), 0),
            Ok(())
        );
        // Emoji and U+2028 in the raw bytes verify exactly as sent.
        let body = "{\"title\":\"fix 🚀\u{2028}line\"}".as_bytes();
        let h = headers(&[("x-hub-signature-256", gh_sig("k", body))]);
        assert_eq!(verify(Provider::Github, &h, body, &[secret("k")], 0), Ok(()));
        let reencoded = b"{\"title\":\"fix \\ud83d\\ude80\\u2028line\"}";
        assert_eq!(
            verify(Provider::Github, &h, reencoded, &[secret("k")], 0),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn github_refuses_sha1_missing_and_malformed() {
        let body = b"{}";
        let s = [secret("k")];
        let sha1 = headers(&[(
            "x-hub-signature",
            "sha1=0000000000000000000000000000000000000000".into(),
        )]);
        assert_eq!(
            verify(Provider::Github, &sha1, body, &s, 0),
            Err(Rejection::Sha1Refused)
        );
        let sha1_in_256 = headers(&[("x-hub-signature-256", "sha1=00".into())]);
        assert_eq!(
            verify(Provider::Github, &sha1_in_256, body, &s, 0),
            Err(Rejection::Sha1Refused)
        );
        assert_eq!(
            verify(Provider::Github, &HeaderMap::new(), body, &s, 0),
            Err(Rejection::MissingSignature)
        );
        for bad in ["sha256=zz", "sha256=", "sha256=abcd", "md5=00", "garbage"] {
            let h = headers(&[("x-hub-signature-256", bad.into())]);
            assert_eq!(
                verify(Provider::Github, &h, body, &s, 0),
                Err(Rejection::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn any_of_several_secrets_verifies() {
        let body = b"{\"a\":1}";
        let h = headers(&[("x-hub-signature-256", gh_sig("old", body))]);
        assert!(verify(Provider::Github, &h, body, &[secret("new"), secret("old")], 0).is_ok());
        assert!(verify(Provider::Github, &h, body, &[secret("new")], 0).is_err());
    }

    #[test]
    fn bitbucket_takes_sha256_only() {
        let body = b"{}";
        let ok = headers(&[("x-hub-signature", gh_sig("k", body))]);
        assert!(verify(Provider::Bitbucket, &ok, body, &[secret("k")], 0).is_ok());
        let sha1 = headers(&[(
            "x-hub-signature",
            "sha1=0000000000000000000000000000000000000000".into(),
        )]);
        assert_eq!(
            verify(Provider::Bitbucket, &sha1, body, &[secret("k")], 0),
            Err(Rejection::Sha1Refused)
        );
    }

    #[test]
    fn gitlab_token_and_standard_webhooks() {
        let s = WebhookSecret::generate(Provider::Gitlab);
        let body = b"{\"object_kind\":\"merge_request\"}";
        let token = headers(&[("x-gitlab-token", s.expose().to_owned())]);
        assert!(verify(Provider::Gitlab, &token, body, std::slice::from_ref(&s), 0).is_ok());
        let wrong = headers(&[("x-gitlab-token", "nope".into())]);
        assert_eq!(
            verify(Provider::Gitlab, &wrong, body, std::slice::from_ref(&s), 0),
            Err(Rejection::BadSignature)
        );

        let now = 1_700_000_000;
        let sign = |ts: i64| {
            let key = s.standard_webhooks_key().unwrap();
            let sig = hmac_sha256(&key, &[b"msg_1", b".", ts.to_string().as_bytes(), b".", body]);
            headers(&[
                ("webhook-id", "msg_1".into()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", format!("v1,bogus v1,{}", STANDARD.encode(sig))),
            ])
        };
        assert!(verify(Provider::Gitlab, &sign(now), body, std::slice::from_ref(&s), now).is_ok());
        assert!(verify(Provider::Gitlab, &sign(now - 299), body, std::slice::from_ref(&s), now).is_ok());
        assert_eq!(
            verify(Provider::Gitlab, &sign(now - 600), body, std::slice::from_ref(&s), now),
            Err(Rejection::StaleTimestamp)
        );
        assert_eq!(
            verify(Provider::Gitlab, &sign(now + 600), body, std::slice::from_ref(&s), now),
            Err(Rejection::StaleTimestamp)
        );
        assert_eq!(
            verify(Provider::Gitlab, &sign(now), b"{}", std::slice::from_ref(&s), now),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn azure_basic_password_must_match_exactly() {
        let s = secret("s3cret-value");
        let basic = |user: &str, pass: &str| {
            headers(&[(
                "authorization",
                format!("Basic {}", STANDARD.encode(format!("{user}:{pass}"))),
            )])
        };
        assert!(
            verify(
                Provider::Azure,
                &basic("agnus", "s3cret-value"),
                b"{}",
                std::slice::from_ref(&s),
                0
            )
            .is_ok()
        );
        assert!(
            verify(
                Provider::Azure,
                &basic("", "s3cret-value"),
                b"{}",
                std::slice::from_ref(&s),
                0
            )
            .is_ok()
        );
        assert_eq!(
            verify(
                Provider::Azure,
                &basic("agnus", "s3cret-valu"),
                b"{}",
                std::slice::from_ref(&s),
                0
            ),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify(
                Provider::Azure,
                &basic("agnus", "s3cret-value "),
                b"{}",
                std::slice::from_ref(&s),
                0
            ),
            Err(Rejection::BadSignature)
        );
        let bearer = headers(&[("authorization", "Bearer s3cret-value".into())]);
        assert_eq!(
            verify(Provider::Azure, &bearer, b"{}", std::slice::from_ref(&s), 0),
            Err(Rejection::MalformedSignature)
        );
        assert_eq!(
            verify(Provider::Azure, &HeaderMap::new(), b"{}", &[s], 0),
            Err(Rejection::MissingSignature)
        );
    }

    #[test]
    fn delivery_metadata_per_provider() {
        let gh = headers(&[
            ("x-github-event", "pull_request".into()),
            ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958".into()),
        ]);
        let m = meta(Provider::Github, &gh, b"{}");
        assert_eq!(
            (m.event.as_str(), m.delivery_id.as_str(), m.is_ping),
            ("pull_request", "72d3162e-cc78-11e3-81ab-4c9367dc0958", false)
        );
        let ping = headers(&[("x-github-event", "ping".into())]);
        assert!(meta(Provider::Github, &ping, b"{}").is_ping);
        let gl = headers(&[
            ("x-gitlab-event", "Merge Request Hook".into()),
            ("idempotency-key", "abc-1".into()),
        ]);
        assert_eq!(meta(Provider::Gitlab, &gl, b"{}").delivery_id, "abc-1");
        // Signed (Standard Webhooks): the signed id wins over any unsigned header.
        for extra in [("idempotency-key", "other"), ("x-gitlab-event-uuid", "other-2")] {
            let signed = headers(&[
                ("x-gitlab-event", "Merge Request Hook".into()),
                ("webhook-id", "msg_signed".into()),
                ("webhook-signature", "v1,abc".into()),
                (extra.0, extra.1.into()),
            ]);
            assert_eq!(meta(Provider::Gitlab, &signed, b"{}").delivery_id, "msg_signed");
        }
        let bb = headers(&[
            ("x-event-key", "pullrequest:created".into()),
            ("x-request-uuid", "u-1".into()),
        ]);
        assert_eq!(meta(Provider::Bitbucket, &bb, b"{}").event, "pullrequest:created");
        let az = br#"{"subscriptionId":"sub-1","notificationId":7,"id":"e-1","eventType":"git.pullrequest.created"}"#;
        let m = meta(Provider::Azure, &HeaderMap::new(), az);
        assert_eq!(
            (m.event.as_str(), m.delivery_id.as_str()),
            ("git.pullrequest.created", "sub-1:7")
        );
        // No id: the body hash stands in; odd ids are hashed.
        assert!(
            meta(Provider::Github, &HeaderMap::new(), b"x")
                .delivery_id
                .starts_with("sha256:")
        );
        let weird = headers(&[("x-github-delivery", "a/b#c".into())]);
        assert!(meta(Provider::Github, &weird, b"x").delivery_id.starts_with("sha256:"));
    }

    use proptest::prelude::*;

    /// Header values as they arrive: any bytes a header may carry (visible ASCII and
    /// obs-text, so multi-byte UTF-8 too), sometimes shaped like a signature.
    fn header_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..80),
            any::<String>().prop_map(String::into_bytes),
            "(sha256=|sha1=|v1,|Basic |basic )\\PC{0,70}".prop_map(String::into_bytes),
            "[0-9a-zA-Z+/=:, -]{0,90}".prop_map(String::into_bytes),
        ]
    }

    const NAMES: [&str; 13] = [
        "x-hub-signature-256",
        "x-hub-signature",
        "x-gitlab-token",
        "webhook-signature",
        "webhook-id",
        "webhook-timestamp",
        "authorization",
        "x-github-event",
        "x-github-delivery",
        "x-gitlab-event",
        "idempotency-key",
        "x-event-key",
        "x-request-uuid",
    ];

    proptest! {
        #[test]
        fn any_delivery_is_verified_or_refused_and_its_id_is_bounded(
            values in prop::collection::vec((0..NAMES.len(), header_value()), 0..8),
            body in prop::collection::vec(any::<u8>(), 0..200),
            now in any::<i64>(),
        ) {
            let mut h = HeaderMap::new();
            for (name, value) in values {
                if let Ok(v) = HeaderValue::from_bytes(&value) {
                    h.insert(NAMES[name], v);
                }
            }
            let secrets = [secret("s3cret-for-the-fuzz"), secret("whsec_c2VjcmV0")];
            for provider in [Provider::Github, Provider::Gitlab, Provider::Azure, Provider::Bitbucket] {
                let _ = verify(provider, &h, &body, &secrets, now);
                let m = meta(provider, &h, &body);
                prop_assert!(m.delivery_id.len() <= 128, "{}", m.delivery_id);
                prop_assert!(m.delivery_id.is_ascii());
            }
        }
    }
}
