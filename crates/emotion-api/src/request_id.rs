//! `X-Request-Id`: one identifier per request, taken from the gateway or made here, echoed back.
//!
//! Nginx sends its `$request_id` (32 hex digits, nginx/conf/upstream-request.conf) and overwrites
//! whatever a client sent, so behind the gateway the id is the one in the gateway's access log.
//! A request without a usable id (direct access, tests) gets one made here. The id goes into the
//! feedback receipt and the response header; it is a correlation id, not a secret and not what
//! makes a receipt unique (its signature is, `crate::replay`), so a value is accepted from any
//! peer as long as it is a plain token.
//!
//! Made ids are a per-process random prefix (from std's `RandomState`, which the OS seeds) and a
//! counter: unique without a dependency or a failure path, and as long as nginx's.

use std::collections::hash_map::RandomState;
use std::convert::Infallible;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The header, both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Accepted length of an incoming id.
const LENGTH: std::ops::RangeInclusive<usize> = 8..=64;

/// This request's id, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The incoming id when it is a plain token (`[0-9A-Za-z-]`, 8 to 64 characters), else a new
    /// one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut values = headers.get_all(X_REQUEST_ID).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => value
                .to_str()
                .ok()
                .filter(|v| is_token(v))
                .map(|v| RequestId(v.to_owned()))
                .unwrap_or_else(RequestId::generate),
            _ => RequestId::generate(),
        }
    }

    /// A new id: 32 lowercase hex digits, unique within and across processes.
    pub fn generate() -> Self {
        static PREFIX: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| RandomState::new().hash_one(std::process::id()));
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        RequestId(format!("{prefix:016x}{n:016x}"))
    }
}

fn is_token(value: &str) -> bool {
    LENGTH.contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Middleware: puts the [`RequestId`] into the request and `X-Request-Id` on the response.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = RequestId::from_headers(request.headers());
    // Only token characters: always a valid header value.
    let header = HeaderValue::from_str(id.as_str()).ok();
    request.extensions_mut().insert(id);
    let mut response = next.run(request).await;
    if let Some(header) = header {
        response.headers_mut().insert(X_REQUEST_ID, header);
    }
    response
}

/// Extracts the id the middleware put in; a handler run without the middleware gets a new one
/// rather than an error.
impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::generate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_REQUEST_ID, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_plain_token_is_kept() {
        for id in [
            "0123456789abcdef0123456789abcdef",
            "req-12345678",
            "ABCDEFGH",
            &"a".repeat(64),
        ] {
            assert_eq!(
                RequestId::from_headers(&with(&[id.as_bytes()])).as_str(),
                id
            );
        }
    }

    #[test]
    fn anything_else_is_replaced() {
        for value in [
            &b"short"[..],
            b"has space in it",
            b"semi;colon;value",
            b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
            &[b'a'; 65],
        ] {
            let id = RequestId::from_headers(&with(&[value]));
            assert_ne!(id.as_str().as_bytes(), value);
            assert!(is_token(id.as_str()));
        }
        // Two values: which one would be meant?
        let id = RequestId::from_headers(&with(&[b"aaaaaaaa", b"bbbbbbbb"]));
        assert!(id.as_str() != "aaaaaaaa" && id.as_str() != "bbbbbbbb");
        assert!(is_token(
            RequestId::from_headers(&HeaderMap::new()).as_str()
        ));
    }

    #[test]
    fn generated_ids_are_distinct_hex_like_nginx() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(a
            .as_str()
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    }
}
