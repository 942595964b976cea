//! Typed configuration, read once from the environment at cold start. A missing or
//! malformed variable stops the function with a message naming it (fail fast), instead
//! of surfacing later as a confusing runtime error.

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

pub use crate::env::{ProcessEnv, Source};
pub use embeddings::{EmbeddingsApi, EmbeddingsConfig, MAX_DIMENSIONS, TITAN_V2};
pub use indexer::{IndexCaps, IndexerConfig};
pub use reviewer::{AwsRegion, BedrockEndpoint, LlmApi, PlanTokens, ProviderApis, ReviewLimits, ReviewerConfig};

mod embeddings;
mod indexer;
mod reviewer;
#[cfg(test)]
mod tests;

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
        "required (auth, orgs, repos, reviewer): KMS key id, ARN or alias sealing webhook secrets, repository tokens and feedback-link keys",
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
    (
        "AGNUS_LOGIN_RATE_LIMIT_PER_EMAIL",
        "10 failures per hour per account and source address (lockout); 0 disables",
    ),
    (
        "AGNUS_LOGIN_SLOWDOWN_PER_EMAIL",
        "20 failures per hour per account from anywhere, then each attempt waits 1 s",
    ),
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
    (
        "AGNUS_ORG_CREATE_PER_USER_PER_HOUR",
        "5 organizations per person per hour; 0 disables",
    ),
    ("AGNUS_RULES_PER_ORG", "200 review rules per organization"),
    (
        "AGNUS_FEEDBACK_PER_IP_PER_HOUR",
        "300 feedback-link clicks per source address per hour (0 disables)",
    ),
    ("AGNUS_APP_BASE_URL", "unset: accept links use AGNUS_PUBLIC_BASE_URL"),
    (
        "AGNUS_MAIL_FROM",
        "unset: no mail is sent; a verified SES identity (address) to send from",
    ),
    (
        "AGNUS_VERIFY_RESEND_PER_HOUR",
        "5 verification mails per account per hour; 0 disables",
    ),
    (
        "AGNUS_PASSWORD_RESET_PER_EMAIL",
        "5 reset mails per address per hour (more are silently not sent); 0 disables",
    ),
    (
        "AGNUS_PASSWORD_RESET_PER_IP",
        "20 reset requests per source IP per hour; 0 disables",
    ),
    (
        "AGNUS_REVIEW_MENTION",
        "@agnus: a PR comment mentioning it (as a whole token, outside code and quotes) asks for a review; the org's and repository's mention setting override it",
    ),
    (
        "AGNUS_REVIEW_REPEAT_WINDOW_SECS",
        "3600: a head reviewed within this window is not reviewed again by a mention or a manual request",
    ),
    (
        "AGNUS_REVIEWS_PER_ORG_PER_HOUR",
        "60: LLM-backed reviews per org per hour (an org's reviewsPerHour setting may lower it)",
    ),
    (
        "AGNUS_TOKEN_BUDGET_FREE",
        "500000: monthly LLM tokens of a free org (0: unlimited)",
    ),
    (
        "AGNUS_TOKEN_BUDGET_TEAM",
        "10000000: monthly LLM tokens of a team org (0: unlimited)",
    ),
    (
        "AGNUS_TOKEN_BUDGET_ENTERPRISE",
        "100000000: monthly LLM tokens of an enterprise org (0: unlimited)",
    ),
    (
        "AGNUS_REVIEW_JOBS_QUEUE_URL",
        "required (worker, reviewer): the review-jobs queue the reviewer consumes",
    ),
    (
        "AGNUS_INDEX_JOBS_QUEUE_URL",
        "required (repos, worker, indexer; reviewer: optional, index catch-up): the index-jobs queue the indexer consumes",
    ),
    (
        "AGNUS_INDEX_BUCKET",
        "required (indexer): the bucket of codebase-index graphs",
    ),
    (
        "AGNUS_INDEX_MAX_ARCHIVE_BYTES",
        "536870912 (512 MiB): a repository archive past it fails the job (too_large)",
    ),
    (
        "AGNUS_INDEX_MAX_FILES",
        "50000: indexable files in one repository, at most (too_large past it)",
    ),
    (
        "AGNUS_INDEX_MAX_FILE_BYTES",
        "1048576 (1 MiB): a larger source file is skipped and counted",
    ),
    (
        "AGNUS_INDEX_MAX_SOURCE_BYTES",
        "268435456 (256 MiB): source bytes parsed in one job, at most (too_large past it)",
    ),
    (
        "AGNUS_BITBUCKET_WEB_URL",
        "https://bitbucket.org: where Bitbucket Cloud serves repository archives (indexer)",
    ),
    (
        "AGNUS_INDEX_MAX_ATTEMPTS",
        "5: receives of an index job before a provider outage is recorded as its failure",
    ),
    (
        "AGNUS_INDEX_INCREMENTAL_MAX_FILES",
        "200: more files changed since the indexed commit, and the job indexes in full",
    ),
    ("AGNUS_INDEX_EMBED_SYMBOLS", "2000: symbols embedded per graph"),
    (
        "AGNUS_LLM_PROVIDER",
        "openai: any OpenAI-compatible Chat Completions endpoint; bedrock: Amazon Bedrock Converse",
    ),
    (
        "AGNUS_LLM_BASE_URL",
        "https://api.openai.com/v1 (e.g. a local Ollama/vLLM .../v1); openai only",
    ),
    (
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "unset: Bedrock Runtime endpoint (then AWS_ENDPOINT_URL, then https://bedrock-runtime.{region}.amazonaws.com)",
    ),
    (
        "AGNUS_LLM_MODEL",
        "gpt-4o-mini: the model (a Bedrock model id with bedrock)",
    ),
    (
        "AGNUS_LLM_API_KEY",
        "unset: no Authorization header (Secrets Manager in AWS)",
    ),
    ("AGNUS_LLM_TIMEOUT_SECS", "120: per LLM request (one retry)"),
    (
        "AGNUS_EMBEDDINGS_PROVIDER",
        "none: no embeddings (feedback examples by recency); openai: any OpenAI-compatible /embeddings; bedrock: Titan Text Embeddings V2 (orgs, reviewer, indexer)",
    ),
    (
        "AGNUS_EMBEDDINGS_URL",
        "https://api.openai.com/v1 (e.g. a local Ollama .../v1); openai only",
    ),
    (
        "AGNUS_EMBEDDINGS_MODEL",
        "text-embedding-3-small (openai); amazon.titan-embed-text-v2:0 (bedrock)",
    ),
    (
        "AGNUS_EMBEDDINGS_API_KEY",
        "unset: no Authorization header; openai only (Secrets Manager in AWS)",
    ),
    (
        "AGNUS_EMBEDDINGS_DIMENSIONS",
        "bedrock: 256, 512 (default) or 1024; openai: unset (the model's) or at most 4096, sent as `dimensions`",
    ),
    (
        "AGNUS_EMBEDDINGS_TIMEOUT_SECS",
        "10: per embeddings request, whole (at most 60)",
    ),
    (
        "AGNUS_GITHUB_API_URL",
        "https://api.github.com (GitHub Enterprise Server: https://HOST/api/v3)",
    ),
    ("AGNUS_GITLAB_URL", "https://gitlab.com"),
    ("AGNUS_AZURE_DEVOPS_URL", "https://dev.azure.com"),
    ("AGNUS_BITBUCKET_API_URL", "https://api.bitbucket.org/2.0"),
    ("AGNUS_PROVIDER_TIMEOUT_SECS", "30: per provider API request"),
    (
        "AGNUS_REVIEW_MAX_DIFF_BYTES",
        "60000: diff bytes in a prompt; more is truncated with a notice",
    ),
    ("AGNUS_REVIEW_MAX_COMMENTS", "25 inline comments per review"),
    ("AGNUS_REVIEW_MAX_COMMENTS_PER_FILE", "5 inline comments per file"),
    (
        "AGNUS_REVIEW_IGNORE_PATHS",
        "unset: comma list of extra path patterns never reviewed (prefix/, *.ext, exact)",
    ),
    (
        "AGNUS_REVIEW_MAX_ATTEMPTS",
        "5: receives of a job before it fails for good",
    ),
    ("DEFAULT_ORG_NAME", "Default: name of the org `agnus migrate` creates"),
    ("AGNUS_LOG_FORMAT", "json (or text)"),
    (
        "AGNUS_METRICS_NAMESPACE",
        "AgnusAI: CloudWatch namespace of the EMF metrics (read by metrics::Emitter)",
    ),
    (
        "SSL_CERT_FILE",
        "unset: the one file of root certificates the AWS clients trust (read by aws::load; infra sets Amazon Linux 2023's bundle)",
    ),
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
    /// Failures per (account, source address) before that pair is locked out.
    pub login_failures_per_email: RateLimit,
    /// Failures per account from any source before every attempt is slowed down (never
    /// locked: a stranger must not be able to lock an owner out).
    pub login_slowdown_per_email: RateLimit,
    pub password_params: PasswordParams,
    pub admin: Option<AdminSeed>,
    pub policy: AccessPolicy,
    pub kms_key_id: String,
    pub public_base_url: Option<String>,
    /// The verified SES identity mail is sent from; `None`: no mail is sent.
    pub mail_from: Option<String>,
    /// Where mail links point (the console).
    pub app_base_url: Option<String>,
    pub verify_resend_per_user: RateLimit,
    pub password_reset_per_email: RateLimit,
    pub password_reset_per_ip: RateLimit,
}

/// `AGNUS_MAIL_FROM`: a bare address (the SES identity).
fn mail_from(src: &dyn Source) -> Result<Option<String>, ConfigError> {
    src.get("AGNUS_MAIL_FROM")
        .map(|v| {
            Email::parse(v.trim())
                .map(|e| e.as_str().to_owned())
                .map_err(|e| ConfigError::Invalid {
                    name: "AGNUS_MAIL_FROM",
                    reason: e.message,
                })
        })
        .transpose()
}

/// `AGNUS_APP_BASE_URL`, else `AGNUS_PUBLIC_BASE_URL`: the base of links in mail.
fn app_base_url(src: &dyn Source) -> Option<String> {
    src.get("AGNUS_APP_BASE_URL")
        .map(|u| u.trim_end_matches('/').to_owned())
        .or_else(|| public_base_url(src))
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
            login_slowdown_per_email: RateLimit::hourly(number(src, "AGNUS_LOGIN_SLOWDOWN_PER_EMAIL", 20)?),
            password_params,
            admin,
            policy: AccessPolicy::from_source(src),
            kms_key_id: kms_key_id(src)?,
            public_base_url: public_base_url(src),
            mail_from: mail_from(src)?,
            app_base_url: app_base_url(src),
            verify_resend_per_user: RateLimit::hourly(number(src, "AGNUS_VERIFY_RESEND_PER_HOUR", 5)?),
            password_reset_per_email: RateLimit::hourly(number(src, "AGNUS_PASSWORD_RESET_PER_EMAIL", 5)?),
            password_reset_per_ip: RateLimit::hourly(number(src, "AGNUS_PASSWORD_RESET_PER_IP", 20)?),
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
    /// Organizations one person may create per hour (`POST /api/orgs`).
    pub orgs_per_user: RateLimit,
    /// Review rules one org may have.
    pub rules_per_org: u32,
    /// Feedback votes per source address (`POST /api/feedback`, no session).
    pub feedback_per_ip: RateLimit,
    /// Base of the console links in membership mail (removed, ownership transferred).
    pub app_base_url: Option<String>,
    /// The verified SES identity membership mail is sent from; `None`: not sent.
    pub mail_from: Option<String>,
    /// The review limits the org's usage page shows (the review engine enforces them).
    pub review_limits: ReviewLimits,
    /// Embeddings of rated comments (`AGNUS_EMBEDDINGS_*`; `None`: off).
    pub embeddings: Option<EmbeddingsConfig>,
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
            orgs_per_user: RateLimit::hourly(number(src, "AGNUS_ORG_CREATE_PER_USER_PER_HOUR", 5)?),
            rules_per_org: number(src, "AGNUS_RULES_PER_ORG", crate::rules::MAX_RULES_PER_ORG)?,
            feedback_per_ip: RateLimit::hourly(number(src, "AGNUS_FEEDBACK_PER_IP_PER_HOUR", 300)?),
            app_base_url: app_base_url(src),
            mail_from: mail_from(src)?,
            review_limits: ReviewLimits::from_source(src)?,
            embeddings: EmbeddingsConfig::from_source(src)?,
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
    /// The verified SES identity invitations are sent from; `None`: not sent.
    pub mail_from: Option<String>,
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
            app_base_url: app_base_url(src),
            mail_from: mail_from(src)?,
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
    /// Codebase-index jobs: a repository's first index on connect, an admin's re-index.
    pub index_jobs_queue_url: String,
    /// Manual-review messages are small: always inline, never claim-checked.
    pub inline_max_bytes: usize,
    /// Connecting a repository checks the token against its provider here.
    pub providers: ProviderApis,
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
            index_jobs_queue_url: required(src, "AGNUS_INDEX_JOBS_QUEUE_URL", "the index-jobs queue URL")?,
            inline_max_bytes: number(src, "AGNUS_SQS_INLINE_MAX_BYTES", 240 * 1024)?,
            providers: ProviderApis::from_source(src)?,
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
    /// Where recorded jobs go for the reviewer.
    pub review_jobs_queue_url: String,
    /// Incremental index jobs (a push to a repository's default branch).
    pub index_jobs_queue_url: String,
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
            review_jobs_queue_url: required(src, "AGNUS_REVIEW_JOBS_QUEUE_URL", "the review-jobs queue URL")?,
            index_jobs_queue_url: required(src, "AGNUS_INDEX_JOBS_QUEUE_URL", "the index-jobs queue URL")?,
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
