//! Cost of one access-log datagram: parsing alone, and parsing plus updating the metrics, as
//! the receive loop does. Run: `cargo bench -p access-log-exporter --bench parse`.

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use access_log_exporter::gateway_metrics::Metrics;
use access_log_exporter::record::parse_line;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const LINE: &[u8] = br#"<190>Nov 26 03:00:00 gateway gateway: {"status":"200","variant":"v1","uri":"/predict","request_time":"0.004","upstream_response_time":"0.002, 0.001","upstream_status":"502, 200","bytes_sent":"312"}"#;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("datagram");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_line", |b| b.iter(|| parse_line(black_box(LINE))));
    let metrics = Metrics::new();
    group.bench_function("parse_and_record", |b| {
        b.iter(|| {
            let record = parse_line(black_box(LINE)).expect("valid line");
            metrics.record(&record);
        })
    });
    group.bench_function("reject_garbage", |b| {
        b.iter(|| {
            parse_line(black_box(
                b"<190>Nov 26 03:00:00 gateway gateway: {\"status\":",
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
