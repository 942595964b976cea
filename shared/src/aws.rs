//! AWS SDK client construction. Every client honours `AWS_ENDPOINT_URL` (and the
//! per-service variants) through the standard configuration chain, so the same code
//! talks to AWS or to the local emulator without emulator-specific branches.

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the shared SDK configuration once per cold start.
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The DynamoDB client type, named here so functions need not depend on the SDK crate.
pub type DynamoClient = aws_sdk_dynamodb::Client;

pub fn dynamodb(config: &SdkConfig) -> DynamoClient {
    DynamoClient::new(config)
}
