//! The HTTP error boundary: every refusal as `{"error": {"code", "message"}}` with its status,
//! using the codes of the rest of the system (`crates/emotion-api/src/error.rs`) where one fits.
//!
//! The sender is Alertmanager, which logs the status and the body of a failed webhook call and
//! retries: the message says what was wrong with the payload so that whoever reads that log
//! can fix the sender.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use thiserror::Error;

use crate::webhook::Invalid;

/// Errors `POST /alerts` and the other routes can answer with.
#[derive(Debug, Error)]
pub enum HttpError {
    /// The body is not JSON (syntax error, truncated document, not UTF-8).
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not a notification (a missing field or a wrong type).
    #[error("the body is not an Alertmanager webhook notification: {0}")]
    InvalidShape(String),
    /// The notification is well-typed but inconsistent.
    #[error("the notification is invalid: {0}")]
    Invalid(#[from] Invalid),
    /// The body is larger than `ALERT_RECEIVER_MAX_BODY_BYTES`.
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The body could not be read for another reason (the client went away mid-body).
    #[error("the body could not be read")]
    BodyUnreadable,
    /// A body without a JSON content type.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// No such route.
    #[error("no such route")]
    NotFound,
    /// The route exists, not for this method.
    #[error("method not allowed here; allowed: {allow}")]
    MethodNotAllowed {
        /// The methods the route accepts, for `Allow`.
        allow: &'static str,
    },
}

impl HttpError {
    /// The snake_case code sent in `error.code` (and counted in `alert_receiver_rejected_total`).
    pub const fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::BodyUnreadable => "bad_request",
            Self::InvalidShape(_) | Self::Invalid(_) => "invalid_request",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
        }
    }

    /// The status the code is always sent with.
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::BodyUnreadable => StatusCode::BAD_REQUEST,
            Self::InvalidShape(_) | Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code(), "message": self.to_string()}});
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Self::MethodNotAllowed { allow } = self {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}
