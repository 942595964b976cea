//! Review engine entrypoint (SQS event source on the review-jobs queue, batch size 1,
//! `ReportBatchItemFailures`).

use std::sync::Arc;

use agnus_reviewer::{ReviewerState, handle};
use agnus_shared::config::ReviewerConfig;
use agnus_shared::crypto::SecretBox;
use agnus_shared::index_jobs::IndexJobs;
use agnus_shared::store::Store;
use agnus_shared::{aws, metrics, telemetry};
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = ReviewerConfig::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let store = Store::new(aws::dynamodb(&sdk), config.table_name.clone());
    // Connection opened during init: the first batch pays no connect (see Store::warm_up).
    store.warm_up().await;
    // Opening needs no key id (the ciphertext names its key); sealing an org's feedback key
    // uses the project key. The encryption context binds org and purpose.
    let sealer = SecretBox::new(aws::kms(&sdk), config.kms_key_id.clone());
    // The function's AWS credentials (its role in Lambda) also sign Bedrock requests.
    let credentials = sdk
        .credentials_provider()
        .ok_or("no AWS credentials provider in the SDK configuration")?;
    let index_queue = config.index_jobs_queue_url.clone();
    let index_bucket = config.index_bucket.clone();
    let s3 = aws::s3(&sdk, config.s3_path_style);
    let mut state = ReviewerState::new(config, store, sealer, aws::sqs(&sdk), credentials);
    if let Some(url) = index_queue {
        let sender = aws::sqs_sender(&sdk).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
        state = state.with_index_jobs(IndexJobs::new(sender, url));
    }
    if let Some(bucket) = index_bucket {
        state = state.with_index_graphs(s3, bucket);
    }
    let state = Arc::new(state);
    // Metrics of each job (reviews, LLM calls and tokens, provider API errors), written as
    // EMF on stdout when the invocation ends.
    let metrics = metrics::Emitter::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (state, metrics) = (Arc::clone(&state), metrics.clone());
        async move { Ok::<_, Error>(metrics.scope(handle(&state, event.payload)).await) }
    }))
    .await
}
