//! The skeleton every service binary of the workspace shares, so that each service keeps only
//! what is its own (its configuration struct, routes, state and log messages):
//!
//! - [`env`](mod@env): typed settings from environment variables; a bad value is refused with an error
//!   naming the variable and the value,
//! - [`shutdown`]: SIGTERM/SIGINT, a shutdown latch and a drain bounded by a timeout,
//! - [`healthcheck`]: the `healthcheck` subcommand Docker's `HEALTHCHECK` runs (images without
//!   curl), and the small HTTP/1.1 client it is built on,
//! - [`telemetry`]: JSON log lines on stdout filtered by `RUST_LOG`,
//! - [`metrics`]: the Prometheus exposition format every `/metrics` route answers in.
//!
//! It has no HTTP framework: the services' routers, error bodies and metrics recorders differ, and
//! stay in the services.

pub mod env;
pub mod healthcheck;
pub mod metrics;
pub mod shutdown;
pub mod telemetry;
