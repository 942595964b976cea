//! SigV4 headers for a JSON POST to an AWS service over a plain HTTP client: Bedrock
//! Runtime's Converse (the review engine's LLM) and InvokeModel (Titan embeddings), signed
//! with the function's own AWS credentials (its role in Lambda) — no API key.

use std::time::SystemTime;

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::provider_api::CallError;

/// A failure to obtain credentials, as what the caller does next: none configured is a
/// refusal (401-like), anything else (a provider timing out) is transient.
pub fn credentials_error(e: &CredentialsError) -> CallError {
    match e {
        CredentialsError::CredentialsNotLoaded(_) | CredentialsError::InvalidConfiguration(_) => {
            CallError::Unauthorized(0)
        }
        _ => CallError::RetryLater {
            after: None,
            why: "AWS credentials unavailable".into(),
            status: 0,
        },
    }
}

/// The SigV4 headers (`authorization`, `x-amz-date`, and `x-amz-security-token` with
/// temporary credentials) for a `content-type: application/json` POST of `body` to `url`,
/// for service `signing_name` in `region`.
pub async fn json_post_headers(
    credentials: &SharedCredentialsProvider,
    region: &str,
    signing_name: &str,
    url: &str,
    body: &[u8],
) -> Result<Vec<(String, String)>, CallError> {
    let credentials = credentials
        .provide_credentials()
        .await
        .map_err(|e| credentials_error(&e))?;
    let identity: Identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(signing_name)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| CallError::unreadable(format!("sigv4 parameters: {e}")))?
        .into();
    let headers = [("content-type", "application/json")];
    let request = SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body))
        .map_err(|e| CallError::unreadable(format!("sigv4 request: {e}")))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| CallError::unreadable(format!("sigv4 signing: {e}")))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}
