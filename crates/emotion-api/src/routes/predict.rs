//! `POST /predict` and `POST /predict/batch`.
//!
//! Both validate every sentence before classifying any, so a batch is all-or-nothing. The v1
//! variant answers label, confidence and model version; v2 (debug) adds the full distribution and
//! the evidence behind it.
//!
//! v2's `debug` object has two parts: the per-sentence evidence (tokens, top features, inference
//! time) and the context (variant, instance, model metadata), which is the same for every sentence
//! of a request. A single prediction carries both in its `debug`; a batch carries the context once,
//! in a top-level `debug`, and each item only its evidence. (Repeating the model metadata in every
//! item made a 64-sentence batch over 200 KB, almost all of it the same metadata 64 times.)
//!
//! Both answers name their predicted labels in `X-Predicted-Labels` (comma-separated, in order), so
//! the gateway can log them without parsing the body: that is how a shadow answer is compared with
//! the live one (nginx/conf/shadow.conf). The gateway hides the header from clients.
//!
//! With a feedback key configured, every prediction (each item of a batch) carries a `receipt`
//! for `POST /feedback` (crate::feedback), signed over the request id, variant, model version,
//! label and, in a batch, the item's index.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use emotion_model::{Feature, Model, ModelInfo};
use serde::{Deserialize, Serialize};

use crate::configuration::Variant;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::request_id::RequestId;
use crate::sentence;
use crate::state::{AppState, SharedState};

/// The predicted labels of an answer, in order, comma-separated.
pub const X_PREDICTED_LABELS: HeaderName = HeaderName::from_static("x-predicted-labels");

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

/// One classified sentence; `D` is what its `debug` holds in v2 ([`SingleDebug`] alone,
/// [`Evidence`] in a batch).
#[derive(Serialize)]
pub struct PredictionBody<'a, D> {
    emotion: &'a str,
    confidence: f64,
    model_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilities: Option<BTreeMap<&'a str, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debug: Option<D>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt: Option<String>,
}

impl<'a, D> PredictionBody<'a, D> {
    /// The same prediction with `debug` turned into another shape.
    fn map_debug<E>(self, f: impl FnOnce(D) -> E) -> PredictionBody<'a, E> {
        PredictionBody {
            emotion: self.emotion,
            confidence: self.confidence,
            model_version: self.model_version,
            probabilities: self.probabilities,
            debug: self.debug.map(f),
            receipt: self.receipt,
        }
    }
}

/// The debug variant's evidence for one sentence.
#[derive(Serialize)]
pub struct Evidence {
    tokens: Vec<String>,
    top_features: Vec<Feature>,
    inference_us: u64,
}

/// `debug` of a single prediction: the context and the evidence together (fields in the order
/// the response has always had).
#[derive(Serialize)]
pub struct SingleDebug<'a> {
    variant: &'static str,
    instance: &'a str,
    #[serde(flatten)]
    evidence: Evidence,
    model: DebugModel<'a>,
}

/// `debug` of a batch: the context shared by all its sentences, once.
#[derive(Serialize)]
pub struct BatchDebug<'a> {
    variant: &'static str,
    instance: &'a str,
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

impl<'a> DebugModel<'a> {
    fn of(model: &'a Model) -> Self {
        DebugModel {
            version: model.version(),
            labels: model.labels(),
            info: model.info(),
        }
    }
}

/// `POST /predict/batch` answer.
#[derive(Serialize)]
pub struct BatchBody<'a> {
    predictions: Vec<PredictionBody<'a, Evidence>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debug: Option<BatchDebug<'a>>,
}

/// Classifies one sentence.
pub async fn predict(
    State(state): State<SharedState>,
    request_id: RequestId,
    ApiJson(request): ApiJson<PredictRequest>,
) -> Result<Response, ApiError> {
    check_sentence(&state, "sentence", &request.sentence)?;
    let model = serving_model(&state)?;
    let mut body = classify(&state, &model, &request.sentence).map_debug(|evidence| SingleDebug {
        variant: state.settings.variant.as_str(),
        instance: &state.settings.instance_id,
        evidence,
        model: DebugModel::of(&model),
    });
    body.receipt = receipt(&state, &request_id, None, &body);
    let labels = labels_header([body.emotion]);
    // Serialise here, while `model` is alive: the body borrows labels and version from it.
    Ok(([(X_PREDICTED_LABELS, labels)], Json(body)).into_response())
}

/// Classifies up to `EMOTION_MAX_BATCH` sentences, answering in the same order.
pub async fn predict_batch(
    State(state): State<SharedState>,
    request_id: RequestId,
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
    let mut predictions: Vec<_> = request
        .sentences
        .iter()
        .map(|s| classify(&state, &model, s))
        .collect();
    for (i, prediction) in predictions.iter_mut().enumerate() {
        prediction.receipt = receipt(&state, &request_id, Some(i), prediction);
    }
    let debug = (state.settings.variant == Variant::V2).then(|| BatchDebug {
        variant: state.settings.variant.as_str(),
        instance: &state.settings.instance_id,
        model: DebugModel::of(&model),
    });
    let labels = labels_header(predictions.iter().map(|p| p.emotion));
    Ok((
        [(X_PREDICTED_LABELS, labels)],
        Json(BatchBody { predictions, debug }),
    )
        .into_response())
}

/// `X-Predicted-Labels`: label names are the model's own (letters and underscores), so the joined
/// value is always a valid header; an unexpected one is dropped rather than failing the answer.
fn labels_header<'a>(labels: impl IntoIterator<Item = &'a str>) -> HeaderValue {
    let joined = labels.into_iter().collect::<Vec<_>>().join(",");
    HeaderValue::from_str(&joined).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The feedback receipt of one prediction, when feedback is enabled.
fn receipt<D>(
    state: &AppState,
    request_id: &RequestId,
    item: Option<usize>,
    prediction: &PredictionBody<'_, D>,
) -> Option<String> {
    state.feedback.as_ref().map(|feedback| {
        feedback.issue(
            request_id.as_str(),
            item,
            state.settings.variant,
            prediction.model_version,
            prediction.emotion,
        )
    })
}

/// The model to answer with. Draining does not matter here: requests that reach a handler during
/// the drain were accepted before it and must still be answered.
fn serving_model(state: &AppState) -> Result<std::sync::Arc<Model>, ApiError> {
    state.model().ok_or(ApiError::NotReady)
}

fn check_sentence(state: &AppState, field: &str, text: &str) -> Result<(), ApiError> {
    if sentence::is_blank(text) {
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

/// Classifies `text`; in v2 the body's `debug` is this sentence's evidence, which the caller
/// completes with the context.
fn classify<'m>(state: &AppState, model: &'m Model, text: &str) -> PredictionBody<'m, Evidence> {
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
            Some(Evidence {
                tokens,
                top_features,
                inference_us: u64::try_from(inference.as_micros()).unwrap_or(u64::MAX),
            }),
        ),
    };
    PredictionBody {
        emotion,
        confidence: prediction.confidence,
        model_version: model.version(),
        probabilities,
        debug,
        receipt: None,
    }
}
