//! `emotion-api healthcheck`: exit 0 when the local instance answers `GET /health/ready` with 200.
//!
//! The Docker healthcheck for images that have no curl: one raw HTTP/1.1 request over a std
//! `TcpStream`, no HTTP client library, a short timeout so a hung server counts as unhealthy.
//!
//! Not `service_kit::healthcheck`, which the other services use: this one runs without an async
//! runtime (`main` starts none for it), bounds connecting, sending and reading at 2 s each (the
//! README's "2 s timeout"; the kit's is 3 s for the whole exchange) and reads the status line
//! only. Which address to probe is the kit's `probe_addr`, as for the others.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `GET /health/ready` at `target` answers 200.
pub fn check(target: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&target, TIMEOUT)
        .map_err(|e| format!("connect {target}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let request =
        format!("GET /health/ready HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    // The status line is all we need; it fits comfortably in the first read.
    let mut buf = [0u8; 64];
    let mut len = 0;
    while len < buf.len() {
        match stream.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) => return Err(format!("read: {e}")),
        }
        if buf[..len].contains(&b'\n') {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let status_line = head.lines().next().unwrap_or_default();
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(format!("not ready: {status_line:?}")),
    }
}
