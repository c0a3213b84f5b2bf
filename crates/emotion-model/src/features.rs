//! Features: token n-grams, the vocabulary chosen at training time, and the hyperparameters that
//! define both.
//!
//! An n-gram feature is its tokens joined by one space, exactly as
//! `linfa_preprocessing::CountVectorizer` joins them, so both count the same things.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// Everything that decides the model besides the data. Stored in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Additive (Laplace/Lidstone) smoothing of `MultinomialNb`.
    pub alpha: f64,
    /// Longest n-gram used as a feature (1 = unigrams, 2 = unigrams and bigrams).
    pub ngram_max: usize,
    /// Minimum number of training documents a feature must occur in.
    pub min_df: usize,
    /// Vocabulary cap: keep the features with the highest document frequency.
    pub max_features: usize,
    /// Count each feature at most once per document (binary multinomial NB).
    pub binary: bool,
}

impl Default for Hyperparameters {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            ngram_max: 2,
            min_df: 2,
            max_features: 20_000,
            binary: true,
        }
    }
}

/// Calls `f` with every n-gram of `tokens` (n = 1..=`ngram_max`), position by position
/// (unigram, then the bigram starting there, ...), the order `CountVectorizer` uses.
/// `buf` is reused so that only the caller decides whether to allocate.
pub fn for_each_ngram(
    tokens: &[String],
    ngram_max: usize,
    buf: &mut String,
    mut f: impl FnMut(&str),
) {
    for i in 0..tokens.len() {
        f(&tokens[i]);
        if ngram_max >= 2 {
            buf.clear();
            buf.push_str(&tokens[i]);
            for token in tokens.iter().skip(i + 1).take(ngram_max - 1) {
                buf.push(' ');
                buf.push_str(token);
                f(buf);
            }
        }
    }
}

/// Chooses the vocabulary from tokenised training documents: features present in at least
/// `min_df` documents, the `max_features` most frequent (ties broken by the feature text), returned
/// sorted by text. Deterministic for the same input, unlike `CountVectorizer`'s HashMap order.
pub fn select_vocabulary(docs: &[Vec<String>], params: &Hyperparameters) -> Vec<String> {
    let mut df: HashMap<String, usize> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut buf = String::new();
    for doc in docs {
        seen.clear();
        for_each_ngram(doc, params.ngram_max, &mut buf, |g| {
            if !seen.contains(g) {
                seen.insert(g.to_string());
            }
        });
        for g in seen.drain() {
            *df.entry(g).or_insert(0) += 1;
        }
    }
    let mut ranked: Vec<(String, usize)> = df
        .into_iter()
        .filter(|&(_, n)| n >= params.min_df.max(1))
        .collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(params.max_features);
    let mut vocabulary: Vec<String> = ranked.into_iter().map(|(g, _)| g).collect();
    vocabulary.sort_unstable();
    vocabulary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn ngrams_in_countvectorizer_order() {
        let mut out = Vec::new();
        for_each_ngram(&doc("a b c"), 2, &mut String::new(), |g| {
            out.push(g.to_string())
        });
        assert_eq!(out, ["a", "a b", "b", "b c", "c"]);
        out.clear();
        for_each_ngram(&doc("a b"), 1, &mut String::new(), |g| {
            out.push(g.to_string())
        });
        assert_eq!(out, ["a", "b"]);
    }

    #[test]
    fn vocabulary_respects_min_df_cap_and_is_sorted() {
        let docs = [doc("x y"), doc("y z"), doc("y x"), doc("w w w")];
        let params = Hyperparameters {
            ngram_max: 1,
            min_df: 2,
            max_features: 10,
            ..Hyperparameters::default()
        };
        // "w" occurs 3 times but in one document only.
        assert_eq!(select_vocabulary(&docs, &params), ["x", "y"]);
        let capped = Hyperparameters {
            max_features: 1,
            ..params
        };
        assert_eq!(select_vocabulary(&docs, &capped), ["y"]);
    }
}
