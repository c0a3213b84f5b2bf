//! `alert-receiver healthcheck`: exits 0 when the local `/health/ready` answers 200, for
//! container images without curl or wget. A minimal HTTP/1.1 client, also used by the tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bound on the whole exchange, so a hung instance is reported as unhealthy, not waited on.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// Responses larger than this are not ours (`GET /alerts` at 1000 notifications is a few MB).
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// Why a request failed.
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

/// One HTTP/1.1 request with `Connection: close`; `body` is sent as `application/json`.
/// Returns the status code and the body.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), HealthcheckError> {
    tokio::time::timeout(TIMEOUT, exchange(addr, method, path, body))
        .await
        .map_err(|_| HealthcheckError::Timeout)?
}

async fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), HealthcheckError> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or(""));
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

/// Runs the check against the configured address; true when ready.
pub async fn check(addr: SocketAddr) -> bool {
    match request(probe_addr(addr), "GET", "/health/ready", None).await {
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
