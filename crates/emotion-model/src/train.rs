//! Training: tokenise, choose a capped vocabulary, count with linfa-preprocessing's
//! `CountVectorizer`, fit linfa-bayes' `MultinomialNb`, then derive the serving [`Model`].
//!
//! How this works around the linfa defects measured on this machine:
//! - `MultinomialNb` only takes a dense `Array2`: the vocabulary is capped
//!   ([`Hyperparameters::max_features`]) and the dense matrix is built and fitted in bounded
//!   chunks with `fit_with`, which only accumulates per-class counts, so memory stays small and the
//!   result equals one big fit (integer counts add exactly in `f64`).
//! - `fit_with` prints a `dbg!` of the class histograms to stderr. Rows are fitted grouped by class,
//!   so each chunk prints one histogram (see EXPERIMENTS.md for the volume); tests capture it.
//! - `CountVectorizer` numbers its columns in `HashMap` order, different on every fit: the
//!   vocabulary is chosen here (deterministic, sorted) and handed over with `fit_vocabulary`,
//!   and its columns are mapped back through `vocabulary()`.
//! - `CountVectorizer` is `!Sync` and slow per document, and `FittedTfIdfVectorizer` computes IDF
//!   from the batch it transforms: neither is used at serving time. The serving form is the fitted
//!   model's `feature_log_prob` and priors, read out through linfa's serde support.

use std::collections::HashMap;

use linfa::traits::FitWith;
use linfa::{Dataset as LinfaDataset, ParamGuard};
use linfa_bayes::MultinomialNb;
use linfa_preprocessing::{CountVectorizer, Tokenizer};
use ndarray::{Array1, Array2};
use serde::Deserialize;

use crate::artifact::{version_of, FORMAT_VERSION};
use crate::data::{split, Dataset, Example};
use crate::features::{select_vocabulary, Hyperparameters};
use crate::metrics::evaluate;
use crate::model::{Model, ModelInfo, Payload};
use crate::tokenize::tokenize;

/// Dense cells per fitting chunk (8 bytes each): bounds memory whatever the vocabulary size.
const CHUNK_CELLS: usize = 8_000_000;

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
}

/// The result of [`train`]: the serving model and the linfa objects it was derived from, kept so
/// tests can compare the two.
pub struct Trained {
    /// The serving model (its info holds the held-out metrics).
    pub model: Model,
    /// The fitted linfa reference model; its classes are label indices.
    pub nb: MultinomialNb<f64, usize>,
    /// The linfa vectoriser the reference model was fitted with.
    pub vectorizer: LinfaVectorizer,
    /// The training rows.
    pub train_rows: Vec<Example>,
    /// The held-out rows.
    pub test_rows: Vec<Example>,
}

/// linfa-preprocessing's `CountVectorizer` over the chosen vocabulary, with its columns mapped
/// back to vocabulary order.
pub struct LinfaVectorizer {
    vectorizer: CountVectorizer,
    /// `column_to_feature[j]` = vocabulary index of `CountVectorizer` column `j`.
    column_to_feature: Vec<usize>,
    binary: bool,
}

impl LinfaVectorizer {
    /// Dense feature matrix (rows x vocabulary, in vocabulary order): the input that
    /// `MultinomialNb` is fitted on and that its `predict` expects.
    pub fn dense(&self, texts: &[&str]) -> Result<Array2<f64>, TrainError> {
        let docs: Array1<String> = texts.iter().map(|t| tokenize(t).join(" ")).collect();
        let counts = self
            .vectorizer
            .transform(&docs)
            .map_err(|e| TrainError::Linfa(e.to_string()))?;
        let mut dense = Array2::<f64>::zeros((texts.len(), self.column_to_feature.len()));
        for (row, vec) in counts.outer_iterator().enumerate() {
            for (col, &n) in vec.iter() {
                dense[[row, self.column_to_feature[col]]] =
                    if self.binary { 1.0 } else { n as f64 };
            }
        }
        Ok(dense)
    }
}

fn whitespace_tokens(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// Mirror of linfa-bayes' serde form of `MultinomialNb`, to read its fitted parameters
/// (the fields are private in Rust but public in serialised form).
#[derive(Deserialize)]
struct NbMirror {
    class_info: HashMap<usize, HistogramMirror>,
}

#[derive(Deserialize)]
struct HistogramMirror {
    prior: f64,
    feature_log_prob: ArrayMirror,
}

#[derive(Deserialize)]
struct ArrayMirror {
    data: Vec<f64>,
}

fn check(params: &Hyperparameters) -> Result<(), TrainError> {
    let bad = |m: &str| Err(TrainError::Hyperparameter(m.to_string()));
    if !(params.alpha.is_finite() && params.alpha > 0.0) {
        return bad("alpha must be a positive finite number");
    }
    if !(1..=3).contains(&params.ngram_max) {
        return bad("ngram_max must be 1, 2 or 3");
    }
    if params.max_features == 0 {
        return bad("max_features must be at least 1");
    }
    Ok(())
}

/// Trains on the rows of `dataset` outside the held-out split and evaluates on the held-out rows.
/// Deterministic: the same data and hyperparameters give a byte-identical artifact.
pub fn train(dataset: &Dataset, params: &Hyperparameters) -> Result<Trained, TrainError> {
    check(params)?;
    let (train_rows, test_rows) = split(&dataset.examples);
    if train_rows.is_empty() || test_rows.is_empty() {
        return Err(TrainError::EmptySplit {
            train: train_rows.len(),
            test: test_rows.len(),
        });
    }
    let mut labels: Vec<String> = dataset.examples.iter().map(|e| e.label.clone()).collect();
    labels.sort_unstable();
    labels.dedup();
    let label_index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let y_train: Vec<usize> = train_rows
        .iter()
        .map(|e| label_index[e.label.as_str()])
        .collect();

    let tokens: Vec<Vec<String>> = train_rows.iter().map(|e| tokenize(&e.text)).collect();
    let vocabulary = select_vocabulary(&tokens, &y_train, params);
    if vocabulary.is_empty() {
        return Err(TrainError::EmptyVocabulary);
    }
    let feature_index: HashMap<&str, usize> = vocabulary
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();

    let vectorizer = CountVectorizer::params()
        .tokenizer(Tokenizer::Function(whitespace_tokens))
        .convert_to_lowercase(false)
        .normalize(false)
        .n_gram_range(1, params.ngram_max)
        .fit_vocabulary(&vocabulary)
        .map_err(|e| TrainError::Linfa(e.to_string()))?;
    let column_to_feature: Vec<usize> = vectorizer
        .vocabulary()
        .iter()
        .map(|f| feature_index[f.as_str()])
        .collect();

    let vectorizer = LinfaVectorizer {
        vectorizer,
        column_to_feature,
        binary: params.binary,
    };

    // Fit grouped by class (stable within a class) so that each linfa dbg! covers one class.
    let mut order: Vec<usize> = (0..y_train.len()).collect();
    order.sort_by_key(|&i| y_train[i]);
    let rows_per_chunk = (CHUNK_CELLS / vocabulary.len()).max(1);
    let nb_params = MultinomialNb::<f64, usize>::params()
        .alpha(params.alpha)
        .check()
        .map_err(|e| TrainError::Linfa(e.to_string()))?;
    let mut nb: Option<MultinomialNb<f64, usize>> = None;
    let mut start = 0;
    while start < order.len() {
        // A chunk never spans two classes.
        let class = y_train[order[start]];
        let mut end = start;
        while end < order.len() && end - start < rows_per_chunk && y_train[order[end]] == class {
            end += 1;
        }
        let texts: Vec<&str> = order[start..end]
            .iter()
            .map(|&i| train_rows[i].text.as_str())
            .collect();
        let records = vectorizer.dense(&texts)?;
        let targets = Array1::from_elem(end - start, class);
        let chunk = LinfaDataset::new(records, targets);
        nb = Some(
            nb_params
                .fit_with(nb, &chunk)
                .map_err(|e| TrainError::Linfa(e.to_string()))?,
        );
        start = end;
    }
    let nb = nb.expect("at least one training row");

    let mirror: NbMirror = serde_json::to_value(&nb)
        .and_then(serde_json::from_value)
        .map_err(|e| TrainError::Linfa(format!("reading fitted MultinomialNb: {e}")))?;
    let classes = labels.len();
    let mut log_prior = vec![0.0; classes];
    let mut feature_log_prob = vec![0.0; vocabulary.len() * classes];
    for (c, label) in labels.iter().enumerate() {
        let hist = mirror
            .class_info
            .get(&c)
            .ok_or_else(|| TrainError::UnseenLabel(label.clone()))?;
        // Same expression linfa evaluates in joint_log_likelihood.
        log_prior[c] = hist.prior.ln();
        for (f, &w) in hist.feature_log_prob.data.iter().enumerate() {
            feature_log_prob[f * classes + c] = w;
        }
    }

    let majority = (0..classes)
        .max_by_key(|&c| {
            (
                y_train.iter().filter(|&&y| y == c).count(),
                std::cmp::Reverse(c),
            )
        })
        .expect("at least one label");
    let mut payload = Payload {
        info: ModelInfo {
            format_version: FORMAT_VERSION,
            trainer: format!("emotion-model {}", env!("CARGO_PKG_VERSION")),
            tokenizer_version: crate::tokenize::TOKENIZER_VERSION,
            data_sha256: dataset.sha256.clone(),
            split: "held out: tweet_id % 5 == 0; trained on the rest".to_string(),
            train_rows: train_rows.len(),
            test_rows: test_rows.len(),
            vocabulary_size: vocabulary.len(),
            hyperparameters: params.clone(),
            metrics: evaluate(&labels, &[0], &[0], 0),
        },
        labels: labels.clone(),
        vocabulary,
        log_prior,
        feature_log_prob,
    };
    // Evaluate with the serving form itself, then store the metrics in it.
    let unevaluated = Model::from_payload(payload.clone(), String::new())
        .map_err(|e| TrainError::Linfa(e.to_string()))?;
    let truth: Vec<usize> = test_rows
        .iter()
        .map(|e| label_index[e.label.as_str()])
        .collect();
    let predicted: Vec<usize> = test_rows
        .iter()
        .map(|e| unevaluated.predict(&e.text).label)
        .collect();
    payload.info.metrics = evaluate(&payload.labels, &truth, &predicted, majority);
    let version = version_of(&payload);
    let model =
        Model::from_payload(payload, version).map_err(|e| TrainError::Linfa(e.to_string()))?;
    Ok(Trained {
        model,
        nb,
        vectorizer,
        train_rows,
        test_rows,
    })
}
