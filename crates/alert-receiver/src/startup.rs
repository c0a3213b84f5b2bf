//! Binding and running: [`Application::build`] binds (port 0 works, the real address is
//! reported), [`Application::run_until_stopped`] serves until a stop signal and drains within
//! the configured bound.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;

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
        let (stop_tx, mut stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("stop signal received, shutting down");
            let _ = stop_tx.send(true);
        });
        let mut server_stop = stop_rx.clone();
        let server = axum::serve(self.listener, routes::router(self.state))
            .with_graceful_shutdown(async move { stopped(&mut server_stop).await })
            .into_future();
        let mut server = tokio::spawn(server);
        let result = tokio::select! {
            // The server only returns early on an accept-loop failure.
            joined = &mut server => flatten(joined),
            _ = stopped(&mut stop_rx) => {
                match tokio::time::timeout(self.shutdown_timeout, &mut server).await {
                    Ok(joined) => flatten(joined),
                    Err(_) => {
                        tracing::warn!(timeout_ms = self.shutdown_timeout.as_millis() as u64, "drain timed out, closing connections");
                        server.abort();
                        Ok(())
                    }
                }
            }
        };
        tracing::info!("stopped");
        result
    }
}

/// Completes once the stop flag is set. Returns `()` so that no watch guard (not `Send`) lives
/// across an await of the caller.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

fn flatten(
    joined: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> Result<(), StartupError> {
    match joined {
        Ok(result) => result.map_err(StartupError::Serve),
        Err(join) => Err(StartupError::Serve(std::io::Error::other(join))),
    }
}
