//! Stopping gracefully: SIGTERM (docker stop, systemd) or SIGINT (Ctrl-C) starts it, a
//! [`Shutdown`] latch tells every task, and [`drain`] bounds how long the listeners may take to
//! finish what is in flight, so a stuck client cannot hold the process past `docker stop`'s grace
//! period.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

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

/// Completes on the first SIGTERM or SIGINT. The handlers are installed when the future is first
/// polled; if that fails it never completes, and the signals keep their default action (the
/// process ends at once, undrained) rather than stopping the service the moment it starts.
pub async fn signal() {
    match Termination::register() {
        Ok(mut termination) => {
            termination.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
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
