//! Cross-cutting request handling: identity headers, request metrics, the variant guard, the
//! request timeout.
//!
//! All are added with `Router::layer`, which wraps the routes *and* the fallbacks, so a 404, 405,
//! 413, 429 or 503 is stamped, counted and bounded like any other answer.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::configuration::Variant;
use crate::error::ApiError;
use crate::state::SharedState;

/// `X-Model-Variant`: which variant answered (observable A/B routing).
pub const X_MODEL_VARIANT: HeaderName = HeaderName::from_static("x-model-variant");
/// `X-Instance`: which replica answered (observable load balancing).
pub const X_INSTANCE: HeaderName = HeaderName::from_static("x-instance");

/// `X-Expected-Variant`: the variant the gateway's A/B routing chose for this request.
pub const X_EXPECTED_VARIANT: HeaderName = HeaderName::from_static("x-expected-variant");

/// Longest part of a foreign `X-Expected-Variant` value repeated in the error message.
const SHOWN_VALUE_CHARS: usize = 32;

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

/// Refuses a request the gateway routed to a replica of the other variant: 503 `wrong_variant`
/// with `Retry-After`, counted in `emotion_api_wrong_variant_total`.
///
/// The A/B split is only trustworthy if a debug request never gets a v1 answer and vice versa,
/// whatever goes wrong between the gateway's decision and the replica (an upstream address taken
/// over by a replica of the other variant after a restart, a mistyped upstream block). A 503 lets
/// the gateway try the next replica (or the client retry) instead of silently answering with the
/// wrong model. Without the header (direct access, the tests) the request is served: only the
/// gateway sets it, so any value that is not this replica's variant is refused, nonsense included.
pub async fn variant_guard(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let serving = state.settings.variant;
    match misrouted(request.headers(), serving) {
        None => next.run(request).await,
        Some((named, expected)) => {
            state.metrics.record_wrong_variant(named);
            tracing::debug!(%serving, %expected, "refused a request meant for another variant");
            ApiError::WrongVariant { serving, expected }.into_response()
        }
    }
}

/// `None` when every `X-Expected-Variant` value (usually none, or one) names `serving`; else the
/// first other value: the variant it names, if any, and how to show it in the message.
fn misrouted(headers: &HeaderMap, serving: Variant) -> Option<(Option<Variant>, String)> {
    headers
        .get_all(X_EXPECTED_VARIANT)
        .iter()
        .find_map(|value| {
            let named = value
                .to_str()
                .ok()
                .map(str::trim)
                .and_then(Variant::from_name);
            match named {
                Some(variant) if variant == serving => None,
                Some(variant) => Some((named, variant.as_str().to_owned())),
                None => {
                    let shown: String = String::from_utf8_lossy(value.as_bytes())
                        .chars()
                        .take(SHOWN_VALUE_CHARS)
                        .collect();
                    Some((None, format!("{shown:?}")))
                }
            }
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_EXPECTED_VARIANT, (*value).try_into().unwrap());
        }
        headers
    }

    #[test]
    fn no_header_or_the_own_variant_passes() {
        assert_eq!(misrouted(&headers(&[]), Variant::V1), None);
        assert_eq!(misrouted(&headers(&[b"v1"]), Variant::V1), None);
        assert_eq!(misrouted(&headers(&[b"v2"]), Variant::V2), None);
        // `debug` is the configuration's alias of v2, and means the same here.
        assert_eq!(misrouted(&headers(&[b"debug"]), Variant::V2), None);
        assert_eq!(misrouted(&headers(&[b" v2 "]), Variant::V2), None);
    }

    #[test]
    fn the_other_variant_is_refused_and_named() {
        assert_eq!(
            misrouted(&headers(&[b"v2"]), Variant::V1),
            Some((Some(Variant::V2), "v2".to_owned()))
        );
        assert_eq!(
            misrouted(&headers(&[b"debug"]), Variant::V1),
            Some((Some(Variant::V2), "v2".to_owned()))
        );
        assert_eq!(
            misrouted(&headers(&[b"v1", b"v2"]), Variant::V1),
            Some((Some(Variant::V2), "v2".to_owned()))
        );
    }

    #[test]
    fn any_other_value_is_refused_quoted_and_shortened() {
        for value in [&b""[..], b"V1", b"v3", b"v1,v2", b"\xff\xfe"] {
            let (named, shown) = misrouted(&headers(&[value]), Variant::V1).expect("refused");
            assert_eq!(named, None);
            assert!(shown.starts_with('"'), "{shown}");
        }
        let long = "x".repeat(500);
        let (_, shown) = misrouted(&headers(&[long.as_bytes()]), Variant::V1).unwrap();
        assert_eq!(shown.len(), SHOWN_VALUE_CHARS + 2);
    }
}
