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

mod common;

use common::{featurize, list, prepare, Prepared};
use emotion_model::features::select_vocabulary;
use emotion_model::logistic::{doc_values, fit, idf, Csr};
use emotion_model::metrics::evaluate;
use emotion_model::Featurization;

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
    let Prepared {
        labels,
        y_train,
        y_test,
        tok_train,
        tok_test,
        majority,
    } = prepare(fold);
    let classes = labels.len();
    println!("ngram_max min_df max_features l2 idf iterations | vocab | accuracy macro_f1");
    for &ngram_max in &ngrams {
        for &min_df in &min_dfs {
            for &max_features in &caps {
                let params = Featurization {
                    ngram_max,
                    min_df,
                    max_features,
                    ..Featurization::default()
                };
                let vocab = select_vocabulary(&tok_train, &y_train, &params);
                // The logistic module takes u32 feature indices, each at most once per document.
                let distinct = |docs: &[Vec<String>]| -> Vec<Vec<u32>> {
                    featurize(docs, &vocab, ngram_max)
                        .into_iter()
                        .map(|mut v| {
                            v.dedup();
                            v.into_iter().map(|i| i as u32).collect()
                        })
                        .collect()
                };
                let f_train = distinct(&tok_train);
                let f_test = distinct(&tok_test);
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
