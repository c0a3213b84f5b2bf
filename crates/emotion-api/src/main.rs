//! `emotion-api`: serve (no arguments) or `healthcheck` (exit 0 when the local instance is ready).

use std::process::ExitCode;

use emotion_api::configuration::Settings;
use emotion_api::healthcheck;
use emotion_api::startup::Application;
use service_kit::healthcheck::probe_addr;
use service_kit::telemetry;

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    match command.as_deref() {
        None | Some("serve") => serve(),
        Some("healthcheck") => health(),
        Some(other) => {
            eprintln!("unknown command {other:?}; usage: emotion-api [serve | healthcheck]");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    telemetry::init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(%error, variable = error.var, "invalid configuration");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        Application::build(settings)
            .await?
            .run_until_stopped()
            .await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "emotion-api failed");
            ExitCode::FAILURE
        }
    }
}

fn health() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("healthcheck: {error}");
            return ExitCode::FAILURE;
        }
    };
    match healthcheck::check(probe_addr(settings.http_addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("healthcheck: {reason}");
            ExitCode::FAILURE
        }
    }
}
