//! Repos Lambda entrypoint: config and clients once per cold start.

use std::sync::Arc;

use agnus_repos::{ReposState, handle};
use agnus_shared::{aws, config::ReposConfig, metrics, telemetry};
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = ReposConfig::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let state = Arc::new(ReposState::new(
        config,
        aws::dynamodb(&sdk),
        aws::kms(&sdk),
        aws::sqs_sender(&sdk).inspect_err(|e| tracing::error!(error = %e, "invalid SQS configuration"))?,
    ));
    // Connection opened during init: the first request pays no connect (see Store::warm_up).
    state.store.warm_up().await;
    // Metrics of each invocation, written as EMF on stdout when it ends.
    let metrics = metrics::Emitter::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    lambda_http::run(service_fn(move |req: Request| {
        let (state, metrics) = (Arc::clone(&state), metrics.clone());
        async move { Ok::<_, std::convert::Infallible>(metrics.scope(handle(&state, req)).await) }
    }))
    .await
}
