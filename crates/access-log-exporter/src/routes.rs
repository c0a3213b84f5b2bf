//! The HTTP side: `GET /metrics`, `GET /health/ready`, `GET /health/live`, and JSON errors.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use thiserror::Error;

/// Shared with the handlers.
#[derive(Clone)]
pub struct AppState {
    /// Renders the registry.
    pub handle: PrometheusHandle,
    /// True while the syslog receiver runs; readiness follows it.
    pub receiving: Arc<AtomicBool>,
}

/// Errors the HTTP boundary can answer with, as `{"error": {"code", "message"}}`.
#[derive(Debug, Error)]
pub enum HttpError {
    /// No such route.
    #[error("no such route")]
    NotFound,
    /// The syslog receiver is not running (starting or shutting down).
    #[error("the syslog receiver is not running")]
    NotReady,
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, code) = match self {
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
        };
        let body = json!({"error": {"code": code, "message": self.to_string()}});
        (status, Json(body)).into_response()
    }
}

/// The router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health/ready", get(ready))
        .route("/health/live", get(live))
        .fallback(not_found)
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, service_kit::metrics::CONTENT_TYPE)],
        state.handle.render(),
    )
}

async fn ready(State(state): State<AppState>) -> Result<Json<serde_json::Value>, HttpError> {
    if state.receiving.load(Ordering::Acquire) {
        Ok(Json(json!({"status": "ready"})))
    } else {
        Err(HttpError::NotReady)
    }
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "live"}))
}

async fn not_found() -> HttpError {
    HttpError::NotFound
}
