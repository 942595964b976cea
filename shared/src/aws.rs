//! AWS SDK client construction. Every client honours `AWS_ENDPOINT_URL` (and the
//! per-service variants) through the standard configuration chain, so the same code
//! talks to AWS or to the local emulator without emulator-specific branches. Throttling
//! and transient errors are retried with exponential backoff (standard retry mode).

use std::time::Duration;

use aws_config::BehaviorVersion;
/// The SDK configuration, named here so functions need not depend on aws-config.
pub use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

/// One attempt may take this long (connect included) before it is retried.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(2_000);
/// A whole operation, retries included, gives up after this: well inside the functions'
/// 10 s timeout, so a slow dependency becomes a clean 503, not a Lambda timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(6_000);
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);

/// The DynamoDB client type, named here so functions need not depend on the SDK crate.
pub type DynamoClient = aws_sdk_dynamodb::Client;
pub type KmsClient = aws_sdk_kms::Client;
pub type SqsClient = aws_sdk_sqs::Client;
pub type S3Client = aws_sdk_s3::Client;
pub use agnus_sqs::SqsSender;

/// Loads the shared SDK configuration once per cold start, with the functions' timeouts
/// ([`timeouts`]; `AGNUS_AWS_ATTEMPT_TIMEOUT_MS` / `AGNUS_AWS_OPERATION_TIMEOUT_MS`
/// override them — the local emulator is far slower than AWS, so `make dev` raises them).
pub async fn load() -> Result<SdkConfig, TrustBundleError> {
    check_trust_bundle()?;
    let attempt = env_ms("AGNUS_AWS_ATTEMPT_TIMEOUT_MS").unwrap_or(ATTEMPT_TIMEOUT);
    let operation = env_ms("AGNUS_AWS_OPERATION_TIMEOUT_MS").unwrap_or(OPERATION_TIMEOUT);
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(timeouts_of(attempt, operation))
        .load()
        .await)
}

/// `SSL_CERT_FILE` names the one file of root certificates the HTTPS client reads.
///
/// Unset, the client (`rustls-native-certs`) reads the distribution's bundle *and* every
/// certificate directory it finds, in every cold start: on Amazon Linux 2023 a line-by-line
/// scan of the bundle's 320 KB "trusted certificate" twin, on Debian every root decoded a
/// second time from its own file (BENCHMARKS.md, "One certificate bundle").
/// `infra/template.yaml` therefore sets it. A wrong path would leave the client with no
/// roots and every AWS call failing with "unknown issuer", so the cold start checks it
/// first and stops with this message instead.
#[derive(Debug, thiserror::Error)]
#[error("SSL_CERT_FILE={path} is not a readable, non-empty file ({reason})")]
pub struct TrustBundleError {
    path: String,
    reason: String,
}

/// Checks `SSL_CERT_FILE` when it is set (see [`TrustBundleError`]); unset is fine.
pub fn check_trust_bundle() -> Result<(), TrustBundleError> {
    check_bundle(std::env::var_os("SSL_CERT_FILE").as_deref())
}

fn check_bundle(path: Option<&std::ffi::OsStr>) -> Result<(), TrustBundleError> {
    let Some(path) = path else { return Ok(()) };
    let unusable = |reason: String| TrustBundleError {
        path: path.to_string_lossy().into_owned(),
        reason,
    };
    let meta = std::fs::File::open(path)
        .and_then(|f| f.metadata())
        .map_err(|e| unusable(e.to_string()))?;
    if !meta.is_file() {
        return Err(unusable("not a regular file".to_owned()));
    }
    if meta.len() == 0 {
        return Err(unusable("empty".to_owned()));
    }
    Ok(())
}

/// One HTTPS client for every SDK client of a function (and the lean SendMessage), the
/// same as the SDK's default (hyper, rustls over aws-lc, proxy settings from the
/// environment). Without it each SDK client makes its own default client, and each of those
/// builds its TLS configuration and trust anchors from the system's root certificates on
/// its first request — three or four times per cold start (BENCHMARKS.md, "Cold start").
/// Shared, clients with the same timeouts also share one connector and its connection pool.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The SDK configuration for operator tools (the CLI's event-source mapping long-polls SQS
/// for up to 20 s; a migration may run long transactions): connect timeout only.
pub async fn load_for_tools() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).build())
        .load()
        .await
}

fn env_ms(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_millis)
}

pub fn dynamodb(config: &SdkConfig) -> DynamoClient {
    DynamoClient::new(config)
}

pub fn kms(config: &SdkConfig) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(config)
}

pub fn sqs(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

/// The intake's lean SendMessage path (`agnus-sqs`): the same credentials, endpoint, HTTP
/// client, retries and timeouts as [`sqs`] would use.
pub fn sqs_sender(config: &SdkConfig) -> Result<SqsSender, agnus_sqs::SetupError> {
    SqsSender::from_sdk(config)
}

/// `path_style`: bucket in the path rather than the host name, which emulators on
/// 127.0.0.1 need (`AGNUS_S3_FORCE_PATH_STYLE=true`); AWS accepts both.
pub fn s3(config: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Operation, attempt and connect timeouts for every client built from [`load`].
pub fn timeouts() -> TimeoutConfig {
    timeouts_of(ATTEMPT_TIMEOUT, OPERATION_TIMEOUT)
}

fn timeouts_of(attempt: Duration, operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_bounded_inside_the_function_timeout() {
        let t = timeouts();
        assert_eq!(t.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert!(
            OPERATION_TIMEOUT < Duration::from_secs(10),
            "functions time out at 10 s"
        );
        assert!(ATTEMPT_TIMEOUT < OPERATION_TIMEOUT);
    }

    #[test]
    fn an_unset_certificate_file_leaves_the_default_search() {
        assert!(check_bundle(None).is_ok());
    }

    #[test]
    fn a_certificate_file_that_is_missing_empty_or_a_directory_stops_the_cold_start() {
        let dir = std::env::temp_dir().join(format!("agnus-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, b"").unwrap();
        let bundle = dir.join("bundle.pem");
        std::fs::write(&bundle, b"-----BEGIN CERTIFICATE-----\n").unwrap();

        let missing = check_bundle(Some(dir.join("missing.pem").as_os_str())).unwrap_err();
        assert!(missing.to_string().starts_with("SSL_CERT_FILE="), "{missing}");
        assert!(missing.to_string().contains("missing.pem"), "{missing}");
        assert!(
            check_bundle(Some(empty.as_os_str()))
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            check_bundle(Some(dir.as_os_str()))
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        assert!(check_bundle(Some("".as_ref())).is_err());
        assert!(check_bundle(Some(bundle.as_os_str())).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
