//! Structured logs with `tracing`: JSON lines in Lambda (CloudWatch), text when asked.
//! Fields carry ids (request, org, user); never secrets.

use std::str::FromStr;

use tracing_subscriber::filter::LevelFilter;

/// Installs the global subscriber; call once from `main`. `RUST_LOG` is a level (`error`,
/// `warn`, `info`, `debug`, `trace`; default `info`) — a plain level rather than filter
/// directives keeps the regex engine out of the bootstraps.
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| LevelFilter::from_str(v.trim()).ok())
        .unwrap_or(LevelFilter::INFO);
    let text = std::env::var("AGNUS_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("text"));
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
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
