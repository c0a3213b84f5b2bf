//! The variant guard: `X-Expected-Variant` from the gateway must name this replica's variant.

use serde_json::json;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp};

/// `POST /predict` with `X-Expected-Variant: <expected>`.
async fn predict_expecting(app: &TestApp, expected: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/predict", app.address))
        .header("x-expected-variant", expected)
        .json(&json!({"sentence": "happy smile"}))
        .send()
        .await
        .unwrap()
}

/// `emotion_api_wrong_variant_total{expected="<expected>"}` of `app` (its `variant` label is the
/// global one, before `expected`).
async fn wrong_variant_count(app: &TestApp, variant: &str, expected: &str) -> u64 {
    let series =
        format!(r#"emotion_api_wrong_variant_total{{variant="{variant}",expected="{expected}"}} "#);
    let text = app.metrics().await;
    let line = text
        .lines()
        .find(|l| l.starts_with(&series))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"));
    line[series.len()..].parse().unwrap()
}

#[tokio::test]
async fn the_own_variant_or_no_header_is_served() {
    let v1 = spawn_app().await;
    // Configured as `debug`: the alias must not make the gateway's `v2` look foreign.
    let v2 = spawn_app_with(&[("EMOTION_VARIANT", "debug")]).await;

    let v1_expected = predict_expecting(&v1, "v1").await;
    let v2_expected = predict_expecting(&v2, "v2").await;
    let direct = v1.predict(json!({"sentence": "happy smile"})).await;

    assert_eq!(v1_expected.status().as_u16(), 200);
    assert_eq!(v2_expected.status().as_u16(), 200);
    assert_eq!(v2_expected.headers()["x-model-variant"], "v2");
    assert_eq!(direct.status().as_u16(), 200);
    assert_eq!(wrong_variant_count(&v1, "v1", "v2").await, 0);
}

#[tokio::test]
async fn the_other_variant_is_503_wrong_variant_and_counted() {
    let app = spawn_app().await;

    let response = predict_expecting(&app, "v2").await;

    assert_eq!(response.headers()["x-model-variant"], "v1");
    assert_eq!(response.headers()["retry-after"], "1");
    let message = assert_error(response, 503, "wrong_variant").await;
    assert!(
        message.contains("v1") && message.contains("v2"),
        "names both variants: {message}"
    );
    assert_eq!(wrong_variant_count(&app, "v1", "v2").await, 1);
    let text = app.metrics().await;
    assert!(
        text.contains(
            r#"emotion_api_requests_total{variant="v1",route="/predict",method="POST",status="503"} 1"#
        ),
        "{text}"
    );
    assert!(
        !text.contains("emotion_api_predictions_total{"),
        "nothing was classified: {text}"
    );
}

#[tokio::test]
async fn a_v2_replica_refuses_v1_requests() {
    let app = spawn_app_with(&[("EMOTION_VARIANT", "v2")]).await;

    let response = predict_expecting(&app, "v1").await;

    assert_eq!(response.headers()["x-model-variant"], "v2");
    assert_error(response, 503, "wrong_variant").await;
    assert_eq!(wrong_variant_count(&app, "v2", "v1").await, 1);
}

#[tokio::test]
async fn any_other_value_is_refused_too() {
    // Only the gateway sets the header, so a value it would never send means a misconfiguration.
    let app = spawn_app().await;
    for value in ["", "V1", "v3", "v1, v2", "debug"] {
        let response = predict_expecting(&app, value).await;
        assert_error(response, 503, "wrong_variant").await;
    }
    // `debug` is v2 by name; the others are not variants.
    assert_eq!(wrong_variant_count(&app, "v1", "v2").await, 1);
    assert_eq!(wrong_variant_count(&app, "v1", "invalid").await, 4);
}

#[tokio::test]
async fn every_public_route_is_guarded_but_not_the_metrics_listener() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::POST, "/predict/batch"),
        (reqwest::Method::GET, "/health/live"),
        (reqwest::Method::GET, "/health/ready"),
        (reqwest::Method::GET, "/openapi.json"),
    ] {
        let response = app
            .client
            .request(method, format!("{}{path}", app.address))
            .header("x-expected-variant", "v2")
            .json(&json!({"sentences": ["hi"]}))
            .send()
            .await
            .unwrap();
        assert_error(response, 503, "wrong_variant").await;
    }
    let metrics = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .header("x-expected-variant", "v2")
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
    assert_eq!(wrong_variant_count(&app, "v1", "v2").await, 4);
}
