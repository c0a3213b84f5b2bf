//! The error answers of each operation, for its `#[utoipa::path(responses(...))]`.
//!
//! Each set is a table of entries, a description and the [`ErrorCode`]s sent under it. The
//! response's status is the codes' own ([`ErrorCode::status`]), so a code cannot be documented
//! under another status than the one it is sent with, and two entries for one status, or codes of
//! two statuses in one entry, stop the document from being built (the tests build it). Each body
//! schema is [`ErrorBody`]'s with `code` narrowed to the entry's codes.
//!
//! Limits appear by their variable's name here, since these tables are static, declared with the
//! handlers; the document's description gives this instance's values (crate::openapi::instance).

use std::collections::BTreeMap;

use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, RefOr, Schema};
use utoipa::{IntoResponses, PartialSchema};

use super::{headers, schema};
use crate::error::{ErrorBody, ErrorCode};

/// Declares one unit struct per set, whose `IntoResponses` answers the set's table.
macro_rules! error_sets {
    ($( $(#[$doc:meta])* $name:ident = [ $( ($description:expr, [$($code:ident),+ $(,)?] $(,)?) ),+ $(,)? ]; )+) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    responses(&[$( ($description, &[$(ErrorCode::$code),+]) ),+])
                }
            }
        )+
    };
}

const MALFORMED: &str = "Body is not valid JSON.";
const TIMEOUT: &str = "The request took longer than EMOTION_REQUEST_TIMEOUT_MS (see the limits in \
                       this document's description).";
const TOO_LARGE: &str = "Body larger than EMOTION_MAX_BODY_BYTES (see the limits in this \
                         document's description).";
const NOT_JSON: &str = "Content-Type is missing or not JSON.";
const WRONG_SHAPE: &str = "JSON of the wrong shape: missing, empty, blank, non-string or unknown \
                           field, text or batch too long.";
const RATE_LIMITED: &str = "Per-client rate limit exceeded.";
const UNAVAILABLE: &str = "No model loaded yet, or the instance is shutting down (not_ready); or \
                           X-Expected-Variant named another variant than this instance's \
                           (wrong_variant, with Retry-After).";
const OTHER_VARIANT: &str = "X-Expected-Variant named another variant than this instance's.";

error_sets! {
    /// `POST /predict`.
    PredictErrors = [
        (MALFORMED, [MalformedJson]),
        (TIMEOUT, [RequestTimeout]),
        (TOO_LARGE, [PayloadTooLarge]),
        (NOT_JSON, [UnsupportedMediaType]),
        (WRONG_SHAPE, [InvalidRequest, EmptySentence, TextTooLong]),
        (RATE_LIMITED, [RateLimited]),
        (UNAVAILABLE, [NotReady, WrongVariant]),
    ];

    /// `POST /predict/batch`: as `POST /predict`, and a batch can be empty or too long.
    BatchErrors = [
        (MALFORMED, [MalformedJson]),
        (TIMEOUT, [RequestTimeout]),
        (TOO_LARGE, [PayloadTooLarge]),
        (NOT_JSON, [UnsupportedMediaType]),
        (WRONG_SHAPE, [InvalidRequest, EmptySentence, TextTooLong, EmptyBatch, BatchTooLarge]),
        (RATE_LIMITED, [RateLimited]),
        (UNAVAILABLE, [NotReady, WrongVariant]),
    ];

    /// `POST /feedback`: every way it refuses, none of which counts anything.
    FeedbackErrors = [
        (MALFORMED, [MalformedJson]),
        (TIMEOUT, [RequestTimeout]),
        (
            "This replica has counted this receipt already; nothing is counted again.",
            [FeedbackAlreadyCounted],
        ),
        (TOO_LARGE, [PayloadTooLarge]),
        (NOT_JSON, [UnsupportedMediaType]),
        (
            "Nothing is counted: JSON of the wrong shape (invalid_request); a receipt this service \
             did not issue, or altered (invalid_receipt); a label that is not one of the model's \
             (invalid_label); a receipt older than EMOTION_FEEDBACK_MAX_AGE_SECS (see the \
             limits in this document's description), or than what this replica still remembers \
             (receipt_expired).",
            [InvalidRequest, InvalidReceipt, InvalidLabel, ReceiptExpired],
        ),
        (RATE_LIMITED, [RateLimited]),
        (
            "This service has no feedback key: its predictions carry no receipt.",
            [FeedbackDisabled],
        ),
        (UNAVAILABLE, [NotReady, WrongVariant]),
    ];

    /// `GET /health/live`: only the variant guard refuses it.
    LiveErrors = [(OTHER_VARIANT, [WrongVariant])];

    /// `GET /health/ready`.
    ReadyErrors = [(UNAVAILABLE, [NotReady, WrongVariant])];

    /// `GET /openapi.json`: only the variant guard refuses it.
    DocumentErrors = [(OTHER_VARIANT, [WrongVariant])];
}

/// Error answers keyed by status, one per entry.
fn responses(entries: &[(&str, &[ErrorCode])]) -> BTreeMap<String, RefOr<Response>> {
    let mut map = BTreeMap::new();
    for &(description, codes) in entries {
        let status = codes[0].status();
        assert!(
            codes.iter().all(|c| c.status() == status),
            "{codes:?} are sent with different statuses"
        );
        let previous = map.insert(
            status.as_u16().to_string(),
            RefOr::T(error_response(description, codes)),
        );
        assert!(previous.is_none(), "two entries for {status}");
    }
    map
}

fn error_response(description: &str, codes: &[ErrorCode]) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new().schema(Some(body(codes))).build(),
    );
    // The errors that say when to come back (crate::error::ApiError::into_response).
    if codes
        .iter()
        .any(|c| matches!(c, ErrorCode::RateLimited | ErrorCode::WrongVariant))
    {
        response = response.header("Retry-After", headers::retry_after());
    }
    response.build()
}

/// The error body with `error.code` limited to `codes`.
fn body(codes: &[ErrorCode]) -> RefOr<Schema> {
    let mut body = ErrorBody::schema();
    let detail = schema::property(schema::object(&mut body), "error");
    let code = schema::object(schema::property(schema::object(detail), "code"));
    code.enum_values = Some(codes.iter().map(|c| c.as_str().into()).collect());
    body
}
