//! Prometheus metrics on the separate metrics listener.

use serde_json::json;

use crate::helpers::{model_bytes, spawn_app, spawn_app_with, version_of};

#[tokio::test]
async fn requests_are_counted_under_the_route_template_with_the_variant() {
    let app = spawn_app().await;
    app.predict(json!({"sentence": "happy smile"})).await;
    app.predict(json!({"sentence": ""})).await;
    app.get("/no/such/path/12345").await;

    let text = app.metrics().await;

    for expected in [
        r#"emotion_api_requests_total{variant="v1",route="/predict",method="POST",status="200"} 1"#,
        r#"emotion_api_requests_total{variant="v1",route="/predict",method="POST",status="422"} 1"#,
        r#"emotion_api_requests_total{variant="v1",route="unmatched",method="GET",status="404"} 1"#,
        r#"emotion_api_predictions_total{variant="v1",emotion="happiness"} 1"#,
        r#"emotion_api_ready{variant="v1"} 1"#,
        r#"emotion_api_model_reloads_total{variant="v1",result="error"} 0"#,
        r#"emotion_api_request_duration_seconds_bucket{variant="v1",route="/predict",le="#,
        r#"emotion_api_prediction_confidence_bucket{variant="v1",le="#,
        r#"emotion_api_inference_duration_seconds_bucket{variant="v1",le="#,
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    let info = format!(
        r#"emotion_api_model_info{{variant="v1",model_version="{}"}} 1"#,
        version_of(model_bytes())
    );
    assert!(text.contains(&info), "missing {info}");
    assert!(!text.contains("12345"), "raw paths must not become labels");
}

#[tokio::test]
async fn every_series_carries_the_variant_label() {
    let app = spawn_app_with(&[("EMOTION_VARIANT", "v2")]).await;
    app.predict(json!({"sentence": "love"})).await;

    let text = app.metrics().await;

    let series: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert!(series.len() > 10);
    for line in series {
        assert!(line.contains(r#"variant="v2""#), "{line}");
    }
}

#[tokio::test]
async fn metrics_are_served_only_on_the_metrics_listener() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status().as_u16(), 404);
    let response = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
}
