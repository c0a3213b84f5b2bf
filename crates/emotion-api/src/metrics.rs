//! Prometheus metrics of one service instance, names as listed in ARCHITECTURE.md.
//!
//! Each [`ApiMetrics`] owns its own recorder rather than installing a process-global one: the
//! integration tests run several applications (v1 and v2) in one process, and each must render only
//! its own series. The `variant` label is a global label of the recorder, so no call site can
//! forget it. Series whose labels never change are registered once and kept as handles, which keeps
//! the per-request cost to a few atomic operations.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::configuration::Variant;

const REQUESTS: &str = "emotion_api_requests_total";
const REQUEST_DURATION: &str = "emotion_api_request_duration_seconds";
const PREDICTIONS: &str = "emotion_api_predictions_total";
const CONFIDENCE: &str = "emotion_api_prediction_confidence";
const INFERENCE_DURATION: &str = "emotion_api_inference_duration_seconds";
const MODEL_INFO: &str = "emotion_api_model_info";
const READY: &str = "emotion_api_ready";
const RELOADS: &str = "emotion_api_model_reloads_total";
const WRONG_VARIANT: &str = "emotion_api_wrong_variant_total";
/// Named without `_api`, as the experiment's contract has it: it counts predictions (by the
/// variant and model that made them), not requests to this API.
const FEEDBACK: &str = "emotion_feedback_total";

/// `expected` label values of [`WRONG_VARIANT`]: a variant name, or `invalid` for any other value
/// (bounded, whatever a misconfigured gateway sends).
const EXPECTED_LABELS: [&str; 3] = ["v1", "v2", "invalid"];

const METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// Latency buckets from 100 µs (a cached-path prediction) to 5 s (the default request timeout).
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Inference alone is microseconds; finer buckets at the low end.
const INFERENCE_BUCKETS: &[f64] = &[
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05,
];
const CONFIDENCE_BUCKETS: &[f64] = &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0];

/// The metrics of one application instance.
pub struct ApiMetrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    confidence: Histogram,
    inference: Histogram,
    ready: Gauge,
}

impl ApiMetrics {
    /// Creates the recorder with the `variant` label on every series.
    pub fn new(variant: &'static str) -> Self {
        let builder = PrometheusBuilder::new()
            .add_global_label("variant", variant)
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(INFERENCE_DURATION.into()),
                    INFERENCE_BUCKETS,
                )
            })
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(CONFIDENCE.into()), CONFIDENCE_BUCKETS)
            })
            .expect("bucket lists are constant and non-empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        describe(&recorder);
        let confidence = recorder.register_histogram(&Key::from_static_name(CONFIDENCE), &METADATA);
        let inference =
            recorder.register_histogram(&Key::from_static_name(INFERENCE_DURATION), &METADATA);
        let ready = recorder.register_gauge(&Key::from_static_name(READY), &METADATA);
        ready.set(0.0);
        // Touch the reload counters so that both series exist (at 0) before the first reload.
        for result in ["ok", "error"] {
            Self::reload_counter(&recorder, result).absolute(0);
        }
        // Likewise for misrouted requests: an alert on their rate needs the series before the
        // first one arrives.
        for expected in EXPECTED_LABELS {
            Self::wrong_variant_counter(&recorder, expected).absolute(0);
        }
        ApiMetrics {
            recorder,
            handle,
            confidence,
            inference,
            ready,
        }
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Drains histogram samples into their buckets; must run periodically, or samples recorded
    /// between two scrapes accumulate in memory.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// Counts one finished request and its latency.
    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let labels = vec![
            Label::new("route", SharedString::from(route.to_owned())),
            Label::new("method", SharedString::from(method.to_owned())),
            Label::new("status", SharedString::from(status.to_string())),
        ];
        self.recorder
            .register_counter(&Key::from_parts(REQUESTS, labels), &METADATA)
            .increment(1);
        let labels = vec![Label::new("route", SharedString::from(route.to_owned()))];
        self.recorder
            .register_histogram(&Key::from_parts(REQUEST_DURATION, labels), &METADATA)
            .record(elapsed.as_secs_f64());
    }

    /// Counts one prediction.
    pub fn record_prediction(&self, emotion: &str, confidence: f64, inference: Duration) {
        let labels = vec![Label::new(
            "emotion",
            SharedString::from(emotion.to_owned()),
        )];
        self.recorder
            .register_counter(&Key::from_parts(PREDICTIONS, labels), &METADATA)
            .increment(1);
        self.confidence.record(confidence);
        self.inference.record(inference.as_secs_f64());
    }

    /// Sets `emotion_api_ready`.
    pub fn set_ready(&self, ready: bool) {
        self.ready.set(if ready { 1.0 } else { 0.0 });
    }

    /// Marks `version` as the serving model (1) and `previous`, if any, as retired (0).
    pub fn set_model(&self, version: &str, previous: Option<&str>) {
        if let Some(previous) = previous.filter(|p| *p != version) {
            self.model_info(previous).set(0.0);
        }
        self.model_info(version).set(1.0);
    }

    /// Counts a reload attempt; `ok` is its outcome.
    pub fn record_reload(&self, ok: bool) {
        Self::reload_counter(&self.recorder, if ok { "ok" } else { "error" }).increment(1);
    }

    /// Counts a request refused because `X-Expected-Variant` named another variant; `expected` is
    /// the variant it named, `None` when the value was not a variant name.
    pub fn record_wrong_variant(&self, expected: Option<Variant>) {
        let label = expected.map_or("invalid", Variant::as_str);
        Self::wrong_variant_counter(&self.recorder, label).increment(1);
    }

    /// Counts one redeemed feedback receipt. `variant` and `model_version` are the receipt's, the
    /// prediction's own, which override the recorder's global `variant` (this replica's): a v1
    /// receipt counts as v1 whichever replica redeems it.
    pub fn record_feedback(&self, variant: Variant, model_version: &str, correct: bool) {
        let labels = vec![
            Label::new("variant", variant.as_str()),
            Label::new(
                "model_version",
                SharedString::from(model_version.to_owned()),
            ),
            Label::new("correct", if correct { "true" } else { "false" }),
        ];
        self.recorder
            .register_counter(&Key::from_parts(FEEDBACK, labels), &METADATA)
            .increment(1);
    }

    fn model_info(&self, version: &str) -> Gauge {
        let labels = vec![Label::new(
            "model_version",
            SharedString::from(version.to_owned()),
        )];
        self.recorder
            .register_gauge(&Key::from_parts(MODEL_INFO, labels), &METADATA)
    }

    fn reload_counter(recorder: &PrometheusRecorder, result: &'static str) -> Counter {
        let labels = vec![Label::new("result", result)];
        recorder.register_counter(&Key::from_parts(RELOADS, labels), &METADATA)
    }

    fn wrong_variant_counter(recorder: &PrometheusRecorder, expected: &'static str) -> Counter {
        let labels = vec![Label::new("expected", expected)];
        recorder.register_counter(&Key::from_parts(WRONG_VARIANT, labels), &METADATA)
    }
}

fn describe(recorder: &PrometheusRecorder) {
    use metrics::Unit;
    let d = |name: &'static str, unit: Option<Unit>, help: &'static str, kind: u8| {
        let key = name.into();
        let help = SharedString::from(help);
        match kind {
            0 => recorder.describe_counter(key, unit, help),
            1 => recorder.describe_gauge(key, unit, help),
            _ => recorder.describe_histogram(key, unit, help),
        }
    };
    d(
        REQUESTS,
        None,
        "HTTP requests answered, by matched route, method and status.",
        0,
    );
    d(
        REQUEST_DURATION,
        Some(Unit::Seconds),
        "Time from request received to response headers, by matched route.",
        2,
    );
    d(
        PREDICTIONS,
        None,
        "Sentences classified, by predicted emotion.",
        0,
    );
    d(CONFIDENCE, None, "Probability of the predicted emotion.", 2);
    d(
        INFERENCE_DURATION,
        Some(Unit::Seconds),
        "Time spent in the model for one sentence.",
        2,
    );
    d(MODEL_INFO, None, "1 for the model version being served.", 1);
    d(
        READY,
        None,
        "1 when the model is loaded and the service is not draining.",
        1,
    );
    d(
        RELOADS,
        None,
        "Model reload attempts (SIGHUP), by result.",
        0,
    );
    d(
        WRONG_VARIANT,
        None,
        "Requests refused (503 wrong_variant) because X-Expected-Variant named another variant, \
         by the variant expected (v1, v2, or invalid for any other value).",
        0,
    );
    d(
        FEEDBACK,
        None,
        "Feedback receipts counted (POST /feedback), by the variant and model version that made \
         the prediction and whether its label was the true one.",
        0,
    );
}
