//! `POST /predict/batch`.

use serde_json::json;

use crate::helpers::{assert_error, model_bytes, spawn_app, spawn_app_with, version_of};

#[tokio::test]
async fn answers_one_prediction_per_sentence_in_order() {
    let app = spawn_app().await;

    let response = app
        .post_json(
            "/predict/batch",
            json!({"sentences": ["i love you, adore", "so sad, i cry", "happy smile"]}),
        )
        .await;

    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let predictions = body["predictions"].as_array().unwrap();
    let emotions: Vec<&str> = predictions
        .iter()
        .map(|p| p["emotion"].as_str().unwrap())
        .collect();
    assert_eq!(emotions, ["love", "sadness", "happiness"]);
    for p in predictions {
        assert_eq!(p.as_object().unwrap().len(), 3, "v1 shape: {p}");
    }
}

#[tokio::test]
async fn v1_batches_have_no_debug() {
    let app = spawn_app().await;

    let response = app
        .post_json("/predict/batch", json!({"sentences": ["wow"]}))
        .await;

    let body: serde_json::Value = response.json().await.unwrap();
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["predictions"]);
}

#[tokio::test]
async fn v2_carries_the_context_once_and_the_evidence_per_item() {
    let app = spawn_app_with(&[("EMOTION_VARIANT", "debug")]).await;

    let response = app
        .post_json(
            "/predict/batch",
            json!({"sentences": ["wow", "so worried, exam"]}),
        )
        .await;

    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["debug", "predictions"]);
    let debug = &body["debug"];
    let context: Vec<&String> = debug.as_object().unwrap().keys().collect();
    assert_eq!(context, ["instance", "model", "variant"]);
    assert_eq!(debug["variant"], "v2");
    assert_eq!(debug["instance"], "test-instance");
    assert_eq!(debug["model"]["version"], version_of(model_bytes()));
    assert_eq!(debug["model"]["labels"].as_array().unwrap().len(), 13);
    assert!(debug["model"]["hyperparameters"].is_object());

    let predictions = body["predictions"].as_array().unwrap();
    assert_eq!(predictions[1]["emotion"], "worry");
    for p in predictions {
        let fields: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(
            fields,
            [
                "confidence",
                "debug",
                "emotion",
                "model_version",
                "probabilities"
            ]
        );
        assert_eq!(p["model_version"], debug["model"]["version"]);
        assert_eq!(p["probabilities"].as_object().unwrap().len(), 13);
        let evidence: Vec<&String> = p["debug"].as_object().unwrap().keys().collect();
        assert_eq!(evidence, ["inference_us", "tokens", "top_features"]);
        assert!(p["debug"]["tokens"].is_array());
    }
}

#[tokio::test]
async fn a_full_v2_batch_states_the_model_metadata_once() {
    // 64 x "hi" used to repeat the model metadata in every item: ~209 KB.
    let app = spawn_app_with(&[("EMOTION_VARIANT", "v2")]).await;
    let sentences = vec!["hi"; 64];

    let response = app
        .post_json("/predict/batch", json!({ "sentences": sentences }))
        .await;

    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(text.len() < 40_000, "{} bytes", text.len());
    for once in [r#""hyperparameters":"#, r#""labels":"#, r#""data_sha256":"#] {
        assert_eq!(text.matches(once).count(), 1, "{once} in {text}");
    }
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["predictions"].as_array().unwrap().len(), 64);
}

#[tokio::test]
async fn a_batch_over_the_limit_is_422() {
    let app = spawn_app_with(&[("EMOTION_MAX_BATCH", "3")]).await;

    let at_limit = app
        .post_json("/predict/batch", json!({"sentences": ["a", "b", "c"]}))
        .await;
    let over = app
        .post_json("/predict/batch", json!({"sentences": ["a", "b", "c", "d"]}))
        .await;

    assert_eq!(at_limit.status().as_u16(), 200);
    let message = assert_error(over, 422, "batch_too_large").await;
    assert!(message.contains('4') && message.contains('3'), "{message}");
}

#[tokio::test]
async fn an_empty_batch_is_422() {
    let app = spawn_app().await;
    let response = app
        .post_json("/predict/batch", json!({"sentences": []}))
        .await;
    assert_error(response, 422, "empty_batch").await;
}

#[tokio::test]
async fn one_bad_item_rejects_the_batch_and_is_named() {
    let app = spawn_app_with(&[("EMOTION_MAX_TEXT_CHARS", "5")]).await;

    let empty = app
        .post_json("/predict/batch", json!({"sentences": ["ok", ""]}))
        .await;
    let long = app
        .post_json(
            "/predict/batch",
            json!({"sentences": ["ok", "ok", "toolong"]}),
        )
        .await;
    let not_string = app
        .post_json("/predict/batch", json!({"sentences": ["ok", 3]}))
        .await;
    let not_array = app
        .post_json("/predict/batch", json!({"sentences": "ok"}))
        .await;

    assert!(assert_error(empty, 422, "empty_sentence")
        .await
        .contains("sentences[1]"));
    assert!(assert_error(long, 422, "text_too_long")
        .await
        .contains("sentences[2]"));
    assert_error(not_string, 422, "invalid_request").await;
    assert_error(not_array, 422, "invalid_request").await;
}

#[tokio::test]
async fn a_blank_item_rejects_the_batch_like_an_empty_one() {
    let app = spawn_app().await;
    for blank in ["   ", "\u{0}", "\t\n", "\u{7} "] {
        let response = app
            .post_json(
                "/predict/batch",
                json!({"sentences": ["ok", "fine", blank]}),
            )
            .await;

        let message = assert_error(response, 422, "empty_sentence").await;
        assert!(message.contains("sentences[2]"), "{blank:?}: {message}");
    }
}
