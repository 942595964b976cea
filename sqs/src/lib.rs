//! SQS `SendMessage`, the intake's one call per delivery, without the SDK's per-call
//! machinery (BENCHMARKS.md, "The floor": the SDK's SendMessage was ~80 % of the intake,
//! char-by-char JSON escaping plus ~85 µs of fixed cost per call).
//!
//! The request is the SDK's, byte for byte (the tests capture both and compare): the
//! awsJson1_0 body written in one pass ([`body`]), its SHA-256 computed once, SigV4 for this
//! one request shape ([`sigv4`], proven equal to the SDK's signer `aws-sigv4`) with credentials from the SDK's credentials provider
//! through its identity cache (Lambda's session token, refresh before expiry), sent with the
//! SDK's own HTTP client (its connection pool, TLS and connect timeout), to the endpoint the
//! SDK would resolve ([`endpoint`]). Retries and timeouts follow the configuration the SDK
//! clients get ([`retry`]). Left out: the SDK's telemetry headers (`x-amz-user-agent`,
//! `amz-sdk-invocation-id`, `amz-sdk-request`, `user-agent`) and its retry quota.

pub mod body;
pub mod endpoint;
pub mod retry;
mod sigv4;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, default_async_sleep};
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_runtime::client::auth::no_auth::{NO_AUTH_SCHEME_ID, NoAuthScheme};
use aws_smithy_runtime::client::defaults::default_http_client_plugin_v2;
use aws_smithy_runtime::client::identity::IdentityCache;
use aws_smithy_runtime::client::identity::no_auth::NoAuthIdentityResolver;
use aws_smithy_runtime::client::orchestrator::endpoints::StaticUriEndpointResolver;
use aws_smithy_runtime::client::retries::strategy::NeverRetryStrategy;
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::identity::{
    Identity, ResolveCachedIdentity, SharedIdentityCache, SharedIdentityResolver,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::retry::ErrorKind;
use aws_types::SdkConfig;
use bytes::Bytes;
use sha2::{Digest, Sha256};

pub use body::Message;
pub use endpoint::Endpoint;
use retry::RetryPolicy;

/// SigV4 signing name of SQS.
const SIGNING_NAME: &str = "sqs";

/// A configuration the lean path cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no AWS region configured")]
    NoRegion,
    #[error("no AWS credentials provider configured")]
    NoCredentials,
    #[error("no HTTP client configured")]
    NoHttpClient,
    #[error("no async sleep implementation (tokio) available")]
    NoSleep,
    #[error("SQS endpoint: {0}")]
    Endpoint(String),
    #[error("HTTP client setup: {0}")]
    Runtime(String),
}

/// Why a message was not sent. Never carries the message body or credentials.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("AWS credentials unavailable: {0}")]
    Credentials(String),
    #[error("SendMessage could not be signed: {0}")]
    Signing(String),
    #[error("SendMessage not delivered: {why}")]
    Transport { why: String, retryable: bool },
    #[error("SendMessage timed out")]
    Timeout,
    #[error("SendMessage refused (HTTP {status}, {code}): {message}")]
    Service { status: u16, code: String, message: String },
    #[error("SendMessage answer unreadable: {0}")]
    Response(String),
}

impl SendError {
    /// Whether another attempt may succeed (the SDK's transient, throttling and 5xx
    /// classes); everything else fails the call at once.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Transport { retryable, .. } => *retryable,
            Self::Timeout => true,
            Self::Service { status, code, .. } => retry::retryable_answer(*status, code),
            Self::Credentials(_) | Self::Signing(_) | Self::Response(_) => false,
        }
    }

    fn transport(e: ConnectorError) -> Self {
        let retryable = e.is_io() || e.is_timeout() || e.as_other() == Some(ErrorKind::TransientError);
        Self::Transport {
            why: DisplayErrorContext(&e).to_string(),
            retryable,
        }
    }
}

/// The warm-up request's body: a `SendMessage` naming no queue, refused by SQS.
const WARM_UP_BODY: &[u8] = b"{}";

/// What [`SqsSender::warm_up`] found.
#[derive(Debug)]
pub enum WarmUp {
    /// SQS answered (the expected 4xx refusal): credentials, signing and connection work.
    Answered,
    TimedOut,
    Failed(SendError),
}

/// Sends messages to SQS; cheap to clone (one shared state).
#[derive(Debug, Clone)]
pub struct SqsSender {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    endpoint: Endpoint,
    uri: http::Uri,
    signer: sigv4::Signer,
    identity_cache: SharedIdentityCache,
    credentials: SharedIdentityResolver,
    /// What the SDK's HTTP client and identity cache read (time, sleep); nothing else in it
    /// is used.
    components: RuntimeComponents,
    config_bag: ConfigBag,
    connector: SharedHttpConnector,
    time: SharedTimeSource,
    retry: RetryPolicy,
    attempt_timeout: Option<Duration>,
    operation_timeout: Option<Duration>,
}

impl SqsSender {
    /// Everything from the SDK configuration the SDK's own SQS client would be built from.
    pub fn from_sdk(config: &SdkConfig) -> Result<Self, SetupError> {
        let endpoint = Endpoint::of(config)?;
        let uri: http::Uri = endpoint.uri.parse().map_err(|e| SetupError::Endpoint(format!("{e}")))?;
        let credentials = SharedIdentityResolver::new(config.credentials_provider().ok_or(SetupError::NoCredentials)?);
        let http = config
            .http_client()
            .or_else(|| default_http_client(config))
            .ok_or(SetupError::NoHttpClient)?;
        let time = config.time_source().unwrap_or_default();
        let sleep: SharedAsyncSleep = config
            .sleep_impl()
            .or_else(default_async_sleep)
            .ok_or(SetupError::NoSleep)?;
        let identity_cache = config.identity_cache().unwrap_or_else(|| IdentityCache::lazy().build());
        let components = RuntimeComponentsBuilder::new("agnus-sqs")
            .with_auth_scheme_option_resolver(Some(StaticAuthSchemeOptionResolver::new(vec![NO_AUTH_SCHEME_ID])))
            .with_endpoint_resolver(Some(StaticUriEndpointResolver::uri(endpoint.uri.clone())))
            .with_auth_scheme(NoAuthScheme::new())
            .with_identity_cache(Some(identity_cache.clone()))
            .with_identity_resolver(NO_AUTH_SCHEME_ID, NoAuthIdentityResolver::new())
            .with_retry_strategy(Some(NeverRetryStrategy::new()))
            .with_time_source(Some(time.clone()))
            .with_sleep_impl(Some(sleep))
            .build()
            .map_err(|e| SetupError::Runtime(e.to_string()))?;
        let timeouts = config.timeout_config();
        let mut settings = HttpConnectorSettings::builder();
        settings.set_connect_timeout(timeouts.and_then(|t| t.connect_timeout()));
        settings.set_read_timeout(timeouts.and_then(|t| t.read_timeout()));
        let connector = http.http_connector(&settings.build(), &components);
        let retry = config.retry_config().map_or(
            RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_secs(1),
                max_backoff: Duration::from_secs(20),
            },
            |r| RetryPolicy {
                max_attempts: r.max_attempts().max(1),
                initial_backoff: r.initial_backoff(),
                max_backoff: r.max_backoff(),
            },
        );
        let signer = sigv4::Signer::new(&uri, &endpoint.region, SIGNING_NAME)?;
        Ok(Self {
            inner: Arc::new(Inner {
                endpoint,
                uri,
                signer,
                identity_cache,
                credentials,
                components,
                config_bag: ConfigBag::base(),
                connector,
                time,
                retry,
                attempt_timeout: timeouts.and_then(|t| t.operation_attempt_timeout()),
                operation_timeout: timeouts.and_then(|t| t.operation_timeout()),
            }),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// Sends one message; its SQS message id. Retried (with backoff) while the failure is
    /// transient, within the configured attempt and operation timeouts.
    pub async fn send_message(&self, message: &Message<'_>) -> Result<String, SendError> {
        let body = Bytes::from(message.to_json());
        let payload_hash = hex::encode(Sha256::digest(&body));
        let attempts = self.attempts(&body, &payload_hash);
        match self.inner.operation_timeout {
            Some(limit) => tokio::time::timeout(limit, attempts)
                .await
                .unwrap_or(Err(SendError::Timeout)),
            None => attempts.await,
        }
    }

    /// Does during a cold start's init what the first delivery would otherwise do: resolve
    /// the credentials, derive the day's signing key, open the connection (TLS included)
    /// and read an answer — with a `SendMessage` of the empty object `{}`, which SQS refuses
    /// (400, no `QueueUrl`) without storing anything. One attempt, cut at `limit`; the
    /// outcome only says whether the path works (logged by the caller, never fatal).
    pub async fn warm_up(&self, limit: Duration) -> WarmUp {
        let body = Bytes::from_static(WARM_UP_BODY);
        let payload_hash = hex::encode(Sha256::digest(&body));
        match tokio::time::timeout(limit, self.attempt(body, &payload_hash)).await {
            Err(_) => WarmUp::TimedOut,
            // The expected refusal: the request reached SQS and was answered.
            Ok(Err(SendError::Service { status, .. })) if (400..500).contains(&status) => WarmUp::Answered,
            Ok(Ok(_)) => WarmUp::Answered,
            Ok(Err(e)) => WarmUp::Failed(e),
        }
    }

    async fn attempts(&self, body: &Bytes, payload_hash: &str) -> Result<String, SendError> {
        let policy = self.inner.retry;
        let mut failed = 0;
        loop {
            let attempt = self.attempt(body.clone(), payload_hash);
            let result = match self.inner.attempt_timeout {
                Some(limit) => tokio::time::timeout(limit, attempt)
                    .await
                    .unwrap_or(Err(SendError::Timeout)),
                None => attempt.await,
            };
            match result {
                Err(e) if e.retryable() && failed + 1 < policy.max_attempts => {
                    failed += 1;
                    let wait = policy.backoff(failed, retry::jitter());
                    tracing::debug!(error = %e, attempt = failed, wait_ms = wait.as_millis() as u64, "SendMessage failed, retrying");
                    tokio::time::sleep(wait).await;
                }
                done => return done,
            }
        }
    }

    async fn attempt(&self, body: Bytes, payload_hash: &str) -> Result<String, SendError> {
        let identity = self.identity().await?;
        let request = self.signed(&identity, self.inner.time.now(), body, payload_hash)?;
        let request =
            HttpRequest::try_from(request.map(SdkBody::from)).map_err(|e| SendError::Signing(e.to_string()))?;
        let response = self.inner.connector.call(request).await.map_err(SendError::transport)?;
        read_answer(response).await
    }

    /// The credentials, from the SDK's identity cache.
    pub async fn identity(&self) -> Result<Identity, SendError> {
        let inner = &self.inner;
        inner
            .identity_cache
            .resolve_cached_identity(inner.credentials.clone(), &inner.components, &inner.config_bag)
            .await
            .map_err(|e| SendError::Credentials(DisplayErrorContext(&*e).to_string()))
    }

    /// The complete signed request for `message` at `time` (what [`Self::send_message`]
    /// sends on its first attempt at that time).
    pub fn request(
        &self,
        message: &Message<'_>,
        identity: &Identity,
        time: SystemTime,
    ) -> Result<http::Request<Bytes>, SendError> {
        let body = Bytes::from(message.to_json());
        let payload_hash = hex::encode(Sha256::digest(&body));
        self.signed(identity, time, body, &payload_hash)
    }

    /// The request as the SDK sends it: the awsJson1_0 operation and content type, the
    /// header that asks SQS for the query-compatible error code (`x-amzn-query-error`), and
    /// the SigV4 headers.
    fn signed(
        &self,
        identity: &Identity,
        time: SystemTime,
        body: Bytes,
        payload_hash: &str,
    ) -> Result<http::Request<Bytes>, SendError> {
        use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
        let credentials = identity
            .data::<Credentials>()
            .ok_or_else(|| SendError::Signing("the identity is not AWS credentials".into()))?;
        let length = body.len().to_string();
        let signature = self.inner.signer.sign(credentials, time, &length, payload_hash);
        let value = |text: String| HeaderValue::try_from(text).map_err(|e| SendError::Signing(e.to_string()));
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.inner.uri.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static(sigv4::CONTENT_TYPE))
            .header(
                HeaderName::from_static("x-amz-target"),
                HeaderValue::from_static(sigv4::TARGET),
            )
            .header(
                HeaderName::from_static("x-amzn-query-mode"),
                HeaderValue::from_static(sigv4::QUERY_MODE),
            )
            .header(CONTENT_LENGTH, value(length)?)
            .header(HeaderName::from_static("x-amz-date"), value(signature.amz_date)?);
        let mut authorization = value(signature.authorization)?;
        authorization.set_sensitive(true);
        request = request.header(AUTHORIZATION, authorization);
        if let Some(token) = credentials.session_token() {
            let mut token = HeaderValue::from_str(token).map_err(|e| SendError::Signing(e.to_string()))?;
            token.set_sensitive(true);
            request = request.header(HeaderName::from_static("x-amz-security-token"), token);
        }
        if let Some(trace) = trace_header() {
            request = request.header(HeaderName::from_static("x-amzn-trace-id"), trace);
        }
        request.body(body).map_err(|e| SendError::Signing(e.to_string()))
    }
}

/// The HTTP client an SDK client gets when its configuration names none (`aws-config`
/// leaves it to each client): the SDK's default HTTPS client for the behavior version.
fn default_http_client(config: &SdkConfig) -> Option<SharedHttpClient> {
    let version = config.behavior_version().unwrap_or_else(BehaviorVersion::latest);
    let plugin = default_http_client_plugin_v2(version)?;
    plugin
        .runtime_components(&RuntimeComponentsBuilder::new("agnus-sqs default HTTP client"))
        .http_client()
}

/// Lambda's X-Ray trace id, passed on as the SDK's recursion-detection interceptor does
/// (unsigned: the header is excluded from SigV4). SQS keeps it as `AWSTraceHeader`.
fn trace_header() -> Option<http::HeaderValue> {
    trace_header_of(
        std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some(),
        std::env::var("_X_AMZN_TRACE_ID").ok().as_deref(),
    )
}

/// In a Lambda only; control characters and non-ASCII percent-encoded (`%XX`), as the SDK.
fn trace_header_of(in_lambda: bool, trace: Option<&str>) -> Option<http::HeaderValue> {
    use std::fmt::Write as _;
    let trace = trace.filter(|_| in_lambda)?;
    let mut encoded = String::with_capacity(trace.len());
    for &b in trace.as_bytes() {
        if !(0x20..0x7F).contains(&b) {
            let _ = write!(encoded, "%{b:02X}");
        } else {
            encoded.push(char::from(b));
        }
    }
    http::HeaderValue::from_str(&encoded).ok()
}

#[derive(serde::Deserialize)]
struct SendMessageResult {
    #[serde(rename = "MessageId")]
    message_id: Option<String>,
}

#[derive(Default, serde::Deserialize)]
struct ErrorAnswer {
    #[serde(rename = "__type")]
    kind: Option<String>,
    #[serde(alias = "Message")]
    message: Option<String>,
}

/// The message id, or the service's error: its code from `x-amzn-query-error` (the query
/// protocol's code, `AWS.SimpleQueueService.NonExistentQueue;Sender`) else the JSON
/// `__type` (`com.amazonaws.sqs#QueueDoesNotExist`), as the SDK reads them.
async fn read_answer(response: HttpResponse) -> Result<String, SendError> {
    use http_body_util::BodyExt;
    let status = response.status().as_u16();
    let query_error = response
        .headers()
        .get("x-amzn-query-error")
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| SendError::Transport {
            why: format!("reading the answer: {e}"),
            retryable: true,
        })?
        .to_bytes();
    if (200..300).contains(&status) {
        let answer: SendMessageResult =
            serde_json::from_slice(&body).map_err(|e| SendError::Response(e.to_string()))?;
        return answer
            .message_id
            .ok_or_else(|| SendError::Response("no MessageId".into()));
    }
    let answer: ErrorAnswer = serde_json::from_slice(&body).unwrap_or_default();
    let code = query_error
        .filter(|c| !c.is_empty())
        .or_else(|| {
            answer.kind.as_deref().map(|t| {
                let name = t.rsplit('#').next().unwrap_or(t);
                name.split(':').next().unwrap_or(name).to_owned()
            })
        })
        .unwrap_or_default();
    Err(SendError::Service {
        status,
        code,
        message: answer.message.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests;
