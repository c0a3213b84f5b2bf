//! `ApiJson<T>`: a JSON-object request body, with every rejection in our error shape.
//!
//! Built from axum's pieces (`Bytes` for the size-limited body, `Json::from_bytes` for parsing) so
//! that the error mapping is ours, plus one rule axum lacks: the top-level value must be an object.
//! serde's derived structs also accept a JSON array of the fields in order (`["text"]`), which the
//! OpenAPI document does not allow.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::SharedState;

/// A JSON request body of type `T`.
pub struct ApiJson<T>(pub T);

impl<T> FromRequest<SharedState> for ApiJson<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &SharedState) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = state.settings.max_body_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit }
            } else {
                // The client hung up or sent a broken chunked encoding.
                ApiError::MalformedJson(e.body_text())
            }
        })?;
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)
            .map_err(|r| ApiError::from_json_rejection(r, limit))?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::InvalidRequest(
                "the request body must be a JSON object".to_owned(),
            ));
        }
        Ok(ApiJson(value))
    }
}

/// `application/json` or `application/<anything>+json`, parameters (charset) ignored, as axum's
/// own `Json` extractor decides.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype
                .rsplit_once('+')
                .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        headers
    }

    #[test]
    fn json_media_types_are_recognised() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            assert!(is_json(&with(ok)), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/jsonx",
            "json",
            ";;;",
            "application/",
            "text/json",
        ] {
            assert!(!is_json(&with(bad)), "{bad}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
