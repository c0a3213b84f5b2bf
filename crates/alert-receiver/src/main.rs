//! `alert-receiver`: receive Alertmanager's webhook notifications; `alert-receiver healthcheck`:
//! probe a running instance (exit 0 when ready).
//!
//! The command line, the exit statuses (2 for a bad variable or an unknown command, 1 when serving
//! fails) and the start/stop log lines are `service_kit::cli`'s; this file gives the name, the
//! address the healthcheck probes, the `listening` line's fields and the `Application`.

use std::process::ExitCode;

use alert_receiver::config::Config;
use alert_receiver::startup::Application;
use service_kit::{cli, shutdown};

#[tokio::main]
async fn main() -> ExitCode {
    cli::run(
        "alert-receiver",
        Config::from_env,
        |config| config.addr,
        serve,
    )
    .await
}

async fn serve(config: Config) -> ExitCode {
    // Before `listening` is logged: a SIGTERM from then on drains (shutdown::signal).
    let stop = shutdown::signal();
    cli::serve(
        Application::build(&config),
        |app| {
            tracing::info!(
                addr = %app.addr(),
                history = config.history,
                max_body_bytes = config.max_body_bytes,
                "listening"
            );
        },
        |app| app.run_until_stopped(stop),
    )
    .await
}
