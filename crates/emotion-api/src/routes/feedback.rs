//! `POST /feedback`: the true label of a prediction, proven by the prediction's receipt.
//!
//! Checks in this order, so that a refused request never consumes a receipt: feedback enabled
//! (501), body (400/413/415/422), receipt authentic (422 `invalid_receipt`), label one of the
//! model's (422 `invalid_label`), receipt young enough and new to this replica (422
//! `receipt_expired`, 409 `feedback_already_counted`). Only then is it counted, in
//! `emotion_feedback_total{variant,model_version,correct}` with the receipt's variant and model.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::openapi::errors::FeedbackErrors;
use crate::openapi::schema;
use crate::state::SharedState;

/// Longest part of an unknown label repeated in the error message.
const SHOWN_LABEL_CHARS: usize = 32;

/// `POST /feedback` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    #[schema(value_type = schema::Receipt)]
    receipt: String,
    /// The true label of the sentence: one of the model's labels (the 13 of the training data, as
    /// in a v2 answer's debug.model.labels); another is refused with 422 invalid_label.
    #[schema(min_length = 1)]
    label: String,
}

// `deny_unknown_fields` does nothing when serialising; utoipa reads it as
// `additionalProperties: false`.
/// `POST /feedback` answer: the feedback was counted.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackResponse {
    #[schema(schema_with = schema::always_true)]
    counted: bool,
    /// Whether the prediction's label was the true one.
    correct: bool,
    #[schema(schema_with = schema::receipt_variant)]
    variant: &'static str,
    /// The model that made the prediction (from the receipt).
    model_version: String,
}

/// Report the true label of a prediction, proven by its receipt.
///
/// Counts one feedback in emotion_feedback_total{variant,model_version,correct}, with the variant
/// and model version the receipt names. A receipt counts at most once per replica lifetime;
/// replicas do not share what they have counted, so behind the gateway with N replicas a replayed
/// receipt can count at most N times.
#[utoipa::path(
    post,
    path = "/feedback",
    tag = "feedback",
    request_body = FeedbackRequest,
    responses((status = 200, description = "Success.", body = FeedbackResponse), FeedbackErrors)
)]
pub async fn feedback(
    State(state): State<SharedState>,
    body: Result<ApiJson<FeedbackRequest>, ApiError>,
) -> Result<Json<FeedbackResponse>, ApiError> {
    // Before the body: a client of a deployment without feedback learns that first.
    let feedback = state.feedback.as_ref().ok_or(ApiError::FeedbackDisabled)?;
    let ApiJson(request) = body?;
    let receipt = feedback.verify(&request.receipt)?;
    let model = state.model().ok_or(ApiError::NotReady)?;
    if !model.labels().contains(&request.label) {
        return Err(ApiError::InvalidLabel {
            label: format!(
                "{:?}",
                request
                    .label
                    .chars()
                    .take(SHOWN_LABEL_CHARS)
                    .collect::<String>()
            ),
            known: model.labels().join(", "),
        });
    }
    feedback.redeem(&receipt)?;
    let claims = receipt.claims;
    let correct = claims.label == request.label;
    state
        .metrics
        .record_feedback(claims.variant, &claims.model_version, correct);
    Ok(Json(FeedbackResponse {
        counted: true,
        correct,
        variant: claims.variant.as_str(),
        model_version: claims.model_version,
    }))
}
