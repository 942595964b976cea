//! Purge Lambda entrypoint (EventBridge schedule).

use agnus_shared::config::PurgeConfig;
use agnus_shared::store::Store;
use agnus_shared::{aws, telemetry};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = PurgeConfig::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let store = Store::new(aws::dynamodb(&sdk), config.table_name);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| {
        let store = store.clone();
        async move {
            let report = agnus_purge::run(&store, store.now_secs()).await?;
            Ok::<_, Error>(json!({ "orgs": report.orgs, "items": report.items }))
        }
    }))
    .await
}
