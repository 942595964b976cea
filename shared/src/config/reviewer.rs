//! The review engine's configuration: the LLM (an OpenAI-compatible endpoint or Amazon
//! Bedrock), the providers' API base URLs, the review limits.

use std::time::Duration;

use secrecy::SecretString;

use crate::review_settings::{Confidence, DEFAULT_CONTEXT_TOKENS, DEFAULT_MIN_CONFIDENCE, MAX_CONTEXT_TOKENS};

use super::{ConfigError, ProcessEnv, Source, app_base_url, flag, kms_key_id, number, required};

/// Which LLM API the reviewer asks, and where.
#[derive(Debug, Clone)]
pub enum LlmApi {
    /// An OpenAI-compatible Chat Completions endpoint (`AGNUS_LLM_BASE_URL`, bearer key).
    OpenAi {
        base_url: String,
        api_key: Option<SecretString>,
    },
    /// Amazon Bedrock's Converse API, signed with the function's AWS credentials (SigV4).
    Bedrock {
        endpoint: BedrockEndpoint,
        region: AwsRegion,
    },
}

/// The Bedrock Runtime endpoint (`https://bedrock-runtime.{region}.amazonaws.com`, or an
/// override: `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, then `AWS_ENDPOINT_URL`), no trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockEndpoint(String);

impl BedrockEndpoint {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An AWS region name (`us-east-1`): the SigV4 credential scope and the default endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsRegion(String);

impl AwsRegion {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl LlmApi {
    /// `AGNUS_LLM_PROVIDER`: `openai` (default) or `bedrock`.
    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        match src.get("AGNUS_LLM_PROVIDER").as_deref().map(str::trim) {
            None | Some("openai") => Ok(LlmApi::OpenAi {
                base_url: base_url(src, "AGNUS_LLM_BASE_URL", "https://api.openai.com/v1")?,
                api_key: src.get("AGNUS_LLM_API_KEY").map(SecretString::from),
            }),
            Some("bedrock") => {
                let (endpoint, region) = bedrock_runtime(src)?;
                Ok(LlmApi::Bedrock { endpoint, region })
            }
            Some(other) => Err(ConfigError::Invalid {
                name: "AGNUS_LLM_PROVIDER",
                reason: format!("expected openai or bedrock, got {other:?}"),
            }),
        }
    }
}

/// Bedrock Runtime's endpoint and region (`AWS_REGION`, then `AWS_DEFAULT_REGION`; the
/// endpoint: `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, then `AWS_ENDPOINT_URL`, then the region's
/// public one). Shared by the Converse LLM and the Titan embeddings.
pub(super) fn bedrock_runtime(src: &dyn Source) -> Result<(BedrockEndpoint, AwsRegion), ConfigError> {
    let (name, region) = match (src.get("AWS_REGION"), src.get("AWS_DEFAULT_REGION")) {
        (Some(r), _) => ("AWS_REGION", r),
        (None, Some(r)) => ("AWS_DEFAULT_REGION", r),
        (None, None) => {
            return Err(ConfigError::Missing {
                name: "AWS_REGION",
                hint: "the region of the Bedrock model (Lambda sets it)",
            });
        }
    };
    let region = region.trim().to_owned();
    if region.is_empty() || !region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("expected a region name such as us-east-1, got {region:?}"),
        });
    }
    let default = format!("https://bedrock-runtime.{region}.amazonaws.com");
    let endpoint = match src.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") {
        Some(_) => base_url(src, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &default)?,
        None => base_url(src, "AWS_ENDPOINT_URL", &default)?,
    };
    Ok((BedrockEndpoint(endpoint), AwsRegion(region)))
}

/// Configuration of the review engine (`functions/reviewer`).
#[derive(Debug, Clone)]
pub struct ReviewerConfig {
    pub table_name: String,
    pub queue_url: String,
    /// Index catch-up jobs (`AGNUS_INDEX_JOBS_QUEUE_URL`; unset: none).
    pub index_jobs_queue_url: Option<String>,
    /// The codebase index's bucket (`AGNUS_INDEX_BUCKET`): reviews read its graphs.
    pub index_bucket: Option<String>,
    pub s3_path_style: bool,
    /// The LLM API (OpenAI-compatible or Bedrock) and its endpoint.
    pub llm: LlmApi,
    /// The model name (OpenAI) or model id (Bedrock, e.g. `anthropic.claude-3-5-haiku-20241022-v1:0`).
    pub llm_model: String,
    pub llm_timeout: Duration,
    pub providers: ProviderApis,
    pub max_diff_bytes: usize,
    /// Bytes of one provider answer held in memory, at most (`AGNUS_REVIEW_MAX_ANSWER_BYTES`):
    /// a diff past it is cut (the files that did not fit are named as left out), any other
    /// answer fails the job (`provider_answer_too_large`).
    pub max_answer_bytes: usize,
    /// Bytes of diffs and file contents downloaded for one job, at most
    /// (`AGNUS_REVIEW_MAX_JOB_BYTES`): past it the rest is left out and named.
    pub max_job_bytes: usize,
    pub max_comments: usize,
    pub max_comments_per_file: usize,
    pub ignore_paths: Vec<String>,
    pub max_attempts: u32,
    pub mention: String,
    /// The console's origin: posted comments link to `…/api/feedback` under it (no
    /// links without it).
    pub app_base_url: Option<String>,
    /// The key that seals each org's feedback-link key (made on its first review).
    pub kms_key_id: String,
    pub limits: ReviewLimits,
    /// The system's `minConfidence` (`AGNUS_REVIEW_MIN_CONFIDENCE`, 0–1, default 0.5).
    pub min_confidence: Confidence,
    /// The system's `contextTokens` (`AGNUS_REVIEW_CONTEXT_TOKENS`, 0–8000, default 1500).
    pub context_tokens: u32,
    /// Embeddings for feedback examples by similarity (`AGNUS_EMBEDDINGS_*`; `None`: the
    /// most recent examples, as before).
    pub embeddings: Option<super::EmbeddingsConfig>,
}

/// `AGNUS_REVIEW_MIN_CONFIDENCE`: a number from 0 to 1.
fn min_confidence(src: &dyn Source) -> Result<Confidence, ConfigError> {
    const NAME: &str = "AGNUS_REVIEW_MIN_CONFIDENCE";
    match src.get(NAME) {
        None => Ok(DEFAULT_MIN_CONFIDENCE),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Confidence::new)
            .ok_or_else(|| ConfigError::Invalid {
                name: NAME,
                reason: format!("expected a number from 0 to 1, got {v:?}"),
            }),
    }
}

/// `AGNUS_REVIEW_CONTEXT_TOKENS`: a whole number from 0 to 8000.
fn context_tokens(src: &dyn Source) -> Result<u32, ConfigError> {
    const NAME: &str = "AGNUS_REVIEW_CONTEXT_TOKENS";
    match number(src, NAME, DEFAULT_CONTEXT_TOKENS)? {
        n if n <= MAX_CONTEXT_TOKENS => Ok(n),
        n => Err(ConfigError::Invalid {
            name: NAME,
            reason: format!("at most {MAX_CONTEXT_TOKENS}, got {n}"),
        }),
    }
}

pub(super) fn base_url(src: &dyn Source, name: &'static str, default: &str) -> Result<String, ConfigError> {
    let url = src.get(name).unwrap_or_else(|| default.to_owned());
    let url = url.trim().trim_end_matches('/').to_owned();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("expected an http(s) URL, got {url:?}"),
        });
    }
    Ok(url)
}

/// A number setting of at least 1.
pub(super) fn positive(src: &dyn Source, name: &'static str, default: usize) -> Result<usize, ConfigError> {
    match number(src, name, default)? {
        0 => Err(ConfigError::Invalid {
            name,
            reason: "must be at least 1".into(),
        }),
        n => Ok(n),
    }
}

/// Where the providers' REST APIs are, and how long a request to them may take (the
/// review engine, and the repos function that checks a token's access on connect).
#[derive(Debug, Clone)]
pub struct ProviderApis {
    pub github_api_url: String,
    pub gitlab_url: String,
    pub azure_devops_url: String,
    pub bitbucket_api_url: String,
    pub timeout: Duration,
}

impl ProviderApis {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let timeout = positive(src, "AGNUS_PROVIDER_TIMEOUT_SECS", 30)?;
        Ok(Self {
            github_api_url: base_url(src, "AGNUS_GITHUB_API_URL", "https://api.github.com")?,
            gitlab_url: base_url(src, "AGNUS_GITLAB_URL", "https://gitlab.com")?,
            azure_devops_url: base_url(src, "AGNUS_AZURE_DEVOPS_URL", "https://dev.azure.com")?,
            bitbucket_api_url: base_url(src, "AGNUS_BITBUCKET_API_URL", "https://api.bitbucket.org/2.0")?,
            timeout: Duration::from_secs(timeout as u64),
        })
    }
}

impl ReviewerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let llm = LlmApi::from_source(src)?;
        let positive = |name: &'static str, default: usize| positive(src, name, default);
        Ok(Self {
            table_name: required(src, "AGNUS_TABLE_NAME", "the DynamoDB table name")?,
            queue_url: required(src, "AGNUS_REVIEW_JOBS_QUEUE_URL", "the review-jobs queue URL")?,
            index_jobs_queue_url: src.get("AGNUS_INDEX_JOBS_QUEUE_URL"),
            index_bucket: src.get("AGNUS_INDEX_BUCKET").filter(|b| !b.trim().is_empty()),
            s3_path_style: flag(src, "AGNUS_S3_FORCE_PATH_STYLE")?,
            llm,
            llm_model: src.get("AGNUS_LLM_MODEL").unwrap_or_else(|| "gpt-4o-mini".to_owned()),
            llm_timeout: Duration::from_secs(positive("AGNUS_LLM_TIMEOUT_SECS", 120)? as u64),
            providers: ProviderApis::from_source(src)?,
            max_diff_bytes: positive("AGNUS_REVIEW_MAX_DIFF_BYTES", 60_000)?,
            max_answer_bytes: positive("AGNUS_REVIEW_MAX_ANSWER_BYTES", 8 << 20)?,
            max_job_bytes: positive("AGNUS_REVIEW_MAX_JOB_BYTES", 32 << 20)?,
            max_comments: positive("AGNUS_REVIEW_MAX_COMMENTS", 25)?,
            max_comments_per_file: positive("AGNUS_REVIEW_MAX_COMMENTS_PER_FILE", 5)?,
            ignore_paths: src
                .get("AGNUS_REVIEW_IGNORE_PATHS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            max_attempts: positive("AGNUS_REVIEW_MAX_ATTEMPTS", 5)? as u32,
            mention: src.get("AGNUS_REVIEW_MENTION").unwrap_or_else(|| "@agnus".to_owned()),
            app_base_url: app_base_url(src),
            kms_key_id: kms_key_id(src)?,
            limits: ReviewLimits::from_source(src)?,
            min_confidence: min_confidence(src)?,
            context_tokens: context_tokens(src)?,
            embeddings: super::EmbeddingsConfig::from_source(src)?,
        })
    }
}

/// The limits that keep reviews from being asked for without end (the review engine
/// enforces them; the orgs function shows them on the org's usage page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewLimits {
    /// A head reviewed within this many seconds is not reviewed again by a mention or a
    /// manual request (`AGNUS_REVIEW_REPEAT_WINDOW_SECS`, default 3600).
    pub repeat_window_secs: i64,
    /// LLM-backed reviews per org per hour (`AGNUS_REVIEWS_PER_ORG_PER_HOUR`, default 60);
    /// an org's `reviewsPerHour` setting may lower it, never raise it.
    pub reviews_per_org_per_hour: u32,
    /// Monthly LLM tokens per plan (`AGNUS_TOKEN_BUDGET_FREE` 500,000, `…_TEAM`
    /// 10,000,000, `…_ENTERPRISE` 100,000,000; 0: unlimited).
    pub monthly_tokens: PlanTokens,
}

/// A monthly LLM token budget per plan; 0 is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTokens {
    pub free: u64,
    pub team: u64,
    pub enterprise: u64,
}

impl PlanTokens {
    /// The plan's budget (`None`: unlimited).
    pub fn of(&self, plan: crate::domain::Plan) -> Option<u64> {
        use crate::domain::Plan;
        let budget = match plan {
            Plan::Free => self.free,
            Plan::Team => self.team,
            Plan::Enterprise => self.enterprise,
        };
        (budget > 0).then_some(budget)
    }
}

impl ReviewLimits {
    /// Reviews per hour for an org: its setting, never above the system's.
    pub fn reviews_per_hour(&self, org_setting: Option<u32>) -> u32 {
        org_setting.map_or(self.reviews_per_org_per_hour, |n| n.min(self.reviews_per_org_per_hour))
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            repeat_window_secs: number(src, "AGNUS_REVIEW_REPEAT_WINDOW_SECS", 3_600)?,
            reviews_per_org_per_hour: positive(src, "AGNUS_REVIEWS_PER_ORG_PER_HOUR", 60)? as u32,
            monthly_tokens: PlanTokens {
                free: number(src, "AGNUS_TOKEN_BUDGET_FREE", 500_000)?,
                team: number(src, "AGNUS_TOKEN_BUDGET_TEAM", 10_000_000)?,
                enterprise: number(src, "AGNUS_TOKEN_BUDGET_ENTERPRISE", 100_000_000)?,
            },
        })
    }
}
