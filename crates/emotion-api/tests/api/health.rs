//! Liveness and readiness.

use crate::helpers::{
    assert_error, assert_identity_headers, model_bytes, spawn_app, spawn_app_with, version_of,
};

#[tokio::test]
async fn live_answers_200() {
    let app = spawn_app().await;
    let response = app.get("/health/live").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_identity_headers(&response);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "live");
}

#[tokio::test]
async fn ready_reports_the_loaded_model() {
    let app = spawn_app().await;
    let response = app.get("/health/ready").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["model_version"], version_of(model_bytes()));
}

#[tokio::test]
async fn without_a_model_the_app_is_live_but_not_ready_until_one_loads() {
    // Arrange: an artifact path with nothing there yet.
    let dir = crate::helpers::scratch_dir();
    let path = dir.join("later.bin");
    let app = spawn_app_with(&[("EMOTION_MODEL_PATH", path.to_str().unwrap())]).await;

    // Act / Assert: live, not ready, predictions refused with 503 (not a crash).
    assert_eq!(app.get("/health/live").await.status().as_u16(), 200);
    assert_error(app.get("/health/ready").await, 503, "not_ready").await;
    assert_error(
        app.predict(serde_json::json!({"sentence": "hi"})).await,
        503,
        "not_ready",
    )
    .await;
    assert!(app
        .metrics()
        .await
        .contains("emotion_api_ready{variant=\"v1\"} 0"));

    // The artifact appears and a reload (what SIGHUP does) makes the app ready.
    std::fs::write(&path, model_bytes()).unwrap();
    app.state.reload().await.expect("reload");
    assert_eq!(app.get("/health/ready").await.status().as_u16(), 200);
    assert_eq!(
        app.predict(serde_json::json!({"sentence": "hi"}))
            .await
            .status()
            .as_u16(),
        200
    );
    assert!(app
        .metrics()
        .await
        .contains("emotion_api_ready{variant=\"v1\"} 1"));
}
