//! `GET /openapi.json`.

use axum::extract::State;
use axum::Json;

use crate::state::SharedState;

/// The OpenAPI document of this instance (its variant and limits).
pub async fn openapi(State(state): State<SharedState>) -> Json<serde_json::Value> {
    Json(crate::openapi::document(&state.settings))
}
