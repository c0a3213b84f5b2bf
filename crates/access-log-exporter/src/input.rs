//! Where syslog datagrams come from: a UDP socket or a unix datagram socket, behind one type so
//! that the receive loop in [`crate::startup`] exists once for both transports.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use tokio::net::UdpSocket;

use crate::config::SyslogAddr;
use crate::startup::StartupError;

/// Requested kernel receive buffer for UDP. The default (about 200 KiB) overflowed under a
/// 23k req/s burst (`tests/harness/log_accounting.py`: 120 of 40,000 lines lost, UDP
/// RcvbufErrors); the kernel caps the request at `net.core.rmem_max`, and the effective size is
/// logged. A unix datagram socket ignores it: its queue is bounded by `net.unix.max_dgram_qlen`
/// (a count of datagrams) and by the sender's send buffer, which the datagrams are charged to.
const RECV_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// A bound socket that syslog datagrams arrive on.
#[derive(Debug)]
pub enum SyslogSocket {
    /// `EXPORTER_SYSLOG_ADDR=IP:port`.
    Udp(UdpSocket),
    /// `EXPORTER_SYSLOG_ADDR=unix:/path`; the file is removed when this is dropped.
    #[cfg(unix)]
    Unix {
        /// The bound socket.
        socket: tokio::net::UnixDatagram,
        /// Its file, owned so that it goes away with the socket.
        file: crate::socket_file::SocketFile,
    },
}

/// Who sent a datagram, for debug logs about rejected lines.
#[derive(Debug)]
pub enum Peer {
    /// A UDP sender.
    Udp(SocketAddr),
    /// A unix sender; Nginx's sockets are unnamed, so this is rarely a path.
    #[cfg(unix)]
    Unix(tokio::net::unix::SocketAddr),
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Udp(addr) => write!(f, "{addr}"),
            #[cfg(unix)]
            Self::Unix(addr) => match addr.as_pathname() {
                Some(path) => write!(f, "unix:{}", path.display()),
                None => f.write_str("unix:(unnamed)"),
            },
        }
    }
}

impl SyslogSocket {
    /// Binds `addr`. For a unix path, a stale socket left by a previous run is replaced, and the
    /// new one is made writable by every user (see [`crate::socket_file`]).
    pub fn bind(addr: &SyslogAddr) -> Result<Self, StartupError> {
        let bind_error = |source| StartupError::Bind {
            what: "syslog",
            addr: addr.to_string(),
            source,
        };
        match addr {
            SyslogAddr::Udp(udp) => bind_udp(*udp).map(Self::Udp).map_err(bind_error),
            #[cfg(unix)]
            SyslogAddr::Unix(path) => {
                crate::socket_file::clear_stale(path)?;
                let socket = tokio::net::UnixDatagram::bind(path).map_err(bind_error)?;
                let file = crate::socket_file::SocketFile::open_to_all(path)?;
                tracing::info!(path = %path.display(), "syslog socket bound");
                Ok(Self::Unix { socket, file })
            }
            #[cfg(not(unix))]
            SyslogAddr::Unix(_) => Err(bind_error(io::Error::new(
                io::ErrorKind::Unsupported,
                "unix sockets need a unix platform",
            ))),
        }
    }

    /// The bound address (for UDP, the real port when configured with port 0).
    pub fn local_addr(&self) -> SyslogAddr {
        match self {
            Self::Udp(socket) => SyslogAddr::Udp(
                socket
                    .local_addr()
                    .expect("a bound UDP socket has an address"),
            ),
            #[cfg(unix)]
            Self::Unix { file, .. } => SyslogAddr::Unix(file.path().to_owned()),
        }
    }

    /// Waits until a datagram may be waiting (spurious wake-ups are possible).
    pub async fn readable(&self) -> io::Result<()> {
        match self {
            Self::Udp(socket) => socket.readable().await,
            #[cfg(unix)]
            Self::Unix { socket, .. } => socket.readable().await,
        }
    }

    /// Receives one datagram without waiting; `WouldBlock` when none is queued. A datagram
    /// longer than `buf` is truncated (and then rejected by the parser).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Peer)> {
        match self {
            Self::Udp(socket) => socket
                .try_recv_from(buf)
                .map(|(len, peer)| (len, Peer::Udp(peer))),
            #[cfg(unix)]
            Self::Unix { socket, .. } => socket
                .try_recv_from(buf)
                .map(|(len, peer)| (len, Peer::Unix(peer))),
        }
    }
}

/// Binds the UDP socket with a large receive buffer, so a burst of log lines waits in the kernel
/// instead of being dropped while the receiver is descheduled.
fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
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
