//! `<service> healthcheck`: exit 0 when the local `/health/ready` answers 200, 1 otherwise, for
//! Docker's `HEALTHCHECK` in images without curl or wget. Built on a minimal HTTP/1.1 client
//! ([`request`]), which the services' tests use too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bound on the whole exchange, so a hung instance is reported as unhealthy, not waited on.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// Responses larger than this are not ours: the largest is alert-receiver's `GET /alerts` at
/// 1000 notifications, a few MB. The rest is not read.
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;
/// What is probed.
pub const READY_PATH: &str = "/health/ready";

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
/// Returns the status code and the body, within [`TIMEOUT`].
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

/// `GET path`: [`request`] without a body.
pub async fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String), HealthcheckError> {
    request(addr, "GET", path, None).await
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

/// Probes `/health/ready` of the instance listening on `listen`; true when it answers 200. Why
/// not goes to stderr, which Docker keeps in the container's health log.
pub async fn check(listen: SocketAddr) -> bool {
    match http_get(probe_addr(listen), READY_PATH).await {
        Ok((200, _)) => true,
        Ok((status, body)) => {
            eprintln!("unhealthy: {READY_PATH} answered {status}: {body}");
            false
        }
        Err(error) => {
            eprintln!("unhealthy: {error}");
            false
        }
    }
}

/// The subcommand: [`check`] as the process's exit status (0 ready, 1 not).
pub async fn run(listen: SocketAddr) -> ExitCode {
    if check(listen).await {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    /// A one-connection server: reads the request head, answers `response` verbatim, and hands
    /// back what it received.
    async fn serve_once(response: &'static str) -> (SocketAddr, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut received = Vec::new();
            let mut buf = [0u8; 1024];
            while !received.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).await.expect("read");
                if n == 0 {
                    break;
                }
                received.extend_from_slice(&buf[..n]);
            }
            stream.write_all(response.as_bytes()).await.expect("write");
            // Close our side, then read whatever is left until the client closes: closing with
            // unread bytes would reset the connection under the client's read.
            stream.shutdown().await.expect("shutdown");
            let _ = stream.read_to_end(&mut Vec::new()).await;
            String::from_utf8(received).expect("utf-8")
        });
        (addr, task)
    }

    /// A port with nothing listening (bound, then released).
    async fn closed_port() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("addr")
    }

    #[test]
    fn a_wildcard_listen_address_is_probed_over_loopback() {
        let probe = |listen: &str| probe_addr(listen.parse().expect("addr")).to_string();
        assert_eq!(probe("0.0.0.0:9114"), "127.0.0.1:9114");
        assert_eq!(probe("[::]:9095"), "[::1]:9095");
        assert_eq!(probe("10.1.2.3:8000"), "10.1.2.3:8000");
        assert_eq!(probe("[::1]:8000"), "[::1]:8000");
    }

    #[tokio::test]
    async fn a_200_from_health_ready_is_healthy() {
        let (addr, server) =
            serve_once("HTTP/1.1 200 OK\r\ncontent-length: 18\r\n\r\n{\"status\":\"ready\"}").await;
        assert!(check(addr).await);
        let request = server.await.expect("server");
        assert!(
            request.starts_with("GET /health/ready HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request.contains("Connection: close\r\n"), "{request}");
    }

    #[tokio::test]
    async fn the_subcommand_exits_0_when_ready_and_1_otherwise() {
        let (addr, _server) = serve_once("HTTP/1.1 200 OK\r\n\r\n").await;
        assert_eq!(run(addr).await, ExitCode::SUCCESS);
        let (addr, _server) =
            serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n{\"error\":{}}").await;
        assert_eq!(run(addr).await, ExitCode::FAILURE);
        assert_eq!(run(closed_port().await).await, ExitCode::FAILURE);
    }

    #[tokio::test]
    async fn any_other_status_or_no_http_is_unhealthy() {
        let (addr, _server) =
            serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n{\"error\":{}}").await;
        assert!(!check(addr).await);
        let (addr, _server) = serve_once("SSH-2.0-OpenSSH_9.6\r\n").await;
        assert!(!check(addr).await);
        let (addr, _server) = serve_once("SSH-2.0-OpenSSH_9.6\r\n").await;
        let result = http_get(addr, READY_PATH).await;
        assert!(
            matches!(result, Err(HealthcheckError::Malformed)),
            "{result:?}"
        );
        assert!(!check(closed_port().await).await);
        let result = http_get(closed_port().await, READY_PATH).await;
        assert!(matches!(result, Err(HealthcheckError::Io(_))), "{result:?}");
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        // Accepts (the kernel does, from the backlog) but never answers.
        let started = std::time::Instant::now();
        let result = http_get(addr, READY_PATH).await;
        assert!(
            matches!(result, Err(HealthcheckError::Timeout)),
            "{result:?}"
        );
        assert!(started.elapsed() >= TIMEOUT);
        drop(listener);
    }

    #[tokio::test]
    async fn a_request_with_a_body_is_sent_as_json() {
        let (addr, server) = serve_once("HTTP/1.1 201 Created\r\n\r\ncreated").await;
        let answer = request(addr, "POST", "/alerts", Some("{}"))
            .await
            .expect("answer");
        assert_eq!(answer, (201, "created".to_owned()));
        let received = server.await.expect("server");
        assert!(
            received.starts_with("POST /alerts HTTP/1.1\r\n"),
            "{received}"
        );
        assert!(
            received.contains("Content-Type: application/json\r\n"),
            "{received}"
        );
        assert!(received.contains("Content-Length: 2\r\n"), "{received}");
    }
}
