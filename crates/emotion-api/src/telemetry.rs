//! Structured logs: JSON lines on stdout, filtered by `RUST_LOG` (default `info`).
//!
//! Nothing here logs request bodies or headers: request spans carry method, route and status only,
//! so texts and `Authorization` headers never reach the log.

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_span_events(FmtSpan::NONE)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .init();
}
