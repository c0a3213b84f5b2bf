//! `GET /metrics` on the metrics listener (never routed by the gateway).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::SharedState;

/// Prometheus text exposition format 0.0.4.
pub async fn metrics(State(state): State<SharedState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, service_kit::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}
