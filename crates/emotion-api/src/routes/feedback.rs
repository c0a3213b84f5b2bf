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

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::SharedState;

/// Longest part of an unknown label repeated in the error message.
const SHOWN_LABEL_CHARS: usize = 32;

/// `POST /feedback` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    receipt: String,
    label: String,
}

/// `POST /feedback` answer.
#[derive(Serialize)]
pub struct FeedbackBody {
    counted: bool,
    correct: bool,
    variant: &'static str,
    model_version: String,
}

/// Counts the feedback if its receipt is authentic, young enough and new here.
pub async fn feedback(
    State(state): State<SharedState>,
    body: Result<ApiJson<FeedbackRequest>, ApiError>,
) -> Result<Json<FeedbackBody>, ApiError> {
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
    Ok(Json(FeedbackBody {
        counted: true,
        correct,
        variant: claims.variant.as_str(),
        model_version: claims.model_version,
    }))
}
