//! Emotion classifier for short English texts (tweets), 13 labels.
//!
//! text -> [`tokenize()`] -> n-gram features -> multinomial Naive Bayes.
//!
//! Training ([`train()`]) fits `linfa_bayes::MultinomialNb` on counts produced by
//! `linfa_preprocessing::CountVectorizer` over a capped, deterministically chosen vocabulary, then
//! derives a compact serving form (feature -> per-class log-likelihood) that is plain data, so
//! [`Model`] is `Send + Sync` and predicts in microseconds. [`Model::save`] / [`Model::load`] use a
//! versioned, checksummed binary artifact ([`artifact`]).
//!
//! This crate has no HTTP, async or tokio dependency, by design.

pub mod artifact;
pub mod card;
pub mod data;
pub mod features;
pub mod linfa_fit;
pub mod metrics;
pub mod model;
pub mod tokenize;
pub mod train;

pub use artifact::{ArtifactError, FORMAT_VERSION};
pub use data::{DataError, Example};
pub use features::Hyperparameters;
pub use metrics::Evaluation;
pub use model::{Explanation, Feature, Model, ModelInfo, Prediction};
pub use tokenize::tokenize;
pub use train::{train, TrainError, Trained};
