//! Fits the derived document to this instance's configuration, which the types cannot know.
//!
//! 1. Limits: `maxLength` of a sentence (`EMOTION_MAX_TEXT_CHARS`) and `maxItems` of a batch
//!    (`EMOTION_MAX_BATCH`); the description gives them and the other limits by value.
//! 2. Variant: the response types have every field either variant can send, the v2-only ones
//!    optional. v1 never sends `probabilities` or `debug`, so they are removed; v2 always sends
//!    them, so they become required. A client then validates answers against exactly the shape
//!    this instance sends, and `additionalProperties: false` still refuses the other variant's.
//! 3. Receipts: with a feedback key every prediction carries one (required), without a key none
//!    does (removed). The receipt schema and `POST /feedback` stay either way: the route exists
//!    and answers 501 without a key.

use std::collections::BTreeMap;

use utoipa::openapi::schema::ArrayItems;
use utoipa::openapi::{OpenApi, RefOr, Schema};

use super::schema::{object, property};
use crate::configuration::{Settings, Variant};

/// The predictions, alone and in a batch.
const PREDICTIONS: [&str; 2] = ["Prediction", "BatchPrediction"];

/// Applies `settings` to `document`.
pub fn fit(document: &mut OpenApi, settings: &Settings) {
    document.info.description = Some(description(settings));
    let schemas = &mut document
        .components
        .as_mut()
        .expect("the derived document has components")
        .schemas;
    limits(schemas, settings);
    variant(schemas, settings.variant);
    receipts(schemas, settings.feedback_key.is_some());
}

fn description(settings: &Settings) -> String {
    format!(
        "Emotion classifier for short English texts, variant {variant}. Every response carries \
         X-Model-Variant and X-Instance; every error is {{\"error\": {{\"code\", \"message\"}}}}. \
         Behind the gateway every request also carries X-Expected-Variant, set by the gateway's \
         A/B routing: when it names another variant than this instance's, the answer is 503 \
         wrong_variant with Retry-After. Through the gateway, POST /predict, /predict/batch and \
         /feedback need HTTP basic credentials (the gateway checks them, not this service).\n\n\
         Limits of this instance: a sentence of at most {chars} characters \
         (EMOTION_MAX_TEXT_CHARS), a batch of at most {batch} sentences (EMOTION_MAX_BATCH), a \
         body of at most {bytes} bytes (EMOTION_MAX_BODY_BYTES, 413 above), {timeout} ms per \
         request (EMOTION_REQUEST_TIMEOUT_MS, 408 after), feedback within {age} s of the \
         prediction (EMOTION_FEEDBACK_MAX_AGE_SECS, 422 receipt_expired after).",
        variant = settings.variant.as_str(),
        chars = settings.max_text_chars,
        batch = settings.max_batch,
        bytes = settings.max_body_bytes,
        timeout = settings.request_timeout.as_millis(),
        age = settings.feedback_max_age.as_secs(),
    )
}

fn limits(schemas: &mut BTreeMap<String, RefOr<Schema>>, settings: &Settings) {
    let chars = Some(settings.max_text_chars);
    let request = component(schemas, "PredictRequest");
    object(property(request, "sentence")).max_length = chars;

    let batch = component(schemas, "BatchRequest");
    let RefOr::T(Schema::Array(sentences)) = property(batch, "sentences") else {
        panic!("BatchRequest.sentences is not an inline array schema");
    };
    sentences.max_items = Some(settings.max_batch);
    let ArrayItems::RefOrSchema(item) = &mut sentences.items else {
        panic!("BatchRequest.sentences has no item schema");
    };
    object(item).max_length = chars;
}

fn variant(schemas: &mut BTreeMap<String, RefOr<Schema>>, variant: Variant) {
    let v2_only = ["probabilities", "debug"];
    for name in PREDICTIONS {
        let prediction = component(schemas, name);
        match variant {
            Variant::V1 => v2_only.iter().for_each(|field| {
                prediction.properties.remove(*field);
            }),
            Variant::V2 => prediction.required.extend(v2_only.map(String::from)),
        }
    }
    let batch = component(schemas, "BatchResponse");
    match variant {
        Variant::V1 => {
            batch.properties.remove("debug");
        }
        Variant::V2 => batch.required.push("debug".to_owned()),
    }
}

fn receipts(schemas: &mut BTreeMap<String, RefOr<Schema>>, issued: bool) {
    for name in PREDICTIONS {
        let prediction = component(schemas, name);
        if issued {
            prediction.required.push("receipt".to_owned());
        } else {
            prediction.properties.remove("receipt");
        }
    }
}

/// The object schema registered under `name`.
fn component<'a>(
    schemas: &'a mut BTreeMap<String, RefOr<Schema>>,
    name: &str,
) -> &'a mut utoipa::openapi::schema::Object {
    object(
        schemas
            .get_mut(name)
            .unwrap_or_else(|| panic!("no schema {name}")),
    )
}
