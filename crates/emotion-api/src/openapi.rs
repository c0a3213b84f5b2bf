//! The OpenAPI 3.0 document served at `GET /openapi.json`, written by hand.
//!
//! Hand-written rather than derived so that it states exactly what the service enforces: the
//! configured limits appear as `maxLength`/`maxItems`, each error status lists the error codes it
//! can carry, and the response schema is the one of this instance's variant (with a `receipt` in
//! every prediction when a feedback key is configured). Tests in
//! `tests/api/openapi.rs` keep it in sync with the router (every documented operation answers,
//! nothing else does) and with the error codes.

use serde_json::{json, Value};

use crate::configuration::{Settings, Variant};
use crate::error::ErrorCode;
use crate::receipt::MAX_RECEIPT_CHARS;
use crate::sentence;

/// Builds the document for this instance's configuration.
pub fn document(settings: &Settings) -> Value {
    let sentence = json!({
        "type": "string",
        "minLength": 1,
        "maxLength": settings.max_text_chars,
        "pattern": sentence::non_blank_pattern(),
        "description": "Text to classify; length counted in Unicode characters. It must contain at \
                        least one character that is neither whitespace nor a control character: \
                        an empty or blank text is refused with 422 empty_sentence."
    });
    let predict_request = json!({
        "type": "object",
        "required": ["sentence"],
        "additionalProperties": false,
        "properties": { "sentence": sentence }
    });
    let batch_request = json!({
        "type": "object",
        "required": ["sentences"],
        "additionalProperties": false,
        "properties": {
            "sentences": {
                "type": "array",
                "minItems": 1,
                "maxItems": settings.max_batch,
                "items": sentence
            }
        }
    });
    let mut schemas = Schemas::new(settings.variant);
    if settings.feedback_key.is_some() {
        schemas.add_receipts();
    }
    let body_errors = |extra_422: &[ErrorCode]| {
        let mut codes_422 = vec![
            ErrorCode::InvalidRequest,
            ErrorCode::EmptySentence,
            ErrorCode::TextTooLong,
        ];
        codes_422.extend_from_slice(extra_422);
        responses(&[
            ("Body is not valid JSON.", &[ErrorCode::MalformedJson]),
            (
                "The request took longer than the configured timeout.",
                &[ErrorCode::RequestTimeout],
            ),
            (
                &format!("Body larger than {} bytes.", settings.max_body_bytes),
                &[ErrorCode::PayloadTooLarge],
            ),
            (
                "Content-Type is missing or not JSON.",
                &[ErrorCode::UnsupportedMediaType],
            ),
            (
                "JSON of the wrong shape: missing, empty, blank, non-string or unknown field, \
                 text or batch too long.",
                &codes_422,
            ),
            ("Per-client rate limit exceeded.", &[ErrorCode::RateLimited]),
            (UNAVAILABLE, &[ErrorCode::NotReady, ErrorCode::WrongVariant]),
        ])
    };
    let post = |summary: &str, request: &str, response: &str, extra_422: &[ErrorCode]| {
        let mut responses = body_errors(extra_422);
        responses["200"] = ok(response);
        json!({
            "summary": summary,
            "requestBody": {
                "required": true,
                "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{request}") } } }
            },
            "responses": responses
        })
    };
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "emotion-api",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Emotion classifier for short English texts, variant {}. Every response carries \
                 X-Model-Variant and X-Instance; every error is {{\"error\": {{\"code\", \"message\"}}}}. \
                 Behind the gateway every request also carries X-Expected-Variant, set by the \
                 gateway's A/B routing: when it names another variant than this instance's, the \
                 answer is 503 wrong_variant with Retry-After.",
                settings.variant.as_str()
            )
        },
        "paths": {
            "/predict": {
                "post": post("Classify one sentence.", "PredictRequest", "Prediction", &[])
            },
            "/predict/batch": {
                "post": post(
                    "Classify several sentences, answered in order.",
                    "BatchRequest",
                    "BatchResponse",
                    &[ErrorCode::EmptyBatch, ErrorCode::BatchTooLarge]
                )
            },
            "/feedback": { "post": feedback_operation(settings) },
            "/health/live": {
                "get": {
                    "summary": "Liveness: the process answers.",
                    "responses": with_ok(
                        ok("Status"),
                        responses(&[("Another variant was expected.", &[ErrorCode::WrongVariant])])
                    )
                }
            },
            "/health/ready": {
                "get": {
                    "summary": "Readiness: a model is loaded and the instance is not draining.",
                    "responses": with_ok(
                        ok("Status"),
                        responses(&[(UNAVAILABLE, &[ErrorCode::NotReady, ErrorCode::WrongVariant])])
                    )
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "responses": with_ok(
                        json!({
                            "description": "OpenAPI 3.0 document.",
                            "headers": common_headers(),
                            "content": { "application/json": { "schema": { "type": "object" } } }
                        }),
                        responses(&[("Another variant was expected.", &[ErrorCode::WrongVariant])])
                    )
                }
            }
        },
        "components": {
            "schemas": {
                "PredictRequest": predict_request,
                "BatchRequest": batch_request,
                "Prediction": schemas.prediction,
                "BatchPrediction": schemas.batch_prediction,
                "BatchResponse": schemas.batch_response,
                "Receipt": receipt_schema(),
                "FeedbackRequest": {
                    "type": "object",
                    "required": ["receipt", "label"],
                    "additionalProperties": false,
                    "properties": {
                        "receipt": { "$ref": "#/components/schemas/Receipt" },
                        "label": {
                            "type": "string",
                            "minLength": 1,
                            "description": "The true label of the sentence: one of the model's \
                                            labels (the 13 of the training data, as in a v2 \
                                            answer's debug.model.labels); another is refused with \
                                            422 invalid_label."
                        }
                    }
                },
                "FeedbackResponse": {
                    "type": "object",
                    "required": ["counted", "correct", "variant", "model_version"],
                    "additionalProperties": false,
                    "properties": {
                        "counted": { "type": "boolean", "enum": [true] },
                        "correct": {
                            "type": "boolean",
                            "description": "Whether the prediction's label was the true one."
                        },
                        "variant": {
                            "type": "string",
                            "enum": ["v1", "v2"],
                            "description": "The variant that made the prediction (from the receipt)."
                        },
                        "model_version": {
                            "type": "string",
                            "description": "The model that made the prediction (from the receipt)."
                        }
                    }
                },
                "Status": {
                    "type": "object",
                    "required": ["status"],
                    "additionalProperties": false,
                    "properties": {
                        "status": { "type": "string", "enum": ["live", "ready"] },
                        "model_version": { "type": "string" }
                    }
                }
            }
        }
    })
}

/// `POST /feedback`: its body, answers and every way it refuses.
fn feedback_operation(settings: &Settings) -> Value {
    let mut responses = responses(&[
        ("Body is not valid JSON.", &[ErrorCode::MalformedJson]),
        (
            "The request took longer than the configured timeout.",
            &[ErrorCode::RequestTimeout],
        ),
        (
            "This replica has counted this receipt already; nothing is counted again.",
            &[ErrorCode::FeedbackAlreadyCounted],
        ),
        (
            &format!("Body larger than {} bytes.", settings.max_body_bytes),
            &[ErrorCode::PayloadTooLarge],
        ),
        (
            "Content-Type is missing or not JSON.",
            &[ErrorCode::UnsupportedMediaType],
        ),
        (
            &format!(
                "Nothing is counted: JSON of the wrong shape (invalid_request); a receipt this \
                 service did not issue, or altered (invalid_receipt); a label that is not one of \
                 the model's (invalid_label); a receipt older than {} s, or than what this replica \
                 still remembers (receipt_expired).",
                settings.feedback_max_age.as_secs()
            ),
            &[
                ErrorCode::InvalidRequest,
                ErrorCode::InvalidReceipt,
                ErrorCode::InvalidLabel,
                ErrorCode::ReceiptExpired,
            ],
        ),
        ("Per-client rate limit exceeded.", &[ErrorCode::RateLimited]),
        (
            "This service has no feedback key: its predictions carry no receipt.",
            &[ErrorCode::FeedbackDisabled],
        ),
        (UNAVAILABLE, &[ErrorCode::NotReady, ErrorCode::WrongVariant]),
    ]);
    responses["200"] = ok("FeedbackResponse");
    json!({
        "summary": "Report the true label of a prediction, proven by its receipt.",
        "description": "Counts one feedback in emotion_feedback_total{variant,model_version,correct}, \
                        with the variant and model version the receipt names. A receipt counts at \
                        most once per replica lifetime; replicas do not share what they have \
                        counted, so behind the gateway with N replicas a replayed receipt can count \
                        at most N times.",
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/FeedbackRequest" } } }
        },
        "responses": responses
    })
}

/// A receipt: `base64url(payload).base64url(tag)`, the tag 32 bytes (43 characters).
fn receipt_schema() -> Value {
    json!({
        "type": "string",
        "minLength": 45,
        "maxLength": MAX_RECEIPT_CHARS,
        "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$",
        "description": "Proof of one prediction, for POST /feedback: base64url of a JSON payload \
                        (request id, batch item, variant, model version, predicted label, issue \
                        time), a dot, and base64url of its HMAC-SHA256 under a key the replicas \
                        share. Readable, but any change makes it invalid."
    })
}

/// Description of a 503: either cause.
const UNAVAILABLE: &str = "No model loaded yet, or the instance is shutting down (not_ready); or \
                           X-Expected-Variant named another variant than this instance's \
                           (wrong_variant, with Retry-After).";

fn ok(schema: &str) -> Value {
    json!({
        "description": "Success.",
        "headers": common_headers(),
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

/// `errors` with the success answer added under "200".
fn with_ok(success: Value, mut errors: Value) -> Value {
    errors["200"] = success;
    errors
}

fn common_headers() -> Value {
    json!({
        "X-Model-Variant": {
            "description": "The variant that answered; `none` when the gateway answered itself \
                            (401, 413, 429, ...), before any replica saw the request.",
            "schema": { "type": "string", "enum": ["v1", "v2", "none"] }
        },
        "X-Instance": {
            "description": "The instance that answered (hostname by default).",
            "schema": { "type": "string" }
        },
        "X-Request-Id": {
            "description": "This request's id: the one the gateway sent (its $request_id) when it \
                            is a plain token, else one made by the instance. Signed into the \
                            feedback receipts. Absent when the gateway answered itself.",
            "schema": { "type": "string", "pattern": "^[0-9A-Za-z-]{8,64}$" }
        }
    })
}

/// Error answers keyed by status: each entry is a description and the codes sent under it, whose
/// status (one per code, from [`ErrorCode::status`]) gives the key, so a code cannot be documented
/// under another status than the one it is sent with.
fn responses(entries: &[(&str, &[ErrorCode])]) -> Value {
    let mut map = serde_json::Map::new();
    for (description, codes) in entries {
        let status = codes[0].status();
        assert!(
            codes.iter().all(|c| c.status() == status),
            "{codes:?} are sent with different statuses"
        );
        let previous = map.insert(
            status.as_u16().to_string(),
            error_response(description, codes),
        );
        assert!(previous.is_none(), "two entries for {status}");
    }
    Value::Object(map)
}

fn error_response(description: &str, codes: &[ErrorCode]) -> Value {
    let mut headers = common_headers();
    // The errors that say when to come back.
    if codes
        .iter()
        .any(|c| matches!(c, ErrorCode::RateLimited | ErrorCode::WrongVariant))
    {
        headers["Retry-After"] = json!({
            "description": "Seconds to wait before retrying.",
            "schema": { "type": "integer", "minimum": 1 }
        });
    }
    json!({
        "description": description,
        "headers": headers,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error"],
                    "additionalProperties": false,
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "additionalProperties": false,
                            "properties": {
                                "code": { "type": "string", "enum": codes },
                                "message": { "type": "string" }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// The response schemas that depend on the variant.
struct Schemas {
    /// `POST /predict`.
    prediction: Value,
    /// One item of a batch.
    batch_prediction: Value,
    /// `POST /predict/batch`.
    batch_response: Value,
}

impl Schemas {
    /// Makes `receipt` a required field of every prediction, alone or in a batch.
    fn add_receipts(&mut self) {
        for schema in [&mut self.prediction, &mut self.batch_prediction] {
            schema["properties"]["receipt"] = json!({ "$ref": "#/components/schemas/Receipt" });
            if let Some(required) = schema["required"].as_array_mut() {
                required.push(json!("receipt"));
            }
        }
    }

    /// v1: a prediction is label, confidence and model version, alone or in a batch. v2 adds the
    /// probabilities and `debug`: the evidence and the context together for one sentence; in a
    /// batch each item has its evidence and the response the context, once.
    fn new(variant: Variant) -> Self {
        let probability = json!({ "type": "number", "minimum": 0, "maximum": 1 });
        let mut prediction = json!({
            "type": "object",
            "required": ["emotion", "confidence", "model_version"],
            "additionalProperties": false,
            "properties": {
                "emotion": { "type": "string" },
                "confidence": probability,
                "model_version": { "type": "string" }
            }
        });
        let mut batch_response = json!({
            "type": "object",
            "required": ["predictions"],
            "additionalProperties": false,
            "properties": {
                "predictions": {
                    "type": "array",
                    "items": { "$ref": "#/components/schemas/BatchPrediction" }
                }
            }
        });
        if variant == Variant::V1 {
            return Schemas {
                batch_prediction: prediction.clone(),
                prediction,
                batch_response,
            };
        }

        prediction["required"] = json!([
            "emotion",
            "confidence",
            "model_version",
            "probabilities",
            "debug"
        ]);
        prediction["properties"]["probabilities"] = json!({
            "type": "object",
            "description": "Every label's probability; they sum to 1.",
            "additionalProperties": probability
        });
        let mut batch_prediction = prediction.clone();

        let evidence = json!({
            "tokens": { "type": "array", "items": { "type": "string" } },
            "top_features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["token", "weight"],
                    "additionalProperties": false,
                    "properties": {
                        "token": { "type": "string" },
                        "weight": { "type": "number" }
                    }
                }
            },
            "inference_us": { "type": "integer", "minimum": 0 }
        });
        let context = json!({
            "variant": { "type": "string", "enum": ["v2"] },
            "instance": { "type": "string" },
            "model": {
                "type": "object",
                "required": ["version", "labels"],
                "description": "Model identity and training metadata (format version, data sha256, hyperparameters, evaluation).",
                "properties": {
                    "version": { "type": "string" },
                    "labels": { "type": "array", "items": { "type": "string" } }
                }
            }
        });
        let object = |parts: &[&Value]| {
            let properties: serde_json::Map<String, Value> = parts
                .iter()
                .flat_map(|p| p.as_object().expect("an object of properties").clone())
                .collect();
            let required: Vec<&String> = properties.keys().collect();
            json!({
                "type": "object",
                "required": required,
                "additionalProperties": false,
                "properties": properties
            })
        };

        prediction["properties"]["debug"] = object(&[&evidence, &context]);
        batch_prediction["properties"]["debug"] = object(&[&evidence]);
        batch_response["required"] = json!(["predictions", "debug"]);
        let mut shared = object(&[&context]);
        shared["description"] =
            json!("What every prediction of the batch shares: variant, instance and model, once.");
        batch_response["properties"]["debug"] = shared;
        Schemas {
            prediction,
            batch_prediction,
            batch_response,
        }
    }
}
