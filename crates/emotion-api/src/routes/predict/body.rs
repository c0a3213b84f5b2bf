//! The bodies of `POST /predict` and `POST /predict/batch`: what is sent and answered, and so the
//! schemas of the OpenAPI document (crate::openapi).
//!
//! The doc comments of these types and fields are their descriptions in the document (a
//! `schema_with` function's schema replaces the field's, description included). The response
//! types carry `#[serde(deny_unknown_fields)]`, which serde ignores when serialising: utoipa reads
//! it as `additionalProperties: false` (these fields and no others). Fields only one variant or
//! configuration sends are `Option`s that the document then requires or removes
//! (crate::openapi::instance); `nullable = false`, because they are left out, never null.

use std::collections::BTreeMap;

use emotion_model::{Feature, Model, ModelInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::openapi::schema;

/// `POST /predict` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"sentence": "I finally passed the exam, I can't stop smiling!"})))]
pub struct PredictRequest {
    #[schema(schema_with = schema::sentence)]
    pub(super) sentence: String,
}

/// `POST /predict/batch` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"sentences": ["What a lovely day", "I miss you so much"]})))]
pub struct BatchRequest {
    #[schema(schema_with = schema::sentences)]
    pub(super) sentences: Vec<String>,
}

/// Description shared by a prediction alone and in a batch: in v1 the two are the same schema.
const PREDICTION: &str = "One classified sentence: its label, the model's confidence and \
                          version; in v2 also every label's probability and the evidence.";

/// `POST /predict` answer: one classified sentence, with all of `debug` in v2. (In the document
/// its description is [`PREDICTION`].)
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = PREDICTION)]
pub struct Prediction<'a> {
    /// The predicted label.
    pub(super) emotion: &'a str,
    /// The model's probability for that label.
    #[schema(minimum = 0, maximum = 1)]
    pub(super) confidence: f64,
    /// The model that answered.
    pub(super) model_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = schema::probabilities)]
    pub(super) probabilities: Option<BTreeMap<&'a str, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline, nullable = false)]
    pub(super) debug: Option<SingleDebug<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = schema::Receipt)]
    pub(super) receipt: Option<String>,
}

/// One item of a `POST /predict/batch` answer: as [`Prediction`], with only the evidence in
/// `debug` (the context is in the answer's own `debug`, once). Its description in the document is
/// [`PREDICTION`] too: in v1 the two are the same schema.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = PREDICTION)]
pub struct BatchPrediction<'a> {
    /// The predicted label.
    pub(super) emotion: &'a str,
    /// The model's probability for that label.
    #[schema(minimum = 0, maximum = 1)]
    pub(super) confidence: f64,
    /// The model that answered.
    pub(super) model_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = schema::probabilities)]
    pub(super) probabilities: Option<BTreeMap<&'a str, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline, nullable = false)]
    pub(super) debug: Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = schema::Receipt)]
    pub(super) receipt: Option<String>,
}

impl<'a> BatchPrediction<'a> {
    /// The same prediction answered alone: its evidence completed with the context.
    pub(super) fn alone(self, context: impl FnOnce(Evidence) -> SingleDebug<'a>) -> Prediction<'a> {
        Prediction {
            emotion: self.emotion,
            confidence: self.confidence,
            model_version: self.model_version,
            probabilities: self.probabilities,
            debug: self.debug.map(context),
            receipt: self.receipt,
        }
    }
}

/// Why this label: the sentence's tokens and the features that weighed most, and how long the
/// model took (microseconds).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub(super) tokens: Vec<String>,
    #[schema(value_type = Vec<schema::Feature>, inline)]
    pub(super) top_features: Vec<Feature>,
    pub(super) inference_us: u64,
}

// The fields in the order the response has always had.
/// The evidence and its context together: why this label, by which model and instance.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SingleDebug<'a> {
    #[schema(schema_with = schema::debug_variant)]
    pub(super) variant: &'static str,
    pub(super) instance: &'a str,
    pub(super) tokens: Vec<String>,
    #[schema(value_type = Vec<schema::Feature>, inline)]
    pub(super) top_features: Vec<Feature>,
    pub(super) inference_us: u64,
    #[schema(inline)]
    pub(super) model: DebugModel<'a>,
}

/// What every prediction of the batch shares: variant, instance and model, once.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDebug<'a> {
    #[schema(schema_with = schema::debug_variant)]
    pub(super) variant: &'static str,
    pub(super) instance: &'a str,
    #[schema(inline)]
    pub(super) model: DebugModel<'a>,
}

/// Model identity and training metadata (format version, data sha256, hyperparameters,
/// evaluation).
#[derive(Serialize, ToSchema)]
pub struct DebugModel<'a> {
    version: &'a str,
    labels: &'a [String],
    // Left out of the schema, which stays open for it: the model crate's metadata, not this API's.
    #[serde(flatten)]
    #[schema(ignore)]
    info: &'a ModelInfo,
}

impl<'a> DebugModel<'a> {
    pub(super) fn of(model: &'a Model) -> Self {
        DebugModel {
            version: model.version(),
            labels: model.labels(),
            info: model.info(),
        }
    }
}

/// `POST /predict/batch` answer.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchResponse<'a> {
    /// One per sentence, in the order sent.
    pub(super) predictions: Vec<BatchPrediction<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline, nullable = false)]
    pub(super) debug: Option<BatchDebug<'a>>,
}
