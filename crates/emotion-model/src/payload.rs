//! What an artifact holds, as plain data: the model card ([`ModelInfo`], labels, vocabulary) and
//! the numbers (weights, biases, IDF). Below both the file format ([`crate::artifact`]), which
//! writes and reads it, and the serving model ([`crate::model`]), which is built from it, so
//! neither of those depends on the other's internals.

use serde::{Deserialize, Serialize};

use crate::hyperparameters::Hyperparameters;
use crate::metrics::Evaluation;

/// Metadata stored in the artifact, serialisable for `/health` style endpoints and the model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Artifact format version ([`crate::FORMAT_VERSION`] when written).
    pub format_version: u32,
    /// Version of this crate that trained the model.
    pub trainer: String,
    /// [`crate::tokenize::TOKENIZER_VERSION`] at training time.
    pub tokenizer_version: u32,
    /// Lowercase hex sha256 of the training CSV.
    pub data_sha256: String,
    /// How the data was split.
    pub split: String,
    /// Rows used for fitting.
    pub train_rows: usize,
    /// Rows held out for evaluation.
    pub test_rows: usize,
    /// Number of features (n-grams) in the vocabulary.
    pub vocabulary_size: usize,
    /// The training hyperparameters (the model family and its own fields).
    pub hyperparameters: Hyperparameters,
    /// Held-out evaluation.
    pub metrics: Evaluation,
}

/// The content of an artifact.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Payload {
    pub(crate) info: ModelInfo,
    pub(crate) labels: Vec<String>,
    pub(crate) vocabulary: Vec<String>,
    /// Per-label bias: `ln P(c)` for naive Bayes, the softmax bias for logistic regression.
    pub(crate) log_prior: Vec<f64>,
    /// Per-feature, per-label weight, row-major by feature: `feature_log_prob[f * labels + c]`;
    /// `ln P(f | c)` for naive Bayes, the softmax weight for logistic regression.
    pub(crate) feature_log_prob: Vec<f64>,
    /// Training-set IDF per feature (logistic regression with `idf`), otherwise empty.
    pub(crate) idf: Vec<f64>,
}

impl Payload {
    /// Whether this model stores an IDF weight per feature (logistic regression with `idf`).
    pub(crate) fn has_idf(&self) -> bool {
        matches!(&self.info.hyperparameters, Hyperparameters::Logistic(p) if p.idf)
    }
}

#[cfg(test)]
impl Payload {
    /// A consistent two-label, two-feature naive Bayes payload for unit tests.
    pub(crate) fn example() -> Self {
        let labels = vec!["a".to_string(), "b".to_string()];
        Self {
            info: ModelInfo {
                format_version: crate::FORMAT_VERSION,
                trainer: "test".into(),
                tokenizer_version: crate::tokenize::TOKENIZER_VERSION,
                data_sha256: String::new(),
                split: String::new(),
                train_rows: 2,
                test_rows: 1,
                vocabulary_size: 2,
                hyperparameters: Hyperparameters::naive_bayes(),
                metrics: crate::metrics::evaluate(&labels, &[0], &[0], 0),
            },
            labels,
            vocabulary: vec!["good".into(), "sad".into()],
            log_prior: vec![0.5f64.ln(), 0.5f64.ln()],
            feature_log_prob: vec![-0.1, -2.0, -2.0, -0.1],
            idf: Vec::new(),
        }
    }
}
