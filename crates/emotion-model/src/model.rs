//! The serving form of the classifier: vocabulary -> per-class log-likelihoods, plain data, so a
//! [`Model`] is `Send + Sync` and prediction takes `&self`.
//!
//! For a document with feature values `x`, class `c` scores `s[c] = sum_f x[f] * w[f][c] + b[c]`
//! and the probabilities are `softmax(s)`. Both model kinds share this form:
//! - naive Bayes: `x` = counts (or presence), `w = ln P(f | c)`, `b = ln P(c)`: exactly the joint
//!   log-likelihood that `linfa_bayes::MultinomialNb` computes, restricted to the features present;
//! - logistic regression: `x` = presence (times the stored IDF) scaled to unit L2 norm
//!   ([`crate::logistic::doc_values`]), `w` and `b` the fitted softmax weights and biases.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::artifact::{self, ArtifactError};
use crate::features::for_each_ngram;
use crate::hyperparameters::Hyperparameters;
use crate::payload::{ModelInfo, Payload};
use crate::tokenize::{tokenize, TOKENIZER_VERSION};

/// A class prediction for one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Index into [`Model::labels`].
    pub label: usize,
    /// Probability of `label`.
    pub confidence: f64,
    /// Posterior probability of every label, in label order; sums to 1.
    pub probabilities: Vec<f64>,
}

/// One feature's contribution to the predicted class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// The feature: a token, or tokens joined by a space for an n-gram.
    pub token: String,
    /// Its value times `w[f][predicted] - mean_c w[f][c]` (for naive Bayes `w = ln P(f | c)`):
    /// positive pushes towards the predicted class.
    pub weight: f64,
}

/// A prediction with the evidence behind it (for the debug variant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The prediction itself.
    pub prediction: Prediction,
    /// The normalised tokens of the text.
    pub tokens: Vec<String>,
    /// The in-vocabulary features that contributed most to the predicted class, strongest first.
    pub top_features: Vec<Feature>,
}

/// A trained classifier ready to serve.
#[derive(Debug, Clone)]
pub struct Model {
    payload: Payload,
    index: HashMap<String, u32>,
    version: String,
}

impl Model {
    /// Builds a model from its payload, checking that its parts fit together.
    pub(crate) fn from_payload(payload: Payload, version: String) -> Result<Self, ArtifactError> {
        let classes = payload.labels.len();
        let invalid = |m: String| Err(ArtifactError::Invalid(m));
        if payload.info.tokenizer_version != TOKENIZER_VERSION {
            return Err(ArtifactError::IncompatibleTokenizer {
                found: payload.info.tokenizer_version,
                supported: TOKENIZER_VERSION,
            });
        }
        if classes == 0 {
            return invalid("no labels".into());
        }
        if payload.log_prior.len() != classes {
            return invalid(format!(
                "{} priors for {classes} labels",
                payload.log_prior.len()
            ));
        }
        if payload.feature_log_prob.len() != payload.vocabulary.len() * classes {
            return invalid(format!(
                "{} weights for {} features x {classes} labels",
                payload.feature_log_prob.len(),
                payload.vocabulary.len()
            ));
        }
        if !payload
            .log_prior
            .iter()
            .chain(&payload.feature_log_prob)
            .all(|w| w.is_finite())
        {
            return invalid("non-finite weight".into());
        }
        if payload.info.hyperparameters.features().ngram_max == 0 {
            return invalid("ngram_max is 0".into());
        }
        let idf_len = if payload.has_idf() {
            payload.vocabulary.len()
        } else {
            0
        };
        if payload.idf.len() != idf_len {
            return invalid(format!(
                "{} IDF weights, expected {idf_len}",
                payload.idf.len()
            ));
        }
        if !payload.idf.iter().all(|w| w.is_finite() && *w > 0.0) {
            return invalid("IDF weight not positive and finite".into());
        }
        let mut index = HashMap::with_capacity(payload.vocabulary.len());
        for (i, feature) in payload.vocabulary.iter().enumerate() {
            if index.insert(feature.clone(), i as u32).is_some() {
                return invalid(format!("duplicate feature {feature:?}"));
            }
        }
        Ok(Self {
            payload,
            index,
            version,
        })
    }

    /// Reads and validates an artifact file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ArtifactError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }

    /// Decodes and validates an artifact held in memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ArtifactError> {
        let (payload, version) = artifact::decode(bytes)?;
        Self::from_payload(payload, version)
    }

    /// The artifact bytes (deterministic: the same model always gives the same bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        artifact::encode(&self.payload).expect("a validated model's tensors fit their shapes")
    }

    /// Writes the artifact to `path` (via a temporary file and a rename, so a reader never sees
    /// half a file).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ArtifactError> {
        let path = path.as_ref();
        let io = |source| ArtifactError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Label names, sorted (index = [`Prediction::label`]).
    pub fn labels(&self) -> &[String] {
        &self.payload.labels
    }

    /// Content-derived version: the first 12 hex digits of the artifact file's sha256.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Training metadata: format version, data sha256, hyperparameters, metrics.
    pub fn info(&self) -> &ModelInfo {
        &self.payload.info
    }

    /// The feature vocabulary, sorted.
    pub fn vocabulary(&self) -> &[String] {
        &self.payload.vocabulary
    }

    /// Classifies one text. Any UTF-8 input is accepted; text without known features gets the
    /// prior.
    pub fn predict(&self, text: &str) -> Prediction {
        self.predict_tokens(&tokenize(text))
    }

    /// Classifies already tokenised text.
    pub fn predict_tokens(&self, tokens: &[String]) -> Prediction {
        let counts = self.feature_counts(tokens);
        self.prediction_from_counts(&counts)
    }

    /// Classifies one text and names the features that pushed hardest towards the result.
    pub fn explain(&self, text: &str, top_k: usize) -> Explanation {
        let tokens = tokenize(text);
        let counts = self.feature_counts(&tokens);
        let prediction = self.prediction_from_counts(&counts);
        let classes = self.payload.labels.len();
        let c = prediction.label;
        let mut features: Vec<Feature> = counts
            .iter()
            .map(|&(f, x)| {
                let row = self.row(f);
                let mean = row.iter().sum::<f64>() / classes as f64;
                Feature {
                    token: self.payload.vocabulary[f as usize].clone(),
                    weight: x * (row[c] - mean),
                }
            })
            .collect();
        features.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then_with(|| a.token.cmp(&b.token))
        });
        features.truncate(top_k);
        Explanation {
            prediction,
            tokens,
            top_features: features,
        }
    }

    /// Score of every class before the softmax (see the module doc): the joint log-likelihood for
    /// naive Bayes, `W x + b` for logistic regression.
    pub fn joint_log_likelihood(&self, tokens: &[String]) -> Vec<f64> {
        self.jll(&self.feature_counts(tokens))
    }

    fn row(&self, feature: u32) -> &[f64] {
        let classes = self.payload.labels.len();
        let start = feature as usize * classes;
        &self.payload.feature_log_prob[start..start + classes]
    }

    /// (feature index, value) for the in-vocabulary n-grams of `tokens`, sorted by index so the
    /// sum runs in vocabulary order like linfa's dense dot product: counts (or presence) for naive
    /// Bayes, [`crate::logistic::doc_values`] for logistic regression.
    fn feature_counts(&self, tokens: &[String]) -> Vec<(u32, f64)> {
        let mut hits: Vec<u32> = Vec::with_capacity(tokens.len() * 2);
        let mut buf = String::new();
        let params = &self.payload.info.hyperparameters;
        for_each_ngram(tokens, params.features().ngram_max, &mut buf, |g| {
            if let Some(&i) = self.index.get(g) {
                hits.push(i);
            }
        });
        hits.sort_unstable();
        let binary = match params {
            Hyperparameters::Logistic(_) => {
                hits.dedup();
                return crate::logistic::doc_values(&hits, &self.payload.idf);
            }
            Hyperparameters::NaiveBayes(p) => p.binary,
        };
        let mut counts: Vec<(u32, f64)> = Vec::with_capacity(hits.len());
        for i in hits {
            match counts.last_mut() {
                Some((last, x)) if *last == i => {
                    if !binary {
                        *x += 1.0;
                    }
                }
                _ => counts.push((i, 1.0)),
            }
        }
        counts
    }

    fn jll(&self, counts: &[(u32, f64)]) -> Vec<f64> {
        let mut dot = vec![0.0; self.payload.labels.len()];
        for &(f, x) in counts {
            for (acc, w) in dot.iter_mut().zip(self.row(f)) {
                *acc += x * w;
            }
        }
        // linfa adds the log prior after the dot product; keep that order.
        for (acc, p) in dot.iter_mut().zip(&self.payload.log_prior) {
            *acc += p;
        }
        dot
    }

    fn prediction_from_counts(&self, counts: &[(u32, f64)]) -> Prediction {
        let jll = self.jll(counts);
        let (label, max) = jll
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (i, &v)| {
                if v > best.1 {
                    (i, v)
                } else {
                    best
                }
            });
        // Softmax shifted by the maximum, so exp never overflows and the best class gets exp(0).
        let mut probabilities: Vec<f64> = jll.iter().map(|&v| (v - max).exp()).collect();
        let total: f64 = probabilities.iter().sum();
        for p in &mut probabilities {
            *p /= total;
        }
        Prediction {
            label,
            confidence: probabilities[label],
            probabilities,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> Payload {
        Payload::example()
    }

    fn load(p: &Payload) -> Result<Model, ArtifactError> {
        Model::from_bytes(&artifact::encode(p)?)
    }

    #[test]
    fn a_consistent_payload_loads_and_predicts() {
        let model = load(&payload()).unwrap();
        assert_eq!(model.predict("so good").label, 0);
        assert_eq!(model.predict("sad sad").label, 1);
        let e = model.explain("good but sad and good", 1);
        assert_eq!(e.top_features.len(), 1);
    }

    #[test]
    fn inconsistent_payloads_are_invalid() {
        type Breakage = (&'static str, fn(&mut Payload));
        let cases: [Breakage; 6] = [
            ("priors", |p| {
                p.log_prior.pop();
            }),
            ("weights", |p| p.feature_log_prob.push(0.0)),
            ("non-finite", |p| p.feature_log_prob[0] = f64::NAN),
            ("duplicate", |p| p.vocabulary[1] = "good".into()),
            ("ngram_max", |p| {
                p.info.hyperparameters.features_mut().ngram_max = 0
            }),
            ("idf", |p| p.idf = vec![1.0, 1.0]),
        ];
        for (what, break_it) in cases {
            let mut p = payload();
            break_it(&mut p);
            // The serving model's own checks, whatever the file format would let through.
            let err = Model::from_payload(p, String::new()).unwrap_err();
            assert!(matches!(err, ArtifactError::Invalid(_)), "{what}: {err}");
            assert!(err.to_string().contains("invalid"), "{err}");
        }
    }

    #[test]
    fn another_tokenizer_version_is_incompatible() {
        let mut p = payload();
        p.info.tokenizer_version = TOKENIZER_VERSION + 1;
        let err = load(&p).unwrap_err();
        assert!(
            matches!(err, ArtifactError::IncompatibleTokenizer { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("tokenizer"), "{err}");
    }
}
