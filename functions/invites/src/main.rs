//! Invitations Lambda entrypoint: config and clients once per cold start.

use std::sync::Arc;

use agnus_invites::{InvitesState, handle};
use agnus_shared::email::LogEmailSender;
use agnus_shared::{aws, config::InvitesConfig, metrics, telemetry};
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = InvitesConfig::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws::load().await;
    // The delivery of invitations: swap in an SES-backed EmailSender here to send mail.
    let state = Arc::new(InvitesState::new(config, aws::dynamodb(&sdk), Arc::new(LogEmailSender)));
    // Metrics of each invocation, written as EMF on stdout when it ends.
    let metrics = metrics::Emitter::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    lambda_http::run(service_fn(move |req: Request| {
        let (state, metrics) = (Arc::clone(&state), metrics.clone());
        async move { Ok::<_, std::convert::Infallible>(metrics.scope(handle(&state, req)).await) }
    }))
    .await
}
