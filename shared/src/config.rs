//! Typed configuration, read once from the environment at cold start. A missing or
//! malformed variable stops the function with a message naming it (fail fast), instead
//! of surfacing later as a confusing runtime error.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::PasswordParams;
use crate::domain::{Email, Password};
use crate::policy::AccessPolicy;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {name} is required ({hint})")]
    Missing { name: &'static str, hint: &'static str },
    #[error("configuration: {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where configuration values come from; the process environment in Lambda, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned().filter(|v| !v.trim().is_empty())
    }
}

fn required(src: &dyn Source, name: &'static str, hint: &'static str) -> Result<String, ConfigError> {
    src.get(name).ok_or(ConfigError::Missing { name, hint })
}

fn number<T: std::str::FromStr>(src: &dyn Source, name: &'static str, default: T) -> Result<T, ConfigError> {
    match src.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("expected a non-negative integer, got {v:?}"),
        }),
    }
}

/// A request budget per fixed window; `limit == 0` disables the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub window: Duration,
}

impl RateLimit {
    pub fn hourly(limit: u32) -> Self {
        Self {
            limit,
            window: Duration::from_secs(3600),
        }
    }
    pub fn is_disabled(&self) -> bool {
        self.limit == 0
    }
}

/// Every environment variable the functions read, with its default; the README's
/// configuration table and infra/ parameters follow this list.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("AGNUS_TABLE_NAME", "required: the DynamoDB table"),
    (
        "AGNUS_KMS_KEY_ID",
        "required (auth, orgs): KMS key id, ARN or alias sealing webhook secrets",
    ),
    (
        "AGNUS_PUBLIC_BASE_URL",
        "unset: webhook URLs are shown as paths; e.g. https://api.example.com",
    ),
    (
        "AGNUS_WEBHOOK_ROTATION_OVERLAP_SECS",
        "86400: the previous secret stays valid this long",
    ),
    ("AGNUS_REVIEW_QUEUE_URL", "required (intake): the review queue"),
    (
        "AGNUS_PAYLOAD_BUCKET",
        "required (intake): claim-check bucket for large payloads",
    ),
    (
        "AGNUS_WEBHOOK_MAX_BODY_BYTES",
        "4194304 (4 MiB): larger deliveries get 413 before any HMAC",
    ),
    (
        "AGNUS_SQS_INLINE_MAX_BYTES",
        "245760 (240 KiB): larger payloads travel by claim check",
    ),
    (
        "AGNUS_WEBHOOK_CACHE_TTL_SECS",
        "60: org lookup and decrypted secrets cached per warm instance",
    ),
    ("AGNUS_S3_FORCE_PATH_STYLE", "false; true for local emulators"),
    (
        "AGNUS_ORG_DELETE_GRACE_SECS",
        "2592000 (30 days) before a deleted org is purged",
    ),
    ("AGNUS_JWT_SECRET", "required: HS256 session key, at least 32 bytes"),
    ("AGNUS_SESSION_TTL_SECS", "43200 (12 h)"),
    ("AGNUS_SIGNUP_RATE_LIMIT_PER_IP", "10 per hour; 0 disables"),
    ("AGNUS_LOGIN_RATE_LIMIT_PER_IP", "100 attempts per hour; 0 disables"),
    ("AGNUS_LOGIN_RATE_LIMIT_PER_EMAIL", "10 failures per hour; 0 disables"),
    ("AGNUS_ARGON2_MEMORY_KIB", "19456 (OWASP minimum; lower is refused)"),
    ("AGNUS_ARGON2_ITERATIONS", "2 (lower is refused)"),
    ("AGNUS_ARGON2_PARALLELISM", "1"),
    ("ADMIN_EMAIL", "optional: system admin seeded at start"),
    ("ADMIN_PASSWORD", "optional: with ADMIN_EMAIL"),
    ("AGNUS_ACCESS_ALLOWED_DOMAINS", "unset: any domain"),
    ("AGNUS_ACCESS_ALLOWED_OWNER_EMAILS", "unset: anyone may create orgs"),
    ("AGNUS_ACCESS_BLOCKED_EMAILS", "unset"),
    ("AGNUS_ACCESS_BLOCKED_DOMAINS", "unset"),
    ("AGNUS_INVITES_PER_ORG_PER_DAY", "50; 0 disables"),
    ("AGNUS_APP_BASE_URL", "unset: accept links use AGNUS_PUBLIC_BASE_URL"),
    (
        "AGNUS_REVIEW_MENTION",
        "@agnus: a PR comment containing it asks for a review",
    ),
    ("DEFAULT_ORG_NAME", "Default: name of the org `agnus migrate` creates"),
    ("AGNUS_LOG_FORMAT", "json (or text)"),
];

fn session_ttl(src: &dyn Source) -> Result<Duration, ConfigError> {
    let session_ttl_secs: u64 = number(src, "AGNUS_SESSION_TTL_SECS", 43_200)?;
    if !(60..=30 * 86_400).contains(&session_ttl_secs) {
        return Err(ConfigError::Invalid {
            name: "AGNUS_SESSION_TTL_SECS",
            reason: "must be between 60 and 2592000 seconds".into(),
        });
    }
    Ok(Duration::from_secs(session_ttl_secs))
}

fn password_params(src: &dyn Source) -> Result<PasswordParams, ConfigError> {
    PasswordParams::new(
        number(src, "AGNUS_ARGON2_MEMORY_KIB", PasswordParams::OWASP_MIN.memory_kib)?,
        number(src, "AGNUS_ARGON2_ITERATIONS", PasswordParams::OWASP_MIN.iterations)?,
        number(src, "AGNUS_ARGON2_PARALLELISM", PasswordParams::OWASP_MIN.parallelism)?,
    )
    .map_err(|reason| ConfigError::Invalid {
        name: "AGNUS_ARGON2_*",
        reason,
    })
}

/// The system admin to seed at start.
#[derive(Debug)]
pub struct AdminSeed {
    pub email: Email,
    pub password: Password,
}

/// Configuration of the auth function.
#[derive(Debug)]
pub struct AuthConfig {
    pub table_name: String,
    pub jwt_secret: SecretString,
    pub session_ttl: Duration,
    pub signup_per_ip: RateLimit,
    pub login_per_ip: RateLimit,
    pub login_failures_per_email: RateLimit,
    pub password_params: PasswordParams,
    pub admin: Option<AdminSeed>,
    pub policy: AccessPolicy,
    pub kms_key_id: String,
    pub public_base_url: Option<String>,
}

fn kms_key_id(src: &dyn Source) -> Result<String, ConfigError> {
    required(
        src,
        "AGNUS_KMS_KEY_ID",
        "the KMS key (id, ARN or alias/...) that seals webhook secrets",
    )
}

fn public_base_url(src: &dyn Source) -> Option<String> {
    src.get("AGNUS_PUBLIC_BASE_URL")
        .map(|u| u.trim_end_matches('/').to_owned())
}

fn flag(src: &dyn Source, name: &'static str) -> Result<bool, ConfigError> {
    match src.get(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError::Invalid {
            name,
            reason: format!("expected true or false, got {other:?}"),
        }),
    }
}

impl AuthConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let table_name = required(
            src,
            "AGNUS_TABLE_NAME",
            "the DynamoDB table name, e.g. agnus-local-main",
        )?;
        let jwt_secret = jwt_secret(src)?;
        let session_ttl = session_ttl(src)?;
        let password_params = password_params(src)?;
        let admin = match (src.get("ADMIN_EMAIL"), src.get("ADMIN_PASSWORD")) {
            (None, None) => None,
            (Some(email), Some(password)) => Some(AdminSeed {
                email: Email::parse(&email).map_err(|e| ConfigError::Invalid {
                    name: "ADMIN_EMAIL",
                    reason: e.message,
                })?,
                password: Password::parse(SecretString::from(password)).map_err(|e| ConfigError::Invalid {
                    name: "ADMIN_PASSWORD",
                    reason: e.message,
                })?,
            }),
            _ => {
                return Err(ConfigError::Invalid {
                    name: "ADMIN_EMAIL/ADMIN_PASSWORD",
                    reason: "set both or neither".into(),
                });
            }
        };
        Ok(Self {
            table_name,
            jwt_secret,
            session_ttl,
            signup_per_ip: RateLimit::hourly(number(src, "AGNUS_SIGNUP_RATE_LIMIT_PER_IP", 10)?),
            login_per_ip: RateLimit::hourly(number(src, "AGNUS_LOGIN_RATE_LIMIT_PER_IP", 100)?),
            login_failures_per_email: RateLimit::hourly(number(src, "AGNUS_LOGIN_RATE_LIMIT_PER_EMAIL", 10)?),
            password_params,
            admin,
            policy: AccessPolicy::from_source(src),
            kms_key_id: kms_key_id(src)?,
            public_base_url: public_base_url(src),
        })
    }

    /// Bytes of the JWT key, for the crypto module only.
    pub fn jwt_key(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

fn jwt_secret(src: &dyn Source) -> Result<SecretString, ConfigError> {
    let secret = required(
        src,
        "AGNUS_JWT_SECRET",
        "a random key of at least 32 bytes; there is no default",
    )?;
    if secret.len() < 32 {
        return Err(ConfigError::Invalid {
            name: "AGNUS_JWT_SECRET",
            reason: "must be at least 32 bytes (e.g. `openssl rand -hex 32`)".into(),
        });
    }
    Ok(SecretString::from(secret))
}

/// Configuration of the org management function (and the purge job).
#[derive(Debug)]
pub struct OrgsConfig {
    pub table_name: String,
    pub jwt_secret: SecretString,
    pub policy: AccessPolicy,
    pub delete_grace: Duration,
    pub kms_key_id: String,
    pub public_base_url: Option<String>,
    pub rotation_overlap: Duration,
}

impl OrgsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(
                src,
                "AGNUS_TABLE_NAME",
                "the DynamoDB table name, e.g. agnus-local-main",
            )?,
            jwt_secret: jwt_secret(src)?,
            policy: AccessPolicy::from_source(src),
            delete_grace: Duration::from_secs(number(src, "AGNUS_ORG_DELETE_GRACE_SECS", 30 * 86_400)?),
            kms_key_id: kms_key_id(src)?,
            public_base_url: public_base_url(src),
            rotation_overlap: Duration::from_secs(number(src, "AGNUS_WEBHOOK_ROTATION_OVERLAP_SECS", 86_400)?),
        })
    }

    pub fn jwt_key(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

/// Configuration of the webhook intake function.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    pub table_name: String,
    pub queue_url: String,
    pub bucket: String,
    pub max_body_bytes: usize,
    pub inline_max_bytes: usize,
    pub cache_ttl: Duration,
    pub s3_path_style: bool,
}

impl IntakeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let max_body_bytes: usize = number(src, "AGNUS_WEBHOOK_MAX_BODY_BYTES", 4 * 1024 * 1024)?;
        if max_body_bytes > 6 * 1000 * 1000 - 64 * 1024 {
            return Err(ConfigError::Invalid {
                name: "AGNUS_WEBHOOK_MAX_BODY_BYTES",
                reason: "must leave room inside Lambda's 6 MB invocation payload".into(),
            });
        }
        let inline_max_bytes: usize = number(src, "AGNUS_SQS_INLINE_MAX_BYTES", 240 * 1024)?;
        if inline_max_bytes > 1024 * 1024 - 16 * 1024 {
            return Err(ConfigError::Invalid {
                name: "AGNUS_SQS_INLINE_MAX_BYTES",
                reason: "must leave room for attributes inside SQS's 1 MiB message limit".into(),
            });
        }
        Ok(Self {
            table_name: required(src, "AGNUS_TABLE_NAME", "the DynamoDB table name")?,
            queue_url: required(src, "AGNUS_REVIEW_QUEUE_URL", "the review queue URL")?,
            bucket: required(src, "AGNUS_PAYLOAD_BUCKET", "the claim-check bucket")?,
            max_body_bytes,
            inline_max_bytes,
            cache_ttl: Duration::from_secs(number(src, "AGNUS_WEBHOOK_CACHE_TTL_SECS", 60)?),
            s3_path_style: flag(src, "AGNUS_S3_FORCE_PATH_STYLE")?,
        })
    }
}

/// Configuration of the invitations function.
#[derive(Debug)]
pub struct InvitesConfig {
    pub table_name: String,
    pub jwt_secret: SecretString,
    pub policy: AccessPolicy,
    pub session_ttl: Duration,
    pub password_params: PasswordParams,
    pub invites_per_org_per_day: RateLimit,
    /// Where accept links point (the console); falls back to the public API base URL.
    pub app_base_url: Option<String>,
}

impl InvitesConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(src, "AGNUS_TABLE_NAME", "the DynamoDB table name")?,
            jwt_secret: jwt_secret(src)?,
            policy: AccessPolicy::from_source(src),
            session_ttl: session_ttl(src)?,
            password_params: password_params(src)?,
            invites_per_org_per_day: RateLimit {
                limit: number(src, "AGNUS_INVITES_PER_ORG_PER_DAY", 50)?,
                window: Duration::from_secs(86_400),
            },
            app_base_url: src
                .get("AGNUS_APP_BASE_URL")
                .map(|u| u.trim_end_matches('/').to_owned())
                .or_else(|| public_base_url(src)),
        })
    }

    pub fn jwt_key(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

/// Configuration of the repos function.
#[derive(Debug)]
pub struct ReposConfig {
    pub table_name: String,
    pub jwt_secret: SecretString,
    pub kms_key_id: String,
    pub queue_url: String,
    pub bucket: String,
    pub inline_max_bytes: usize,
    pub s3_path_style: bool,
}

impl ReposConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(src, "AGNUS_TABLE_NAME", "the DynamoDB table name")?,
            jwt_secret: jwt_secret(src)?,
            kms_key_id: kms_key_id(src)?,
            queue_url: required(src, "AGNUS_REVIEW_QUEUE_URL", "the review queue URL")?,
            bucket: required(src, "AGNUS_PAYLOAD_BUCKET", "the claim-check bucket")?,
            inline_max_bytes: number(src, "AGNUS_SQS_INLINE_MAX_BYTES", 240 * 1024)?,
            s3_path_style: flag(src, "AGNUS_S3_FORCE_PATH_STYLE")?,
        })
    }

    pub fn jwt_key(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

/// Configuration of the review worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub table_name: String,
    pub bucket: String,
    pub s3_path_style: bool,
    /// The handle that asks for a review in a PR comment.
    pub mention: String,
}

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(src, "AGNUS_TABLE_NAME", "the DynamoDB table name")?,
            bucket: required(src, "AGNUS_PAYLOAD_BUCKET", "the claim-check bucket")?,
            s3_path_style: flag(src, "AGNUS_S3_FORCE_PATH_STYLE")?,
            mention: src.get("AGNUS_REVIEW_MENTION").unwrap_or_else(|| "@agnus".to_owned()),
        })
    }
}

/// Configuration of the scheduled purge function.
#[derive(Debug)]
pub struct PurgeConfig {
    pub table_name: String,
}

impl PurgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required(src, "AGNUS_TABLE_NAME", "the DynamoDB table name")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        m.entry("AGNUS_KMS_KEY_ID".into())
            .or_insert_with(|| "alias/test".into());
        m
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn missing_required_names_the_variable() {
        let err = AuthConfig::from_source(&src(&[("AGNUS_JWT_SECRET", KEY)])).unwrap_err();
        assert!(err.to_string().contains("AGNUS_TABLE_NAME"), "{err}");
        let err = AuthConfig::from_source(&src(&[("AGNUS_TABLE_NAME", "t")])).unwrap_err();
        assert!(err.to_string().contains("AGNUS_JWT_SECRET"), "{err}");
    }

    #[test]
    fn short_jwt_key_is_refused() {
        let err =
            AuthConfig::from_source(&src(&[("AGNUS_TABLE_NAME", "t"), ("AGNUS_JWT_SECRET", "short")])).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "AGNUS_JWT_SECRET",
                ..
            }
        ));
    }

    #[test]
    fn defaults_and_overrides() {
        let c = AuthConfig::from_source(&src(&[("AGNUS_TABLE_NAME", "t"), ("AGNUS_JWT_SECRET", KEY)])).unwrap();
        assert_eq!(c.signup_per_ip, RateLimit::hourly(10));
        assert_eq!(c.session_ttl, Duration::from_secs(43_200));
        assert!(c.admin.is_none());
        let c = AuthConfig::from_source(&src(&[
            ("AGNUS_TABLE_NAME", "t"),
            ("AGNUS_JWT_SECRET", KEY),
            ("AGNUS_SIGNUP_RATE_LIMIT_PER_IP", "0"),
        ]))
        .unwrap();
        assert!(c.signup_per_ip.is_disabled());
        let err = AuthConfig::from_source(&src(&[
            ("AGNUS_TABLE_NAME", "t"),
            ("AGNUS_JWT_SECRET", KEY),
            ("AGNUS_SIGNUP_RATE_LIMIT_PER_IP", "ten"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("AGNUS_SIGNUP_RATE_LIMIT_PER_IP"));
    }

    #[test]
    fn weak_argon2_parameters_are_refused() {
        let err = AuthConfig::from_source(&src(&[
            ("AGNUS_TABLE_NAME", "t"),
            ("AGNUS_JWT_SECRET", KEY),
            ("AGNUS_ARGON2_MEMORY_KIB", "4096"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("AGNUS_ARGON2"), "{err}");
    }

    #[test]
    fn admin_needs_both_values() {
        let err = AuthConfig::from_source(&src(&[
            ("AGNUS_TABLE_NAME", "t"),
            ("AGNUS_JWT_SECRET", KEY),
            ("ADMIN_EMAIL", "root@example.com"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("ADMIN_EMAIL/ADMIN_PASSWORD"));
    }
}
