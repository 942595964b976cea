//! Structured logs with `tracing`: JSON lines in Lambda (CloudWatch), text when asked.
//! Fields carry ids (request, org, user); never secrets.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; call once from `main`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let text = std::env::var("AGNUS_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("text"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .without_time();
    let result = if text {
        builder.try_init()
    } else {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    };
    // Already installed (tests): keep the existing one.
    let _ = result;
}
