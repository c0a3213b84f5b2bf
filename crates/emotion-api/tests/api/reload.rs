//! Hot reload (what SIGHUP triggers; the signal itself is exercised in tests/process.rs).

use serde_json::json;

use crate::helpers::{model_bytes, other_model_bytes, spawn_app, version_of};

async fn served_version(app: &crate::helpers::TestApp) -> String {
    served(app).await.0
}

/// The model version and the confidence of a text whose words the models know.
async fn served(app: &crate::helpers::TestApp) -> (String, f64) {
    let body: serde_json::Value = app
        .predict(json!({"sentence": "so worried and nervous about the exam"}))
        .await
        .json()
        .await
        .unwrap();
    (
        body["model_version"].as_str().unwrap().to_owned(),
        body["confidence"].as_f64().unwrap(),
    )
}

#[tokio::test]
async fn a_reload_swaps_in_the_new_artifact() {
    let app = spawn_app().await;
    let old = version_of(model_bytes());
    let new = version_of(other_model_bytes());
    assert_ne!(old, new, "the two test artifacts must differ");
    let (before, old_confidence) = served(&app).await;
    assert_eq!(before, old);

    std::fs::write(&app.model_path, other_model_bytes()).unwrap();
    let reported = app.state.reload().await.expect("reload");

    assert_eq!(reported, new);
    let (after, new_confidence) = served(&app).await;
    assert_eq!(after, new);
    // The new weights are served, not only the new version string.
    assert_ne!(
        old_confidence.to_bits(),
        new_confidence.to_bits(),
        "same answer from both artifacts: {old_confidence}"
    );
    let text = app.metrics().await;
    assert!(
        text.contains(r#"emotion_api_model_reloads_total{variant="v1",result="ok"} 1"#),
        "{text}"
    );
    assert!(text.contains(&format!(r#"model_version="{new}"}} 1"#)));
    assert!(text.contains(&format!(r#"model_version="{old}"}} 0"#)));
}

#[tokio::test]
async fn a_failed_reload_keeps_the_old_model_and_is_counted() {
    let app = spawn_app().await;
    let old = version_of(model_bytes());

    std::fs::write(&app.model_path, b"not a model").unwrap();
    assert!(app.state.reload().await.is_err());
    std::fs::remove_file(&app.model_path).unwrap();
    assert!(app.state.reload().await.is_err());

    assert_eq!(served_version(&app).await, old);
    assert_eq!(app.get("/health/ready").await.status().as_u16(), 200);
    let text = app.metrics().await;
    assert!(
        text.contains(r#"emotion_api_model_reloads_total{variant="v1",result="error"} 2"#),
        "{text}"
    );
}
