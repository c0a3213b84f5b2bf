//! Receipts on predictions and `POST /feedback`.

use emotion_api::configuration::Variant;
use emotion_api::receipt::ReceiptKey;
use serde_json::{json, Value};

use crate::helpers::{assert_error, model_bytes, spawn_app_with, version_of, TestApp};

const KEY: &str = "4f6e652074776f20746872656520666976652073697820736576656e20656967";
const OTHER_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";

async fn app_with_key(variant: &str) -> TestApp {
    spawn_app_with(&[("EMOTION_FEEDBACK_KEY", KEY), ("EMOTION_VARIANT", variant)]).await
}

/// Predicts `sentence` and returns the answer's body.
async fn predict(app: &TestApp, sentence: &str) -> Value {
    let response = app.predict(json!({ "sentence": sentence })).await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn feedback(app: &TestApp, receipt: &Value, label: &str) -> reqwest::Response {
    app.post_json("/feedback", json!({ "receipt": receipt, "label": label }))
        .await
}

/// The `emotion_feedback_total` lines of the app's metrics.
async fn feedback_series(app: &TestApp) -> Vec<String> {
    app.metrics()
        .await
        .lines()
        .filter(|l| l.starts_with("emotion_feedback_total{"))
        .map(str::to_owned)
        .collect()
}

fn series(variant: &str, correct: bool, count: u32) -> String {
    format!(
        r#"emotion_feedback_total{{variant="{variant}",model_version="{}",correct="{correct}"}} {count}"#,
        version_of(model_bytes())
    )
}

#[tokio::test]
async fn a_receipt_counts_once_with_its_variant_and_model() {
    // Arrange
    let app = app_with_key("v1").await;
    let prediction = predict(&app, "I am so happy, great smile").await;
    assert_eq!(prediction["emotion"], "happiness");
    let receipt = &prediction["receipt"];
    assert!(receipt.is_string(), "{prediction}");

    // Act
    let response = feedback(&app, receipt, "happiness").await;

    // Assert
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "counted": true,
            "correct": true,
            "variant": "v1",
            "model_version": version_of(model_bytes()),
        })
    );
    assert_eq!(feedback_series(&app).await, [series("v1", true, 1)]);

    // The same receipt again, with the same or another label: counted once only.
    for label in ["happiness", "sadness"] {
        assert_error(
            feedback(&app, receipt, label).await,
            409,
            "feedback_already_counted",
        )
        .await;
    }
    assert_eq!(feedback_series(&app).await, [series("v1", true, 1)]);
}

#[tokio::test]
async fn a_wrong_prediction_counts_as_incorrect() {
    let app = app_with_key("v1").await;
    let prediction = predict(&app, "so worried about the exam").await;
    assert_eq!(prediction["emotion"], "worry");

    let response = feedback(&app, &prediction["receipt"], "relief").await;

    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["correct"], false);
    assert_eq!(feedback_series(&app).await, [series("v1", false, 1)]);
}

#[tokio::test]
async fn tampered_forged_and_foreign_receipts_count_nothing() {
    let app = app_with_key("v1").await;
    let prediction = predict(&app, "I am so happy, great smile").await;
    let receipt = prediction["receipt"].as_str().unwrap();
    let (payload, tag) = receipt.split_once('.').unwrap();

    // The payload, readable by anyone, rewritten to claim another label.
    let key = ReceiptKey::from_hex(KEY).unwrap();
    let mut claims = key.verify(receipt).unwrap().claims;
    claims.label = "anger".to_owned();
    let (forged_payload, _) = key
        .sign(&claims)
        .split_once('.')
        .map(|(p, t)| (p.to_owned(), t.to_owned()))
        .unwrap();
    let foreign = ReceiptKey::from_hex(OTHER_KEY).unwrap().sign(&claims);
    let flipped_tag = format!(
        "{payload}.{}{}",
        &tag[..5],
        if &tag[5..6] == "A" { "B" } else { "A" }
    );

    for bad in [
        format!("{forged_payload}.{tag}"),
        flipped_tag + &tag[6..],
        foreign,
        format!("{payload}."),
        "not a receipt".to_owned(),
        String::new(),
        "x".repeat(5000),
    ] {
        let message = assert_error(
            feedback(&app, &json!(bad), "anger").await,
            422,
            "invalid_receipt",
        )
        .await;
        assert!(message.contains("receipt"), "{message}");
    }
    assert!(feedback_series(&app).await.is_empty());

    // The genuine receipt is still unspent.
    let response = feedback(&app, &json!(receipt), "happiness").await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn an_unknown_label_is_refused_and_does_not_spend_the_receipt() {
    let app = app_with_key("v1").await;
    let prediction = predict(&app, "love adore").await;

    for label in ["joy", "Happiness", "", "happiness ", &"x".repeat(500)] {
        let message = assert_error(
            feedback(&app, &prediction["receipt"], label).await,
            422,
            "invalid_label",
        )
        .await;
        assert!(message.contains("worry"), "lists the labels: {message}");
        assert!(
            message.len() < 400,
            "unknown label echoed in full: {message}"
        );
    }
    assert!(feedback_series(&app).await.is_empty());
    assert_eq!(
        feedback(&app, &prediction["receipt"], "love")
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn bad_bodies_get_the_usual_errors() {
    let app = app_with_key("v1").await;
    let prediction = predict(&app, "love").await;
    let receipt = &prediction["receipt"];

    let malformed = app
        .post_raw("/feedback", Some("application/json"), r#"{"receipt": "#)
        .await;
    assert_error(malformed, 400, "malformed_json").await;
    let not_json = app.post_raw("/feedback", Some("text/plain"), "hello").await;
    assert_error(not_json, 415, "unsupported_media_type").await;
    for body in [
        json!({}),
        json!({ "receipt": receipt }),
        json!({ "label": "love" }),
        json!({ "receipt": receipt, "label": 5 }),
        json!({ "receipt": 5, "label": "love" }),
        json!({ "receipt": receipt, "label": "love", "extra": true }),
        json!([receipt, "love"]),
    ] {
        let response = app.post_json("/feedback", body.clone()).await;
        assert_error(response, 422, "invalid_request").await;
    }
    assert!(feedback_series(&app).await.is_empty());
}

#[tokio::test]
async fn every_batch_item_has_its_own_receipt() {
    for variant in ["v1", "v2"] {
        let app = app_with_key(variant).await;
        let response = app
            .post_json(
                "/predict/batch",
                json!({ "sentences": ["happy smile", "happy smile", "furious rage"] }),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.unwrap();
        let predictions = body["predictions"].as_array().unwrap();
        let receipts: Vec<&str> = predictions
            .iter()
            .map(|p| p["receipt"].as_str().unwrap())
            .collect();
        // Same sentence, same label, same request: still two receipts, one per item.
        assert_ne!(receipts[0], receipts[1]);
        let key = ReceiptKey::from_hex(KEY).unwrap();
        for (i, receipt) in receipts.iter().enumerate() {
            let claims = key.verify(receipt).unwrap().claims;
            assert_eq!(claims.item, Some(i as u32));
            assert_eq!(claims.label, predictions[i]["emotion"]);
            assert_eq!(claims.variant.as_str(), variant);
        }
        // The first two agree with the prediction of the first, the last is "anger".
        let truth = [predictions[0]["emotion"].as_str().unwrap(); 2];
        let truth = [truth[0], truth[1], "anger"];
        let mut right = 0;
        for (i, (receipt, label)) in receipts.iter().zip(truth).enumerate() {
            let response = feedback(&app, &json!(receipt), label).await;
            assert_eq!(response.status().as_u16(), 200, "{variant}");
            let body: Value = response.json().await.unwrap();
            let correct = predictions[i]["emotion"] == label;
            assert_eq!(body["correct"], correct);
            right += u32::from(correct);
        }
        let mut expected = vec![series(variant, true, right)];
        if right < 3 {
            expected.insert(0, series(variant, false, 3 - right));
        }
        let mut seen = feedback_series(&app).await;
        seen.sort();
        assert_eq!(seen, expected);
    }
}

#[tokio::test]
async fn the_request_id_is_echoed_and_signed_into_the_receipt() {
    let app = app_with_key("v2").await;
    let id = "0123456789abcdef0123456789abcdef";

    let response = app
        .client
        .post(format!("{}/predict", app.address))
        .header("x-request-id", id)
        .json(&json!({ "sentence": "love" }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["x-request-id"], id);
    let body: Value = response.json().await.unwrap();
    let claims = ReceiptKey::from_hex(KEY)
        .unwrap()
        .verify(body["receipt"].as_str().unwrap())
        .unwrap()
        .claims;
    assert_eq!(claims.request_id, id);
    assert_eq!(claims.item, None);
    assert_eq!(claims.variant, Variant::V2);
    assert_eq!(claims.model_version, body["model_version"]);
    assert_eq!(claims.label, body["emotion"]);

    // A value that is not a plain token is replaced, on every route, errors included.
    let response = app
        .client
        .get(format!("{}/no/such/path", app.address))
        .header("x-request-id", "a b c d e f g h")
        .send()
        .await
        .unwrap();
    let echoed = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(echoed.len(), 32, "{echoed}");
}

#[tokio::test]
async fn replicas_sharing_the_key_accept_each_others_receipts_once_each() {
    // The documented limit: replicas do not share what they counted, so a receipt replayed on
    // another replica counts there too (once). The variant counted is the prediction's.
    let v1 = app_with_key("v1").await;
    let v2 = app_with_key("v2").await;
    let prediction = predict(&v1, "happy smile").await;

    for app in [&v2, &v1] {
        let response = feedback(app, &prediction["receipt"], "happiness").await;
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["variant"], "v1");
        assert_error(
            feedback(app, &prediction["receipt"], "happiness").await,
            409,
            "feedback_already_counted",
        )
        .await;
    }
    // Counted by a v2 replica, labelled with the v1 that predicted.
    assert_eq!(feedback_series(&v2).await, [series("v1", true, 1)]);
}

#[tokio::test]
async fn an_old_receipt_is_expired() {
    let app = spawn_app_with(&[
        ("EMOTION_FEEDBACK_KEY", KEY),
        ("EMOTION_FEEDBACK_MAX_AGE_SECS", "1"),
    ])
    .await;
    let prediction = predict(&app, "happy").await;

    // Issue times are whole seconds: two seconds later the receipt is surely older than one.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    let message = assert_error(
        feedback(&app, &prediction["receipt"], "happiness").await,
        422,
        "receipt_expired",
    )
    .await;
    assert!(message.contains("1 s"), "{message}");
    assert!(feedback_series(&app).await.is_empty());
}

#[tokio::test]
async fn without_a_key_there_are_no_receipts_and_feedback_is_disabled() {
    let app = spawn_app_with(&[]).await;

    let prediction = predict(&app, "happy smile").await;
    assert!(prediction.get("receipt").is_none(), "{prediction}");
    let batch: Value = app
        .post_json("/predict/batch", json!({ "sentences": ["a b c"] }))
        .await
        .json()
        .await
        .unwrap();
    assert!(batch["predictions"][0].get("receipt").is_none());

    // Whatever the body: feedback is off here.
    for body in [
        json!({ "receipt": "abc.def", "label": "happiness" }),
        json!({}),
    ] {
        let message = assert_error(
            app.post_json("/feedback", body).await,
            501,
            "feedback_disabled",
        )
        .await;
        assert!(message.contains("EMOTION_FEEDBACK_KEY"), "{message}");
    }
    assert!(feedback_series(&app).await.is_empty());
}
