//! `access-log-exporter healthcheck`: exits 0 when the local `/health/ready` answers 200, for
//! container images that have no curl. Also a minimal HTTP/1.1 GET used by the tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bound on the whole check, so a hung instance is reported as unhealthy rather than hanging.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// Responses larger than this are not ours.
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// Why a GET failed.
#[derive(Debug, Error)]
pub enum HealthcheckError {
    /// Connecting, writing or reading failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// No answer within [`TIMEOUT`].
    #[error("timed out")]
    Timeout,
    /// The answer is not HTTP.
    #[error("malformed HTTP response")]
    Malformed,
}

/// The address to probe: a wildcard listen address is reached over loopback.
pub fn probe_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// `GET path` over HTTP/1.1 with `Connection: close`; returns the status code and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String), HealthcheckError> {
    tokio::time::timeout(TIMEOUT, get_inner(addr, path))
        .await
        .map_err(|_| HealthcheckError::Timeout)?
}

async fn get_inner(addr: SocketAddr, path: &str) -> Result<(u16, String), HealthcheckError> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or(HealthcheckError::Malformed)?;
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or(HealthcheckError::Malformed)?;
    Ok((status, body.to_owned()))
}

/// Runs the check against the configured metrics address; true when ready.
pub async fn check(metrics_addr: SocketAddr) -> bool {
    match http_get(probe_addr(metrics_addr), "/health/ready").await {
        Ok((200, _)) => true,
        Ok((status, body)) => {
            eprintln!("unhealthy: /health/ready answered {status}: {body}");
            false
        }
        Err(error) => {
            eprintln!("unhealthy: {error}");
            false
        }
    }
}
