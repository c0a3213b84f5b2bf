//! End to end through the real sockets: syslog datagrams in over UDP on port 0, Prometheus text
//! out over HTTP, exactly as Nginx and Prometheus talk to the exporter.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use access_log_exporter::config::Config;
use access_log_exporter::healthcheck::{self, http_get};
use access_log_exporter::startup::Application;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct TestApp {
    syslog: SocketAddr,
    metrics: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), access_log_exporter::startup::StartupError>>,
}

async fn spawn_app() -> TestApp {
    let config = Config {
        syslog_addr: "127.0.0.1:0".parse().expect("addr"),
        metrics_addr: "127.0.0.1:0".parse().expect("addr"),
        shutdown_timeout: Duration::from_secs(2),
    };
    let app = Application::build(&config).await.expect("binds on port 0");
    let (syslog, metrics) = (app.syslog_addr(), app.metrics_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    TestApp {
        syslog,
        metrics,
        stop,
        task,
    }
}

fn line(status: u16, variant: &str, uri: &str, request_time: &str, upstream: &str) -> String {
    format!(
        r#"<190>Nov 26 03:00:00 gateway nginx: {{"status":"{status}","variant":"{variant}","uri":"{uri}","request_time":"{request_time}","upstream_response_time":"{upstream}","upstream_status":"200","bytes_sent":"100"}}"#
    )
}

/// Parses the exposition format into `(name, labels) -> value`.
fn samples(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let mut out = BTreeMap::new();
    for row in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (series, value) = row.rsplit_once(' ').expect("sample has a value");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|l| !l.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("label pair");
                (k.to_owned(), v.trim_matches('"').to_owned())
            })
            .collect();
        out.insert(
            (name.to_owned(), labels),
            value.parse().expect("numeric value"),
        );
    }
    out
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples(text).get(&(name.to_owned(), want)).copied()
}

/// UDP is asynchronous: poll `/metrics` until `parsed + rejected` reaches `expected` (bounded).
async fn metrics_after(addr: SocketAddr, expected: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = http_get(addr, "/metrics").await.expect("GET /metrics");
        assert_eq!(status, 200);
        let seen = value(&body, "gateway_log_lines_total", &[("result", "parsed")]).unwrap_or(0.0)
            + value(&body, "gateway_log_lines_total", &[("result", "rejected")]).unwrap_or(0.0);
        if seen >= expected || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn datagrams_become_labelled_counters_and_histograms() {
    // Arrange
    let app = spawn_app().await;
    let client = UdpSocket::bind("127.0.0.1:0").await.expect("client socket");
    let datagrams = [
        line(200, "v1", "/predict", "0.004", "0.003"),
        line(200, "v1", "/predict", "0.004", "0.002, 0.001"),
        line(200, "v1", "/predict", "0.030", "0.020"),
        line(429, "v2", "/predict", "0.000", "-"),
        line(404, "", "/wp-admin/../../etc/passwd", "0.000", "-"),
        "not syslog at all".to_owned(),
        // Near the largest UDP payload: garbage (rejected) and a valid line with a huge URI.
        "x".repeat(60_000),
        line(404, "v1", &format!("/{}", "a".repeat(8_000)), "0.001", "-"),
        line(200, "v1", "/predict", "0.004", "0.003")[..60].to_owned(),
    ];

    // Act
    for d in &datagrams {
        client
            .send_to(d.as_bytes(), app.syslog)
            .await
            .expect("send");
    }
    let body = metrics_after(app.metrics, datagrams.len() as f64).await;

    // Assert
    let v = |name, labels: &[(&str, &str)]| value(&body, name, labels);
    assert_eq!(
        v("gateway_log_lines_total", &[("result", "parsed")]),
        Some(6.0),
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
            &[("variant", "none"), ("route", "other"), ("status", "404")]
        ),
        Some(1.0)
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
async fn rejected_counter_exists_before_any_line() {
    let app = spawn_app().await;
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
    let _ = app.stop.send(());
}

#[tokio::test]
async fn health_unknown_routes_and_graceful_stop() {
    let app = spawn_app().await;
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
