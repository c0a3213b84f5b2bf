//! Offline scoring: classifies sentences with a model artifact, no server involved.
//!
//! ```text
//! emotion-predict --model model/emotion-model.bin < sentences.jsonl > labels.txt
//! ```
//!
//! Reads one JSON string per line (so a sentence may hold any character, newlines included) and
//! writes one predicted label per line, in order. The experiment test compares what the gateway's
//! arms answered with these offline answers of the same artifacts on the same rows.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use emotion_model::Model;

const USAGE: &str = "usage: emotion-predict --model <artifact> < sentences.jsonl";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("emotion-predict: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let model_path = match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--model"), Some(path), None) => PathBuf::from(path),
        _ => return Err(USAGE.to_owned()),
    };
    let model = Model::load(&model_path).map_err(|e| format!("{}: {e}", model_path.display()))?;
    let labels = model.labels();
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    for (n, line) in stdin.lines().enumerate() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        let sentence: String = serde_json::from_str(&line)
            .map_err(|e| format!("line {}: not a JSON string: {e}", n + 1))?;
        let label = &labels[model.predict(&sentence).label];
        writeln!(out, "{label}").map_err(|e| format!("stdout: {e}"))?;
    }
    out.flush().map_err(|e| format!("stdout: {e}"))
}
