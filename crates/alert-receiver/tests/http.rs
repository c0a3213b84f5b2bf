//! The receiver over HTTP: what Alertmanager sends is accepted, kept and counted; anything else
//! gets the JSON error shape with the right status. The router tests run in memory
//! (`tower::ServiceExt::oneshot`); one test goes through a real socket and a graceful stop.

use std::sync::Arc;
use std::time::Duration;

use alert_receiver::config::Config;
use alert_receiver::history::History;
use alert_receiver::metrics::Metrics;
use alert_receiver::routes::{router, AppState};
use alert_receiver::startup::Application;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use service_kit::healthcheck::request;
use tower::ServiceExt;

const LIMIT: usize = 4096;

fn app() -> axum::Router {
    router(AppState {
        history: Arc::new(History::new(3)),
        metrics: Arc::new(Metrics::new()),
        max_body_bytes: LIMIT,
    })
}

/// A notification as Alertmanager sends it: `status` for every alert, the group's status.
fn notification(status: &str, alertname: &str) -> Value {
    json!({
        "version": "4", "groupKey": format!("{{}}:{{alertname=\"{alertname}\"}}"), "truncatedAlerts": 0,
        "status": status, "receiver": "webhook",
        "groupLabels": {"alertname": alertname},
        "commonLabels": {"alertname": alertname, "job": "api-v1", "severity": "critical"},
        "commonAnnotations": {"summary": "No reachable instance in job api-v1"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": status,
            "labels": {"alertname": alertname, "job": "api-v1", "severity": "critical"},
            "annotations": {"summary": "No reachable instance in job api-v1"},
            "startsAt": "2025-12-06T20:00:00.000Z",
            "endsAt": if status == "resolved" { "2025-12-06T20:03:00.000Z" } else { "0001-01-01T00:00:00Z" },
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": "0123456789abcdef"
        }]
    })
}

async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    let response = app
        .clone()
        .oneshot(builder.body(body.into()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

async fn post(app: &axum::Router, body: &Value) -> (StatusCode, Value) {
    send(
        app,
        "POST",
        "/alerts",
        Some("application/json"),
        body.to_string(),
    )
    .await
}

fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{}", got.1);
    assert!(
        got.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        got.1
    );
}

#[tokio::test]
async fn a_notification_is_kept_newest_last_with_its_receipt_time() {
    let app = app();
    let firing = post(&app, &notification("firing", "ApiVariantUnavailable")).await;
    assert_eq!(firing.0, StatusCode::OK, "{}", firing.1);
    assert_eq!(firing.1["seq"], 1);
    let resolved = post(&app, &notification("resolved", "ApiVariantUnavailable")).await;
    assert_eq!(resolved.1["seq"], 2);

    let (status, list) = send(&app, "GET", "/alerts", None, Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().expect("a JSON list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["status"], "firing");
    assert_eq!(list[1]["status"], "resolved");
    assert_eq!(list[1]["alerts"][0]["labels"]["job"], "api-v1");
    assert_eq!(list[1]["externalURL"], "http://alertmanager:9093");
    let at = list[1]["received_at"].as_str().expect("received_at");
    assert!(at.ends_with('Z') && at.len() == 24, "{at}");
}

#[tokio::test]
async fn the_history_is_bounded() {
    let app = app();
    for i in 0..5 {
        post(&app, &notification("firing", &format!("Alert{i}"))).await;
    }
    let (_, list) = send(&app, "GET", "/alerts", None, Body::empty()).await;
    let names: Vec<_> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|n| {
            n["groupLabels"]["alertname"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["Alert2", "Alert3", "Alert4"]);
}

#[tokio::test]
async fn deliveries_and_refusals_are_counted() {
    let app = app();
    post(&app, &notification("firing", "GatewayDown")).await;
    post(&app, &notification("resolved", "GatewayDown")).await;
    send(&app, "POST", "/alerts", Some("application/json"), "{").await;
    let response = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await
        .expect("infallible");
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("utf-8");
    for series in [
        r#"alert_receiver_notifications_total{status="firing",alertname="GatewayDown"} 1"#,
        r#"alert_receiver_notifications_total{status="resolved",alertname="GatewayDown"} 1"#,
        r#"alert_receiver_rejected_total{code="malformed_json"} 1"#,
    ] {
        assert!(text.contains(series), "{series} missing from\n{text}");
    }
}

#[tokio::test]
async fn bad_input_gets_the_json_error_shape() {
    let app = app();
    let json = Some("application/json");
    assert_error(
        &send(&app, "POST", "/alerts", json, "{\"version\":").await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );
    assert_error(
        &send(&app, "POST", "/alerts", json, vec![0xff, 0xfe]).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );
    assert_error(
        &send(&app, "POST", "/alerts", json, "{\"version\":\"4\"}").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    assert_error(
        &send(&app, "POST", "/alerts", json, "[]").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    let mut wrong_version = notification("firing", "A");
    wrong_version["version"] = json!("5");
    assert_error(
        &post(&app, &wrong_version).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    let mut no_alerts = notification("firing", "A");
    no_alerts["alerts"] = json!([]);
    assert_error(
        &post(&app, &no_alerts).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    let mut bad_label = notification("firing", "A");
    bad_label["alerts"][0]["labels"]["job"] = json!(["api-v1"]);
    assert_error(
        &post(&app, &bad_label).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    let mut contradictory = notification("firing", "A");
    contradictory["status"] = json!("resolved");
    assert_error(
        &post(&app, &contradictory).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(LIMIT + 1));
    assert_error(
        &send(&app, "POST", "/alerts", json, big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    assert_error(
        &send(
            &app,
            "POST",
            "/alerts",
            Some("text/plain"),
            notification("firing", "A").to_string(),
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert_error(
        &send(&app, "DELETE", "/alerts", None, Body::empty()).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert_error(
        &send(&app, "GET", "/nope", None, Body::empty()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Nothing refused was kept.
    let (_, list) = send(&app, "GET", "/alerts", None, Body::empty()).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn serves_over_a_socket_and_stops_gracefully() {
    let config = Config {
        addr: "127.0.0.1:0".parse().expect("addr"),
        history: 10,
        max_body_bytes: LIMIT,
        shutdown_timeout: Duration::from_secs(2),
    };
    let app = Application::build(&config).await.expect("binds");
    let addr = app.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    assert!(service_kit::healthcheck::check(addr).await);
    let body = notification("firing", "TargetDown").to_string();
    let (status, answer) = request(addr, "POST", "/alerts", Some(&body))
        .await
        .expect("posted");
    assert_eq!(status, 200, "{answer}");
    let (status, list) = request(addr, "GET", "/alerts", None).await.expect("listed");
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&list).expect("JSON");
    assert_eq!(list[0]["alerts"][0]["labels"]["alertname"], "TargetDown");

    stop.send(()).expect("still running");
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops within the drain bound")
        .expect("joins")
        .expect("clean stop");
    assert!(!service_kit::healthcheck::check(addr).await);
}
