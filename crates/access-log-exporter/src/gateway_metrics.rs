//! The exporter's metric families and how a record updates them.
//!
//! The recorder is owned by the application instead of being installed globally, so that tests
//! can run several applications in one process without sharing counters
//! (`metrics::with_local_recorder`).

use metrics::{
    counter, describe_counter, describe_histogram, histogram, with_local_recorder, Unit,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::record::AccessRecord;

/// `gateway_requests_total{variant,route,status}`.
pub const REQUESTS_TOTAL: &str = "gateway_requests_total";
/// `gateway_request_duration_seconds{variant,route}`: Nginx's `$request_time`.
pub const REQUEST_DURATION: &str = "gateway_request_duration_seconds";
/// `gateway_upstream_duration_seconds{variant}`: Nginx's `$upstream_response_time`.
pub const UPSTREAM_DURATION: &str = "gateway_upstream_duration_seconds";
/// `gateway_log_lines_total{result="parsed"|"rejected"}`.
pub const LOG_LINES_TOTAL: &str = "gateway_log_lines_total";

/// Latency buckets in seconds: from a cached-model prediction (about 1 ms) up to the API's 5 s
/// request timeout and beyond, so the p99 alert threshold (0.5 s) falls on a bucket boundary.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The application's metrics: a private recorder and the handle that renders it.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Metrics {
    /// Builds the recorder with histogram buckets (not summaries) for both duration families,
    /// and registers the `gateway_log_lines_total` series at zero so that a ratio of rejected to
    /// parsed lines exists before the first bad line.
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), &DURATION_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(UPSTREAM_DURATION.into()), &DURATION_BUCKETS)
            })
            // Only fails on an empty bucket list; ours is a non-empty constant.
            .expect("non-empty bucket list");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let metrics = Self { recorder, handle };
        metrics.describe();
        metrics
    }

    /// A handle that renders the Prometheus text format.
    pub fn handle(&self) -> PrometheusHandle {
        self.handle.clone()
    }

    fn describe(&self) {
        with_local_recorder(&self.recorder, || {
            describe_counter!(
                REQUESTS_TOTAL,
                "Requests seen by the gateway, by variant, route and status."
            );
            describe_histogram!(
                REQUEST_DURATION,
                Unit::Seconds,
                "Gateway request time (Nginx $request_time)."
            );
            describe_histogram!(
                UPSTREAM_DURATION,
                Unit::Seconds,
                "Time spent upstream, all attempts summed."
            );
            describe_counter!(
                LOG_LINES_TOTAL,
                "Access-log datagrams received, by parse result."
            );
            counter!(LOG_LINES_TOTAL, "result" => "parsed").absolute(0);
            counter!(LOG_LINES_TOTAL, "result" => "rejected").absolute(0);
        });
    }

    /// Counts one parsed record.
    pub fn record(&self, record: &AccessRecord) {
        let variant = record.variant.as_str();
        let route = record.route.as_str();
        with_local_recorder(&self.recorder, || {
            counter!(LOG_LINES_TOTAL, "result" => "parsed").increment(1);
            counter!(REQUESTS_TOTAL, "variant" => variant, "route" => route, "status" => record.status.to_string())
                .increment(1);
            histogram!(REQUEST_DURATION, "variant" => variant, "route" => route)
                .record(record.request_time);
            if let Some(upstream) = record.upstream_time {
                histogram!(UPSTREAM_DURATION, "variant" => variant).record(upstream);
            }
        });
    }

    /// Counts one datagram that was not a valid record.
    pub fn rejected(&self) {
        with_local_recorder(&self.recorder, || {
            counter!(LOG_LINES_TOTAL, "result" => "rejected").increment(1);
        });
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
