//! `access-log-exporter`: serve gateway metrics; `access-log-exporter healthcheck`: probe a
//! running instance (exit 0 when ready).
//!
//! The skeleton (signals, drain, healthcheck, logging) is `service_kit`'s; the exit statuses are
//! this file's: 2 for a bad variable or an unknown command, 1 when serving fails.

use std::process::ExitCode;

use access_log_exporter::config::Config;
use access_log_exporter::startup::Application;
use service_kit::{healthcheck, shutdown, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    match command.as_deref() {
        None => serve(config).await,
        Some("healthcheck") => healthcheck::run(config.metrics_addr).await,
        Some(other) => {
            eprintln!("unknown command {other:?}; usage: access-log-exporter [healthcheck]");
            ExitCode::from(2)
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    telemetry::init();
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(syslog_addr = %app.syslog_addr(), metrics_addr = %app.metrics_addr(), "listening");
    match app.run_until_stopped(shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "stopped with an error");
            ExitCode::FAILURE
        }
    }
}
