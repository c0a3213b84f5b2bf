//! Liveness and readiness probes.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::SharedState;

/// Probe body.
#[derive(Serialize)]
pub struct Status {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_version: Option<String>,
}

/// `GET /health/live`: the process is up and answering; says nothing about the model.
pub async fn live() -> Json<Status> {
    Json(Status {
        status: "live",
        model_version: None,
    })
}

/// `GET /health/ready`: 200 once a model is loaded, 503 before that and from the start of a drain.
pub async fn ready(State(state): State<SharedState>) -> Result<Json<Status>, ApiError> {
    match state.model() {
        Some(model) if state.is_ready() => Ok(Json(Status {
            status: "ready",
            model_version: Some(model.version().to_owned()),
        })),
        _ => Err(ApiError::NotReady),
    }
}
