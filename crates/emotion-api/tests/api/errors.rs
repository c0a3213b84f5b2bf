//! Bad input: every case answers a 4xx in the JSON error shape, never a 5xx.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    for body in [
        r#"{"sentence": "#,
        "not json",
        r#"{"sentence": "a"} trailing"#,
        "\u{0}",
    ] {
        let response = app
            .post_raw("/predict", Some("application/json"), body)
            .await;
        assert_error(response, 400, "malformed_json").await;
    }
}

#[tokio::test]
async fn invalid_utf8_is_400() {
    let app = spawn_app().await;
    let body: Vec<u8> = [br#"{"sentence": ""#.as_slice(), &[0xff, 0xfe], br#""}"#].concat();
    let response = app
        .post_raw("/predict", Some("application/json"), body)
        .await;
    assert_error(response, 400, "malformed_json").await;
}

#[tokio::test]
async fn missing_or_wrong_content_type_is_415() {
    let app = spawn_app().await;
    let body = r#"{"sentence": "hello"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let response = app.post_raw("/predict", content_type, body).await;
        assert_error(response, 415, "unsupported_media_type").await;
    }
    let response = app
        .post_raw("/predict/batch", Some("text/plain"), body)
        .await;
    assert_error(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn wrong_shapes_are_422() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"sentence": null}),
        json!({"sentence": 42}),
        json!({"sentence": ["a"]}),
        json!({"sentence": {"text": "a"}}),
        json!({"sentence": "a", "extra": 1}),
        json!({"text": "a"}),
        json!(["a"]),
        json!("a"),
        json!(null),
    ] {
        let response = app.predict(body.clone()).await;
        let message = assert_error(response, 422, "invalid_request").await;
        assert!(!message.is_empty(), "{body}");
    }
}

#[tokio::test]
async fn an_empty_sentence_is_422() {
    let app = spawn_app().await;
    let response = app.predict(json!({"sentence": ""})).await;
    let message = assert_error(response, 422, "empty_sentence").await;
    assert!(message.contains("sentence"));
}

#[tokio::test]
async fn a_blank_sentence_is_422_like_an_empty_one() {
    let app = spawn_app().await;
    for blank in ["   ", "\u{0}", "\t\n", "\u{7} ", "\u{a0}\u{3000}\r"] {
        let response = app.predict(json!({ "sentence": blank })).await;
        let message = assert_error(response, 422, "empty_sentence").await;
        assert!(message.contains("sentence"), "{blank:?}: {message}");
    }
    // One visible character is enough, surrounded by anything.
    let response = app.predict(json!({"sentence": "\t\u{0} ok \n"})).await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn text_over_the_default_5000_characters_is_422() {
    let app = spawn_app().await;

    let at_limit = app.predict(json!({"sentence": "a".repeat(5000)})).await;
    let over = app.predict(json!({"sentence": "a".repeat(5001)})).await;

    assert_eq!(at_limit.status().as_u16(), 200);
    let message = assert_error(over, 422, "text_too_long").await;
    assert!(
        message.contains("5001") && message.contains("5000"),
        "{message}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app_with(&[("EMOTION_MAX_BODY_BYTES", "1024")]).await;

    let response = app.predict(json!({"sentence": "a".repeat(2000)})).await;

    let message = assert_error(response, 413, "payload_too_large").await;
    assert!(message.contains("1024"), "{message}");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413() {
    // No Content-Length: the limit must hold while streaming too.
    let app = spawn_app_with(&[("EMOTION_MAX_BODY_BYTES", "1024")]).await;
    let chunk = format!("{{\"sentence\": \"{}\"}}", "a".repeat(2000));
    let request = format!(
        "POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );

    let answer = raw_exchange(&app.address, request.as_bytes()).await;

    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""code":"payload_too_large""#), "{answer}");
}

/// Writes `request` on a fresh connection and reads until the server closes it (bounded).
async fn raw_exchange(address: &str, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered before the test's own timeout")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/nope",
        "/predict/",
        "/predict/batch/x",
        "/metrics",
        "/health",
    ] {
        let message = assert_error(app.get(path).await, 404, "not_found").await;
        assert!(message.contains(path), "{message}");
    }
    let response = app.post_json("/nope", json!({})).await;
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_methods_are_json_405_with_allow() {
    let app = spawn_app().await;
    let cases = [
        (reqwest::Method::GET, "/predict", "POST"),
        (reqwest::Method::PUT, "/predict/batch", "POST"),
        (reqwest::Method::POST, "/health/live", "GET"),
        (reqwest::Method::DELETE, "/openapi.json", "GET"),
    ];
    for (method, path, allowed) in cases {
        let response = app
            .client
            .request(method, format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            allow.as_deref().unwrap_or_default().contains(allowed),
            "{path}: {allow:?}"
        );
        assert_error(response, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_is_408() {
    // A client that sends headers and then stalls mid-body.
    let app = spawn_app_with(&[("EMOTION_REQUEST_TIMEOUT_MS", "200")]).await;
    let request = b"POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                    Content-Length: 100\r\n\r\n{\"sentence\": ";

    let answer = raw_exchange(&app.address, request).await;

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-instance: test-instance"),
        "{answer}"
    );
}
