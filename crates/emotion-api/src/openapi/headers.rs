//! The response headers the document states.
//!
//! `X-Model-Variant` and `X-Instance` (crate::middleware::identity_headers) and `X-Request-Id`
//! (crate::request_id) are stamped on every answer by middleware around the whole router, so they
//! are added here to every response of every operation at once rather than repeated in each
//! handler's annotation. `Retry-After` goes only on the errors that carry it (super::errors).

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::{ObjectBuilder, OpenApi, RefOr, Type};

/// Adds the headers every answer carries to every response in `document`.
pub fn add_to_every_response(document: &mut OpenApi) {
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response.headers.extend(every_answer());
                }
            }
        }
    }
}

/// `Retry-After` on the errors where waiting helps.
pub fn retry_after() -> Header {
    header(
        "Seconds to wait before retrying.",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1)),
    )
}

fn every_answer() -> [(String, RefOr<Header>); 3] {
    [
        (
            "X-Model-Variant",
            header(
                "The variant that answered; `none` when the gateway answered itself (401, 413, \
                 429, ...), before any replica saw the request.",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["v1", "v2", "none"])),
            ),
        ),
        (
            "X-Instance",
            header(
                "The instance that answered (hostname by default).",
                ObjectBuilder::new().schema_type(Type::String),
            ),
        ),
        (
            "X-Request-Id",
            header(
                "This request's id: the one the gateway sent (its $request_id) when it is a plain \
                 token, else one made by the instance. Signed into the feedback receipts. Absent \
                 when the gateway answered itself.",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9A-Za-z-]{8,64}$")),
            ),
        ),
    ]
    .map(|(name, header)| (name.to_owned(), RefOr::T(header)))
}

fn header(description: &str, schema: ObjectBuilder) -> Header {
    HeaderBuilder::new()
        .schema(Some(schema))
        .description(Some(description))
        .build()
}
