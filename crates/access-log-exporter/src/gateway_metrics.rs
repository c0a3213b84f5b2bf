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

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::record::{AccessRecord, Traffic, Variant};
use crate::shadow::{Joined, ShadowJoin, Side};

/// `gateway_requests_total{variant,route,status}`.
pub const REQUESTS_TOTAL: &str = "gateway_requests_total";
/// `gateway_request_duration_seconds{variant,route}`: Nginx's `$request_time`.
pub const REQUEST_DURATION: &str = "gateway_request_duration_seconds";
/// `gateway_upstream_duration_seconds{variant}`: Nginx's `$upstream_response_time`.
pub const UPSTREAM_DURATION: &str = "gateway_upstream_duration_seconds";
/// `gateway_log_lines_total{result="parsed"|"rejected"}`.
pub const LOG_LINES_TOTAL: &str = "gateway_log_lines_total";
/// `gateway_variant_mismatch_total{requested,answered}`: answered by the other variant's replica.
pub const VARIANT_MISMATCH_TOTAL: &str = "gateway_variant_mismatch_total";

/// `gateway_predictions_total{variant,label}`: live answers' predicted labels, one per sentence.
pub const PREDICTIONS_TOTAL: &str = "gateway_predictions_total";
/// `gateway_shadow_requests_total{status}`: mirror subrequests (not client requests).
pub const SHADOW_REQUESTS_TOTAL: &str = "gateway_shadow_requests_total";
/// `emotion_shadow_comparisons_total{agree}`: sentences answered by both the live and the shadow
/// model, by whether they predicted the same label.
pub const SHADOW_COMPARISONS_TOTAL: &str = "emotion_shadow_comparisons_total";
/// `emotion_shadow_label_pairs_total{live,shadow}`: the confusion matrix between the two models.
pub const SHADOW_LABEL_PAIRS_TOTAL: &str = "emotion_shadow_label_pairs_total";
/// `emotion_shadow_unmatched_total{side}`: lines whose partner never came (dropped after the
/// join's ttl or capacity), or pairs that could not be compared (a failed shadow, a different
/// number of labels).
pub const SHADOW_UNMATCHED_TOTAL: &str = "emotion_shadow_unmatched_total";

/// How long a line waits for its partner: the mirror's whole budget is a few seconds.
pub const SHADOW_TTL: Duration = Duration::from_secs(30);
/// How many lines may wait at once (a few MB at most).
pub const SHADOW_CAPACITY: usize = 50_000;

/// Latency buckets in seconds: from a cached-model prediction (about 1 ms) up to the API's 5 s
/// request timeout and beyond, so the p99 alert threshold (0.5 s) falls on a bucket boundary.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The application's metrics: a private recorder and the handle that renders it.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    shadow: Mutex<ShadowJoin>,
}

impl Metrics {
    /// Builds the recorder with histogram buckets (not summaries) for both duration families,
    /// and registers the `gateway_log_lines_total` series at zero so that a ratio of rejected to
    /// parsed lines exists before the first bad line, and both mismatch series so that
    /// `increase()` sees the first mismatch (a series born at 1 has no increase).
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
        let metrics = Self {
            recorder,
            handle,
            shadow: Mutex::new(ShadowJoin::new(SHADOW_TTL, SHADOW_CAPACITY)),
        };
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
            describe_counter!(
                VARIANT_MISMATCH_TOTAL,
                "Requests answered by a replica of another variant than the gateway routed to."
            );
            describe_counter!(
                PREDICTIONS_TOTAL,
                "Sentences the gateway's live answers classified, by variant and predicted label."
            );
            describe_counter!(
                SHADOW_REQUESTS_TOTAL,
                "Mirror subrequests to the shadow variant, by status."
            );
            describe_counter!(
                SHADOW_COMPARISONS_TOTAL,
                "Sentences answered by both the live and the shadow model, by agreement."
            );
            describe_counter!(
                SHADOW_LABEL_PAIRS_TOTAL,
                "Sentences answered by both models, by live and shadow label (confusion matrix)."
            );
            describe_counter!(
                SHADOW_UNMATCHED_TOTAL,
                "Live or shadow answers that could not be compared (partner missing or failed)."
            );
            counter!(LOG_LINES_TOTAL, "result" => "parsed").absolute(0);
            counter!(LOG_LINES_TOTAL, "result" => "rejected").absolute(0);
            // Both series exist from the start, so the agreement ratio is defined (and
            // increase() sees the first comparison) as soon as shadow traffic flows.
            counter!(SHADOW_COMPARISONS_TOTAL, "agree" => "true").absolute(0);
            counter!(SHADOW_COMPARISONS_TOTAL, "agree" => "false").absolute(0);
            for side in [Side::Live, Side::Shadow] {
                counter!(SHADOW_UNMATCHED_TOTAL, "side" => side.as_str()).absolute(0);
            }
            for (requested, answered) in [(Variant::V1, Variant::V2), (Variant::V2, Variant::V1)] {
                mismatch_counter(requested, answered).absolute(0);
            }
        });
    }

    /// Counts one parsed record.
    pub fn record(&self, record: &AccessRecord) {
        match record.traffic {
            Traffic::Shadow => self.record_shadow(record),
            Traffic::Live { shadowed } => self.record_live(record, shadowed),
        }
    }

    fn record_live(&self, record: &AccessRecord, shadowed: bool) {
        let variant = record.variant.as_str();
        let route = record.route.as_str();
        let answered = record.status == 200 && record.variant.is_real();
        with_local_recorder(&self.recorder, || {
            if answered {
                for label in &record.labels {
                    counter!(PREDICTIONS_TOTAL, "variant" => variant, "label" => label.clone())
                        .increment(1);
                }
            }
            counter!(LOG_LINES_TOTAL, "result" => "parsed").increment(1);
            counter!(REQUESTS_TOTAL, "variant" => variant, "route" => route, "status" => record.status.to_string())
                .increment(1);
            histogram!(REQUEST_DURATION, "variant" => variant, "route" => route)
                .record(record.request_time);
            if let Some(upstream) = record.upstream_time {
                histogram!(UPSTREAM_DURATION, "variant" => variant).record(upstream);
            }
            if let Some((requested, answered)) = record.variant_mismatch() {
                mismatch_counter(requested, answered).increment(1);
            }
        });
        if shadowed {
            // A failed live answer has nothing to compare; its shadow, if any, is dropped when
            // it arrives (or expires) and counted as unmatched.
            let labels = if answered {
                record.labels.clone()
            } else {
                Vec::new()
            };
            self.join(record, Side::Live, labels);
        }
    }

    fn record_shadow(&self, record: &AccessRecord) {
        // A shadow answer is a 204 whose X-Predicted-Labels is all there is (the API answers the
        // gateway's X-Shadow mirror with the labels only: emotion-api's routes::predict).
        let ok = record.status == 204 && record.variant == Variant::V2;
        with_local_recorder(&self.recorder, || {
            counter!(LOG_LINES_TOTAL, "result" => "parsed").increment(1);
            counter!(SHADOW_REQUESTS_TOTAL, "status" => record.status.to_string()).increment(1);
        });
        let labels = if ok {
            record.labels.clone()
        } else {
            Vec::new()
        };
        self.join(record, Side::Shadow, labels);
    }

    /// Offers one side of a pair to the join and counts what it led to. An empty label list
    /// stands for a failed answer: the pair is then unmatched, never a disagreement.
    fn join(&self, record: &AccessRecord, side: Side, labels: Vec<String>) {
        let Some(id) = record.request_id.as_deref() else {
            return self.unmatched(&[side]);
        };
        let (joined, dropped) = {
            // A panic while holding the lock cannot leave the map half-updated in a way that
            // matters for counting: recover the guard rather than stop counting for good.
            let mut join = self.shadow.lock().unwrap_or_else(|e| e.into_inner());
            join.offer(id, side, labels, Instant::now())
        };
        self.unmatched(&dropped);
        if let Joined::Pair { live, shadow } = joined {
            if live.is_empty() || live.len() != shadow.len() {
                return self.unmatched(&[Side::Live, Side::Shadow]);
            }
            with_local_recorder(&self.recorder, || {
                for (l, s) in live.iter().zip(&shadow) {
                    let agree = if l == s { "true" } else { "false" };
                    counter!(SHADOW_COMPARISONS_TOTAL, "agree" => agree).increment(1);
                    counter!(SHADOW_LABEL_PAIRS_TOTAL, "live" => l.clone(), "shadow" => s.clone())
                        .increment(1);
                }
            });
        }
    }

    fn unmatched(&self, sides: &[Side]) {
        if sides.is_empty() {
            return;
        }
        with_local_recorder(&self.recorder, || {
            for side in sides {
                counter!(SHADOW_UNMATCHED_TOTAL, "side" => side.as_str()).increment(1);
            }
        });
    }

    /// Drops joined lines that waited too long; called periodically so that a pair whose
    /// partner never comes is counted even when no further shadow traffic arrives.
    pub fn expire_shadow(&self) {
        let dropped = {
            let mut join = self.shadow.lock().unwrap_or_else(|e| e.into_inner());
            join.expire(Instant::now())
        };
        self.unmatched(&dropped);
    }

    /// Counts one datagram that was not a valid record.
    pub fn rejected(&self) {
        with_local_recorder(&self.recorder, || {
            counter!(LOG_LINES_TOTAL, "result" => "rejected").increment(1);
        });
    }
}

/// The mismatch counter for one pair; only called inside `with_local_recorder`.
fn mismatch_counter(requested: Variant, answered: Variant) -> metrics::Counter {
    counter!(VARIANT_MISMATCH_TOTAL, "requested" => requested.as_str(), "answered" => answered.as_str())
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::parse_json;

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    fn mismatch(requested: &str, answered: &str) -> String {
        format!(r#"{VARIANT_MISMATCH_TOTAL}{{requested="{requested}",answered="{answered}"}}"#)
    }

    #[test]
    fn mismatch_series_exist_at_zero_before_any_record() {
        let text = Metrics::new().handle().render();
        assert_eq!(sample(&text, &mismatch("v1", "v2")), Some(0.0), "{text}");
        assert_eq!(sample(&text, &mismatch("v2", "v1")), Some(0.0), "{text}");
        assert!(
            text.contains(&format!("# TYPE {VARIANT_MISMATCH_TOTAL} counter")),
            "{text}"
        );
    }

    #[test]
    fn only_real_mismatches_are_counted_and_other_families_follow_the_answer() {
        let metrics = Metrics::new();
        for (variant, requested) in [
            ("v2", "v1"),
            ("v2", "v1"),
            ("v1", "v2"),
            ("v1", "v1"),
            ("none", "v1"),
            ("v2", "invalid"),
            ("v1", "none"),
        ] {
            let json = format!(
                r#"{{"status":"200","variant":"{variant}","requested":"{requested}","uri":"/predict","request_time":"0.001"}}"#
            );
            metrics.record(&parse_json(&json).expect("valid"));
        }
        let text = metrics.handle().render();
        assert_eq!(sample(&text, &mismatch("v1", "v2")), Some(2.0), "{text}");
        assert_eq!(sample(&text, &mismatch("v2", "v1")), Some(1.0), "{text}");
        let mismatch_rows = text
            .lines()
            .filter(|l| l.starts_with(VARIANT_MISMATCH_TOTAL))
            .count();
        assert_eq!(mismatch_rows, 2, "no series with none: {text}");
        let requests = |variant: &str| {
            let series =
                format!(r#"{REQUESTS_TOTAL}{{variant="{variant}",route="/predict",status="200"}}"#);
            sample(&text, &series)
        };
        assert_eq!(
            (requests("v1"), requests("v2"), requests("none")),
            (Some(3.0), Some(3.0), Some(1.0)),
            "{text}"
        );
        assert!(!text.contains("requested=\"none\""), "{text}");
    }

    fn line(traffic: &str, id: &str, variant: &str, status: u16, labels: &str) -> AccessRecord {
        let json = format!(
            r#"{{"status":"{status}","variant":"{variant}","requested":"v1","uri":"/predict","request_time":"0.001","request_id":"{id}","labels":"{labels}","traffic":"{traffic}","shadowed":"1"}}"#
        );
        parse_json(&json).expect("valid")
    }

    #[test]
    fn live_and_shadow_answers_are_compared_sentence_by_sentence() {
        let metrics = Metrics::new();
        // Pair 1: shadow first, two sentences, one disagreement.
        metrics.record(&line("shadow", "a", "v2", 204, "joy,worry"));
        metrics.record(&line("live", "a", "v1", 200, "joy,sadness"));
        // Pair 2: live first, agreement.
        metrics.record(&line("live", "b", "v1", 200, "fun"));
        metrics.record(&line("shadow", "b", "v2", 204, "fun"));
        // Pair 3: the shadow failed: unmatched, never a disagreement.
        metrics.record(&line("live", "c", "v1", 200, "fun"));
        metrics.record(&line("shadow", "c", "none", 502, ""));
        let text = metrics.handle().render();
        let comparisons = |agree: &str| {
            sample(
                &text,
                &format!(r#"{SHADOW_COMPARISONS_TOTAL}{{agree="{agree}"}}"#),
            )
        };
        assert_eq!(
            (comparisons("true"), comparisons("false")),
            (Some(2.0), Some(1.0)),
            "{text}"
        );
        let pair = |live: &str, shadow: &str| {
            sample(
                &text,
                &format!(r#"{SHADOW_LABEL_PAIRS_TOTAL}{{live="{live}",shadow="{shadow}"}}"#),
            )
        };
        assert_eq!(pair("sadness", "worry"), Some(1.0), "{text}");
        assert_eq!(pair("joy", "joy"), Some(1.0), "{text}");
        assert_eq!(pair("fun", "fun"), Some(1.0), "{text}");
        let unmatched = |side: &str| {
            sample(
                &text,
                &format!(r#"{SHADOW_UNMATCHED_TOTAL}{{side="{side}"}}"#),
            )
        };
        assert_eq!(
            (unmatched("live"), unmatched("shadow")),
            (Some(1.0), Some(1.0)),
            "{text}"
        );
        // Shadow lines are not client requests; live answers count their labels per variant.
        let requests = sample(
            &text,
            &format!(r#"{REQUESTS_TOTAL}{{variant="v1",route="/predict",status="200"}}"#),
        );
        assert_eq!(requests, Some(3.0), "{text}");
        let predicted = sample(
            &text,
            &format!(r#"{PREDICTIONS_TOTAL}{{variant="v1",label="fun"}}"#),
        );
        assert_eq!(predicted, Some(2.0), "{text}");
        assert_eq!(
            sample(
                &text,
                &format!(r#"{SHADOW_REQUESTS_TOTAL}{{status="502"}}"#)
            ),
            Some(1.0),
            "{text}"
        );
    }
}
