//! The emotion classifier's HTTP service.
//!
//! `main.rs` reads [`configuration::Settings`], installs the logs (`service_kit::telemetry`), then
//! [`startup::Application::build`] binds the listeners and
//! [`startup::Application::run_until_stopped`] serves until SIGTERM or Ctrl-C
//! (`service_kit::shutdown`). Integration tests drive the same `build` on port 0.

pub mod configuration;
pub mod error;
pub mod extract;
pub mod feedback;
pub mod healthcheck;
pub mod metrics;
pub mod middleware;
pub mod net;
pub mod openapi;
pub mod rate_limit;
pub mod receipt;
pub mod replay;
pub mod request_id;
pub mod routes;
pub mod sentence;
pub mod startup;
pub mod state;
