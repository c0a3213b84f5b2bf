//! The HTTP side: `POST /alerts` (Alertmanager's webhook), `GET /alerts`, `GET /metrics`,
//! `GET /health/live`, `GET /health/ready`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::json;

use crate::clock;
use crate::delivery;
use crate::error::HttpError;
use crate::history::{History, Received};
use crate::metrics::Metrics;
use crate::webhook::Notification;

/// Shared with the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The last notifications.
    pub history: Arc<History>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// `POST /alerts` body limit, for the 413 message.
    pub max_body_bytes: usize,
}

/// The router, with the body limit applied to `POST /alerts`.
pub fn router(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route(
            "/alerts",
            post(receive)
                .layer(DefaultBodyLimit::max(limit))
                .get(list)
                .fallback(only("GET, POST")),
        )
        .route("/metrics", get(metrics).fallback(only("GET")))
        .route("/health/live", get(live).fallback(only("GET")))
        .route("/health/ready", get(live).fallback(only("GET")))
        .fallback(|| async { HttpError::NotFound })
        .with_state(state)
}

/// A 405 naming the allowed methods, in the JSON error shape.
fn only(allow: &'static str) -> MethodRouter<AppState> {
    axum::routing::any(move || async move { HttpError::MethodNotAllowed { allow } })
}

/// Accepts one notification: validates it, keeps it, counts it and writes its alerts to stdout.
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, HttpError> {
    match accept(&state, &headers, body) {
        Ok(received) => {
            let n = &received.notification;
            tracing::debug!(seq = received.seq, status = n.status.as_str(), alerts = n.alerts.len(), group_key = %n.group_key, "notification received");
            Ok((
                StatusCode::OK,
                Json(json!({"status": "accepted", "seq": received.seq, "alerts": n.alerts.len()})),
            ))
        }
        Err(error) => {
            state.metrics.rejected(error.code());
            tracing::warn!(code = error.code(), %error, "notification refused");
            Err(error)
        }
    }
}

fn accept(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Received, HttpError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError::PayloadTooLarge {
                limit: state.max_body_bytes,
            }
        } else {
            HttpError::BodyUnreadable
        }
    })?;
    if !is_json(headers) {
        return Err(HttpError::UnsupportedMediaType);
    }
    let notification: Notification = serde_json::from_slice(&body).map_err(|error| {
        if error.classify() == serde_json::error::Category::Data {
            HttpError::InvalidShape(error.to_string())
        } else {
            HttpError::MalformedJson(error.to_string())
        }
    })?;
    notification.validate()?;
    let received = state.history.push(clock::now_rfc3339(), notification);
    state.metrics.delivered(&received.notification);
    delivery::deliver(&received);
    Ok(received)
}

/// `application/json`, with or without parameters (`; charset=utf-8`), as Alertmanager sends.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Every kept notification, oldest first (newest last).
async fn list(State(state): State<AppState>) -> Json<Vec<Received>> {
    Json(state.history.snapshot())
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, service_kit::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}

/// Live and ready are the same here: there is no dependency to wait for.
async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "live"}))
}
