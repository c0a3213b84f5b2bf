//! `access-log-exporter`: serve gateway metrics; `access-log-exporter healthcheck`: probe a
//! running instance (exit 0 when ready).
//!
//! The command line, the exit statuses (2 for a bad variable or an unknown command, 1 when serving
//! fails) and the start/stop log lines are `service_kit::cli`'s; this file gives the name, the
//! address the healthcheck probes, the `listening` line's fields and the `Application`.

use std::process::ExitCode;

use access_log_exporter::config::Config;
use access_log_exporter::startup::Application;
use service_kit::{cli, shutdown};

#[tokio::main]
async fn main() -> ExitCode {
    cli::run(
        "access-log-exporter",
        Config::from_env,
        |config| config.metrics_addr,
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
                syslog_addr = %app.syslog_addr(),
                metrics_addr = %app.metrics_addr(),
                "listening"
            );
        },
        |app| app.run_until_stopped(stop),
    )
    .await
}
