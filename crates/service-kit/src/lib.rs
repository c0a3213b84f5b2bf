//! The skeleton every service binary of the workspace shares, so that each service keeps only
//! what is its own (its name, configuration struct, routes, state and the log lines only it writes):
//!
//! - [`cli`]: a service binary's `main` (the `healthcheck` subcommand, the exit statuses, the
//!   start/stop log lines), given its name, configuration reader and `Application`,
//! - [`env`](mod@env): typed settings from environment variables; a bad value is refused with an error
//!   naming the variable and the value,
//! - [`shutdown`]: SIGTERM/SIGINT, a shutdown latch (triggered by a stop future with
//!   [`shutdown::Shutdown::on`]) and a drain bounded by a timeout, of a future or of a spawned
//!   server's task ([`shutdown::drain_spawned`]),
//! - [`healthcheck`]: the `healthcheck` subcommand Docker's `HEALTHCHECK` runs (images without
//!   curl), and the small HTTP/1.1 client it is built on,
//! - [`telemetry`]: JSON log lines on stdout filtered by `RUST_LOG`,
//! - [`metrics`]: the Prometheus exposition format every `/metrics` route answers in.
//!
//! It has no HTTP framework: the services' routers, error bodies and metrics recorders differ, and
//! stay in the services.

pub mod cli;
pub mod env;
pub mod healthcheck;
pub mod metrics;
pub mod shutdown;
pub mod telemetry;
