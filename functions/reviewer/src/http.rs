//! HTTP plumbing shared by the provider and LLM clients: `reqwest` clients (rustls, the
//! system's root certificates), and the mapping of answers to what the job does next.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

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
}

impl CallError {
    /// An answer we could not read (a success whose body is not the documented shape).
    pub fn unreadable(why: impl Into<String>) -> Self {
        CallError::Rejected {
            why: why.into(),
            status: 0,
        }
    }

    /// The HTTP status behind the error (0: no answer, or an unreadable one).
    pub fn status(&self) -> u16 {
        match self {
            CallError::Unauthorized(s) => *s,
            CallError::NotFound => 404,
            CallError::RetryLater { status, .. } | CallError::Rejected { status, .. } => *status,
        }
    }
}

/// Reads a success's JSON body; `host` names the API in the error.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8], host: &str) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|e| CallError::unreadable(format!("unexpected {host} answer: {e}")))
}

/// A request whose 404 means "no such thing" (an unknown commit), not a failure: the body
/// of a success, `None` for a 404, any other failure as it is.
pub async fn send_found(request: reqwest::RequestBuilder) -> Result<Option<Vec<u8>>, CallError> {
    match send(request).await {
        Ok((_, body)) => Ok(Some(body)),
        Err(CallError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
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

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("agnus-reviewer/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
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

/// A transport failure (timeout, connection refused, reset): retry later.
pub fn transport(e: reqwest::Error) -> CallError {
    CallError::RetryLater {
        after: None,
        // Without the URL: it names the repository, fine, but never a credential anyway.
        why: format!("network: {}", e.without_url()),
        status: 0,
    }
}

/// Sends a request and returns the body of a success, or the classified failure.
pub async fn send(request: reqwest::RequestBuilder) -> Result<(HeaderMap, Vec<u8>), CallError> {
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    if !status.is_success() {
        return Err(classify(status, &headers));
    }
    let body = response.bytes().await.map_err(transport)?;
    Ok((headers, body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

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
}
