//! Emotion classifier for short English texts (tweets), 13 labels.
//!
//! text -> [`tokenize()`] -> n-gram features -> a linear classifier: multinomial logistic
//! regression ([`logistic`], the default) or multinomial Naive Bayes (the linfa reference),
//! selected by [`Hyperparameters::model`].
//!
//! Training ([`train()`]) either fits the logistic regression on unit-norm presence vectors, or
//! fits `linfa_bayes::MultinomialNb` on counts produced by `linfa_preprocessing::CountVectorizer`,
//! over a capped, deterministically chosen vocabulary, then derives a compact serving form
//! (feature -> per-class weight, plus a per-class bias) that is plain data, so
//! [`Model`] is `Send + Sync` and predicts in microseconds. [`Model::save`] / [`Model::load`] use a
//! versioned, checksummed binary artifact ([`artifact`]).
//!
//! This crate has no HTTP, async or tokio dependency, by design.

pub mod artifact;
pub mod card;
pub mod data;
pub mod features;
pub mod linfa_fit;
pub mod logistic;
pub mod metrics;
pub mod model;
pub mod tokenize;
pub mod train;

pub use artifact::{ArtifactError, FORMAT_VERSION};
pub use data::{DataError, Example};
pub use features::{Hyperparameters, ModelKind};
pub use metrics::Evaluation;
pub use model::{Explanation, Feature, Model, ModelInfo, Prediction};
pub use tokenize::tokenize;
pub use train::{train, TrainError, Trained};
