//! The HTTP error boundary: every failure a client can see, rendered as
//! `{"error": {"code": "<snake_case>", "message": "<text>"}}` with the matching status.
//!
//! Client mistakes are 4xx with a message that says what to fix. The only 5xx are "not ready"
//! (503, the model is not loaded or the process is draining) and an internal error whose detail is
//! logged, never sent.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not syntactically valid JSON.
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON of the wrong shape (missing field, wrong type, unknown field).
    #[error("request body does not match the schema: {0}")]
    InvalidRequest(String),
    /// `Content-Type` is missing or not JSON.
    #[error("expected a request with Content-Type: application/json")]
    UnsupportedMediaType,
    /// The body is larger than `EMOTION_MAX_BODY_BYTES`.
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// A sentence is the empty string.
    #[error("{field} must not be empty")]
    EmptySentence {
        /// Where the empty text was (`sentence` or `sentences[i]`).
        field: String,
    },
    /// A sentence has more characters than `EMOTION_MAX_TEXT_CHARS`.
    #[error("{field} has {chars} characters; the limit is {limit}")]
    TextTooLong {
        /// Where the long text was.
        field: String,
        /// Its length in characters.
        chars: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A batch with no sentences.
    #[error("sentences must contain at least one sentence")]
    EmptyBatch,
    /// A batch with more sentences than `EMOTION_MAX_BATCH`.
    #[error("batch has {len} sentences; the limit is {limit}")]
    BatchTooLarge {
        /// Sentences sent.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// No route for this path.
    #[error("no route for {0}")]
    NotFound(String),
    /// The route exists but not for this method.
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The path asked for.
        path: String,
    },
    /// The per-client rate limit was exceeded.
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request would be accepted again (at least 1).
        retry_after_secs: u64,
    },
    /// The request took longer than `EMOTION_REQUEST_TIMEOUT_MS`.
    #[error("request did not complete within {0} ms")]
    Timeout(u128),
    /// No model is loaded yet, or the process is shutting down.
    #[error("the model is not loaded or the service is shutting down")]
    NotReady,
    /// A bug; the detail goes to the log only.
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: String,
}

impl ApiError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidRequest(_)
            | ApiError::EmptySentence { .. }
            | ApiError::TextTooLong { .. }
            | ApiError::EmptyBatch
            | ApiError::BatchTooLarge { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code (documented in the OpenAPI document).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::EmptySentence { .. } => "empty_sentence",
            ApiError::TextTooLong { .. } => "text_too_long",
            ApiError::EmptyBatch => "empty_batch",
            ApiError::BatchTooLarge { .. } => "batch_too_large",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Timeout(_) => "request_timeout",
            ApiError::NotReady => "not_ready",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// Maps axum's `Json` extractor rejections onto our error shape.
    pub fn from_json_rejection(rejection: JsonRejection, body_limit: usize) -> Self {
        match rejection {
            JsonRejection::JsonSyntaxError(e) => ApiError::MalformedJson(e.body_text()),
            JsonRejection::JsonDataError(e) => ApiError::InvalidRequest(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            // Reading the body failed: the only client-caused case is exceeding the limit; anything
            // else is the client hanging up or sending a broken chunked body, still a 400.
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge { limit: body_limit }
            }
            other => ApiError::MalformedJson(other.body_text()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                self.to_string()
            }
            _ => self.to_string(),
        };
        let body = Body {
            error: Detail {
                code: self.code(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
