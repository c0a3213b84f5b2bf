//! Stopping gracefully: SIGTERM (docker stop, systemd) or SIGINT (Ctrl-C) starts it, a
//! [`Shutdown`] latch tells every task, and [`drain`] bounds how long the listeners may take to
//! finish what is in flight, so a stuck client cannot hold the process past `docker stop`'s grace
//! period.
//!
//! The exporter and the receiver run one HTTP server each and stop the same way, which is here
//! once: [`Shutdown::on`] turns their stop future into the latch (logging
//! `stop signal received, shutting down`), and [`drain_spawned`] bounds the server's task, aborts
//! it when the bound passes (`drain timed out, closing connections`) and returns its result as an
//! [`std::io::Error`]. emotion-api, with two servers, a SIGHUP reload and a readiness flip at the
//! trigger, uses the latch, [`Termination`] and [`drain`] directly.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A one-way latch: once triggered it stays triggered. Cheap to clone; every clone sees the same
/// state.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A latch not yet triggered.
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Starts the graceful shutdown (what SIGTERM and Ctrl-C do).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether the shutdown has started.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once the shutdown has started (at once if it already has).
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail while we wait.
        let _ = rx.wait_for(|triggered| *triggered).await;
    }

    /// [`triggered`](Self::triggered) holding its own clone of the latch, for what wants a
    /// `'static` future: `axum::serve(..).with_graceful_shutdown(shutdown.triggered_owned())`.
    pub fn triggered_owned(&self) -> impl Future<Output = ()> + Send + 'static {
        let shutdown = self.clone();
        async move { shutdown.triggered().await }
    }

    /// A latch that triggers when `stop` completes ([`signal`] in the binaries, a channel in the
    /// tests), logging `stop signal received, shutting down` as it does. `stop` is awaited on a
    /// task of its own, so it is watched from this call on, whatever the caller is busy with.
    /// Needs a tokio runtime.
    pub fn on<F>(stop: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let shutdown = Self::new();
        let latch = shutdown.clone();
        tokio::spawn(async move {
            stop.await;
            tracing::info!("stop signal received, shutting down");
            latch.trigger();
        });
        shutdown
    }
}

/// SIGTERM and SIGINT, registered up front: between start-up and the moment a task waits, an
/// unregistered SIGTERM would kill the process instead of draining it.
pub struct Termination {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Termination {
    /// Installs the handlers (SIGTERM first, then SIGINT). Needs a tokio runtime.
    pub fn register() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Completes on the first SIGTERM or SIGINT, naming it.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => "SIGTERM",
                _ = self.interrupt.recv() => "SIGINT",
            }
        }
        // Elsewhere only Ctrl-C exists; a failed handler must not read as a stop request.
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}

/// Completes on the first SIGTERM or SIGINT. The handlers are installed by the call itself, not
/// when the future is first polled: called before the service announces that it listens, a
/// SIGTERM that comes right after the announcement is a drain, not an undrained exit. Must be
/// called on a tokio runtime. If installing fails the future never completes, and the signals
/// keep their default action (the process ends at once, undrained) rather than stopping the
/// service the moment it starts.
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    let registered = Termination::register();
    async move {
        match registered {
            Ok(mut termination) => {
                termination.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
}

/// Runs `serving` (the servers, shut down gracefully by `shutdown` themselves) to completion, but
/// from the moment `shutdown` triggers gives it at most `timeout` more: `None` when the drain ran
/// out of time. Then `serving` is dropped (or, for a spawned task passed as `&mut JoinHandle`,
/// left to the caller to abort) and the remaining connections close with the process.
pub async fn drain<F: Future>(
    serving: F,
    shutdown: &Shutdown,
    timeout: Duration,
) -> Option<F::Output> {
    let deadline = async {
        shutdown.triggered().await;
        tokio::time::sleep(timeout).await;
    };
    tokio::select! {
        // A server that finished as the deadline passed still reports its own result.
        biased;
        output = serving => Some(output),
        () = deadline => None,
    }
}

/// [`drain`] for a server spawned on a task of its own (so that a drain cut short can abort it):
/// the server's own result, before or after the shutdown (it only returns before the shutdown on
/// an accept-loop failure); its panic as an error; and when it is still busy `timeout` after the
/// shutdown started, a warning `drain timed out, closing connections` with `timeout_ms`, the task
/// aborted (closing the connections it still holds) and `Ok(())`, since the stop was asked for.
///
/// It takes the task rather than the server so that service-kit needs no HTTP framework: the
/// services call `axum::serve` with their own router and
/// `.with_graceful_shutdown(shutdown.triggered_owned())`, then spawn it. Taking the server would
/// make this crate depend on axum (an invariant of the workspace is that it does not) and put
/// axum's `serve` bounds in its signature, to save the two lines each service keeps.
pub async fn drain_spawned(
    mut server: JoinHandle<std::io::Result<()>>,
    shutdown: &Shutdown,
    timeout: Duration,
) -> std::io::Result<()> {
    match drain(&mut server, shutdown, timeout).await {
        Some(Ok(served)) => served,
        // A panic (or an abort from elsewhere) in the server's task.
        Some(Err(join)) => Err(std::io::Error::other(join)),
        None => {
            tracing::warn!(
                timeout_ms = timeout.as_millis() as u64,
                "drain timed out, closing connections"
            );
            server.abort();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_latch_stays_triggered_for_every_clone() {
        let shutdown = Shutdown::new();
        let clone = shutdown.clone();
        assert!(!clone.is_triggered());
        let waiter = tokio::spawn(async move { clone.triggered().await });
        shutdown.trigger();
        waiter.await.expect("waiter");
        assert!(shutdown.is_triggered());
        // A late waiter returns at once.
        tokio::time::timeout(Duration::from_secs(1), shutdown.triggered())
            .await
            .expect("already triggered");
    }

    #[tokio::test]
    async fn a_server_that_finishes_within_the_bound_reports_its_result() {
        let shutdown = Shutdown::new();
        shutdown.trigger();
        let serving = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            7
        };
        assert_eq!(
            drain(serving, &shutdown, Duration::from_secs(5)).await,
            Some(7)
        );
    }

    #[tokio::test]
    async fn a_server_that_ends_before_any_shutdown_is_reported() {
        // An accept loop that failed: no shutdown involved.
        let shutdown = Shutdown::new();
        let serving = async { "failed" };
        assert_eq!(
            drain(serving, &shutdown, Duration::from_millis(1)).await,
            Some("failed")
        );
    }

    #[tokio::test]
    async fn a_stuck_drain_is_cut_at_the_bound() {
        let shutdown = Shutdown::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            trigger.trigger();
        });
        let started = tokio::time::Instant::now();
        let stuck = std::future::pending::<()>();
        assert_eq!(
            drain(stuck, &shutdown, Duration::from_millis(50)).await,
            None
        );
        // Not before the trigger plus the bound.
        assert!(started.elapsed() >= Duration::from_millis(70));
    }

    #[tokio::test]
    async fn the_latch_on_a_stop_future_triggers_when_it_completes() {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = Shutdown::on(async move {
            let _ = stopped.await;
        });
        let early = tokio::time::timeout(Duration::from_millis(20), shutdown.triggered()).await;
        assert!(early.is_err(), "not before the stop future completes");
        assert!(!shutdown.is_triggered());
        stop.send(()).expect("watched");
        tokio::time::timeout(Duration::from_secs(1), shutdown.triggered_owned())
            .await
            .expect("triggered by the stop future");
        assert!(shutdown.is_triggered());
    }

    #[tokio::test]
    async fn a_spawned_server_reports_its_own_error() {
        // An accept loop that failed before any shutdown.
        let shutdown = Shutdown::new();
        let server = tokio::spawn(async {
            Err(std::io::Error::new(
                std::io::ErrorKind::AddrNotAvailable,
                "accept failed",
            ))
        });
        let error = drain_spawned(server, &shutdown, Duration::from_millis(1))
            .await
            .expect_err("the server's error");
        assert_eq!(error.kind(), std::io::ErrorKind::AddrNotAvailable);
        assert_eq!(error.to_string(), "accept failed");
    }

    #[tokio::test]
    async fn a_spawned_server_that_panics_is_an_error() {
        let shutdown = Shutdown::new();
        let server = tokio::spawn(async { panic!("server bug") });
        let error = drain_spawned(server, &shutdown, Duration::from_millis(1))
            .await
            .expect_err("the panic as an error");
        assert_eq!(error.kind(), std::io::ErrorKind::Other);
        assert!(error.to_string().contains("panicked"), "{error}");
    }

    #[tokio::test]
    async fn a_spawned_server_that_drains_within_the_bound_stops_cleanly() {
        let shutdown = Shutdown::new();
        let server = tokio::spawn({
            let stopping = shutdown.triggered_owned();
            async move {
                stopping.await;
                // In-flight requests finishing.
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(())
            }
        });
        shutdown.trigger();
        let result = drain_spawned(server, &shutdown, Duration::from_secs(5)).await;
        assert!(result.is_ok(), "{result:?}");
    }

    #[tokio::test]
    async fn a_spawned_server_still_busy_at_the_bound_is_aborted() {
        let shutdown = Shutdown::new();
        // The task holds `alive` until it ends: dropped by the abort, not by the server.
        let (alive, ended) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _alive = alive;
            std::future::pending::<std::io::Result<()>>().await
        });
        shutdown.trigger();
        let started = tokio::time::Instant::now();
        let result = drain_spawned(server, &shutdown, Duration::from_millis(50)).await;
        assert!(
            result.is_ok(),
            "a stop cut short is still a stop: {result:?}"
        );
        assert!(started.elapsed() >= Duration::from_millis(50));
        let ended = tokio::time::timeout(Duration::from_secs(1), ended)
            .await
            .expect("the task ends");
        assert!(ended.is_err(), "aborted, never completed");
    }

    /// The one test that signals the test process: a second one running in parallel would see
    /// this SIGTERM too.
    #[cfg(unix)]
    #[tokio::test]
    async fn sigterm_is_received_and_named() {
        // Registered before the signal is sent, so it cannot take its default action (exit).
        let mut termination = Termination::register().expect("register");
        let early = tokio::time::timeout(Duration::from_millis(20), termination.recv()).await;
        assert!(early.is_err(), "nothing was sent yet");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let name = tokio::time::timeout(Duration::from_secs(5), termination.recv())
            .await
            .expect("SIGTERM arrives");
        assert_eq!(name, "SIGTERM");
    }
}
