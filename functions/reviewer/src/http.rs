//! HTTP plumbing shared by the provider and LLM clients: `reqwest` clients (rustls, the
//! system's root certificates), and the mapping of answers to what the job does next
//! (shared with the repos function's access check: `agnus_shared::provider_api`).

use std::time::Duration;

pub use agnus_shared::provider_api::{CallError, classify, decode, encode};
use reqwest::header::HeaderMap;

/// A request whose 404 means "no such thing" (an unknown commit), not a failure: the body
/// of a success, `None` for a 404, any other failure as it is.
pub async fn send_found(request: reqwest::RequestBuilder) -> Result<Option<Vec<u8>>, CallError> {
    match send(request).await {
        Ok((_, body)) => Ok(Some(body)),
        Err(CallError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("agnus-reviewer/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A transport failure (timeout, connection refused, reset): retry later.
pub fn transport(e: reqwest::Error) -> CallError {
    // Without the URL: it names the repository, fine, but never a credential anyway.
    CallError::network(e.without_url())
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
