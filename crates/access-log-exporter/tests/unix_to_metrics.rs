//! End to end through a unix datagram socket, as an Nginx sharing a volume with the exporter
//! sends its log (`access_log syslog:server=unix:/path`): the socket file's lifecycle (stale file
//! replaced, mode 0o666, removed on stop), datagrams in, Prometheus text out.
#![cfg(unix)]

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::PathBuf;
use std::time::Duration;

use access_log_exporter::config::{SyslogAddr, SYSLOG_ADDR_VAR};
use access_log_exporter::startup::{Application, StartupError};
use common::{config, line, metrics_after, spawn_app, value};
use tokio::net::UnixDatagram;

/// A fresh private directory, the stand-in for the volume shared with Nginx; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ale-unix-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn datagrams_over_a_unix_socket_become_counters() {
    // Arrange: a socket file left behind by a killed predecessor.
    let dir = TempDir::new("e2e");
    let path = dir.0.join("syslog.sock");
    drop(std::os::unix::net::UnixDatagram::bind(&path).expect("stale socket"));
    let app = spawn_app(SyslogAddr::Unix(path.clone())).await;
    assert_eq!(app.syslog, SyslogAddr::Unix(path.clone()));
    let mode = std::fs::metadata(&path)
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o666, "writable by Nginx's workers");
    // Connected, as Nginx's syslog client is.
    let client = UnixDatagram::unbound().expect("client socket");
    client.connect(&path).expect("connect");
    let datagrams = [
        line(200, "v1", Some("v1"), "/predict", "0.004", "0.003"),
        line(200, "v2", Some("v1"), "/predict", "0.004", "0.003"),
        line(200, "v1", Some("v2"), "/predict/batch", "0.010", "0.008"),
        line(401, "none", Some("v1"), "/predict", "0.000", "-"),
        line(200, "v2", None, "/predict", "0.004", "0.003"),
        "not syslog at all".to_owned(),
        "x".repeat(60_000),
    ];

    // Act
    for d in &datagrams {
        client.send(d.as_bytes()).await.expect("send");
    }
    let body = metrics_after(app.metrics, datagrams.len() as f64).await;

    // Assert
    let v = |name, labels: &[(&str, &str)]| value(&body, name, labels);
    assert_eq!(
        v("gateway_log_lines_total", &[("result", "parsed")]),
        Some(5.0),
        "{body}"
    );
    assert_eq!(
        v("gateway_log_lines_total", &[("result", "rejected")]),
        Some(2.0),
        "{body}"
    );
    let requests = "gateway_requests_total";
    assert_eq!(
        v(
            requests,
            &[("variant", "v2"), ("route", "/predict"), ("status", "200")]
        ),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        v(
            requests,
            &[
                ("variant", "none"),
                ("route", "/predict"),
                ("status", "401")
            ]
        ),
        Some(1.0),
        "{body}"
    );
    let mismatch = "gateway_variant_mismatch_total";
    assert_eq!(
        v(mismatch, &[("requested", "v1"), ("answered", "v2")]),
        Some(1.0)
    );
    assert_eq!(
        v(mismatch, &[("requested", "v2"), ("answered", "v1")]),
        Some(1.0)
    );

    // A graceful stop takes the socket file with it.
    let _ = app.stop.send(());
    let stopped = tokio::time::timeout(Duration::from_secs(5), app.task).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "stops cleanly: {stopped:?}"
    );
    assert!(!path.exists(), "socket file removed on stop");
}

#[tokio::test]
async fn a_path_that_is_not_a_socket_stops_the_start_and_is_kept() {
    let dir = TempDir::new("regular-file");
    let path = dir.0.join("syslog.sock");
    std::fs::write(&path, "someone's data").expect("write");

    let result = Application::build(&config(SyslogAddr::Unix(path.clone()))).await;

    let Err(err) = result else {
        panic!("started on top of a regular file");
    };
    assert!(matches!(err, StartupError::NotASocket { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains(SYSLOG_ADDR_VAR), "{message}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("kept"),
        "someone's data"
    );
}

#[tokio::test]
async fn a_second_exporter_cannot_take_a_live_socket() {
    let dir = TempDir::new("live");
    let path = dir.0.join("syslog.sock");
    let first = spawn_app(SyslogAddr::Unix(path.clone())).await;

    let result = Application::build(&config(SyslogAddr::Unix(path.clone()))).await;

    let Err(err) = result else {
        panic!("a second exporter took over a live socket");
    };
    assert!(matches!(err, StartupError::SocketInUse { .. }), "{err}");
    // The first exporter still owns, and receives on, its socket.
    let file_type = std::fs::symlink_metadata(&path).expect("kept").file_type();
    assert!(file_type.is_socket());
    let client = UnixDatagram::unbound().expect("client socket");
    let datagram = line(200, "v1", Some("v1"), "/predict", "0.001", "0.001");
    client
        .send_to(datagram.as_bytes(), &path)
        .await
        .expect("send");
    let body = metrics_after(first.metrics, 1.0).await;
    assert_eq!(
        value(&body, "gateway_log_lines_total", &[("result", "parsed")]),
        Some(1.0),
        "{body}"
    );
    let _ = first.stop.send(());
}
