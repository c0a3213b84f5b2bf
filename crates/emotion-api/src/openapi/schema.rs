//! The schemas a Rust type cannot state by itself, for the `ToSchema` derives to use
//! (`#[schema(schema_with = ...)]`, which replaces the field's whole schema, its doc comment
//! included, and `#[schema(value_type = ...)]`), and the two accessors the rest of the module edits
//! derived schemas with.
//!
//! Each is built from the code that enforces it where there is one: the non-blank pattern from
//! crate::sentence, the receipt's length and tag from crate::receipt, the variant names from
//! [`Variant`].

use utoipa::openapi::schema::{AdditionalProperties, Array, ArrayBuilder, Object, ObjectBuilder};
use utoipa::openapi::{RefOr, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::configuration::Variant;
use crate::receipt::{MAX_RECEIPT_CHARS, TAG_BYTES};
use crate::sentence;

/// One sentence to classify. Its `maxLength` is the instance's (crate::openapi::instance).
pub fn sentence() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(sentence::non_blank_pattern()))
        .description(Some(
            "Text to classify; length counted in Unicode characters. It must contain at least \
             one character that is neither whitespace nor a control character: an empty or \
             blank text is refused with 422 empty_sentence.",
        ))
        .build()
}

/// The sentences of a batch, at least one. Its `maxItems` is the instance's.
pub fn sentences() -> Array {
    ArrayBuilder::new()
        .items(sentence())
        .min_items(Some(1))
        .build()
}

/// Every label's probability (v2), each from 0 to 1.
pub fn probabilities() -> Object {
    let probability = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0))
        .maximum(Some(1))
        .build();
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::Object(
            probability,
        )))))
        .description(Some("Every label's probability; they sum to 1."))
        .build()
}

/// The variant that made the prediction a receipt proves.
pub fn receipt_variant() -> Object {
    variants(&[Variant::V1, Variant::V2])
        .description(Some(
            "The variant that made the prediction (from the receipt).",
        ))
        .build()
}

/// The variant named in `debug`, which only v2 answers have.
pub fn debug_variant() -> Object {
    variants(&[Variant::V2]).build()
}

fn variants(variants: &[Variant]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(variants.iter().map(|v| v.as_str())))
}

/// A field that is always `true`.
pub fn always_true() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .build()
}

/// A feedback receipt as it travels: `base64url(payload) "." base64url(tag)`, unpadded
/// (crate::receipt). The fields that hold one are `String`s; this names their schema.
pub struct Receipt;

impl PartialSchema for Receipt {
    fn schema() -> RefOr<Schema> {
        // Unpadded base64 of the tag: 4 characters per 3 bytes, the last group shortened.
        let tag_chars = (TAG_BYTES * 4).div_ceil(3);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1 + 1 + tag_chars))
            .max_length(Some(MAX_RECEIPT_CHARS))
            .pattern(Some(format!(
                "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{{{tag_chars}}}$"
            )))
            .description(Some(
                "Proof of one prediction, for POST /feedback: base64url of a JSON payload \
                 (request id, batch item, variant, model version, predicted label, issue time), \
                 a dot, and base64url of its HMAC-SHA256 under a key the replicas share. \
                 Readable, but any change makes it invalid.",
            ))
            .into()
    }
}

impl ToSchema for Receipt {}

// What `emotion_model::Feature` serialises to (the model crate stays free of utoipa); a unit test
// compares the two.
/// A feature (a token, or an n-gram's tokens joined by a space) and how much it pushed towards
/// the predicted label.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // a schema only: never built
pub struct Feature {
    token: String,
    weight: f64,
}

/// The schema object `schema` is: derived schemas of structs are inline objects.
///
/// # Panics
/// When it is a reference or a composition: a derive changed shape, which the tests catch.
pub(crate) fn object(schema: &mut RefOr<Schema>) -> &mut Object {
    match schema {
        RefOr::T(Schema::Object(object)) => object,
        _ => panic!("expected an inline object schema"),
    }
}

/// The schema of `object`'s property `name`.
///
/// # Panics
/// When there is no such property.
pub(crate) fn property<'a>(object: &'a mut Object, name: &str) -> &'a mut RefOr<Schema> {
    object
        .properties
        .get_mut(name)
        .unwrap_or_else(|| panic!("no property {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feature_schema_has_the_fields_the_model_crate_serialises() {
        let feature = emotion_model::Feature {
            token: "exam".to_owned(),
            weight: 2.5,
        };
        let sent = serde_json::to_value(&feature).unwrap();
        let mut sent: Vec<&String> = sent.as_object().unwrap().keys().collect();
        sent.sort();
        let mut schema = <Feature as PartialSchema>::schema();
        let documented = object(&mut schema);
        let mut named: Vec<&String> = documented.properties.keys().collect();
        named.sort();
        assert_eq!(named, sent);
        assert_eq!(documented.required, ["token", "weight"]);
    }

    #[test]
    fn a_real_receipt_matches_the_receipt_schema() {
        let mut schema = Receipt::schema();
        let receipt = object(&mut schema);
        let tag = "A".repeat(43);
        assert_eq!(receipt.min_length, Some(format!("x.{tag}").len()));
        assert_eq!(
            receipt.pattern.as_deref(),
            Some("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$")
        );
    }
}
