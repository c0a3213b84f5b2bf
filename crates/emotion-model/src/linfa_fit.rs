//! The linfa reference implementation: linfa-preprocessing's `CountVectorizer` counts,
//! linfa-bayes' `MultinomialNb` fits, and the fitted parameters are read back out for serving.
//!
//! How this works around the linfa defects measured on this machine:
//! - `MultinomialNb` only takes a dense `Array2` (40k documents x a 41k-word vocabulary would be
//!   about 10 GiB): the vocabulary is capped ([`crate::hyperparameters::Featurization::max_features`]) and the dense
//!   matrix is built and fitted in bounded chunks with `fit_with`, which only accumulates per-class
//!   counts, so memory stays small and the result equals one big fit (integer counts add exactly
//!   in `f64`).
//! - `fit_with` prints a `dbg!` of the class histograms to stderr. Rows are fitted grouped by class,
//!   so each chunk prints one histogram (about 1.5 MB in all with the defaults); tests capture it.
//! - `CountVectorizer` numbers its columns in `HashMap` order, different on every fit: the
//!   vocabulary is chosen by [`crate::features::select_vocabulary`] (deterministic, sorted), handed
//!   over with `fit_vocabulary`, and its columns are mapped back through `vocabulary()`.
//! - `CountVectorizer` is `!Sync` and allocates a vocabulary-sized vector per document, and
//!   `FittedTfIdfVectorizer` computes IDF from the batch it transforms: neither is used at serving
//!   time. The serving form is the fitted model's `feature_log_prob` and priors, read out through
//!   linfa's serde support ([`serving_weights`]).

use std::collections::HashMap;

use linfa::traits::FitWith;
use linfa::{Dataset as LinfaDataset, ParamGuard};
use linfa_bayes::MultinomialNb;
use linfa_preprocessing::{CountVectorizer, Tokenizer};
use ndarray::{Array1, Array2};
use serde::Deserialize;

use crate::data::Example;
use crate::hyperparameters::NaiveBayesParams;
use crate::tokenize::tokenize;
use crate::train_error::TrainError;

/// Dense cells per fitting chunk (8 bytes each): bounds memory whatever the vocabulary size.
const CHUNK_CELLS: usize = 8_000_000;

/// linfa-preprocessing's `CountVectorizer` over the chosen vocabulary, with its columns mapped
/// back to vocabulary order.
pub struct LinfaVectorizer {
    vectorizer: CountVectorizer,
    /// `column_to_feature[j]` = vocabulary index of `CountVectorizer` column `j`.
    column_to_feature: Vec<usize>,
    binary: bool,
}

impl LinfaVectorizer {
    /// A `CountVectorizer` that counts exactly the n-grams of `vocabulary` over our tokens.
    pub fn new(vocabulary: &[String], params: &NaiveBayesParams) -> Result<Self, TrainError> {
        let feature_index: HashMap<&str, usize> = vocabulary
            .iter()
            .enumerate()
            .map(|(i, f)| (f.as_str(), i))
            .collect();
        // Documents reach it as our tokens joined by spaces, so it must neither lowercase,
        // normalise nor re-tokenise them.
        let vectorizer = CountVectorizer::params()
            .tokenizer(Tokenizer::Function(whitespace_tokens))
            .convert_to_lowercase(false)
            .normalize(false)
            .n_gram_range(1, params.features.ngram_max)
            .fit_vocabulary(vocabulary)
            .map_err(|e| TrainError::Linfa(e.to_string()))?;
        let column_to_feature = vectorizer
            .vocabulary()
            .iter()
            .map(|f| feature_index[f.as_str()])
            .collect();
        Ok(Self {
            vectorizer,
            column_to_feature,
            binary: params.binary,
        })
    }

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

/// Fits `MultinomialNb` on the training rows (classes are label indices), chunk by chunk.
pub fn fit_chunked(
    vectorizer: &LinfaVectorizer,
    rows: &[Example],
    classes: &[usize],
    params: &NaiveBayesParams,
) -> Result<MultinomialNb<f64, usize>, TrainError> {
    // Grouped by class (stable within a class) so that each linfa dbg! covers one class.
    let mut order: Vec<usize> = (0..classes.len()).collect();
    order.sort_by_key(|&i| classes[i]);
    let rows_per_chunk = (CHUNK_CELLS / vectorizer.column_to_feature.len().max(1)).max(1);
    let nb_params = MultinomialNb::<f64, usize>::params()
        .alpha(params.alpha)
        .check()
        .map_err(|e| TrainError::Linfa(e.to_string()))?;
    let mut nb: Option<MultinomialNb<f64, usize>> = None;
    let mut start = 0;
    while start < order.len() {
        // A chunk never spans two classes.
        let class = classes[order[start]];
        let mut end = start;
        while end < order.len() && end - start < rows_per_chunk && classes[order[end]] == class {
            end += 1;
        }
        let texts: Vec<&str> = order[start..end]
            .iter()
            .map(|&i| rows[i].text.as_str())
            .collect();
        let chunk = LinfaDataset::new(
            vectorizer.dense(&texts)?,
            Array1::from_elem(end - start, class),
        );
        nb = Some(
            nb_params
                .fit_with(nb, &chunk)
                .map_err(|e| TrainError::Linfa(e.to_string()))?,
        );
        start = end;
    }
    nb.ok_or(TrainError::EmptySplit { train: 0, test: 0 })
}

/// Reads the fitted parameters out of `nb`: `ln P(c)` per label, and `ln P(f | c)` row-major by
/// feature (`[f * labels + c]`), the layout [`crate::Model`] serves from.
pub fn serving_weights(
    nb: &MultinomialNb<f64, usize>,
    labels: &[String],
    features: usize,
) -> Result<(Vec<f64>, Vec<f64>), TrainError> {
    // serde_json::Value keeps f64 values as they are (no text round trip), so this is exact.
    let mirror: NbMirror = serde_json::to_value(nb)
        .and_then(serde_json::from_value)
        .map_err(|e| TrainError::Linfa(format!("reading fitted MultinomialNb: {e}")))?;
    let classes = labels.len();
    let mut log_prior = vec![0.0; classes];
    let mut feature_log_prob = vec![0.0; features * classes];
    for (c, label) in labels.iter().enumerate() {
        let hist = mirror
            .class_info
            .get(&c)
            .ok_or_else(|| TrainError::UnseenLabel(label.clone()))?;
        if hist.feature_log_prob.data.len() != features {
            return Err(TrainError::Linfa(format!(
                "class {label:?} has {} feature weights, expected {features}",
                hist.feature_log_prob.data.len()
            )));
        }
        // The same expression linfa evaluates in joint_log_likelihood.
        log_prior[c] = hist.prior.ln();
        for (f, &w) in hist.feature_log_prob.data.iter().enumerate() {
            feature_log_prob[f * classes + c] = w;
        }
    }
    Ok((log_prior, feature_log_prob))
}
