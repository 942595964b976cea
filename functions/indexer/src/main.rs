//! Indexer entrypoint (SQS event source on the index-jobs queue, batch size 1,
//! `ReportBatchItemFailures`).

use std::sync::Arc;

use agnus_indexer::{IndexerState, handle};
use agnus_shared::config::IndexerConfig;
use agnus_shared::crypto::SecretBox;
use agnus_shared::store::Store;
use agnus_shared::{aws, telemetry};
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = IndexerConfig::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let store = Store::new(aws::dynamodb(&sdk), config.table_name.clone());
    store.warm_up().await;
    let sealer = SecretBox::new(aws::kms(&sdk), config.kms_key_id.clone());
    let s3 = aws::s3(&sdk, config.s3_path_style);
    let state = Arc::new(IndexerState::new(config, store, sealer, s3, aws::sqs(&sdk)).with_embeddings(&sdk));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Error>(handle(&state, event.payload).await) }
    }))
    .await
}
