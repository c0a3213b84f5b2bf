//! The OpenAPI document stays in sync with the router and the error codes.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

/// Every operation the router serves, and nothing else.
const OPERATIONS: [(&str, &str); 6] = [
    ("post", "/predict"),
    ("post", "/predict/batch"),
    ("post", "/feedback"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/openapi.json"),
];

/// Every error code the service can send for a client mistake or state.
const CODES: [&str; 17] = [
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
    "wrong_variant",
    "invalid_receipt",
    "receipt_expired",
    "invalid_label",
    "feedback_already_counted",
    "feedback_disabled",
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
    assert_eq!(doc["openapi"], "3.1.0");

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
        assert!(responses["503"]["headers"]["Retry-After"].is_object());
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

#[tokio::test]
async fn every_operation_documents_the_wrong_variant_503() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (method, path) in OPERATIONS {
        let codes = &doc["paths"][path][method]["responses"]["503"]["content"]["application/json"]
            ["schema"]["properties"]["error"]["properties"]["code"]["enum"];
        let codes: Vec<&str> = codes
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path}: no 503"))
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(
            codes.contains(&"wrong_variant"),
            "{method} {path}: {codes:?}"
        );
    }
}

#[tokio::test]
async fn sentences_must_not_be_blank() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let single = &schemas["PredictRequest"]["properties"]["sentence"];
    let item = &schemas["BatchRequest"]["properties"]["sentences"]["items"];
    assert_eq!(single, item);
    assert_eq!(
        single["pattern"],
        emotion_api::sentence::non_blank_pattern().as_str()
    );
    assert!(single["description"]
        .as_str()
        .unwrap()
        .contains("whitespace"));
}

#[tokio::test]
async fn v2_batches_document_the_context_once() {
    let app = spawn_app_with(&[("EMOTION_VARIANT", "v2")]).await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };

    let single = &schemas["Prediction"]["properties"]["debug"]["properties"];
    let item = &schemas["BatchPrediction"]["properties"]["debug"]["properties"];
    let shared = &schemas["BatchResponse"]["properties"]["debug"]["properties"];

    assert_eq!(
        keys(single),
        [
            "inference_us",
            "instance",
            "model",
            "tokens",
            "top_features",
            "variant"
        ]
    );
    assert_eq!(keys(item), ["inference_us", "tokens", "top_features"]);
    assert_eq!(keys(shared), ["instance", "model", "variant"]);
    assert_eq!(
        schemas["BatchResponse"]["required"],
        serde_json::json!(["predictions", "debug"])
    );
    assert_eq!(
        schemas["BatchResponse"]["properties"]["predictions"]["items"]["$ref"],
        "#/components/schemas/BatchPrediction"
    );

    let v1 = document(&spawn_app().await).await;
    let v1 = &v1["components"]["schemas"];
    assert_eq!(v1["BatchPrediction"], v1["Prediction"]);
    assert!(v1["BatchResponse"]["properties"]["debug"].is_null());
}

#[tokio::test]
async fn receipts_are_documented_when_a_key_is_configured() {
    let key = "ab".repeat(32);
    for variant in ["v1", "v2"] {
        let with_key = document(
            &spawn_app_with(&[("EMOTION_FEEDBACK_KEY", &key), ("EMOTION_VARIANT", variant)]).await,
        )
        .await;
        let schemas = &with_key["components"]["schemas"];
        for name in ["Prediction", "BatchPrediction"] {
            let schema = &schemas[name];
            assert_eq!(
                schema["properties"]["receipt"]["$ref"], "#/components/schemas/Receipt",
                "{variant} {name}"
            );
            let required = schema["required"].as_array().unwrap();
            assert!(
                required.contains(&Value::from("receipt")),
                "{variant} {name}"
            );
        }
    }
    let without = document(&spawn_app().await).await;
    let schemas = &without["components"]["schemas"];
    assert!(schemas["Prediction"]["properties"]["receipt"].is_null());
    // The route exists either way (it answers 501 without a key), and so do its schemas.
    assert!(schemas["Receipt"]["pattern"].is_string());
    assert!(without["paths"]["/feedback"]["post"]["responses"]["501"].is_object());
}

#[tokio::test]
async fn feedback_documents_every_way_it_refuses() {
    let doc = document(&spawn_app().await).await;
    let responses = &doc["paths"]["/feedback"]["post"]["responses"];
    let codes = |status: &str| -> Vec<String> {
        responses[status]["content"]["application/json"]["schema"]["properties"]["error"]
            ["properties"]["code"]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no {status}"))
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        codes("422"),
        [
            "invalid_request",
            "invalid_receipt",
            "invalid_label",
            "receipt_expired"
        ]
    );
    assert_eq!(codes("409"), ["feedback_already_counted"]);
    assert_eq!(codes("501"), ["feedback_disabled"]);
    assert_eq!(codes("400"), ["malformed_json"]);
    assert_eq!(
        responses["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/FeedbackResponse"
    );
    assert!(responses["429"]["headers"]["Retry-After"].is_object());
}
