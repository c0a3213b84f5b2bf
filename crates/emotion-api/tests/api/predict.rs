//! `POST /predict` in both variants.

use serde_json::json;

use crate::helpers::{
    assert_identity_headers, model_bytes, spawn_app, spawn_app_with, version_of, LABELS,
};

#[tokio::test]
async fn v1_answers_label_confidence_and_version_only() {
    let app = spawn_app().await;

    let response = app
        .predict(json!({"sentence": "I am so happy, great smile"}))
        .await;

    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-model-variant"], "v1");
    assert_identity_headers(&response);
    let body: serde_json::Value = response.json().await.unwrap();
    let fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["confidence", "emotion", "model_version"]);
    assert_eq!(body["emotion"], "happiness");
    let confidence = body["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence), "{confidence}");
    assert_eq!(body["model_version"], version_of(model_bytes()));
}

#[tokio::test]
async fn v2_adds_probabilities_and_debug_evidence() {
    let app = spawn_app_with(&[("EMOTION_VARIANT", "debug")]).await;

    let response = app
        .predict(json!({"sentence": "so worried about the exam"}))
        .await;

    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-model-variant"], "v2");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["emotion"], "worry");
    let probabilities = body["probabilities"].as_object().unwrap();
    let labels: Vec<&str> = probabilities.keys().map(String::as_str).collect();
    assert_eq!(labels, LABELS);
    let sum: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-9, "probabilities sum to {sum}");
    assert_eq!(probabilities["worry"], body["confidence"]);

    let debug = &body["debug"];
    assert_eq!(debug["variant"], "v2");
    assert_eq!(debug["instance"], "test-instance");
    let tokens: Vec<&str> = debug["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tokens.contains(&"worried") && tokens.contains(&"exam"),
        "{tokens:?}"
    );
    let top = debug["top_features"].as_array().unwrap();
    assert!(!top.is_empty());
    assert!(top[0]["token"].is_string() && top[0]["weight"].is_number());
    assert!(debug["inference_us"].is_u64());
    assert_eq!(debug["model"]["version"], body["model_version"]);
    assert_eq!(debug["model"]["labels"].as_array().unwrap().len(), 13);
}

#[tokio::test]
async fn text_at_the_limit_counts_characters_not_bytes() {
    let app = spawn_app_with(&[("EMOTION_MAX_TEXT_CHARS", "10")]).await;

    // Ten two-byte characters: 20 bytes but exactly at the 10-character limit.
    let response = app.predict(json!({"sentence": "éééééééééé"})).await;

    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn charset_parameter_and_unknown_words_are_fine() {
    let app = spawn_app().await;

    let response = app
        .post_raw(
            "/predict",
            Some("application/json; charset=utf-8"),
            r#"{"sentence": "zzz qqq 🙂"}"#,
        )
        .await;

    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(LABELS.contains(&body["emotion"].as_str().unwrap()));
}
