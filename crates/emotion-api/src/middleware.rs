//! Cross-cutting request handling: identity headers, request metrics, the request timeout.
//!
//! All three are added with `Router::layer`, which wraps the routes *and* the fallbacks, so a 404,
//! 405, 413 or 429 is stamped, counted and bounded like any other answer.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::SharedState;

/// `X-Model-Variant`: which variant answered (observable A/B routing).
pub const X_MODEL_VARIANT: HeaderName = HeaderName::from_static("x-model-variant");
/// `X-Instance`: which replica answered (observable load balancing).
pub const X_INSTANCE: HeaderName = HeaderName::from_static("x-instance");

/// Route label for requests that matched no route: keeps the label set small whatever paths
/// clients (or scanners) try.
pub const UNMATCHED: &str = "unmatched";

/// Adds `X-Model-Variant` and `X-Instance` to every response.
pub async fn identity_headers(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_MODEL_VARIANT, state.variant_header.clone());
    headers.insert(X_INSTANCE, state.instance_header.clone());
    response
}

/// Counts the request and its latency under the matched route *template*.
pub async fn track(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    state.metrics.record_request(
        route.as_deref().unwrap_or(UNMATCHED),
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The standard methods by name; anything a client invents becomes `other` (bounded labels).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Bounds the whole request (body upload included) by `EMOTION_REQUEST_TIMEOUT_MS`.
pub async fn timeout(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let limit = state.settings.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(limit.as_millis()).into_response(),
    }
}

/// The answer for a request whose handler panicked: an opaque 500 in the JSON shape; the panic
/// message goes to the log only.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}
