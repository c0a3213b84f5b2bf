//! Emotion classifier for short English texts (tweets), 13 labels.
//!
//! text -> [`tokenize()`] -> n-gram features -> a linear classifier: multinomial logistic
//! regression ([`logistic`], the default) or multinomial Naive Bayes (the linfa reference),
//! selected by the [`Hyperparameters`] variant (one per model family).
//!
//! Training ([`train()`]) either fits the logistic regression on unit-norm presence vectors, or
//! fits `linfa_bayes::MultinomialNb` on counts produced by `linfa_preprocessing::CountVectorizer`,
//! over a capped, deterministically chosen vocabulary, then derives a compact serving form
//! (feature -> per-class weight, plus a per-class bias) that is plain data, so
//! [`Model`] is `Send + Sync` and predicts in microseconds. [`Model::save`] / [`Model::load`] use a
//! versioned, checksummed safetensors artifact ([`artifact`]).
//!
//! This crate has no HTTP, async or tokio dependency, by design.

pub mod artifact;
pub mod card;
pub mod data;
pub mod features;
pub mod hyperparameters;
pub mod linfa_fit;
pub mod logistic;
pub mod metrics;
pub mod model;
pub mod payload;
pub mod tokenize;
pub mod train;
pub mod train_error;

pub use artifact::{ArtifactError, FORMAT_VERSION};
pub use data::{DataError, Example};
pub use hyperparameters::{
    Featurization, Hyperparameters, LogisticParams, ModelKind, NaiveBayesParams, Selection,
};
pub use metrics::Evaluation;
pub use model::{Explanation, Feature, Model, Prediction};
pub use payload::ModelInfo;
pub use tokenize::tokenize;
pub use train::{train, Trained};
pub use train_error::TrainError;
