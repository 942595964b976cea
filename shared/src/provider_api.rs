//! What every call to a provider's REST API shares, whichever HTTP client makes it: the
//! outcome ([`CallError`]), the classification of a refusal, URL encoding, and the URLs
//! more than one client builds. The review engine's clients (`functions/reviewer`, over
//! `reqwest`) and the repository-access check (`repo_access.rs`, over the AWS SDK's own
//! HTTP client) both use it, so a refusal means the same thing to both.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

/// Why a call to a provider or the LLM did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// 401, or 403 that is not a rate limit: the credentials are refused.
    #[error("unauthorized ({0})")]
    Unauthorized(u16),
    #[error("not found")]
    NotFound,
    /// 429, 5xx, a rate-limit 403, a timeout or a network error: try again later
    /// (`after`: what the server asked for; `status`: 0 when no HTTP answer came back).
    #[error("temporarily unavailable: {why}")]
    RetryLater {
        after: Option<Duration>,
        why: String,
        status: u16,
    },
    /// Any other refusal (with its HTTP status), or an answer we cannot read (status 0).
    #[error("rejected: {why}")]
    Rejected { why: String, status: u16 },
    /// A success whose body is longer than the caller may hold (the review engine's
    /// download caps): read up to `limit` bytes, then dropped.
    #[error("the answer is over {limit} bytes")]
    TooLarge { limit: usize },
}

impl CallError {
    /// An answer we could not read (a success whose body is not the documented shape).
    pub fn unreadable(why: impl Into<String>) -> Self {
        CallError::Rejected {
            why: why.into(),
            status: 0,
        }
    }

    /// No HTTP answer came back (timeout, connection refused or reset): retry later.
    pub fn network(why: impl std::fmt::Display) -> Self {
        CallError::RetryLater {
            after: None,
            why: format!("network: {why}"),
            status: 0,
        }
    }

    /// The HTTP status behind the error (0: no answer, or an unreadable one).
    pub fn status(&self) -> u16 {
        match self {
            CallError::Unauthorized(s) => *s,
            CallError::NotFound => 404,
            CallError::RetryLater { status, .. } | CallError::Rejected { status, .. } => *status,
            CallError::TooLarge { .. } => 0,
        }
    }
}

/// Reads a success's JSON body; `host` names the API in the error.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8], host: &str) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|e| CallError::unreadable(format!("unexpected {host} answer: {e}")))
}

/// Percent-encodes one URL path segment or query value (RFC 3986 unreserved kept).
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() + 8);
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// GitLab's REST v4 root for an instance URL given with or without `/api/v4`.
pub fn gitlab_api(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/api/v4") {
        base.to_owned()
    } else {
        format!("{base}/api/v4")
    }
}

/// Azure DevOps' `{org}/{project}/_apis/git/repositories/{repo}` for `org/project/repo`.
pub fn azure_repository(base: &str, full_name: &str) -> String {
    let mut parts = full_name.splitn(3, '/');
    let (org, project, repo) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    format!(
        "{}/{}/{}/_apis/git/repositories/{}",
        base.trim_end_matches('/'),
        encode(org),
        encode(project),
        encode(repo)
    )
}

/// `Retry-After` as seconds or an HTTP date; GitHub's `x-ratelimit-reset` as a fallback.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(v) = headers.get("retry-after").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            return Some(at.duration_since(SystemTime::now()).unwrap_or_default());
        }
    }
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

/// Classifies a non-success answer.
pub fn classify(status: StatusCode, headers: &HeaderMap) -> CallError {
    let rate_limited = headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    match status.as_u16() {
        429 => CallError::RetryLater {
            after: retry_after(headers),
            why: "429 too many requests".into(),
            status: 429,
        },
        403 if rate_limited || headers.contains_key("retry-after") => CallError::RetryLater {
            after: retry_after(headers),
            why: "403 rate limited".into(),
            status: 403,
        },
        401 | 403 => CallError::Unauthorized(status.as_u16()),
        404 => CallError::NotFound,
        s if s >= 500 => CallError::RetryLater {
            after: retry_after(headers),
            why: format!("{s} from the server"),
            status: s,
        },
        s => CallError::Rejected {
            why: format!("status {s}"),
            status: s,
        },
    }
}

/// The four providers' API bases (from [`crate::config::ProviderApis`], normalized) and the
/// URL of one file at one commit: GitHub `GET /repos/{o}/{r}/contents/{path}?ref=` (ask for
/// the raw media type, [`GITHUB_RAW`]), GitLab `GET /projects/:id/repository/files/:path/raw?ref=`,
/// Bitbucket Cloud `GET /repositories/{w}/{r}/src/{sha}/{path}`, Azure DevOps
/// `GET …/items?path=&versionDescriptor.version=&versionDescriptor.versionType=commit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBases {
    pub github: String,
    pub gitlab: String,
    pub azure: String,
    pub bitbucket: String,
}

/// GitHub's media type for a file's raw bytes.
pub const GITHUB_RAW: &str = "application/vnd.github.raw";

impl ApiBases {
    pub fn new(apis: &crate::config::ProviderApis) -> Self {
        Self {
            github: apis.github_api_url.trim_end_matches('/').to_owned(),
            gitlab: gitlab_api(&apis.gitlab_url),
            azure: apis.azure_devops_url.trim_end_matches('/').to_owned(),
            bitbucket: apis.bitbucket_api_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The URL of `path` at `sha` in `repo` (the connected repository's full name).
    pub fn file_url(&self, provider: crate::domain::Provider, repo: &str, path: &str, sha: &str) -> String {
        use crate::domain::Provider;
        let path_e = path.split('/').map(encode).collect::<Vec<_>>().join("/");
        match provider {
            Provider::Github => format!("{}/repos/{repo}/contents/{path_e}?ref={}", self.github, encode(sha)),
            Provider::Gitlab => format!(
                "{}/projects/{}/repository/files/{}/raw?ref={}",
                self.gitlab,
                encode(repo),
                encode(path),
                encode(sha)
            ),
            Provider::Bitbucket => format!("{}/repositories/{repo}/src/{}/{path_e}", self.bitbucket, encode(sha)),
            Provider::Azure => format!(
                "{}/items?path={}&versionDescriptor.version={}&versionDescriptor.versionType=commit&download=true&api-version=7.1",
                azure_repository(&self.azure, repo),
                encode(&format!("/{path}")),
                encode(sha)
            ),
        }
    }
}

/// The `Authorization` header value a provider's REST API takes for a repository token:
/// Azure DevOps a personal access token as Basic with an empty user, the others Bearer.
pub fn authorization(provider: crate::domain::Provider, token: &secrecy::SecretString) -> String {
    use base64::Engine;
    use secrecy::ExposeSecret;
    match provider {
        crate::domain::Provider::Azure => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(":{}", token.expose_secret()))
        ),
        _ => format!("Bearer {}", token.expose_secret()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn statuses_map_to_what_the_job_does_next() {
        let mut h = HeaderMap::new();
        assert_eq!(classify(StatusCode::UNAUTHORIZED, &h), CallError::Unauthorized(401));
        assert_eq!(classify(StatusCode::FORBIDDEN, &h), CallError::Unauthorized(403));
        assert_eq!(classify(StatusCode::NOT_FOUND, &h), CallError::NotFound);
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &h),
            CallError::RetryLater { after: None, .. }
        ));
        h.insert("retry-after", HeaderValue::from_static("42"));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h),
            CallError::RetryLater {
                after: Some(Duration::from_secs(42)),
                why: "429 too many requests".into(),
                status: 429,
            }
        );
        let mut gh = HeaderMap::new();
        gh.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, &gh),
            CallError::RetryLater { .. }
        ));
        assert!(matches!(
            classify(StatusCode::UNPROCESSABLE_ENTITY, &h),
            CallError::Rejected { status: 422, .. }
        ));
        assert_eq!(encode("group/sub proj"), "group%2Fsub%20proj");
    }

    #[test]
    fn shared_urls() {
        assert_eq!(gitlab_api("https://gitlab.com/"), "https://gitlab.com/api/v4");
        assert_eq!(gitlab_api("https://git.example/api/v4"), "https://git.example/api/v4");
        assert_eq!(
            azure_repository("https://dev.azure.com/", "org/My Project/repo"),
            "https://dev.azure.com/org/My%20Project/_apis/git/repositories/repo"
        );
    }
}
