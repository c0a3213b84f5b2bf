//! Liveness and readiness probes.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::openapi::errors::{LiveErrors, ReadyErrors};
use crate::state::SharedState;

// `deny_unknown_fields` does nothing when serialising; utoipa reads it as
// `additionalProperties: false`.
/// Probe body.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Status {
    #[schema(inline)]
    status: Probe,
    /// The model being served (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    model_version: Option<String>,
}

/// Which probe answered.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    /// `GET /health/live`.
    Live,
    /// `GET /health/ready`.
    Ready,
}

/// Liveness: the process answers.
///
/// Says nothing about the model.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "operations",
    responses((status = 200, description = "Success.", body = Status), LiveErrors)
)]
pub async fn live() -> Json<Status> {
    Json(Status {
        status: Probe::Live,
        model_version: None,
    })
}

/// Readiness: a model is loaded and the instance is not draining.
///
/// 200 once a model is loaded, 503 before that and from the start of a drain.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    responses((status = 200, description = "Success.", body = Status), ReadyErrors)
)]
pub async fn ready(State(state): State<SharedState>) -> Result<Json<Status>, ApiError> {
    match state.model() {
        Some(model) if state.is_ready() => Ok(Json(Status {
            status: Probe::Ready,
            model_version: Some(model.version().to_owned()),
        })),
        _ => Err(ApiError::NotReady),
    }
}
