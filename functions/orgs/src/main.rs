//! Org management Lambda entrypoint: config and clients once per cold start.

use std::sync::Arc;

use agnus_orgs::{OrgsState, handle};
use agnus_shared::{aws, config::OrgsConfig, telemetry};
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = OrgsConfig::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws::load()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    // Membership mail goes out through SES from AGNUS_MAIL_FROM (unset: not sent).
    let mailer = agnus_shared::email::sender(&sdk, config.mail_from.as_deref());
    // Rated comments are embedded when AGNUS_EMBEDDINGS_PROVIDER is set (Bedrock: signed
    // with the function's credentials).
    let state = Arc::new(
        OrgsState::new(config, aws::dynamodb(&sdk), aws::kms(&sdk))
            .with_mailer(mailer)
            .with_embeddings(&sdk),
    );
    // Connection opened during init: the first request pays no connect (see Store::warm_up).
    state.store.warm_up().await;
    lambda_http::run(service_fn(move |req: Request| {
        let state = Arc::clone(&state);
        async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
    }))
    .await
}
