//! The OpenAPI document stays in sync with the router and the error codes.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

/// Every operation the router serves, and nothing else.
const OPERATIONS: [(&str, &str); 5] = [
    ("post", "/predict"),
    ("post", "/predict/batch"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/openapi.json"),
];

/// Every error code the service can send for a client mistake or state.
const CODES: [&str; 11] = [
    "malformed_json",
    "invalid_request",
    "unsupported_media_type",
    "payload_too_large",
    "empty_sentence",
    "text_too_long",
    "empty_batch",
    "batch_too_large",
    "rate_limited",
    "request_timeout",
    "not_ready",
];

async fn document(app: &crate::helpers::TestApp) -> Value {
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn documents_exactly_the_served_operations() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.0.3");

    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    // Each documented operation is routed (no 404/405) ...
    for (method, path) in OPERATIONS {
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(status != 404 && status != 405, "{method} {path}: {status}");
        // ... and answers only documented statuses.
        let documented = &doc["paths"][path][method.as_str().to_lowercase()]["responses"];
        assert!(
            documented.get(status.to_string()).is_some(),
            "{method} {path}: {status} undocumented"
        );
    }
}

#[tokio::test]
async fn every_error_code_and_client_error_status_is_documented() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let text = doc.to_string();
    for code in CODES {
        assert!(text.contains(&format!("\"{code}\"")), "{code}");
    }
    for path in ["/predict", "/predict/batch"] {
        let responses = &doc["paths"][path]["post"]["responses"];
        for status in ["200", "400", "413", "415", "422", "429", "503"] {
            let response = &responses[status];
            assert!(response.is_object(), "{path} {status}");
            assert!(response["headers"]["X-Model-Variant"].is_object());
            assert!(response["headers"]["X-Instance"].is_object());
        }
        assert!(responses["429"]["headers"]["Retry-After"].is_object());
        let schema = &responses["422"]["content"]["application/json"]["schema"];
        assert_eq!(schema["required"][0], "error");
        assert_eq!(
            schema["properties"]["error"]["required"],
            serde_json::json!(["code", "message"])
        );
    }
}

#[tokio::test]
async fn limits_and_variant_come_from_the_configuration() {
    let app = spawn_app_with(&[
        ("EMOTION_MAX_TEXT_CHARS", "123"),
        ("EMOTION_MAX_BATCH", "7"),
        ("EMOTION_VARIANT", "v2"),
    ])
    .await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["PredictRequest"]["properties"]["sentence"]["maxLength"],
        123
    );
    assert_eq!(
        schemas["BatchRequest"]["properties"]["sentences"]["maxItems"],
        7
    );
    assert!(schemas["Prediction"]["properties"]["debug"].is_object());

    let v1 = document(&spawn_app().await).await;
    assert!(v1["components"]["schemas"]["Prediction"]["properties"]["debug"].is_null());
    assert_eq!(
        v1["components"]["schemas"]["Prediction"]["additionalProperties"],
        false
    );
}
