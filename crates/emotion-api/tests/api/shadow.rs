//! `X-Shadow: 1`, the gateway's mirror: the labels only, in `X-Predicted-Labels` of a 204.

use serde_json::json;

use crate::helpers::{spawn_app_with, TestApp};

async fn post(
    app: &TestApp,
    path: &str,
    shadow: bool,
    body: serde_json::Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}{path}", app.address))
        .json(&body);
    if shadow {
        request = request.header("x-shadow", "1");
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_shadow_request_gets_the_same_labels_and_no_body() {
    let app = spawn_app_with(&[("EMOTION_VARIANT", "v2")]).await;
    let sentence = json!({"sentence": "I love this so much, best day ever"});
    let batch =
        json!({"sentences": ["what a lovely day", "I miss you so much", "ugh, traffic again"]});

    for (path, body) in [("/predict", sentence), ("/predict/batch", batch)] {
        let live = post(&app, path, false, body.clone()).await;
        let shadow = post(&app, path, true, body).await;

        assert_eq!(live.status().as_u16(), 200, "{path}");
        assert_eq!(shadow.status().as_u16(), 204, "{path}");
        assert_eq!(
            shadow.headers()["x-predicted-labels"],
            live.headers()["x-predicted-labels"],
            "{path}: the shadow answer names the labels the full answer names"
        );
        assert_eq!(shadow.headers()["x-model-variant"], "v2", "{path}");
        assert!(shadow.bytes().await.unwrap().is_empty(), "{path}: no body");
    }
}

#[tokio::test]
async fn only_the_value_1_makes_a_shadow_request_and_bad_input_is_still_refused() {
    let app = spawn_app_with(&[("EMOTION_VARIANT", "v2")]).await;

    let other = app
        .client
        .post(format!("{}/predict", app.address))
        .header("x-shadow", "yes")
        .json(&json!({"sentence": "hello"}))
        .send()
        .await
        .unwrap();
    let blank = post(&app, "/predict", true, json!({"sentence": "  "})).await;

    assert_eq!(other.status().as_u16(), 200);
    assert_eq!(blank.status().as_u16(), 422);
}
