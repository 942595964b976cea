//! Auth Lambda entrypoint: config and clients once per cold start, then the handler.

use std::sync::Arc;

use agnus_auth::{AuthState, bootstrap_admin, handle};
use agnus_shared::{aws, config::AuthConfig, metrics, telemetry};
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = match AuthConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration; refusing to start");
            return Err(e.into());
        }
    };
    let sdk = aws::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let mailer = agnus_shared::email::sender(&sdk, config.mail_from.as_deref());
    let state = Arc::new(AuthState::new(config, aws::dynamodb(&sdk), aws::kms(&sdk)).with_mailer(mailer));
    // Connection opened during init: the first request pays no connect (see Store::warm_up).
    state.store.warm_up().await;
    bootstrap_admin(&state).await?;
    // Metrics of each invocation, written as EMF on stdout when it ends.
    let metrics = metrics::Emitter::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    lambda_http::run(service_fn(move |req: Request| {
        let (state, metrics) = (Arc::clone(&state), metrics.clone());
        async move { Ok::<_, std::convert::Infallible>(metrics.scope(handle(&state, req)).await) }
    }))
    .await
}
