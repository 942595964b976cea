//! Intake Lambda entrypoint: config and clients once per cold start.

use std::sync::Arc;

use agnus_intake::{IntakeState, handle};
use agnus_shared::{aws, config::IntakeConfig, metrics, telemetry};
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = IntakeConfig::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let state = Arc::new(IntakeState::new(
        config.clone(),
        aws::dynamodb(&sdk),
        aws::kms(&sdk),
        aws::sqs_sender(&sdk).inspect_err(|e| tracing::error!(error = %e, "invalid SQS configuration"))?,
        aws::s3(&sdk, config.s3_path_style),
    ));
    // Connections opened during init, both at once: the first delivery pays no connect,
    // credential resolution or signing-key derivation (Store::warm_up, Enqueuer::warm_up).
    tokio::join!(state.store.warm_up(), state.enqueuer.warm_up());
    // Metrics of each invocation, written as EMF on stdout when it ends.
    let metrics = metrics::Emitter::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    lambda_http::run(service_fn(move |req: Request| {
        let (state, metrics) = (Arc::clone(&state), metrics.clone());
        async move { Ok::<_, std::convert::Infallible>(metrics.scope(handle(&state, req)).await) }
    }))
    .await
}
