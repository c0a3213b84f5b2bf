//! The OpenAPI 3.0 document served at `GET /openapi.json`, written by hand.
//!
//! Hand-written rather than derived so that it states exactly what the service enforces: the
//! configured limits appear as `maxLength`/`maxItems`, each error status lists the error codes it
//! can carry, and the response schema is the one of this instance's variant. Tests in
//! `tests/api/openapi.rs` keep it in sync with the router (every documented operation answers,
//! nothing else does) and with the error codes.

use serde_json::{json, Value};

use crate::configuration::{Settings, Variant};

/// Builds the document for this instance's configuration.
pub fn document(settings: &Settings) -> Value {
    let sentence = json!({
        "type": "string",
        "minLength": 1,
        "maxLength": settings.max_text_chars,
        "description": "Text to classify; length counted in Unicode characters."
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
    let prediction = prediction_schema(settings.variant);
    let batch_response = json!({
        "type": "object",
        "required": ["predictions"],
        "additionalProperties": false,
        "properties": {
            "predictions": { "type": "array", "items": { "$ref": "#/components/schemas/Prediction" } }
        }
    });
    let body_errors = |extra_422: &[&str]| {
        let mut codes_422 = vec!["invalid_request", "empty_sentence", "text_too_long"];
        codes_422.extend_from_slice(extra_422);
        json!({
            "400": error_response("Body is not valid JSON.", &["malformed_json"], false),
            "408": error_response("The request took longer than the configured timeout.", &["request_timeout"], false),
            "413": error_response(
                &format!("Body larger than {} bytes.", settings.max_body_bytes),
                &["payload_too_large"],
                false
            ),
            "415": error_response("Content-Type is missing or not JSON.", &["unsupported_media_type"], false),
            "422": error_response(
                "JSON of the wrong shape: missing, empty, non-string or unknown field, text or batch too long.",
                &codes_422,
                false
            ),
            "429": error_response("Per-client rate limit exceeded.", &["rate_limited"], true),
            "503": error_response("No model loaded yet, or the instance is shutting down.", &["not_ready"], false)
        })
    };
    let post = |summary: &str, request: &str, response: &str, extra_422: &[&str]| {
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
                 X-Model-Variant and X-Instance; every error is {{\"error\": {{\"code\", \"message\"}}}}.",
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
                    &["empty_batch", "batch_too_large"]
                )
            },
            "/health/live": {
                "get": {
                    "summary": "Liveness: the process answers.",
                    "responses": { "200": ok("Status") }
                }
            },
            "/health/ready": {
                "get": {
                    "summary": "Readiness: a model is loaded and the instance is not draining.",
                    "responses": {
                        "200": ok("Status"),
                        "503": error_response("Not ready.", &["not_ready"], false)
                    }
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.0 document.",
                            "headers": common_headers(),
                            "content": { "application/json": { "schema": { "type": "object" } } }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "PredictRequest": predict_request,
                "BatchRequest": batch_request,
                "Prediction": prediction,
                "BatchResponse": batch_response,
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

fn ok(schema: &str) -> Value {
    json!({
        "description": "Success.",
        "headers": common_headers(),
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn common_headers() -> Value {
    json!({
        "X-Model-Variant": {
            "description": "The variant that answered.",
            "schema": { "type": "string", "enum": ["v1", "v2"] }
        },
        "X-Instance": {
            "description": "The instance that answered (hostname by default).",
            "schema": { "type": "string" }
        }
    })
}

fn error_response(description: &str, codes: &[&str], retry_after: bool) -> Value {
    let mut headers = common_headers();
    if retry_after {
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

fn prediction_schema(variant: Variant) -> Value {
    let probability = json!({ "type": "number", "minimum": 0, "maximum": 1 });
    let mut schema = json!({
        "type": "object",
        "required": ["emotion", "confidence", "model_version"],
        "additionalProperties": false,
        "properties": {
            "emotion": { "type": "string" },
            "confidence": probability,
            "model_version": { "type": "string" }
        }
    });
    if variant == Variant::V2 {
        schema["required"] = json!([
            "emotion",
            "confidence",
            "model_version",
            "probabilities",
            "debug"
        ]);
        schema["properties"]["probabilities"] = json!({
            "type": "object",
            "description": "Every label's probability; they sum to 1.",
            "additionalProperties": probability
        });
        schema["properties"]["debug"] = json!({
            "type": "object",
            "required": ["variant", "instance", "tokens", "top_features", "inference_us", "model"],
            "additionalProperties": false,
            "properties": {
                "variant": { "type": "string", "enum": ["v2"] },
                "instance": { "type": "string" },
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
                "inference_us": { "type": "integer", "minimum": 0 },
                "model": {
                    "type": "object",
                    "required": ["version", "labels"],
                    "description": "Model identity and training metadata (format version, data sha256, hyperparameters, evaluation).",
                    "properties": {
                        "version": { "type": "string" },
                        "labels": { "type": "array", "items": { "type": "string" } }
                    }
                }
            }
        });
    }
    schema
}
