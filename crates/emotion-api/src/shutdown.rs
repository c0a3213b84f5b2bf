//! The shutdown trigger shared by the signal handlers, both listeners and tests.

use std::sync::Arc;

use tokio::sync::watch;

/// A one-way latch: once triggered it stays triggered. Cheap to clone.
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
        Shutdown {
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

    /// Completes once the shutdown has started.
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail while we wait.
        let _ = rx.wait_for(|triggered| *triggered).await;
    }
}

/// The process signals the service reacts to, registered up front so that none is missed between
/// start-up and the moment a task starts waiting (an unregistered SIGTERM or SIGHUP would kill the
/// process instead).
pub struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    /// SIGHUP: reload the model.
    pub hangup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers for SIGTERM, SIGINT and SIGHUP.
    pub fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Splits off the termination half, leaving SIGHUP for the reload task.
    pub fn split(self) -> (Termination, tokio::signal::unix::Signal) {
        (
            Termination {
                terminate: self.terminate,
                interrupt: self.interrupt,
            },
            self.hangup,
        )
    }
}

/// SIGTERM and SIGINT (Ctrl-C).
pub struct Termination {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Termination {
    /// Completes on the first SIGTERM or SIGINT, naming it.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
