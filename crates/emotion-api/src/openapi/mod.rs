//! The OpenAPI 3.1 document served at `GET /openapi.json` (and shown by Swagger UI at `/docs`),
//! derived from the code with utoipa.
//!
//! Where each part comes from:
//! 1. Operations: the handlers' `#[utoipa::path]` (method, path, request body, the success answer)
//!    and the error answers they name ([`errors`], built from [`ErrorCode`](crate::error::ErrorCode)
//!    so that a code is documented under the one status it is sent with).
//! 2. Schemas: `#[derive(ToSchema)]` on the request and response types (fields, which are
//!    required, `#[serde(deny_unknown_fields)]` as `additionalProperties: false`), and [`schema`]
//!    for what a Rust type cannot say (the non-blank pattern, the receipt format, enumerations).
//! 3. Headers on every answer: [`headers`], added to every response, as the middleware adds them
//!    to every answer.
//! 4. This instance: [`instance`] fits the document to the configuration, which the types cannot
//!    know: the limits, the variant (v1 answers have no `probabilities` or `debug`, v2 answers
//!    always have them) and the receipts (in every prediction with a feedback key, in none
//!    without).
//!
//! Tests in `tests/api/openapi.rs` keep it in sync with the router (every documented operation
//! answers, and only with documented statuses) and with the error codes.

pub mod errors;
mod headers;
mod instance;
pub mod schema;

use utoipa::OpenApi;

use crate::configuration::Settings;
use crate::routes;

/// The operations and schemas the code declares, before the configuration is applied.
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::predict::predict,
        routes::predict::predict_batch,
        routes::feedback::feedback,
        routes::health::live,
        routes::health::ready,
        routes::openapi::openapi,
    ),
    tags(
        (name = "predictions", description = "Classify sentences."),
        (name = "feedback", description = "Report the true label of a prediction."),
        (name = "operations", description = "Probes and this document."),
    )
)]
struct ApiDoc;

/// The document of an instance with this configuration.
pub fn document(settings: &Settings) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    headers::add_to_every_response(&mut document);
    instance::fit(&mut document, settings);
    document
}
