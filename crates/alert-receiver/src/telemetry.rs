//! Logging: JSON lines on stdout, filtered by `RUST_LOG` (default `info`). The alert lines of
//! [`crate::delivery`] share the stream and its top-level keys.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        // Flat `{"timestamp","level","message",...}` lines, the same shape as the other services'.
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}
