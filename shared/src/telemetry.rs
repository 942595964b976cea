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

/// The X-Ray trace id (`Root=…`) of a trace header such as SQS's `AWSTraceHeader`
/// (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`), for
/// logs: a message's worker span carries the id of the intake request that enqueued it.
/// Empty when there is no header (tracing off, or a local run).
pub fn trace_id(header: Option<&String>) -> &str {
    header
        .and_then(|h| h.split(';').find_map(|part| part.trim().strip_prefix("Root=")))
        .filter(|root| root.len() <= 64 && root.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::trace_id;

    #[test]
    fn trace_id_is_the_root_of_the_header() {
        let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".to_owned();
        assert_eq!(trace_id(Some(&header)), "1-5759e988-bd862e3fe1be46a994272793");
        let reordered = "Sampled=0; Root=1-abc-def".to_owned();
        assert_eq!(trace_id(Some(&reordered)), "1-abc-def");
        assert_eq!(trace_id(None), "");
        assert_eq!(trace_id(Some(&"Parent=1".to_owned())), "");
        assert_eq!(trace_id(Some(&"Root=bad\nline".to_owned())), "");
    }
}
