//! `emotion-train`: trains the emotion classifier and writes the artifact, model card and metrics.
//!
//! ```text
//! emotion-train --data data/tweet_emotions.csv --out model/
//!     [--model nb|logistic] [--l2 F] [--idf true|false] [--iterations N]   (logistic)
//!     [--alpha 3] [--binary true]                                           (naive Bayes)
//!     [--ngram-max 2] [--min-df 2] [--max-features 10000] [--selection df|chi2]
//!     (defaults: `Hyperparameters::default()`, see EXPERIMENTS.md)
//! ```
//!
//! linfa-bayes prints a `dbg!` of each fitted class histogram to stderr; our own output goes to
//! stdout, so `2>/dev/null` silences linfa without hiding the summary (errors still exit non-zero).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use emotion_model::card::{metrics_json, model_card};
use emotion_model::data::load_csv;
use emotion_model::{train, Hyperparameters};

struct Args {
    data: PathBuf,
    out: PathBuf,
    params: Hyperparameters,
}

const USAGE: &str = "usage: emotion-train --data <csv> --out <dir> [--alpha F] [--ngram-max N] \
[--min-df N] [--max-features N] [--binary true|false] [--selection df|chi2] \
[--model nb|logistic] [--l2 F] [--idf true|false] [--iterations N]";

fn parse_args() -> Result<Args, String> {
    let mut data = None;
    let mut out = None;
    let mut params = Hyperparameters::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |what: &str| format!("{flag} {value:?}: expected {what}");
        match flag.as_str() {
            "--data" => data = Some(PathBuf::from(&value)),
            "--out" => out = Some(PathBuf::from(&value)),
            "--alpha" => params.alpha = value.parse().map_err(|_| bad("a number"))?,
            "--ngram-max" => params.ngram_max = value.parse().map_err(|_| bad("an integer"))?,
            "--min-df" => params.min_df = value.parse().map_err(|_| bad("an integer"))?,
            "--max-features" => {
                params.max_features = value.parse().map_err(|_| bad("an integer"))?
            }
            "--binary" => params.binary = value.parse().map_err(|_| bad("true or false"))?,
            "--selection" => params.selection = value.parse().map_err(|_| bad("df or chi2"))?,
            "--model" => params.model = value.parse().map_err(|_| bad("nb or logistic"))?,
            "--l2" => params.l2 = value.parse().map_err(|_| bad("a number"))?,
            "--idf" => params.idf = value.parse().map_err(|_| bad("true or false"))?,
            "--iterations" => params.iterations = value.parse().map_err(|_| bad("an integer"))?,
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    Ok(Args {
        data: data.ok_or_else(|| format!("--data is required\n{USAGE}"))?,
        out: out.ok_or_else(|| format!("--out is required\n{USAGE}"))?,
        params,
    })
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
