//! Property-based fuzzing of request parsing: whatever arrives (arbitrary bytes, arbitrary JSON,
//! near-valid documents, any content type, method or path), the router never answers 5xx and every
//! error has the JSON shape `{"error": {"code", "message"}}` with the identity headers.
//!
//! The requests go straight into [`emotion_api::startup::api_router`] with
//! `tower::ServiceExt::oneshot` (no sockets), so thousands of cases run in seconds; the model is the
//! tiny one the integration tests train (`tests/api/helpers.rs`, shared through `#[path]`).

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use emotion_api::configuration::Settings;
use emotion_api::startup::api_router;
use emotion_api::state::AppState;
use emotion_model::Model;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

/// Content types a client might send, right, wrong and malformed.
const CONTENT_TYPES: [Option<&str>; 10] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("Application/JSON"),
    Some("application/problem+json"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=x"),
    Some("application/json; charset=latin-1"),
    Some(";;;"),
];

/// The receipt key of the fuzzed routers.
const FUZZ_KEY: &str = "66757a7a2066757a7a2066757a7a2066757a7a2066757a7a2066757a7a202121";

const METHODS: [&str; 6] = ["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"];

const PATHS: [&str; 8] = [
    "/predict",
    "/predict/batch",
    "/feedback",
    "/predict/",
    "/health/ready",
    "/openapi.json",
    "/metrics",
    "/%00",
];

/// One router for every case: v1 and v2 variants, small limits so that the limits are reached.
fn router(variant: &str) -> Router {
    static ROUTERS: OnceLock<HashMap<String, Router>> = OnceLock::new();
    ROUTERS
        .get_or_init(|| {
            ["v1", "v2"]
                .into_iter()
                .map(|v| {
                    let env: HashMap<&str, &str> = [
                        ("EMOTION_VARIANT", v),
                        ("EMOTION_INSTANCE_ID", "fuzz"),
                        ("EMOTION_MAX_TEXT_CHARS", "300"),
                        ("EMOTION_MAX_BATCH", "8"),
                        ("EMOTION_MAX_BODY_BYTES", "4096"),
                        ("EMOTION_RATE_LIMIT_RPS", "0"),
                        ("EMOTION_FEEDBACK_KEY", FUZZ_KEY),
                    ]
                    .into();
                    let settings = Settings::from_lookup(|k| env.get(k).map(|s| s.to_string()))
                        .expect("valid fuzz settings");
                    let state = AppState::new(settings).expect("state");
                    state.install(Model::from_bytes(helpers::model_bytes()).expect("model"));
                    (v.to_owned(), api_router(Arc::new(state), None))
                })
                .collect()
        })
        .get(variant)
        .expect("known variant")
        .clone()
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// Sends one request and checks the invariants; returns the status for case-specific checks.
fn check(
    variant: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<StatusCode, TestCaseError> {
    // A path the URI parser refuses never reaches a server: not a case.
    let Ok(uri) = path.parse::<axum::http::Uri>() else {
        return Err(TestCaseError::reject("not a valid request target"));
    };
    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(uri);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let request = request.body(Body::from(body)).expect("request");
    let (status, headers, bytes) = runtime().block_on(async {
        let response = router(variant).oneshot(request).await.expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("body");
        (parts.status, parts.headers, bytes)
    });
    let shown = String::from_utf8_lossy(&bytes);
    prop_assert!(
        !status.is_server_error(),
        "{method} {path} ({content_type:?}) -> {status}: {shown}"
    );
    prop_assert!(
        headers.contains_key("x-model-variant"),
        "no X-Model-Variant"
    );
    prop_assert_eq!(
        headers.get("x-instance").map(|v| v.as_bytes()),
        Some(&b"fuzz"[..])
    );
    if status.is_client_error() {
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            TestCaseError::fail(format!("{status} body is not JSON ({e}): {shown}"))
        })?;
        let error = value
            .get("error")
            .and_then(Value::as_object)
            .ok_or_else(|| TestCaseError::fail(format!("no error object: {shown}")))?;
        prop_assert_eq!(error.len(), 2, "exactly code and message: {}", shown);
        let code = error
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        prop_assert!(!code.is_empty() && !message.is_empty(), "{}", shown);
        prop_assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "code is snake_case: {}",
            code
        );
        prop_assert_eq!(
            headers.get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
    }
    Ok(status)
}

/// Arbitrary JSON documents, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    Just("sentence".to_owned()),
                    Just("sentences".to_owned()),
                    Just("receipt".to_owned()),
                    Just("label".to_owned()),
                    ".{0,12}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies: mostly small, sometimes around and above the 4096-byte limit.
fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..256),
        1 => prop::collection::vec(any::<u8>(), 4000..6000),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_5xx(
        variant in prop::sample::select(vec!["v1", "v2"]),
        method in prop::sample::select(METHODS.to_vec()),
        path in prop::sample::select(PATHS.to_vec()),
        content_type in prop::sample::select(CONTENT_TYPES.to_vec()),
        body in body_bytes(),
    ) {
        check(variant, method, path, content_type, body)?;
    }

    #[test]
    fn arbitrary_json_never_5xx(
        variant in prop::sample::select(vec!["v1", "v2"]),
        path in prop::sample::select(vec!["/predict", "/predict/batch", "/feedback"]),
        value in json_value(),
    ) {
        let body = serde_json::to_vec(&value).expect("serialise");
        check(variant, "POST", path, Some("application/json"), body)?;
    }

    #[test]
    fn near_valid_single_is_200_or_422(
        variant in prop::sample::select(vec!["v1", "v2"]),
        sentence in prop_oneof![".{0,80}", "\\PC{250,320}", Just(String::new()), "[ \t\n]{0,5}"],
    ) {
        let chars = sentence.chars().count();
        let body = serde_json::to_vec(&serde_json::json!({ "sentence": sentence })).expect("serialise");
        let status = check(variant, "POST", "/predict", Some("application/json"), body)?;
        prop_assert!(
            status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY
                || status == StatusCode::PAYLOAD_TOO_LARGE,
            "{chars} chars -> {status}"
        );
        if chars > 300 {
            prop_assert_ne!(status, StatusCode::OK, "{} chars is over EMOTION_MAX_TEXT_CHARS", chars);
        }
    }

    #[test]
    fn near_valid_batch_is_200_or_4xx(
        variant in prop::sample::select(vec!["v1", "v2"]),
        sentences in prop::collection::vec(".{0,40}", 0..12),
    ) {
        let n = sentences.len();
        let body = serde_json::to_vec(&serde_json::json!({ "sentences": sentences })).expect("serialise");
        let status = check(variant, "POST", "/predict/batch", Some("application/json"), body)?;
        if n == 0 || n > 8 {
            prop_assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{} sentences", n);
        }
    }

    #[test]
    fn altered_receipts_count_nothing(
        variant in prop::sample::select(vec!["v1", "v2"]),
        position in any::<prop::sample::Index>(),
        replacement in any::<char>(),
        truncate in any::<bool>(),
    ) {
        // A genuine receipt, then one character replaced or the rest cut off: never accepted.
        let genuine = emotion_api::receipt::ReceiptKey::from_hex(FUZZ_KEY)
            .expect("key")
            .sign(&emotion_api::receipt::Claims {
                request_id: "0123456789abcdef0123456789abcdef".to_owned(),
                item: None,
                variant: emotion_api::configuration::Variant::V1,
                model_version: "0123456789ab".to_owned(),
                label: "love".to_owned(),
                issued_at: 4_000_000_000,
            });
        let chars: Vec<char> = genuine.chars().collect();
        let i = position.index(chars.len());
        let altered: String = if truncate {
            chars[..i].iter().collect()
        } else {
            prop_assume!(chars[i] != replacement);
            let mut chars = chars.clone();
            chars[i] = replacement;
            chars.into_iter().collect()
        };
        let body = serde_json::to_vec(&serde_json::json!({ "receipt": altered, "label": "love" }))
            .expect("serialise");
        let status = check(variant, "POST", "/feedback", Some("application/json"), body)?;
        prop_assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn arbitrary_paths_are_json_404_or_405(
        path in "/[a-zA-Z0-9/%._~-]{0,40}",
        method in prop::sample::select(METHODS.to_vec()),
    ) {
        check("v1", method, &path, None, Vec::new())?;
    }
}
