//! Measures the latency distribution of single in-process predictions (criterion gives no p99).
//!
//! ```text
//! cargo run --release -p emotion-model --example latency -- [--model model/emotion-model.bin] [--n 100000]
//! ```
//! Without `--model` it trains with the default hyperparameters first. Predictions cycle through
//! the held-out texts (tweet_id % 5 == 0); each is timed on its own with `Instant`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use emotion_model::data::{is_held_out, load_csv};
use emotion_model::{train, Hyperparameters, Model};

fn main() {
    let mut model_path: Option<PathBuf> = None;
    let mut n: usize = 100_000;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().expect("flag value");
        match flag.as_str() {
            "--model" => model_path = Some(value.into()),
            "--n" => n = value.parse().expect("--n integer"),
            other => panic!("unknown flag {other}"),
        }
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/tweet_emotions.csv");
    let dataset = load_csv(&data).expect("training data");
    let model = match model_path {
        Some(path) => Model::load(&path).expect("model artifact"),
        None => {
            train(&dataset, &Hyperparameters::default())
                .expect("training")
                .model
        }
    };
    let texts: Vec<&str> = dataset
        .examples
        .iter()
        .filter(|e| is_held_out(e.tweet_id))
        .map(|e| e.text.as_str())
        .collect();

    // Warm caches and the allocator before measuring.
    for t in texts.iter().cycle().take(20_000) {
        black_box(model.predict(t));
    }
    let mut samples = Vec::with_capacity(n);
    let all = Instant::now();
    for t in texts.iter().cycle().take(n) {
        let start = Instant::now();
        black_box(model.predict(black_box(t)));
        samples.push(start.elapsed().as_nanos() as u64);
    }
    let wall = all.elapsed();
    samples.sort_unstable();
    let q =
        |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)] as f64 / 1e3;
    println!(
        "model {}: {n} single predictions over {} held-out texts",
        model.version(),
        texts.len()
    );
    println!(
        "latency us: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        q(0.50),
        q(0.90),
        q(0.99),
        q(0.999),
        *samples.last().unwrap() as f64 / 1e3
    );
    println!(
        "throughput: {:.0} predictions/s on one thread",
        n as f64 / wall.as_secs_f64()
    );
}
