//! `GET /openapi.json`.

use axum::extract::State;
use axum::Json;

use crate::openapi::errors::DocumentErrors;
use crate::state::SharedState;

/// This document.
///
/// Fitted to this instance: its variant, limits and whether predictions carry receipts. Swagger UI
/// shows it at /docs.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "OpenAPI 3.1 document.", body = Object),
        DocumentErrors
    )
)]
pub async fn openapi(State(state): State<SharedState>) -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document(&state.settings))
}
