//! Review worker entrypoint (SQS event source with `ReportBatchItemFailures`).

use std::sync::Arc;

use agnus_shared::index_jobs::IndexJobs;
use agnus_shared::reviewer::QueueReviewer;
use agnus_shared::store::Store;
use agnus_shared::{aws, config::WorkerConfig, metrics, telemetry};
use agnus_worker::{WorkerState, handle};
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = WorkerConfig::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let store = Store::new(aws::dynamodb(&sdk), config.table_name.clone());
    // Connection opened during init: the first batch pays no connect (see Store::warm_up).
    store.warm_up().await;
    let reviewer = Arc::new(QueueReviewer::new(
        store.clone(),
        aws::sqs(&sdk),
        config.review_jobs_queue_url.clone(),
    ));
    let index_jobs = IndexJobs::new(
        aws::sqs_sender(&sdk).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?,
        config.index_jobs_queue_url.clone(),
    );
    let state = Arc::new(WorkerState::new(
        config.clone(),
        store,
        aws::s3(&sdk, config.s3_path_style),
        reviewer,
        index_jobs,
    ));
    // Metrics of each batch, written as EMF on stdout when it ends.
    let metrics = metrics::Emitter::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (state, metrics) = (Arc::clone(&state), metrics.clone());
        async move { Ok::<_, Error>(metrics.scope(handle(&state, event.payload)).await) }
    }))
    .await
}
