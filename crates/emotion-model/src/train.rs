//! Training: tokenise, choose a capped vocabulary, fit either the linfa naive Bayes reference
//! model ([`crate::linfa_fit`]) or the logistic regression ([`crate::logistic`]), derive the
//! serving [`Model`] from it, and evaluate on the held-out rows.

use std::collections::HashMap;

use linfa_bayes::MultinomialNb;

use crate::artifact::{version_of, FORMAT_VERSION};
use crate::data::{split, Dataset, Example};
use crate::features::{for_each_ngram, select_vocabulary};
use crate::hyperparameters::Hyperparameters;
use crate::linfa_fit::{fit_chunked, serving_weights, LinfaVectorizer};
use crate::logistic::{self, Csr};
use crate::metrics::evaluate;
use crate::model::Model;
use crate::payload::{ModelInfo, Payload};
use crate::tokenize::tokenize;
use crate::train_error::TrainError;

/// The result of [`train`]: the serving model and the fitted objects it was derived from, kept so
/// tests can compare the two.
pub struct Trained {
    /// The serving model (its info holds the held-out metrics).
    pub model: Model,
    /// The fitted linfa reference model (naive Bayes only); its classes are label indices.
    pub nb: Option<MultinomialNb<f64, usize>>,
    /// The linfa vectoriser the reference model was fitted with (naive Bayes only).
    pub vectorizer: Option<LinfaVectorizer>,
    /// The fitted logistic regression (logistic only); its classes are label indices.
    pub logistic: Option<logistic::Fitted>,
    /// The document features the logistic regression was fitted on (logistic only).
    pub logistic_features: Option<LogisticFeatures>,
    /// The training rows.
    pub train_rows: Vec<Example>,
    /// The held-out rows.
    pub test_rows: Vec<Example>,
}

/// How the logistic regression turns training texts into its design matrix, kept apart from
/// [`Model`]'s own feature code so the tests can check that both agree.
pub struct LogisticFeatures {
    index: HashMap<String, u32>,
    ngram_max: usize,
    idf: Vec<f64>,
}

impl LogisticFeatures {
    fn presence(&self, text: &str) -> Vec<u32> {
        let mut hits = Vec::new();
        let mut buf = String::new();
        for_each_ngram(&tokenize(text), self.ngram_max, &mut buf, |g| {
            if let Some(&i) = self.index.get(g) {
                hits.push(i);
            }
        });
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    /// The design matrix of `texts` (one row each), as the model was fitted on.
    pub fn matrix(&self, texts: &[&str]) -> Csr {
        let mut x = Csr::new();
        for text in texts {
            x.push_row(&logistic::doc_values(&self.presence(text), &self.idf));
        }
        x
    }
}

fn check(params: &Hyperparameters) -> Result<(), TrainError> {
    let bad = |m: &str| Err(TrainError::Hyperparameter(m.to_string()));
    match params {
        Hyperparameters::NaiveBayes(p) => {
            if !(p.alpha.is_finite() && p.alpha > 0.0) {
                return bad("alpha must be a positive finite number");
            }
        }
        Hyperparameters::Logistic(p) => {
            if !(p.l2.is_finite() && p.l2 > 0.0) {
                return bad("l2 must be a positive finite number");
            }
            if p.iterations == 0 {
                return bad("iterations must be at least 1");
            }
        }
    }
    let f = params.features();
    if !(1..=3).contains(&f.ngram_max) {
        return bad("ngram_max must be 1, 2 or 3");
    }
    if f.max_features == 0 {
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
    let vocabulary = select_vocabulary(&tokens, &y_train, params.features());
    if vocabulary.is_empty() {
        return Err(TrainError::EmptyVocabulary);
    }

    let classes = labels.len();
    for (c, label) in labels.iter().enumerate() {
        if !y_train.contains(&c) {
            return Err(TrainError::UnseenLabel(label.clone()));
        }
    }
    let (mut nb, mut vectorizer, mut fitted, mut features) = (None, None, None, None);
    let (log_prior, feature_log_prob, idf) = match params {
        Hyperparameters::NaiveBayes(params) => {
            let v = LinfaVectorizer::new(&vocabulary, params)?;
            let fit = fit_chunked(&v, &train_rows, &y_train, params)?;
            let (log_prior, feature_log_prob) = serving_weights(&fit, &labels, vocabulary.len())?;
            nb = Some(fit);
            vectorizer = Some(v);
            (log_prior, feature_log_prob, Vec::new())
        }
        Hyperparameters::Logistic(params) => {
            let mut f = LogisticFeatures {
                index: vocabulary
                    .iter()
                    .enumerate()
                    .map(|(i, g)| (g.clone(), i as u32))
                    .collect(),
                ngram_max: params.features.ngram_max,
                idf: Vec::new(),
            };
            let presence: Vec<Vec<u32>> = train_rows.iter().map(|e| f.presence(&e.text)).collect();
            if params.idf {
                f.idf = logistic::idf(&presence, vocabulary.len());
            }
            let mut x = Csr::new();
            for p in &presence {
                x.push_row(&logistic::doc_values(p, &f.idf));
            }
            let fit = logistic::fit(
                &x,
                &y_train,
                classes,
                vocabulary.len(),
                params.l2,
                params.iterations,
            );
            let out = (fit.bias.clone(), fit.weights.clone(), f.idf.clone());
            fitted = Some(fit);
            features = Some(f);
            out
        }
    };

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
        idf,
    };
    // Evaluate with the serving form itself, then store the metrics in it.
    let unevaluated = Model::from_payload(payload.clone(), String::new())?;
    let truth: Vec<usize> = test_rows
        .iter()
        .map(|e| label_index[e.label.as_str()])
        .collect();
    let predicted: Vec<usize> = test_rows
        .iter()
        .map(|e| unevaluated.predict(&e.text).label)
        .collect();
    payload.info.metrics = evaluate(&payload.labels, &truth, &predicted, majority);
    let version = version_of(&payload)?;
    let model = Model::from_payload(payload, version)?;
    Ok(Trained {
        model,
        nb,
        vectorizer,
        logistic: fitted,
        logistic_features: features,
        train_rows,
        test_rows,
    })
}
