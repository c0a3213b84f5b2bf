//! `POST /predict/batch`.

use serde_json::json;

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

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
async fn v2_items_carry_the_debug_shape() {
    let app = spawn_app_with(&[("EMOTION_VARIANT", "v2")]).await;

    let response = app
        .post_json("/predict/batch", json!({"sentences": ["wow", "hate"]}))
        .await;

    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    for p in body["predictions"].as_array().unwrap() {
        assert_eq!(p["probabilities"].as_object().unwrap().len(), 13);
        assert!(p["debug"]["tokens"].is_array());
    }
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
