//! Hyperparameter sweep on the fixed split, for EXPERIMENTS.md.
//!
//! ```text
//! cargo run --release -p emotion-model --example sweep -- [--ngram 1,2] [--min-df 1,2,3]
//!     [--max-features 2000,5000,20000] [--alpha 0.1,0.5,1] [--binary false,true]
//!     [--weight 0.7,1] [--idf false,true] [--selection df,chi2] [--drop-top 0,10] [--fold 1..4]
//!     [--predict-scale 1.0]
//! ```
//! With `--fold k` (k = 1..=4) it never looks at the held-out rows: it fits on the training rows
//! with `tweet_id % 5 != k` and scores on those with `tweet_id % 5 == k` (4-fold cross-validation
//! over the training rows; `scripts/cv.sh` averages the folds).
//!
//! To try many settings quickly it fits multinomial NB natively on sparse counts with linfa's
//! formulas (`ln P(f|c) = ln(n_fc + a) - ln(sum_f (n_fc + a))`, prior = class share); the chosen
//! setting is then confirmed with `emotion-train`, whose numbers are the ones reported.

mod common;

use common::{featurize, list, prepare, Prepared};
use emotion_model::features::select_vocabulary;
use emotion_model::metrics::evaluate;
use emotion_model::{Featurization, Selection};

fn main() {
    let mut ngrams = vec![1usize, 2];
    let mut min_dfs = vec![1usize, 2, 3];
    let mut caps = vec![2_000usize, 5_000, 10_000, 20_000, 1_000_000];
    let mut alphas = vec![0.1f64, 0.3, 0.5, 1.0];
    let mut binaries = vec![false, true];
    let mut weights = vec![1.0f64];
    let mut idfs = vec![false];
    let mut fold: Option<u64> = None;
    let mut drop_tops = vec![0usize];
    // Multiplies the likelihood sum at prediction time only (a prior/likelihood trade-off).
    let mut predict_scale = 1.0f64;
    let mut selections = vec![Selection::DocumentFrequency];
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let v = args.next().expect("flag value");
        match flag.as_str() {
            "--ngram" => ngrams = list(&v),
            "--min-df" => min_dfs = list(&v),
            "--max-features" => caps = list(&v),
            "--alpha" => alphas = list(&v),
            "--binary" => binaries = list(&v),
            "--weight" => weights = list(&v),
            "--idf" => idfs = list(&v),
            "--selection" => selections = list(&v),
            "--drop-top" => drop_tops = list(&v),
            "--predict-scale" => predict_scale = v.parse().expect("--predict-scale number"),
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
    println!("ngram_max min_df max_features alpha binary weight idf selection drop_top | vocab | accuracy macro_f1");
    for &ngram_max in &ngrams {
        for &min_df in &min_dfs {
            for &max_features in &caps {
                for &selection in &selections {
                    let params = Featurization {
                        ngram_max,
                        min_df,
                        max_features,
                        selection,
                    };
                    for &drop_top in &drop_tops {
                        let mut vocab = select_vocabulary(&tok_train, &y_train, &params);
                        if drop_top > 0 {
                            // Stop-word experiment: drop the `drop_top` features in most documents.
                            let all = select_vocabulary(
                                &tok_train,
                                &y_train,
                                &Featurization {
                                    max_features: drop_top,
                                    ..params.clone()
                                },
                            );
                            vocab.retain(|f| all.binary_search(f).is_err());
                        }
                        let f_train = featurize(&tok_train, &vocab, ngram_max);
                        let f_test = featurize(&tok_test, &vocab, ngram_max);
                        let mut df = vec![0usize; vocab.len()];
                        for doc in &f_train {
                            let mut prev = usize::MAX;
                            for &f in doc {
                                if f != prev {
                                    df[f] += 1;
                                }
                                prev = f;
                            }
                        }
                        let n_docs = f_train.len() as f64;
                        for &binary in &binaries {
                            for &weight in &weights {
                                for &use_idf in &idfs {
                                    let value = |f: usize| -> f64 {
                                        if use_idf {
                                            weight
                                                * (((1.0 + n_docs) / (1.0 + df[f] as f64)).ln()
                                                    + 1.0)
                                        } else {
                                            weight
                                        }
                                    };
                                    let mut counts = vec![0.0f64; classes * vocab.len()];
                                    let mut class_n = vec![0usize; classes];
                                    for (doc, &y) in f_train.iter().zip(&y_train) {
                                        class_n[y] += 1;
                                        let mut prev = usize::MAX;
                                        for &f in doc {
                                            if binary && f == prev {
                                                continue;
                                            }
                                            counts[y * vocab.len() + f] += value(f);
                                            prev = f;
                                        }
                                    }
                                    for &alpha in &alphas {
                                        let mut flp = vec![0.0; classes * vocab.len()];
                                        for c in 0..classes {
                                            let row =
                                                &counts[c * vocab.len()..(c + 1) * vocab.len()];
                                            let total: f64 = row.iter().map(|n| n + alpha).sum();
                                            for (f, n) in row.iter().enumerate() {
                                                flp[c * vocab.len() + f] =
                                                    (n + alpha).ln() - total.ln();
                                            }
                                        }
                                        let n_total: usize = class_n.iter().sum();
                                        let prior: Vec<f64> = class_n
                                            .iter()
                                            .map(|&n| (n as f64 / n_total as f64).ln())
                                            .collect();
                                        let pred: Vec<usize> = f_test
                                            .iter()
                                            .map(|doc| {
                                                let mut best = (0, f64::NEG_INFINITY);
                                                for c in 0..classes {
                                                    let mut s = 0.0;
                                                    let mut prev = usize::MAX;
                                                    for &f in doc {
                                                        if binary && f == prev {
                                                            continue;
                                                        }
                                                        s += value(f) * flp[c * vocab.len() + f];
                                                        prev = f;
                                                    }
                                                    s = s * predict_scale + prior[c];
                                                    if s > best.1 {
                                                        best = (c, s);
                                                    }
                                                }
                                                best.0
                                            })
                                            .collect();
                                        let e = evaluate(&labels, &y_test, &pred, majority);
                                        println!(
                            "{ngram_max} {min_df} {max_features} {alpha} {binary} {weight} {use_idf} {selection:?} drop{drop_top} | {} | {:.4} {:.4}",
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
        }
    }
}
