//! `POST /predict` and `POST /predict/batch`.
//!
//! Both validate every sentence before classifying any, so a batch is all-or-nothing. The v1
//! variant answers label, confidence and model version; v2 (debug) adds the full distribution and
//! the evidence behind it.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use emotion_model::{Feature, Model, ModelInfo};
use serde::{Deserialize, Serialize};

use crate::configuration::Variant;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{AppState, SharedState};

/// How many features the debug variant reports.
const TOP_FEATURES: usize = 10;

/// `POST /predict` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    sentence: String,
}

/// `POST /predict/batch` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    sentences: Vec<String>,
}

/// One classified sentence.
#[derive(Serialize)]
pub struct PredictionBody<'a> {
    emotion: &'a str,
    confidence: f64,
    model_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilities: Option<BTreeMap<&'a str, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debug: Option<Debug<'a>>,
}

/// The debug variant's evidence.
#[derive(Serialize)]
pub struct Debug<'a> {
    variant: &'static str,
    instance: &'a str,
    tokens: Vec<String>,
    top_features: Vec<Feature>,
    inference_us: u64,
    model: DebugModel<'a>,
}

/// The model's identity and training metadata.
#[derive(Serialize)]
pub struct DebugModel<'a> {
    version: &'a str,
    labels: &'a [String],
    #[serde(flatten)]
    info: &'a ModelInfo,
}

/// `POST /predict/batch` answer.
#[derive(Serialize)]
pub struct BatchBody<'a> {
    predictions: Vec<PredictionBody<'a>>,
}

/// Classifies one sentence.
pub async fn predict(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<PredictRequest>,
) -> Result<Response, ApiError> {
    check_sentence(&state, "sentence", &request.sentence)?;
    let model = serving_model(&state)?;
    // Serialise here, while `model` is alive: the body borrows labels and version from it.
    Ok(Json(classify(&state, &model, &request.sentence)).into_response())
}

/// Classifies up to `EMOTION_MAX_BATCH` sentences, answering in the same order.
pub async fn predict_batch(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<BatchRequest>,
) -> Result<Response, ApiError> {
    let limit = state.settings.max_batch;
    if request.sentences.is_empty() {
        return Err(ApiError::EmptyBatch);
    }
    if request.sentences.len() > limit {
        return Err(ApiError::BatchTooLarge {
            len: request.sentences.len(),
            limit,
        });
    }
    for (i, sentence) in request.sentences.iter().enumerate() {
        check_sentence(&state, &format!("sentences[{i}]"), sentence)?;
    }
    let model = serving_model(&state)?;
    let predictions = request
        .sentences
        .iter()
        .map(|s| classify(&state, &model, s))
        .collect();
    Ok(Json(BatchBody { predictions }).into_response())
}

/// The model to answer with. Draining does not matter here: requests that reach a handler during
/// the drain were accepted before it and must still be answered.
fn serving_model(state: &AppState) -> Result<std::sync::Arc<Model>, ApiError> {
    state.model().ok_or(ApiError::NotReady)
}

fn check_sentence(state: &AppState, field: &str, text: &str) -> Result<(), ApiError> {
    if text.is_empty() {
        return Err(ApiError::EmptySentence {
            field: field.to_owned(),
        });
    }
    let limit = state.settings.max_text_chars;
    // A UTF-8 string has at most as many characters as bytes: skip counting short texts.
    if text.len() > limit {
        let chars = text.chars().count();
        if chars > limit {
            return Err(ApiError::TextTooLong {
                field: field.to_owned(),
                chars,
                limit,
            });
        }
    }
    Ok(())
}

fn classify<'m>(state: &'m AppState, model: &'m Model, text: &str) -> PredictionBody<'m> {
    let labels = model.labels();
    let started = Instant::now();
    let (prediction, evidence) = match state.settings.variant {
        Variant::V1 => (model.predict(text), None),
        Variant::V2 => {
            let explanation = model.explain(text, TOP_FEATURES);
            (
                explanation.prediction,
                Some((explanation.tokens, explanation.top_features)),
            )
        }
    };
    let inference = started.elapsed();
    let emotion = labels[prediction.label].as_str();
    state
        .metrics
        .record_prediction(emotion, prediction.confidence, inference);
    let (probabilities, debug) = match evidence {
        None => (None, None),
        Some((tokens, top_features)) => (
            Some(
                labels
                    .iter()
                    .map(String::as_str)
                    .zip(prediction.probabilities.iter().copied())
                    .collect(),
            ),
            Some(Debug {
                variant: state.settings.variant.as_str(),
                instance: &state.settings.instance_id,
                tokens,
                top_features,
                inference_us: u64::try_from(inference.as_micros()).unwrap_or(u64::MAX),
                model: DebugModel {
                    version: model.version(),
                    labels,
                    info: model.info(),
                },
            }),
        ),
    };
    PredictionBody {
        emotion,
        confidence: prediction.confidence,
        model_version: model.version(),
        probabilities,
        debug,
    }
}
