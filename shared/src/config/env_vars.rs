//! The functions' environment, in one list (the README's configuration table, infra/ and the
//! tests that check both follow it).

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
    (
        "AGNUS_REVIEW_MIN_CONFIDENCE",
        "0.5: the system's minConfidence (0–1); comments the model scores under it are not posted",
    ),
    (
        "AGNUS_REVIEW_CONTEXT_TOKENS",
        "1500: the system's contextTokens (0–8000): prompt tokens of graph context; 0: none",
    ),
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
