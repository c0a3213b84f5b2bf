//! Criterion benchmarks of single and batch prediction on held-out texts.
//!
//! `cargo bench -p emotion-model --bench predict`. Criterion reports means and medians; the p99
//! comes from `cargo run --release -p emotion-model --example latency`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_main, BatchSize, Criterion, Throughput};
use emotion_model::data::load_csv;
use emotion_model::{train, Hyperparameters};

fn bench(c: &mut Criterion) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/tweet_emotions.csv");
    let dataset = load_csv(&data).expect("training data");
    let trained = train(&dataset, &Hyperparameters::default()).expect("training");
    let model = trained.model;
    let texts: Vec<&str> = trained.test_rows.iter().map(|e| e.text.as_str()).collect();

    let mut group = c.benchmark_group("predict");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("single", |b| {
        b.iter(|| {
            i = (i + 1) % texts.len();
            black_box(model.predict(black_box(texts[i])))
        })
    });
    group.bench_function("explain_top10", |b| {
        b.iter(|| {
            i = (i + 1) % texts.len();
            black_box(model.explain(black_box(texts[i]), 10))
        })
    });
    group.throughput(Throughput::Elements(64));
    let mut start = 0;
    group.bench_function("batch64", |b| {
        b.iter_batched(
            || {
                start = (start + 64) % (texts.len() - 64);
                &texts[start..start + 64]
            },
            |batch| batch.iter().map(|t| model.predict(t)).collect::<Vec<_>>(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

// criterion_group! generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
use group::benches;
criterion_main!(benches);
