//! What the transport tests share: an exporter on port 0, the Nginx log line, and a reader for
//! the Prometheus text format.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use access_log_exporter::config::{Config, SyslogAddr};
use access_log_exporter::startup::{Application, StartupError};
use service_kit::healthcheck::http_get;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub syslog: SyslogAddr,
    pub metrics: SocketAddr,
    pub stop: oneshot::Sender<()>,
    pub task: JoinHandle<Result<(), StartupError>>,
}

/// The exporter's configuration for a test: metrics on a free loopback port.
pub fn config(syslog_addr: SyslogAddr) -> Config {
    Config {
        syslog_addr,
        metrics_addr: "127.0.0.1:0".parse().expect("addr"),
        shutdown_timeout: Duration::from_secs(2),
    }
}

pub async fn spawn_app(syslog_addr: SyslogAddr) -> TestApp {
    let app = Application::build(&config(syslog_addr))
        .await
        .expect("binds");
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

/// One `gateway_metrics` line as Nginx sends it; `requested: None` is the format from before
/// the field existed.
pub fn line(
    status: u16,
    variant: &str,
    requested: Option<&str>,
    uri: &str,
    request_time: &str,
    upstream: &str,
) -> String {
    let requested = requested.map_or(String::new(), |r| format!(r#""requested":"{r}","#));
    format!(
        r#"<190>Nov 26 03:00:00 gateway nginx: {{"status":"{status}","variant":"{variant}",{requested}"uri":"{uri}","request_time":"{request_time}","upstream_response_time":"{upstream}","upstream_status":"200","bytes_sent":"100"}}"#
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

pub fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples(text).get(&(name.to_owned(), want)).copied()
}

/// Datagrams are asynchronous: poll `/metrics` until `parsed + rejected` reaches `expected`
/// (bounded).
pub async fn metrics_after(addr: SocketAddr, expected: f64) -> String {
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
