//! Binding and running: [`Application::build`] binds (port 0 works, the real address is
//! reported), [`Application::run_until_stopped`] serves until a stop signal and drains within
//! the configured bound (the latch and the bounded drain are `service_kit::shutdown`'s).

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use service_kit::shutdown::{drain_spawned, Shutdown};
use thiserror::Error;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::history::History;
use crate::metrics::Metrics;
use crate::routes::{self, AppState};

/// Why the receiver could not start or stopped abnormally.
#[derive(Debug, Error)]
pub enum StartupError {
    /// The listener could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// Where.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// A bound, not yet running receiver.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    shutdown_timeout: Duration,
}

impl Application {
    /// Binds the HTTP listener and prepares an empty history.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.addr,
                    source,
                })?;
        Ok(Self {
            listener,
            state: AppState {
                history: Arc::new(History::new(config.history)),
                metrics: Arc::new(Metrics::new()),
                max_body_bytes: config.max_body_bytes,
            },
            shutdown_timeout: config.shutdown_timeout,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// Serves until `shutdown` completes, then drains connections for at most the configured
    /// timeout, so a stuck client cannot hold the process past `docker stop`'s grace period.
    pub async fn run_until_stopped<F>(self, shutdown: F) -> Result<(), StartupError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = Shutdown::on(shutdown);
        let server = axum::serve(self.listener, routes::router(self.state))
            .with_graceful_shutdown(stop.triggered_owned())
            .into_future();
        // On its own task, so that a drain cut short can abort it.
        let result = drain_spawned(tokio::spawn(server), &stop, self.shutdown_timeout).await;
        tracing::info!("stopped");
        result.map_err(StartupError::Serve)
    }
}
