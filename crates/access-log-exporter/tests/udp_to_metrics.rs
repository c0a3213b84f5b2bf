//! End to end through the real sockets: syslog datagrams in over UDP on port 0, Prometheus text
//! out over HTTP, exactly as Nginx and Prometheus talk to the exporter.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use access_log_exporter::config::SyslogAddr;
use common::{line, metrics_after, spawn_app, value, TestApp};
use service_kit::healthcheck::{self, http_get};
use tokio::net::UdpSocket;

async fn spawn_udp_app() -> (TestApp, SocketAddr) {
    let app = spawn_app(SyslogAddr::Udp("127.0.0.1:0".parse().expect("addr"))).await;
    let SyslogAddr::Udp(syslog) = app.syslog else {
        panic!("bound a UDP address, got {}", app.syslog);
    };
    (app, syslog)
}

#[tokio::test]
async fn datagrams_become_labelled_counters_and_histograms() {
    // Arrange
    let (app, syslog) = spawn_udp_app().await;
    let client = UdpSocket::bind("127.0.0.1:0").await.expect("client socket");
    let datagrams = [
        line(200, "v1", Some("v1"), "/predict", "0.004", "0.003"),
        line(200, "v1", Some("v1"), "/predict", "0.004", "0.002, 0.001"),
        // Routed to v2, answered by a v1 replica: counted under v1, and as a mismatch.
        line(200, "v1", Some("v2"), "/predict", "0.030", "0.020"),
        // Rate-limited by Nginx itself after routing: no answering variant, no mismatch.
        line(429, "none", Some("v2"), "/predict", "0.000", "-"),
        // A log line from before `requested` existed.
        line(429, "v2", None, "/predict", "0.000", "-"),
        line(
            404,
            "",
            Some("none"),
            "/wp-admin/../../etc/passwd",
            "0.000",
            "-",
        ),
        "not syslog at all".to_owned(),
        // Near the largest UDP payload: garbage (rejected) and a valid line with a huge URI.
        "x".repeat(60_000),
        line(
            404,
            "v1",
            Some("invalid"),
            &format!("/{}", "a".repeat(8_000)),
            "0.001",
            "-",
        ),
        line(200, "v1", Some("v1"), "/predict", "0.004", "0.003")[..60].to_owned(),
    ];

    // Act
    for d in &datagrams {
        client.send_to(d.as_bytes(), syslog).await.expect("send");
    }
    let body = metrics_after(app.metrics, datagrams.len() as f64).await;

    // Assert
    let v = |name, labels: &[(&str, &str)]| value(&body, name, labels);
    assert_eq!(
        v("gateway_log_lines_total", &[("result", "parsed")]),
        Some(7.0),
        "{body}"
    );
    assert_eq!(
        v("gateway_log_lines_total", &[("result", "rejected")]),
        Some(3.0),
        "{body}"
    );
    let requests = "gateway_requests_total";
    assert_eq!(
        v(
            requests,
            &[("variant", "v1"), ("route", "/predict"), ("status", "200")]
        ),
        Some(3.0)
    );
    assert_eq!(
        v(
            requests,
            &[("variant", "v2"), ("route", "/predict"), ("status", "429")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            requests,
            &[
                ("variant", "none"),
                ("route", "/predict"),
                ("status", "429")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            requests,
            &[("variant", "none"), ("route", "other"), ("status", "404")]
        ),
        Some(1.0)
    );
    let mismatch = "gateway_variant_mismatch_total";
    assert_eq!(
        v(mismatch, &[("requested", "v2"), ("answered", "v1")]),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        v(mismatch, &[("requested", "v1"), ("answered", "v2")]),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        v(
            requests,
            &[("variant", "v1"), ("route", "other"), ("status", "404")]
        ),
        Some(1.0)
    );
    let v1_predict = [("variant", "v1"), ("route", "/predict")];
    let bucket = |le| {
        let mut labels = v1_predict.to_vec();
        labels.push(("le", le));
        v("gateway_request_duration_seconds_bucket", &labels)
    };
    assert_eq!(bucket("0.005"), Some(2.0), "{body}");
    assert_eq!(bucket("0.05"), Some(3.0));
    assert_eq!(bucket("+Inf"), Some(3.0));
    assert_eq!(
        v("gateway_request_duration_seconds_count", &v1_predict),
        Some(3.0)
    );
    // One observation per request that reached an upstream; the retry's two attempts are summed.
    assert_eq!(
        v(
            "gateway_upstream_duration_seconds_count",
            &[("variant", "v1")]
        ),
        Some(3.0)
    );
    let sum = v(
        "gateway_upstream_duration_seconds_sum",
        &[("variant", "v1")],
    )
    .expect("sum");
    assert!((sum - 0.026).abs() < 1e-9, "upstream sum {sum}");
    assert_eq!(
        v(
            "gateway_upstream_duration_seconds_count",
            &[("variant", "v2")]
        ),
        None
    );

    let _ = app.stop.send(());
}

#[tokio::test]
async fn rejected_and_mismatch_counters_exist_before_any_line() {
    let (app, _) = spawn_udp_app().await;
    let (_, body) = http_get(app.metrics, "/metrics")
        .await
        .expect("GET /metrics");
    assert_eq!(
        value(&body, "gateway_log_lines_total", &[("result", "rejected")]),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "gateway_log_lines_total", &[("result", "parsed")]),
        Some(0.0),
        "{body}"
    );
    for (requested, answered) in [("v1", "v2"), ("v2", "v1")] {
        assert_eq!(
            value(
                &body,
                "gateway_variant_mismatch_total",
                &[("requested", requested), ("answered", answered)]
            ),
            Some(0.0),
            "{body}"
        );
    }
    let _ = app.stop.send(());
}

#[tokio::test]
async fn health_unknown_routes_and_graceful_stop() {
    let (app, _) = spawn_udp_app().await;
    assert!(healthcheck::check(app.metrics).await, "ready while running");
    let (status, body) = http_get(app.metrics, "/health/ready").await.expect("GET");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ready"}"#));
    let (status, body) = http_get(app.metrics, "/nope").await.expect("GET");
    assert_eq!(status, 404);
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON error body");
    assert_eq!(json["error"]["code"], "not_found");

    let _ = app.stop.send(());
    let stopped = tokio::time::timeout(Duration::from_secs(5), app.task).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "stops cleanly: {stopped:?}"
    );
    assert!(
        !healthcheck::check(app.metrics).await,
        "not healthy once stopped"
    );
}
