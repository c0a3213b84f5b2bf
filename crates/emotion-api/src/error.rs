//! The HTTP error boundary: every failure a client can see, rendered as
//! `{"error": {"code": "<snake_case>", "message": "<text>"}}` with the matching status.
//!
//! [`ErrorCode`] is the whole system's vocabulary: the codes this service answers *and* the ones
//! the nginx gateway answers from `nginx/conf/json-errors.conf`, each with the one status it is
//! sent with. A client therefore needs one table, whoever failed; a unit test below reads the
//! nginx file so that the two cannot drift apart.
//!
//! Client mistakes are 4xx with a message that says what to fix. The service's only 5xx are
//! "not ready" (503, the model is not loaded or the process is draining), "wrong variant" (503, the
//! gateway routed the request to a replica of the other variant), "feedback disabled" (501, no
//! receipt key is configured) and an internal error whose detail is logged, never sent.

use std::fmt;

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::ToSchema;

use crate::configuration::Variant;
use crate::receipt::ReceiptError;

/// Declares [`ErrorCode`] from one table, so that the variants, [`ErrorCode::ALL`], the code
/// strings and the statuses cannot disagree (a code missing from `ALL` is impossible, not just
/// tested for).
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $status:ident), )+) => {
        /// Every error code of the system (API and gateway) and the HTTP status it is sent with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$variant, )+];

            /// The snake_case code sent in `error.code`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $code, )+
                }
            }

            /// The HTTP status this code is always sent with.
            pub const fn status(self) -> StatusCode {
                match self {
                    $( ErrorCode::$variant => StatusCode::$status, )+
                }
            }
        }
    };
}

error_codes! {
    // Used by both the gateway and the service.
    /// A request nginx could not parse, or plain HTTP sent to the HTTPS port (gateway).
    BadRequest => ("bad_request", BAD_REQUEST),
    /// No route for this path.
    NotFound => ("not_found", NOT_FOUND),
    /// The route exists but not for this method (with `Allow`).
    MethodNotAllowed => ("method_not_allowed", METHOD_NOT_ALLOWED),
    /// The request did not arrive (gateway) or complete (service) in time.
    RequestTimeout => ("request_timeout", REQUEST_TIMEOUT),
    /// The body is larger than the limit.
    PayloadTooLarge => ("payload_too_large", PAYLOAD_TOO_LARGE),
    /// Too many requests from this client (with `Retry-After`).
    RateLimited => ("rate_limited", TOO_MANY_REQUESTS),
    /// A bug; the detail is only in the log.
    InternalError => ("internal_error", INTERNAL_SERVER_ERROR),
    /// No model replica can answer (gateway), or this one has no model or is draining (service).
    NotReady => ("not_ready", SERVICE_UNAVAILABLE),

    // Gateway only.
    /// `X-Experiment-Group` has a value the A/B routing does not know.
    InvalidExperimentGroup => ("invalid_experiment_group", BAD_REQUEST),
    /// Missing or wrong credentials (with `WWW-Authenticate`).
    Unauthorized => ("unauthorized", UNAUTHORIZED),
    /// Access denied.
    Forbidden => ("forbidden", FORBIDDEN),
    /// The request target is longer than the gateway accepts.
    UriTooLong => ("uri_too_long", URI_TOO_LONG),
    /// Too many concurrent connections from this client.
    TooManyConnections => ("too_many_connections", TOO_MANY_REQUESTS),
    /// The request headers are larger than the gateway accepts.
    RequestHeaderTooLarge => ("request_header_too_large", REQUEST_HEADER_FIELDS_TOO_LARGE),
    /// A method nginx does not implement.
    NotImplemented => ("not_implemented", NOT_IMPLEMENTED),
    /// An HTTP version nginx does not speak.
    HttpVersionNotSupported => ("http_version_not_supported", HTTP_VERSION_NOT_SUPPORTED),

    // Service only.
    /// The body is not syntactically valid JSON.
    MalformedJson => ("malformed_json", BAD_REQUEST),
    /// `Content-Type` is missing or not JSON.
    UnsupportedMediaType => ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE),
    /// JSON of the wrong shape (missing, wrong-typed or unknown field).
    InvalidRequest => ("invalid_request", UNPROCESSABLE_ENTITY),
    /// A sentence with nothing to classify: empty, or only whitespace and control characters.
    EmptySentence => ("empty_sentence", UNPROCESSABLE_ENTITY),
    /// A sentence longer than `EMOTION_MAX_TEXT_CHARS`.
    TextTooLong => ("text_too_long", UNPROCESSABLE_ENTITY),
    /// A batch without sentences.
    EmptyBatch => ("empty_batch", UNPROCESSABLE_ENTITY),
    /// A batch longer than `EMOTION_MAX_BATCH`.
    BatchTooLarge => ("batch_too_large", UNPROCESSABLE_ENTITY),
    /// `X-Expected-Variant` names the other variant: the gateway routed to the wrong replica
    /// (with `Retry-After`).
    WrongVariant => ("wrong_variant", SERVICE_UNAVAILABLE),
    /// A feedback receipt this service did not issue: malformed, altered, forged or signed with
    /// another key. Nothing is counted.
    InvalidReceipt => ("invalid_receipt", UNPROCESSABLE_ENTITY),
    /// A feedback receipt older than `EMOTION_FEEDBACK_MAX_AGE_SECS`, or than what this replica
    /// still remembers (crate::replay). Nothing is counted.
    ReceiptExpired => ("receipt_expired", UNPROCESSABLE_ENTITY),
    /// A feedback label that is not one of the model's labels.
    InvalidLabel => ("invalid_label", UNPROCESSABLE_ENTITY),
    /// Feedback on a receipt this replica has counted already. Nothing is counted again.
    FeedbackAlreadyCounted => ("feedback_already_counted", CONFLICT),
    /// No receipt key is configured: answers carry no receipt and feedback is off. 501, not 503:
    /// it is the deployment's choice, not a passing state, and the gateway retries a 503 on other
    /// replicas and marks each one failed, which would take them out of rotation for predictions.
    FeedbackDisabled => ("feedback_disabled", NOT_IMPLEMENTED),
}

impl ErrorCode {
    /// The code named `code`, if it is one of ours.
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A string, one of the codes: what [`Serialize`] writes. The OpenAPI document narrows it to the
/// codes of each answer (crate::openapi::errors).
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

/// `Retry-After` on a wrong-variant answer: the gateway's next attempt (or the client's retry)
/// goes through the routing again, which is worth a second's wait, not more.
pub const WRONG_VARIANT_RETRY_AFTER_SECS: u64 = 1;

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
    /// A sentence is empty, or only whitespace and control characters.
    #[error("{field} must contain a character other than whitespace or control characters")]
    EmptySentence {
        /// Where the blank text was (`sentence` or `sentences[i]`).
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
    /// The gateway expected another variant than the one this replica serves.
    #[error("this replica serves variant {serving}, but the request expected variant {expected}")]
    WrongVariant {
        /// This replica's variant.
        serving: Variant,
        /// What `X-Expected-Variant` said, quoted when it is not a variant name.
        expected: String,
    },
    /// A feedback receipt that is not one of ours.
    #[error("{0}")]
    InvalidReceipt(ReceiptError),
    /// A feedback receipt too old to be checked for replays.
    #[error(
        "the receipt is too old: feedback is accepted for {max_age_secs} s after the prediction \
         (less when this replica has had to forget older receipts)"
    )]
    ReceiptExpired {
        /// `EMOTION_FEEDBACK_MAX_AGE_SECS`.
        max_age_secs: u64,
    },
    /// A feedback label that is not one of the model's.
    #[error("label {label} is not one of the model's labels ({known})")]
    InvalidLabel {
        /// The label sent, quoted and shortened.
        label: String,
        /// The model's labels, comma-separated.
        known: String,
    },
    /// Feedback on a receipt this replica has counted already.
    #[error("feedback on this receipt has already been counted")]
    FeedbackAlreadyCounted,
    /// No receipt key is configured.
    #[error("feedback is disabled: this service has no receipt key (EMOTION_FEEDBACK_KEY)")]
    FeedbackDisabled,
    /// A bug; the detail goes to the log only.
    #[error("internal error")]
    Internal(String),
}

// Doc comments of `ToSchema` types are descriptions in the OpenAPI document. `deny_unknown_fields`
// does nothing when serialising; utoipa reads it as `additionalProperties: false`.

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorBody {
    #[schema(inline)]
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorDetail {
    #[schema(inline)]
    code: ErrorCode,
    message: String,
}

impl ApiError {
    /// The HTTP status this error is answered with: always its code's.
    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    /// The stable machine-readable code (documented in the OpenAPI document).
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::MalformedJson(_) => ErrorCode::MalformedJson,
            ApiError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            ApiError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            ApiError::EmptySentence { .. } => ErrorCode::EmptySentence,
            ApiError::TextTooLong { .. } => ErrorCode::TextTooLong,
            ApiError::EmptyBatch => ErrorCode::EmptyBatch,
            ApiError::BatchTooLarge { .. } => ErrorCode::BatchTooLarge,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Timeout(_) => ErrorCode::RequestTimeout,
            ApiError::NotReady => ErrorCode::NotReady,
            ApiError::WrongVariant { .. } => ErrorCode::WrongVariant,
            ApiError::InvalidReceipt(_) => ErrorCode::InvalidReceipt,
            ApiError::ReceiptExpired { .. } => ErrorCode::ReceiptExpired,
            ApiError::InvalidLabel { .. } => ErrorCode::InvalidLabel,
            ApiError::FeedbackAlreadyCounted => ErrorCode::FeedbackAlreadyCounted,
            ApiError::FeedbackDisabled => ErrorCode::FeedbackDisabled,
            ApiError::Internal(_) => ErrorCode::InternalError,
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

    /// Seconds for `Retry-After`, on the errors where waiting helps.
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            ApiError::WrongVariant { .. } => Some(WRONG_VARIANT_RETRY_AFTER_SECS),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let retry_after = self.retry_after_secs();
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        let mut response = (code.status(), axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// The gateway's JSON error pages, relative to this crate.
    const GATEWAY_ERRORS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../nginx/conf/json-errors.conf"
    );

    /// `(status, code)` of every `return NNN '{"error":{"code":"CODE"...` line of an nginx file.
    fn gateway_codes(conf: &str) -> Vec<(u16, String)> {
        const BODY_START: &str = r#" '{"error":{"code":""#;
        conf.lines()
            .filter_map(|line| {
                let rest = line.trim_start().strip_prefix("return ")?;
                let (status, rest) = rest.split_at_checked(3)?;
                let status = status.parse().ok()?;
                let rest = rest.strip_prefix(BODY_START)?;
                let (code, _) = rest.split_once('"')?;
                Some((status, code.to_owned()))
            })
            .collect()
    }

    #[test]
    fn codes_are_unique_snake_case_errors() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text} is not snake_case"
            );
            let status = code.status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{text}: {status}"
            );
            assert_eq!(ErrorCode::from_code(text), Some(*code));
        }
    }

    #[test]
    fn the_gateway_vocabulary_has_the_agreed_statuses() {
        for (status, code) in [
            (400, "bad_request"),
            (400, "invalid_experiment_group"),
            (401, "unauthorized"),
            (403, "forbidden"),
            (404, "not_found"),
            (405, "method_not_allowed"),
            (408, "request_timeout"),
            (413, "payload_too_large"),
            (414, "uri_too_long"),
            (429, "rate_limited"),
            (429, "too_many_connections"),
            (431, "request_header_too_large"),
            (500, "internal_error"),
            (501, "not_implemented"),
            (503, "not_ready"),
            (505, "http_version_not_supported"),
        ] {
            let known = ErrorCode::from_code(code).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(known.status().as_u16(), status, "{code}");
        }
    }

    #[test]
    fn the_parser_reads_nginx_return_lines() {
        let conf = r#"
            location = /_gateway_errors/429 {
                add_header Retry-After 1 always;
                return 429 '{"error":{"code":"rate_limited","message":"slow down"}}\n';
            }
            # return 500 '{"error":{"code":"commented_out"}}';
            return 301 https://$host$request_uri;
        "#;
        assert_eq!(gateway_codes(conf), [(429, "rate_limited".to_owned())]);
    }

    #[test]
    fn every_gateway_error_page_uses_a_known_code_with_its_status() {
        // A source tree without the gateway (the Nix test sandbox copies only cargo's inputs) has
        // nothing to compare with; everywhere else the file is there and must agree.
        if !std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../nginx")).is_dir() {
            eprintln!("skipped: no nginx/ next to the workspace");
            return;
        }
        let conf = std::fs::read_to_string(GATEWAY_ERRORS)
            .unwrap_or_else(|e| panic!("cannot read {GATEWAY_ERRORS}: {e}"));
        let pages = gateway_codes(&conf);
        assert!(!pages.is_empty(), "no JSON error pages in {GATEWAY_ERRORS}");
        let wrong: Vec<String> = pages
            .iter()
            .filter_map(|(status, code)| match ErrorCode::from_code(code) {
                None => Some(format!("{status} {code}: not an ErrorCode")),
                Some(known) if known.status().as_u16() != *status => Some(format!(
                    "{status} {code}: ErrorCode says {}",
                    known.status().as_u16()
                )),
                Some(_) => None,
            })
            .collect();
        assert!(wrong.is_empty(), "{GATEWAY_ERRORS}:\n{}", wrong.join("\n"));
    }

    #[test]
    fn errors_render_their_code_status_and_retry_after() {
        let response = ApiError::WrongVariant {
            serving: Variant::V1,
            expected: "v2".to_owned(),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let response = ApiError::NotReady.into_response();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }
}
