//! `GET /docs`: Swagger UI on this instance's `/openapi.json`.
//!
//! 1. Swagger UI's files are compiled into the binary (utoipa-swagger-ui with its `vendored`
//!    feature: they come from a crates.io crate, nothing is downloaded at build or run time), so
//!    the page needs no network and no CDN, and shows exactly the document this replica serves.
//! 2. The page itself is `docs.html`, Swagger UI's `index.html` with absolute file paths
//!    (`/docs/swagger-ui.css`), so it works at `/docs` and `/docs/` alike without a redirect;
//!    its files are served under `/docs/`.
//! 3. A file Swagger UI does not have is the JSON 404 of any unknown path. The name is matched as
//!    sent (still percent-encoded), so nothing but the embedded files can be named.
//! 4. Swagger UI's settings (`swagger-initializer.js`): the document's address; no validator badge
//!    (it would send the document's address to validator.swagger.io); and, by default, `url=` in
//!    the page's query string is ignored (`queryConfigEnabled`), so a link cannot make the page
//!    show another document.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::http::{header, Uri};
use axum::response::{Html, IntoResponse, Response};
use utoipa_swagger_ui::Config;

use crate::error::ApiError;

/// Where the page is.
pub const PATH: &str = "/docs";

/// The page.
const PAGE: &str = include_str!("docs.html");

static CONFIG: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::new(["/openapi.json"]).validator_url("none")));

/// `GET /docs` and `GET /docs/`: the page.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// `GET /docs/{file}`: Swagger UI's scripts, styles and icons.
pub async fn file(uri: Uri) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(uri.path().to_owned());
    let name = uri
        .path()
        .strip_prefix(PATH)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|name| !name.is_empty())
        .ok_or_else(not_found)?;
    if name == "index.html" {
        return Ok(page().await.into_response());
    }
    let file = utoipa_swagger_ui::serve(name, CONFIG.clone())
        .map_err(|e| ApiError::Internal(format!("Swagger UI file {name}: {e}")))?
        .ok_or_else(not_found)?;
    let body = match file.bytes {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    };
    Ok(([(header::CONTENT_TYPE, file.content_type)], body).into_response())
}
