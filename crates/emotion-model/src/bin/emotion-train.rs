//! `emotion-train`: trains the emotion classifier and writes the artifact, model card and metrics.
//!
//! ```text
//! emotion-train --data data/tweet_emotions.csv --out model/
//!     [--model nb|logistic] [--l2 F] [--idf true|false] [--iterations N]   (logistic only)
//!     [--alpha 3] [--binary true]                                           (naive Bayes only)
//!     [--ngram-max 2] [--min-df 2] [--max-features 10000] [--selection df|chi2]
//!     (defaults: `Hyperparameters::default()`, see EXPERIMENTS.md)
//! ```
//!
//! A flag of the other family (`--alpha` without `--model nb`, `--l2` with it) is refused with
//! exit status 2, like any invalid argument: it would otherwise be silently ignored.
//!
//! linfa-bayes prints a `dbg!` of each fitted class histogram to stderr; our own output goes to
//! stdout, so `2>/dev/null` silences linfa without hiding the summary (errors still exit non-zero).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use emotion_model::card::{metrics_json, model_card};
use emotion_model::data::load_csv;
use emotion_model::{
    train, Featurization, Hyperparameters, LogisticParams, ModelKind, NaiveBayesParams,
};

struct Args {
    data: PathBuf,
    out: PathBuf,
    params: Hyperparameters,
}

const USAGE: &str = "usage: emotion-train --data <csv> --out <dir> [--model logistic|nb] \
[--ngram-max N] [--min-df N] [--max-features N] [--selection df|chi2] \
[--l2 F] [--idf true|false] [--iterations N] (logistic only) \
[--alpha F] [--binary true|false] (nb only)";

fn parse_args() -> Result<Args, String> {
    let mut data = None;
    let mut out = None;
    let mut flags: Vec<(String, String)> = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--data" => data = Some(PathBuf::from(&value)),
            "--out" => out = Some(PathBuf::from(&value)),
            _ => flags.push((flag, value)),
        }
    }
    // The family first, wherever --model stands: it decides which other flags are allowed.
    let mut kind = ModelKind::Logistic;
    for (flag, value) in flags.iter().filter(|(f, _)| f == "--model") {
        kind = value
            .parse()
            .map_err(|_| format!("{flag} {value:?}: expected nb or logistic"))?;
    }
    // The shared featurisation starts from the default model's whatever the family, as it always
    // has: `--model nb` alone keeps a 10,000-feature vocabulary (EXPERIMENTS.md passes
    // `--max-features 3000` for the cross-validated NB setting).
    let mut params = match kind {
        ModelKind::Logistic => Hyperparameters::Logistic(LogisticParams::default()),
        ModelKind::NaiveBayes => Hyperparameters::NaiveBayes(NaiveBayesParams {
            features: Featurization::default(),
            ..NaiveBayesParams::default()
        }),
    };
    for (flag, value) in &flags {
        apply(&mut params, flag, value)?;
    }
    Ok(Args {
        data: data.ok_or_else(|| format!("--data is required\n{USAGE}"))?,
        out: out.ok_or_else(|| format!("--out is required\n{USAGE}"))?,
        params,
    })
}

/// Sets one hyperparameter flag, refusing one that the chosen family does not have.
fn apply(params: &mut Hyperparameters, flag: &str, value: &str) -> Result<(), String> {
    let bad = |what: &str| format!("{flag} {value:?}: expected {what}");
    let kind = params.kind();
    let not_for = |family: &str, other: &str| {
        format!(
            "{flag} does not apply to the {kind} model: it is a {family} hyperparameter \
             (select that model with --model {other})\n{USAGE}"
        )
    };
    let f = params.features_mut();
    match flag {
        "--model" => {}
        "--ngram-max" => f.ngram_max = value.parse().map_err(|_| bad("an integer"))?,
        "--min-df" => f.min_df = value.parse().map_err(|_| bad("an integer"))?,
        "--max-features" => f.max_features = value.parse().map_err(|_| bad("an integer"))?,
        "--selection" => f.selection = value.parse().map_err(|_| bad("df or chi2"))?,
        "--alpha" | "--binary" => {
            let Hyperparameters::NaiveBayes(p) = params else {
                return Err(not_for("naive Bayes", "nb"));
            };
            if flag == "--alpha" {
                p.alpha = value.parse().map_err(|_| bad("a number"))?;
            } else {
                p.binary = value.parse().map_err(|_| bad("true or false"))?;
            }
        }
        "--l2" | "--idf" | "--iterations" => {
            let Hyperparameters::Logistic(p) = params else {
                return Err(not_for("logistic regression", "logistic"));
            };
            match flag {
                "--l2" => p.l2 = value.parse().map_err(|_| bad("a number"))?,
                "--idf" => p.idf = value.parse().map_err(|_| bad("true or false"))?,
                _ => p.iterations = value.parse().map_err(|_| bad("an integer"))?,
            }
        }
        _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
    }
    Ok(())
}

fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let dataset = load_csv(&args.data).map_err(|e| e.to_string())?;
    let trained = train(&dataset, &args.params).map_err(|e| e.to_string())?;
    let train_seconds = started.elapsed().as_secs_f64();
    let model = &trained.model;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let artifact = args.out.join("emotion-model.bin");
    model.save(&artifact).map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("MODEL_CARD.md", model_card(model))?;
    write("metrics.json", metrics_json(model))?;
    let m = &model.info().metrics;
    let size = std::fs::metadata(&artifact).map(|m| m.len()).unwrap_or(0);
    println!(
        "model {} ({} features, {} bytes) -> {}",
        model.version(),
        model.info().vocabulary_size,
        size,
        artifact.display()
    );
    println!(
        "held-out ({} rows): accuracy {:.4}, macro-F1 {:.4} (majority baseline {:.4} / {:.4})",
        m.rows, m.accuracy, m.macro_f1, m.baseline.accuracy, m.baseline.macro_f1
    );
    println!("trained and evaluated in {train_seconds:.2} s");
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("emotion-train: {message}");
            ExitCode::FAILURE
        }
    }
}
