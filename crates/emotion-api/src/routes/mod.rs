//! Request handlers, one file per concern, and the fallbacks that keep even unknown routes and
//! wrong methods in the JSON error shape.

pub mod docs;
pub mod feedback;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod predict;

use axum::http::{Method, Uri};

use crate::error::ApiError;

/// Unknown path: JSON 404.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_owned())
}

/// Known path, wrong method: JSON 405 (axum adds the `Allow` header).
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
