//! Logging: JSON lines on stdout, filtered by `RUST_LOG` (default `info`).
//!
//! Every line is one flat object, `{"timestamp","level","message",...}` with the event's fields
//! beside the message, so one `jq` filter reads every service's log. An event inside a span also
//! carries that span as `"span"` (emotion-api's request spans, at debug level); the list of outer
//! spans is left out. Nothing here decides what is logged: a service that must keep bodies or
//! headers out of its log keeps them out of its events and spans.

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Call once, first thing when serving; a second call (tests)
/// is a no-op.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        // No lines for spans opening and closing: events only.
        .with_span_events(FmtSpan::NONE)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}
