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
//! A request carrying `X-Shadow: 1` is the gateway's mirror of a request that v1 answered
//! (nginx/conf/shadow.conf; the gateway sets the header itself and never passes a client's). Its
//! answer is thrown away and only the labels are compared, so it gets only those: `204 No Content`
//! with `X-Predicted-Labels`, without the debug evidence, the receipts and the body, which would
//! cost the shadow replica and the gateway (reading a body it discards) work nobody uses. Shadow
//! requests are an internal exchange and not in the OpenAPI document.
//!
//! With a feedback key configured, every prediction (each item of a batch) carries a `receipt`
//! for `POST /feedback` (crate::feedback), signed over the request id, variant, model version,
//! label and, in a batch, the item's index.
//!
//! The bodies, and with them the schemas of the OpenAPI document, are in [`body`]; each handler's
//! `#[utoipa::path]` names its body, its success answer and its error answers
//! (crate::openapi::errors).

mod body;

use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use emotion_model::Model;

pub use body::{
    BatchDebug, BatchPrediction, BatchRequest, BatchResponse, DebugModel, Evidence, PredictRequest,
    Prediction, SingleDebug,
};

use crate::configuration::Variant;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::openapi::errors::{BatchErrors, PredictErrors};
use crate::request_id::RequestId;
use crate::sentence;
use crate::state::{AppState, SharedState};

/// The predicted labels of an answer, in order, comma-separated.
pub const X_PREDICTED_LABELS: HeaderName = HeaderName::from_static("x-predicted-labels");

/// Set by the gateway on its shadow mirror: answer the labels only (see the module docs).
pub const X_SHADOW: HeaderName = HeaderName::from_static("x-shadow");

/// How many features the debug variant reports.
const TOP_FEATURES: usize = 10;

/// Classifies one sentence.
#[utoipa::path(
    post,
    path = "/predict",
    tag = "predictions",
    request_body = PredictRequest,
    responses((status = 200, description = "Success.", body = Prediction), PredictErrors)
)]
pub async fn predict(
    State(state): State<SharedState>,
    request_id: RequestId,
    headers: HeaderMap,
    ApiJson(request): ApiJson<PredictRequest>,
) -> Result<Response, ApiError> {
    check_sentence(&state, "sentence", &request.sentence)?;
    let model = serving_model(&state)?;
    if is_shadow(&headers) {
        return Ok(shadow_answer(&state, &model, [request.sentence.as_str()]));
    }
    let mut body =
        classify(&state, &model, &request.sentence, true).alone(|evidence| SingleDebug {
            variant: state.settings.variant.as_str(),
            instance: &state.settings.instance_id,
            tokens: evidence.tokens,
            top_features: evidence.top_features,
            inference_us: evidence.inference_us,
            model: DebugModel::of(&model),
        });
    body.receipt = receipt(&state, &request_id, None, body.model_version, body.emotion);
    let labels = labels_header([body.emotion]);
    // Serialise here, while `model` is alive: the body borrows labels and version from it.
    Ok(([(X_PREDICTED_LABELS, labels)], Json(body)).into_response())
}

/// Classifies up to EMOTION_MAX_BATCH sentences, answering in the same order.
///
/// All are checked before any is classified: one bad sentence refuses the whole batch.
#[utoipa::path(
    post,
    path = "/predict/batch",
    tag = "predictions",
    request_body = BatchRequest,
    responses((status = 200, description = "Success.", body = BatchResponse), BatchErrors)
)]
pub async fn predict_batch(
    State(state): State<SharedState>,
    request_id: RequestId,
    headers: HeaderMap,
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
    if is_shadow(&headers) {
        return Ok(shadow_answer(
            &state,
            &model,
            request.sentences.iter().map(String::as_str),
        ));
    }
    let mut predictions: Vec<_> = request
        .sentences
        .iter()
        .map(|s| classify(&state, &model, s, true))
        .collect();
    for (i, prediction) in predictions.iter_mut().enumerate() {
        prediction.receipt = receipt(
            &state,
            &request_id,
            Some(i),
            prediction.model_version,
            prediction.emotion,
        );
    }
    let debug = (state.settings.variant == Variant::V2).then(|| BatchDebug {
        variant: state.settings.variant.as_str(),
        instance: &state.settings.instance_id,
        model: DebugModel::of(&model),
    });
    let labels = labels_header(predictions.iter().map(|p| p.emotion));
    Ok((
        [(X_PREDICTED_LABELS, labels)],
        Json(BatchResponse { predictions, debug }),
    )
        .into_response())
}

fn is_shadow(headers: &HeaderMap) -> bool {
    headers.get(X_SHADOW).is_some_and(|value| value == "1")
}

/// The answer to the gateway's shadow mirror: the labels, nothing else.
fn shadow_answer<'t>(
    state: &AppState,
    model: &Model,
    sentences: impl IntoIterator<Item = &'t str>,
) -> Response {
    let labels: Vec<_> = sentences
        .into_iter()
        .map(|s| classify(state, model, s, false).emotion)
        .collect();
    (
        StatusCode::NO_CONTENT,
        [(X_PREDICTED_LABELS, labels_header(labels))],
    )
        .into_response()
}

/// `X-Predicted-Labels`: label names are the model's own (letters and underscores), so the joined
/// value is always a valid header; an unexpected one is dropped rather than failing the answer.
fn labels_header<'a>(labels: impl IntoIterator<Item = &'a str>) -> HeaderValue {
    let joined = labels.into_iter().collect::<Vec<_>>().join(",");
    HeaderValue::from_str(&joined).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The feedback receipt of one prediction (`emotion` by `model_version`), when feedback is
/// enabled.
fn receipt(
    state: &AppState,
    request_id: &RequestId,
    item: Option<usize>,
    model_version: &str,
    emotion: &str,
) -> Option<String> {
    state.feedback.as_ref().map(|feedback| {
        feedback.issue(
            request_id.as_str(),
            item,
            state.settings.variant,
            model_version,
            emotion,
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

/// Classifies `text` as a batch item: in v2 (and `with_evidence`) its `debug` is this
/// sentence's evidence, which [`BatchPrediction::alone`] completes with the context for a single
/// answer.
fn classify<'m>(
    state: &AppState,
    model: &'m Model,
    text: &str,
    with_evidence: bool,
) -> BatchPrediction<'m> {
    let labels = model.labels();
    let started = Instant::now();
    let explain = with_evidence && state.settings.variant == Variant::V2;
    let (prediction, evidence) = if explain {
        let explanation = model.explain(text, TOP_FEATURES);
        (
            explanation.prediction,
            Some((explanation.tokens, explanation.top_features)),
        )
    } else {
        (model.predict(text), None)
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
    BatchPrediction {
        emotion,
        confidence: prediction.confidence,
        model_version: model.version(),
        probabilities,
        debug,
        receipt: None,
    }
}
