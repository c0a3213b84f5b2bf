//! Features: token n-grams and the vocabulary chosen at training time (by the
//! [`Featurization`] hyperparameters).
//!
//! An n-gram feature is its tokens joined by one space, exactly as
//! `linfa_preprocessing::CountVectorizer` joins them, so both count the same things.

use std::collections::{HashMap, HashSet};

use crate::hyperparameters::{Featurization, Selection};

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

/// Chooses the vocabulary from tokenised training documents and their class indices: features
/// present in at least `min_df` documents, the `max_features` best by [`Selection`] (ties broken
/// by the feature text), returned sorted by text. Deterministic for the same input, unlike
/// `CountVectorizer`'s HashMap order.
pub fn select_vocabulary(
    docs: &[Vec<String>],
    classes: &[usize],
    params: &Featurization,
) -> Vec<String> {
    let n_classes = classes.iter().max().map_or(0, |&c| c + 1);
    // Per feature: documents containing it, per class.
    let mut df: HashMap<String, Vec<u32>> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut buf = String::new();
    for (doc, &class) in docs.iter().zip(classes) {
        seen.clear();
        for_each_ngram(doc, params.ngram_max, &mut buf, |g| {
            if !seen.contains(g) {
                seen.insert(g.to_string());
            }
        });
        for g in seen.drain() {
            df.entry(g).or_insert_with(|| vec![0; n_classes])[class] += 1;
        }
    }
    let mut class_docs = vec![0f64; n_classes];
    for &c in classes {
        class_docs[c] += 1.0;
    }
    let n = classes.len() as f64;
    let mut ranked: Vec<(String, f64)> = df
        .into_iter()
        .filter_map(|(g, per_class)| {
            let total: u32 = per_class.iter().sum();
            if (total as usize) < params.min_df.max(1) {
                return None;
            }
            let score = match params.selection {
                Selection::DocumentFrequency => total as f64,
                Selection::Chi2 => per_class
                    .iter()
                    .zip(&class_docs)
                    .map(|(&a, &nc)| chi2(a as f64, total as f64, nc, n))
                    .fold(0.0, f64::max),
            };
            Some((g, score))
        })
        .collect();
    ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(params.max_features);
    let mut vocabulary: Vec<String> = ranked.into_iter().map(|(g, _)| g).collect();
    vocabulary.sort_unstable();
    vocabulary
}

/// Chi-squared statistic of the 2x2 table (feature present?, in class?), from `a` documents of
/// the class with the feature, `with` documents with it, `in_class` documents in the class, `n` in
/// all.
fn chi2(a: f64, with: f64, in_class: f64, n: f64) -> f64 {
    let b = with - a;
    let c = in_class - a;
    let d = n - with - c;
    let den = with * (n - with) * in_class * (n - in_class);
    if den == 0.0 {
        0.0
    } else {
        n * (a * d - b * c).powi(2) / den
    }
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
        let params = Featurization {
            ngram_max: 1,
            min_df: 2,
            max_features: 10,
            selection: Selection::DocumentFrequency,
        };
        // "w" occurs 3 times but in one document only.
        let classes = [0, 1, 0, 1];
        assert_eq!(select_vocabulary(&docs, &classes, &params), ["x", "y"]);
        let capped = Featurization {
            max_features: 1,
            ..params
        };
        assert_eq!(select_vocabulary(&docs, &classes, &capped), ["y"]);
        // By chi2, "x" (only in class 0) beats "y" (in every document).
        let chi = Featurization {
            selection: Selection::Chi2,
            ..capped
        };
        assert_eq!(select_vocabulary(&docs, &classes, &chi), ["x"]);
    }
}
