//! Binding and running: [`Application::build`] binds both sockets (port 0 works, the real
//! addresses are reported), [`Application::run_until_stopped`] serves until a stop signal and
//! drains within the configured bound. The latch and the bounded drain of the HTTP server are
//! `service_kit::shutdown`'s; the syslog receiver and the upkeep task are this file's.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use service_kit::shutdown::{drain_spawned, Shutdown};
use thiserror::Error;
use tokio::net::TcpListener;

use crate::config::{Config, SyslogAddr, SYSLOG_ADDR_VAR};
use crate::gateway_metrics::Metrics;
use crate::input::SyslogSocket;
use crate::record;
use crate::routes::{self, AppState};

/// Largest UDP payload; Nginx caps a syslog message well below this.
const DATAGRAM_MAX: usize = 65_536;
/// Datagrams handled per wake-up before yielding to the scheduler.
const DRAIN_BATCH: usize = 1024;
/// How often buffered histogram samples are folded in between scrapes, bounding memory.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Why the exporter could not start or stopped abnormally.
#[derive(Debug, Error)]
pub enum StartupError {
    /// A socket could not be bound.
    #[error("cannot bind {what} on {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// Where (an `IP:port` or `unix:/path`).
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The unix socket path is taken by something that is not a socket; it is left untouched.
    #[error("refusing to replace {}: it exists and is not a socket (check {SYSLOG_ADDR_VAR})", .path.display())]
    NotASocket {
        /// The configured path.
        path: PathBuf,
    },
    /// Another process still receives on the unix socket path.
    #[error("{} is in use by another receiver (check {SYSLOG_ADDR_VAR})", .path.display())]
    SocketInUse {
        /// The configured path.
        path: PathBuf,
    },
    /// Preparing the unix socket's file failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    SocketFile {
        /// What was being done.
        action: &'static str,
        /// The configured path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// A bound, not yet running exporter.
pub struct Application {
    syslog: SyslogSocket,
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown_timeout: Duration,
}

impl Application {
    /// Binds the syslog and HTTP sockets.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let syslog = SyslogSocket::bind(&config.syslog_addr)?;
        let listener = TcpListener::bind(config.metrics_addr)
            .await
            .map_err(|source| StartupError::Bind {
                what: "metrics HTTP",
                addr: config.metrics_addr.to_string(),
                source,
            })?;
        Ok(Self {
            syslog,
            listener,
            metrics: Arc::new(Metrics::new()),
            shutdown_timeout: config.shutdown_timeout,
        })
    }

    /// The bound syslog address (for UDP, the real port when configured with port 0).
    pub fn syslog_addr(&self) -> SyslogAddr {
        self.syslog.local_addr()
    }

    /// The bound HTTP address.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// Serves until `shutdown` completes, then stops receiving and drains HTTP connections for at
    /// most the configured timeout (so a stuck scrape cannot hold the process).
    pub async fn run_until_stopped<F>(self, shutdown: F) -> Result<(), StartupError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = Shutdown::on(shutdown);
        let receiving = Arc::new(AtomicBool::new(true));
        let receiver = tokio::spawn(receive(
            self.syslog,
            Arc::clone(&self.metrics),
            Arc::clone(&receiving),
            stop.clone(),
        ));
        let handle = self.metrics.handle();
        let upkeep = tokio::spawn(upkeep(
            handle.clone(),
            Arc::clone(&self.metrics),
            stop.clone(),
        ));

        let app = routes::router(AppState { handle, receiving });
        let server = axum::serve(self.listener, app)
            .with_graceful_shutdown(stop.triggered_owned())
            .into_future();
        // On its own task, so that a drain cut short can abort it.
        let result = drain_spawned(tokio::spawn(server), &stop, self.shutdown_timeout).await;
        let _ = receiver.await;
        let _ = upkeep.await;
        // Logged here, not by the kit: only once the receiver has dropped its socket (and removed
        // a unix socket's file) is the exporter stopped.
        tracing::info!("stopped");
        result.map_err(StartupError::Serve)
    }
}

/// Receives datagrams until stopped, then drops the socket (removing a unix socket's file). A
/// datagram is one log line; bad ones are counted and logged at debug level only, because a flood
/// of garbage must not become a flood of logs.
async fn receive(
    socket: SyslogSocket,
    metrics: Arc<Metrics>,
    receiving: Arc<AtomicBool>,
    stop: Shutdown,
) {
    let mut buf = vec![0u8; DATAGRAM_MAX];
    loop {
        tokio::select! {
            ready = socket.readable() => {
                if let Err(error) = ready {
                    tracing::warn!(%error, "syslog socket failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                // Drain what is queued before waiting again: one wake-up per burst, not one per
                // line; bounded so a flood cannot monopolise the worker thread.
                for _ in 0..DRAIN_BATCH {
                    match socket.try_recv_from(&mut buf) {
                        Ok((len, peer)) => match record::parse_line(&buf[..len]) {
                            Ok(rec) => metrics.record(&rec),
                            Err(error) => {
                                metrics.rejected();
                                tracing::debug!(%peer, %error, "rejected access-log datagram");
                            }
                        },
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(error) => {
                            // Transient (e.g. ICMP-reported) errors; pause so a persistent one
                            // cannot spin.
                            tracing::warn!(%error, "syslog receive failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            break;
                        }
                    }
                }
                tokio::task::yield_now().await;
            },
            () = stop.triggered() => break,
        }
    }
    receiving.store(false, Ordering::Release);
    drop(socket);
}

/// Periodic housekeeping: the recorder's histogram upkeep, and expiry of shadow lines whose
/// partner never came (so they are counted even when traffic stops).
async fn upkeep(
    handle: metrics_exporter_prometheus::PrometheusHandle,
    metrics: Arc<Metrics>,
    stop: Shutdown,
) {
    let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                handle.run_upkeep();
                metrics.expire_shadow();
            }
            () = stop.triggered() => break,
        }
    }
}
