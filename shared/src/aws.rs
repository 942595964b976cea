//! AWS SDK client construction. Every client honours `AWS_ENDPOINT_URL` (and the
//! per-service variants) through the standard configuration chain, so the same code
//! talks to AWS or to the local emulator without emulator-specific branches. Throttling
//! and transient errors are retried with exponential backoff (standard retry mode).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// The DynamoDB client type, named here so functions need not depend on the SDK crate.
pub type DynamoClient = aws_sdk_dynamodb::Client;
pub type KmsClient = aws_sdk_kms::Client;
pub type SqsClient = aws_sdk_sqs::Client;
pub type S3Client = aws_sdk_s3::Client;

/// Loads the shared SDK configuration once per cold start.
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .load()
        .await
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

/// `path_style`: bucket in the path rather than the host name, which emulators on
/// 127.0.0.1 need (`AGNUS_S3_FORCE_PATH_STYLE=true`); AWS accepts both.
pub fn s3(config: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
