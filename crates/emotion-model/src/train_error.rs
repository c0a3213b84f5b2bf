//! The training error, shared by both trainers ([`crate::linfa_fit`], [`crate::train`]) and so
//! defined below them: the trainers depend on it, never on each other's module.

use crate::artifact::ArtifactError;

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Hyperparameters out of range.
    #[error("invalid hyperparameter: {0}")]
    Hyperparameter(String),
    /// The split left no training or no held-out rows.
    #[error("the split leaves {train} training and {test} held-out rows; both must be non-zero")]
    EmptySplit {
        /// Training rows.
        train: usize,
        /// Held-out rows.
        test: usize,
    },
    /// A label occurs only in held-out rows.
    #[error("label {0:?} has no training rows")]
    UnseenLabel(String),
    /// No feature passed `min_df`.
    #[error("the vocabulary is empty (min_df too high?)")]
    EmptyVocabulary,
    /// linfa reported an error.
    #[error("linfa: {0}")]
    Linfa(String),
    /// The derived serving model failed its own consistency checks (a bug, not bad input).
    #[error("derived model is inconsistent: {0}")]
    Inconsistent(#[from] ArtifactError),
}
