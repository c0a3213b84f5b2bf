//! Binding and running: [`Application::build`] binds both sockets (port 0 works, the real
//! addresses are reported), [`Application::run_until_stopped`] serves until a stop signal and
//! drains within the configured bound.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;

use crate::config::Config;
use crate::gateway_metrics::Metrics;
use crate::record;
use crate::routes::{self, AppState};

/// Largest UDP payload; Nginx caps a syslog message well below this.
const DATAGRAM_MAX: usize = 65_536;
/// Requested kernel receive buffer. The default (about 200 KiB) overflowed under a 23k req/s
/// burst (`monitoring/loopback/run.sh --load`: 120 of 40,000 lines lost, UDP RcvbufErrors);
/// the kernel caps the request at `net.core.rmem_max`, and the effective size is logged.
const RECV_BUFFER_BYTES: usize = 4 * 1024 * 1024;
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
        /// Where.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// A bound, not yet running exporter.
pub struct Application {
    udp: UdpSocket,
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown_timeout: Duration,
}

impl Application {
    /// Binds the UDP and HTTP sockets.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let udp = bind_udp(config.syslog_addr).map_err(|source| StartupError::Bind {
            what: "syslog UDP",
            addr: config.syslog_addr,
            source,
        })?;
        let listener = TcpListener::bind(config.metrics_addr)
            .await
            .map_err(|source| StartupError::Bind {
                what: "metrics HTTP",
                addr: config.metrics_addr,
                source,
            })?;
        Ok(Self {
            udp,
            listener,
            metrics: Arc::new(Metrics::new()),
            shutdown_timeout: config.shutdown_timeout,
        })
    }

    /// The bound UDP address (the real port when configured with port 0).
    pub fn syslog_addr(&self) -> SocketAddr {
        self.udp
            .local_addr()
            .expect("a bound UDP socket has an address")
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
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("stop signal received, shutting down");
            let _ = stop_tx.send(true);
        });

        let receiving = Arc::new(AtomicBool::new(true));
        let receiver = tokio::spawn(receive(
            self.udp,
            Arc::clone(&self.metrics),
            Arc::clone(&receiving),
            stop_rx.clone(),
        ));
        let handle = self.metrics.handle();
        let upkeep = tokio::spawn(upkeep(handle.clone(), stop_rx.clone()));

        let app = routes::router(AppState { handle, receiving });
        let mut server_stop = stop_rx.clone();
        let server = axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                stopped(&mut server_stop).await;
            })
            .into_future();
        let mut server = tokio::spawn(server);

        let mut stop = stop_rx;
        let result = tokio::select! {
            // The server only returns early on an accept-loop failure.
            joined = &mut server => flatten(joined),
            _ = stopped(&mut stop) => {
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
        let _ = receiver.await;
        let _ = upkeep.await;
        tracing::info!("stopped");
        result
    }
}

/// Binds the syslog socket with a large receive buffer, so a burst of log lines waits in the
/// kernel instead of being dropped while the receiver is descheduled.
fn bind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(error) = socket.set_recv_buffer_size(RECV_BUFFER_BYTES) {
        tracing::warn!(%error, "cannot enlarge the UDP receive buffer");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    tracing::info!(
        recv_buffer_bytes = socket.recv_buffer_size().unwrap_or(0),
        "syslog socket bound"
    );
    UdpSocket::from_std(socket.into())
}

/// Completes once the stop flag is set. Returns `()` so no watch guard lives across an await.
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

/// Receives datagrams until stopped. A datagram is one log line; bad ones are counted and logged
/// at debug level only, because a flood of garbage must not become a flood of logs.
async fn receive(
    socket: UdpSocket,
    metrics: Arc<Metrics>,
    receiving: Arc<AtomicBool>,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; DATAGRAM_MAX];
    loop {
        tokio::select! {
            ready = socket.readable() => {
                if let Err(error) = ready {
                    tracing::warn!(%error, "UDP socket failed");
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
                            tracing::warn!(%error, "UDP receive failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            break;
                        }
                    }
                }
                tokio::task::yield_now().await;
            },
            _ = stopped(&mut stop) => break,
        }
    }
    receiving.store(false, Ordering::Release);
}

async fn upkeep(
    handle: metrics_exporter_prometheus::PrometheusHandle,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => handle.run_upkeep(),
            _ = stopped(&mut stop) => break,
        }
    }
}
