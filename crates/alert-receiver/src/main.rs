//! `alert-receiver`: receive Alertmanager's webhook notifications; `alert-receiver healthcheck`:
//! probe a running instance (exit 0 when ready).

use std::process::ExitCode;

use alert_receiver::config::Config;
use alert_receiver::startup::Application;
use alert_receiver::{healthcheck, telemetry};

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
        Some("healthcheck") => {
            if healthcheck::check(config.addr).await {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Some(other) => {
            eprintln!("unknown command {other:?}; usage: alert-receiver [healthcheck]");
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
    tracing::info!(addr = %app.addr(), history = config.history, max_body_bytes = config.max_body_bytes, "listening");
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGTERM (docker stop, systemd) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
