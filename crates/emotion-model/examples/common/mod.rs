//! What both sweep examples share: argument lists, the (cross-validation) split, label indices,
//! tokenized documents and featurization onto a vocabulary.

use std::collections::HashMap;
use std::path::Path;

use emotion_model::data::{load_csv, split};
use emotion_model::features::for_each_ngram;
use emotion_model::tokenize;

/// Parses a comma-separated flag value (`--alpha 0.1,0.5`).
pub fn list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',')
        .map(|v| v.parse().ok().expect("list value"))
        .collect()
}

/// The rows a sweep fits on and scores on, tokenized once for every setting.
pub struct Prepared {
    /// Sorted label names.
    pub labels: Vec<String>,
    /// Label index of each fitting row.
    pub y_train: Vec<usize>,
    /// Label index of each scored row.
    pub y_test: Vec<usize>,
    /// Tokens of each fitting row.
    pub tok_train: Vec<Vec<String>>,
    /// Tokens of each scored row.
    pub tok_test: Vec<Vec<String>>,
    /// Index of the majority class (`neutral`), for the baseline.
    pub majority: usize,
}

/// Loads the data and splits it. Without `fold` it fits on the training rows and scores on the
/// held-out rows. With `fold = Some(k)` (k = 1..=4) it never looks at the held-out rows: model
/// selection validates on the training rows with `tweet_id % 5 == k` (about 8,000) and fits on
/// the remaining training rows.
pub fn prepare(fold: Option<u64>) -> Prepared {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/tweet_emotions.csv");
    let dataset = load_csv(&data).expect("training data");
    let (mut train, mut test) = split(&dataset.examples);
    if let Some(k) = fold {
        assert!((1..=4).contains(&k), "--fold must be 1, 2, 3 or 4");
        let (fit, val): (Vec<_>, Vec<_>) = train.into_iter().partition(|e| e.tweet_id % 5 != k);
        train = fit;
        test = val;
    }
    let mut labels: Vec<String> = dataset.examples.iter().map(|e| e.label.clone()).collect();
    labels.sort_unstable();
    labels.dedup();
    let index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let y_train = train.iter().map(|e| index[e.label.as_str()]).collect();
    let y_test = test.iter().map(|e| index[e.label.as_str()]).collect();
    let tok_train = train.iter().map(|e| tokenize(&e.text)).collect();
    let tok_test = test.iter().map(|e| tokenize(&e.text)).collect();
    let majority = index["neutral"];
    Prepared {
        labels,
        y_train,
        y_test,
        tok_train,
        tok_test,
        majority,
    }
}

/// Each document as the sorted feature indices of its n-grams found in `vocab` (repeats kept,
/// so a caller can count or deduplicate).
pub fn featurize(docs: &[Vec<String>], vocab: &[String], ngram_max: usize) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = vocab
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    let mut buf = String::new();
    docs.iter()
        .map(|d| {
            let mut v = Vec::new();
            for_each_ngram(d, ngram_max, &mut buf, |g| {
                if let Some(&i) = index.get(g) {
                    v.push(i);
                }
            });
            v.sort_unstable();
            v
        })
        .collect()
}
