//! Hyperparameter sweep for the logistic-regression model kind, for EXPERIMENTS.md.
//!
//! ```text
//! cargo run --release -p emotion-model --example logreg_sweep -- [--ngram 2] [--min-df 2]
//!     [--max-features 3000,5000] [--l2 1e-4,1e-3] [--idf false,true] [--iterations 200]
//!     [--fold 1..4]
//! ```
//! With `--fold k` (k = 1..=4) it never looks at the held-out rows: it fits on the training rows
//! with `tweet_id % 5 != k` and scores on those with `tweet_id % 5 == k`;
//! `SWEEP=logreg_sweep scripts/cv.sh ...` averages the four folds. It uses the crate's own
//! `logistic` module, the same code `emotion-train` fits with.

use std::collections::HashMap;
use std::path::Path;

use emotion_model::data::{load_csv, split};
use emotion_model::features::{for_each_ngram, select_vocabulary};
use emotion_model::logistic::{doc_values, fit, idf, Csr};
use emotion_model::metrics::evaluate;
use emotion_model::{tokenize, Hyperparameters};

fn list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',')
        .map(|v| v.parse().ok().expect("list value"))
        .collect()
}

fn main() {
    let mut ngrams = vec![2usize];
    let mut min_dfs = vec![2usize];
    let mut caps = vec![3_000usize];
    let mut l2s = vec![1e-4f64, 1e-3];
    let mut idfs = vec![false, true];
    let mut iterations = vec![200usize];
    let mut fold: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let v = args.next().expect("flag value");
        match flag.as_str() {
            "--ngram" => ngrams = list(&v),
            "--min-df" => min_dfs = list(&v),
            "--max-features" => caps = list(&v),
            "--l2" => l2s = list(&v),
            "--idf" => idfs = list(&v),
            "--iterations" => iterations = list(&v),
            "--fold" => fold = Some(v.parse().expect("--fold 1..=4")),
            other => panic!("unknown flag {other}"),
        }
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/tweet_emotions.csv");
    let dataset = load_csv(&data).expect("training data");
    let (mut train, mut test) = split(&dataset.examples);
    if let Some(k) = fold {
        assert!((1..=4).contains(&k), "--fold must be 1, 2, 3 or 4");
        let (fit_rows, val): (Vec<_>, Vec<_>) =
            train.into_iter().partition(|e| e.tweet_id % 5 != k);
        train = fit_rows;
        test = val;
    }
    let mut labels: Vec<String> = dataset.examples.iter().map(|e| e.label.clone()).collect();
    labels.sort_unstable();
    labels.dedup();
    let li: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let y_train: Vec<usize> = train.iter().map(|e| li[e.label.as_str()]).collect();
    let y_test: Vec<usize> = test.iter().map(|e| li[e.label.as_str()]).collect();
    let tok_train: Vec<Vec<String>> = train.iter().map(|e| tokenize(&e.text)).collect();
    let tok_test: Vec<Vec<String>> = test.iter().map(|e| tokenize(&e.text)).collect();
    let classes = labels.len();
    let majority = li["neutral"];
    println!("ngram_max min_df max_features l2 idf iterations | vocab | accuracy macro_f1");
    for &ngram_max in &ngrams {
        for &min_df in &min_dfs {
            for &max_features in &caps {
                let params = Hyperparameters {
                    ngram_max,
                    min_df,
                    max_features,
                    ..Hyperparameters::default()
                };
                let vocab = select_vocabulary(&tok_train, &y_train, &params);
                let index: HashMap<&str, u32> = vocab
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.as_str(), i as u32))
                    .collect();
                let featurize = |docs: &[Vec<String>]| -> Vec<Vec<u32>> {
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
                            v.dedup();
                            v
                        })
                        .collect()
                };
                let f_train = featurize(&tok_train);
                let f_test = featurize(&tok_test);
                for &use_idf in &idfs {
                    let weights = if use_idf {
                        idf(&f_train, vocab.len())
                    } else {
                        Vec::new()
                    };
                    let matrix = |docs: &[Vec<u32>]| {
                        let mut x = Csr::new();
                        for d in docs {
                            x.push_row(&doc_values(d, &weights));
                        }
                        x
                    };
                    let x_train = matrix(&f_train);
                    let x_test = matrix(&f_test);
                    for &l2 in &l2s {
                        for &iters in &iterations {
                            let fitted = fit(&x_train, &y_train, classes, vocab.len(), l2, iters);
                            let pred = fitted.predict(&x_test);
                            let e = evaluate(&labels, &y_test, &pred, majority);
                            println!(
                                "{ngram_max} {min_df} {max_features} {l2} {use_idf} {iters} | {} | {:.4} {:.4}",
                                vocab.len(),
                                e.accuracy,
                                e.macro_f1
                            );
                        }
                    }
                }
            }
        }
    }
}
