//! A service binary's `main`: the command line, the exit statuses and the start/stop log lines the
//! exporter and the receiver share, so that their `main.rs` keeps only what is its own (its name,
//! the address its healthcheck probes, the fields of its `listening` line, its `Application`).
//!
//! `NAME` serves; `NAME healthcheck` probes the running instance ([`healthcheck::run`]). Exit
//! statuses: 0 after a clean stop or a healthy probe; 1 when the service cannot start, stops with
//! an error or the probe fails; 2 for a bad variable or an unknown command (the variable's error
//! or the usage line on stderr, before any logging is set up).
//!
//! emotion-api keeps its own `main`: it reads its configuration after the command, logs a bad
//! variable as JSON with exit status 1, and its healthcheck needs no async runtime.

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use crate::{healthcheck, telemetry};

/// Exit status for a bad variable or an unknown command: the process was asked something it
/// cannot do, which retrying will not fix.
const USAGE: u8 = 2;

/// The whole of a service's `main`: reads the command (`std::env::args().nth(1)`), then the
/// configuration through `config`, and either serves (`serve(config)`, no argument) or probes
/// `healthcheck_addr(&config)` (`healthcheck`).
pub async fn run<C, E, S>(
    name: &str,
    config: impl FnOnce() -> Result<C, E>,
    healthcheck_addr: impl FnOnce(&C) -> SocketAddr,
    serve: impl FnOnce(C) -> S,
) -> ExitCode
where
    E: Display,
    S: Future<Output = ExitCode>,
{
    // The configuration is read whichever command was given: the healthcheck probes the
    // configured address, so a bad variable fails it too, with the same message.
    let command = std::env::args().nth(1);
    dispatch(name, command.as_deref(), config, healthcheck_addr, serve).await
}

async fn dispatch<C, E, S>(
    name: &str,
    command: Option<&str>,
    config: impl FnOnce() -> Result<C, E>,
    healthcheck_addr: impl FnOnce(&C) -> SocketAddr,
    serve: impl FnOnce(C) -> S,
) -> ExitCode
where
    E: Display,
    S: Future<Output = ExitCode>,
{
    let config = match config() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(USAGE);
        }
    };
    match command {
        None => serve(config).await,
        Some("healthcheck") => healthcheck::run(healthcheck_addr(&config)).await,
        Some(other) => {
            eprintln!("unknown command {other:?}; usage: {name} [healthcheck]");
            ExitCode::from(USAGE)
        }
    }
}

/// Serving, as the `serve` of [`run`]: installs the JSON log ([`telemetry::init`]), then awaits
/// `build` (the service's `Application::build`, which binds; a future does nothing until polled,
/// so its own logging, if any, is already JSON), calls `listening` with the bound application
/// (the service's `listening` line and its fields), and awaits `run_until_stopped(app)`.
/// A failure to build is logged as `cannot start`, one while running as `stopped with an error`,
/// both with the error (the service's one start-up error type) as `error`, and exit status 1.
pub async fn serve<A, E, R>(
    build: impl Future<Output = Result<A, E>>,
    listening: impl FnOnce(&A),
    run_until_stopped: impl FnOnce(A) -> R,
) -> ExitCode
where
    E: Display,
    R: Future<Output = Result<(), E>>,
{
    // A no-op after the first call, so the tests call this function as the binaries do.
    telemetry::init();
    let app = match build.await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    listening(&app);
    match run_until_stopped(app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "stopped with an error");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const NAME: &str = "kit-test";

    /// A loopback port with nothing listening (bound, then released), so a probe fails at once.
    fn closed_port() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    }

    fn bad() -> Result<SocketAddr, String> {
        Err("KIT_TEST_PORT=\"x\" is invalid".to_owned())
    }

    async fn served(_: SocketAddr) -> ExitCode {
        ExitCode::from(42)
    }

    async fn never_served(_: SocketAddr) -> ExitCode {
        unreachable!("this command does not serve")
    }

    #[tokio::test]
    async fn no_command_serves_with_the_configuration() {
        let addr = closed_port();
        let code = dispatch(NAME, None, || Ok::<_, String>(addr), |addr| *addr, served).await;
        assert_eq!(code, ExitCode::from(42));
    }

    #[tokio::test]
    async fn healthcheck_probes_the_configured_address() {
        let addr = closed_port();
        let probed = Cell::new(None);
        let code = dispatch(
            NAME,
            Some("healthcheck"),
            || Ok::<_, String>(addr),
            |addr| {
                probed.set(Some(*addr));
                *addr
            },
            never_served,
        )
        .await;
        assert_eq!(code, ExitCode::FAILURE, "nothing listens on {addr}");
        assert_eq!(probed.get(), Some(addr));
    }

    #[tokio::test]
    async fn an_unknown_command_or_a_bad_variable_is_exit_status_2() {
        let good = || Ok::<_, String>(closed_port());
        let code = dispatch(NAME, Some("serve"), good, |addr| *addr, never_served).await;
        assert_eq!(code, ExitCode::from(2));
        // A bad variable stops every command, the healthcheck included.
        for command in [None, Some("healthcheck"), Some("nonsense")] {
            let code = dispatch(NAME, command, bad, |addr| *addr, never_served).await;
            assert_eq!(code, ExitCode::from(2), "{command:?}");
        }
    }

    #[tokio::test]
    async fn serving_reports_listening_then_the_run_as_the_exit_status() {
        let listened = Cell::new(None);
        let code = serve(
            async { Ok::<_, String>(7) },
            |app| listened.set(Some(*app)),
            |app| async move {
                assert_eq!(app, 7);
                Ok(())
            },
        )
        .await;
        assert_eq!(code, ExitCode::SUCCESS);
        assert_eq!(listened.get(), Some(7));
        let code = serve(
            async { Ok::<_, String>(7) },
            |_| {},
            |_| async { Err("accept failed".to_owned()) },
        )
        .await;
        assert_eq!(code, ExitCode::FAILURE);
    }

    #[tokio::test]
    async fn a_service_that_cannot_start_is_exit_status_1_and_never_listens() {
        let code = serve(
            async { Err::<u8, _>("cannot bind".to_owned()) },
            |_| panic!("not listening"),
            |_| async { unreachable!("not started") },
        )
        .await;
        assert_eq!(code, ExitCode::FAILURE);
    }
}
