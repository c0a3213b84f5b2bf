//! What the readout asks Prometheus, and the raw counts it gets back ([`Observations`]).
//!
//! One query per metric, aggregated `by (variant, …)` so that both arms come in one answer
//! at one instant. A metric that does not exist (yet) answers with no series, which becomes
//! `None` here and "no data" in the report; it is never an error.
//!
//! With `--window all` (the default) counts are the counters' totals, exact as long as no replica
//! restarted during the experiment. With a duration they come from `increase(…[window])`, which
//! Prometheus extrapolates to the window's edges, so they are fractional estimates, rounded to
//! whole requests and answers (and a series born inside the window loses what it counted before
//! its first scrape).

use std::collections::BTreeMap;

use crate::args::Window;
use crate::prometheus::{Answer, PrometheusError, Sample, Source};
use crate::report::{Arm, LabelPair};

/// Only the two arms; `none` (Nginx answered itself) and anything else stay out.
const ARMS: &str = r#"variant=~"v1|v2""#;
/// The prediction routes: `/predict` and `/predict/batch` (PromQL regexes are anchored).
const PREDICT_ROUTES: &str = r#"route=~"/predict.*""#;

/// The PromQL of one readout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queries {
    /// Prediction requests by arm and status.
    pub requests: String,
    /// Median gateway latency of prediction requests, by arm.
    pub latency_p50: String,
    /// 99th percentile, by arm.
    pub latency_p99: String,
    /// Live predictions by arm and label.
    pub predictions: String,
    /// Feedback answers by arm, model version and correctness.
    pub feedback: String,
    /// Shadow comparisons by agreement.
    pub shadow_comparisons: String,
    /// Shadow comparisons by live and shadow label.
    pub shadow_pairs: String,
}

impl Queries {
    /// The queries over `window`.
    pub fn new(window: &Window) -> Self {
        let latency = |quantile: &str| {
            format!(
                "histogram_quantile({quantile}, sum by (variant, le) \
                 ({}))",
                window.count(&format!(
                    "gateway_request_duration_seconds_bucket{{{ARMS},{PREDICT_ROUTES}}}"
                ))
            )
        };
        Self {
            requests: format!(
                "sum by (variant, status) ({})",
                window.count(&format!(
                    "gateway_requests_total{{{ARMS},{PREDICT_ROUTES}}}"
                ))
            ),
            latency_p50: latency("0.5"),
            latency_p99: latency("0.99"),
            predictions: format!(
                "sum by (variant, label) ({})",
                window.count(&format!("gateway_predictions_total{{{ARMS}}}"))
            ),
            // Summed over replicas (job, instance): an arm is all of its replicas.
            feedback: format!(
                "sum by (variant, model_version, correct) ({})",
                window.count(&format!("emotion_feedback_total{{{ARMS}}}"))
            ),
            shadow_comparisons: format!(
                "sum by (agree) ({})",
                window.count("emotion_shadow_comparisons_total")
            ),
            shadow_pairs: format!(
                "sum by (live, shadow) ({})",
                window.count("emotion_shadow_label_pairs_total")
            ),
        }
    }
}

/// An arm's feedback answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackCounts {
    /// Answers saying the prediction was right.
    pub correct: u64,
    /// Answers saying it was wrong.
    pub wrong: u64,
    /// All answers by the model version that made the prediction.
    pub by_model_version: BTreeMap<String, u64>,
}

/// One arm's raw figures; `None` where the arm has no series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArmObservations {
    /// Prediction requests.
    pub requests: Option<u64>,
    /// Of those, 5xx. `Some(0)` when the arm has requests but no 5xx series.
    pub server_errors: Option<u64>,
    /// Median latency in seconds.
    pub latency_p50: Option<f64>,
    /// 99th percentile latency in seconds.
    pub latency_p99: Option<f64>,
    /// Live predictions by label.
    pub predictions: Option<BTreeMap<String, u64>>,
    /// Feedback answers.
    pub feedback: Option<FeedbackCounts>,
}

/// The shadow model's comparisons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShadowObservations {
    /// `(agreed, disagreed)`; `None` when the metric has no series.
    pub comparisons: Option<(u64, u64)>,
    /// Every (live, shadow) label pair seen, agreeing ones included.
    pub pairs: Vec<LabelPair>,
}

/// Everything the readout is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observations {
    /// v1's figures.
    pub v1: ArmObservations,
    /// v2's figures.
    pub v2: ArmObservations,
    /// The shadow comparisons.
    pub shadow: ShadowObservations,
}

impl Observations {
    /// The figures of `arm`.
    pub fn arm(&self, arm: Arm) -> &ArmObservations {
        match arm {
            Arm::V1 => &self.v1,
            Arm::V2 => &self.v2,
        }
    }

    fn arm_mut(&mut self, arm: Arm) -> &mut ArmObservations {
        match arm {
            Arm::V1 => &mut self.v1,
            Arm::V2 => &mut self.v2,
        }
    }
}

/// An estimated count from `increase()`, rounded; `None` for a `NaN`.
fn count(value: f64) -> Option<u64> {
    // A float-to-int `as` saturates, and a counter's increase is never negative.
    (!value.is_nan()).then(|| value.max(0.0).round() as u64)
}

fn vector(source: &dyn Source, promql: &str) -> Result<Vec<Sample>, PrometheusError> {
    match source.query(promql)? {
        Answer::Vector(samples) => Ok(samples),
        Answer::Scalar(_) => Err(PrometheusError::Malformed {
            query: promql.to_owned(),
            reason: "a scalar, where an instant vector was expected".to_owned(),
        }),
    }
}

/// The samples of `samples` that belong to an arm, with that arm.
fn by_arm(samples: Vec<Sample>) -> impl Iterator<Item = (Arm, Sample)> {
    samples
        .into_iter()
        .filter_map(|sample| Arm::from_label(sample.label("variant")).map(|arm| (arm, sample)))
}

/// Asks `source` every query of the readout over `window`.
pub fn gather(source: &dyn Source, window: &Window) -> Result<Observations, PrometheusError> {
    let queries = Queries::new(window);
    let mut observations = Observations::default();

    for (arm, sample) in by_arm(vector(source, &queries.requests)?) {
        let Some(n) = count(sample.value) else {
            continue;
        };
        let figures = observations.arm_mut(arm);
        *figures.requests.get_or_insert(0) += n;
        let errors = figures.server_errors.get_or_insert(0);
        if sample.label("status").starts_with('5') {
            *errors += n;
        }
    }

    for (promql, p99) in [(&queries.latency_p50, false), (&queries.latency_p99, true)] {
        for (arm, sample) in by_arm(vector(source, promql)?) {
            // NaN: the histogram had no observation in the window.
            let value = (!sample.value.is_nan()).then_some(sample.value);
            let figures = observations.arm_mut(arm);
            *(if p99 {
                &mut figures.latency_p99
            } else {
                &mut figures.latency_p50
            }) = value;
        }
    }

    for (arm, sample) in by_arm(vector(source, &queries.predictions)?) {
        let Some(n) = count(sample.value) else {
            continue;
        };
        let label = sample.label("label").to_owned();
        let predictions = observations
            .arm_mut(arm)
            .predictions
            .get_or_insert_default();
        *predictions.entry(label).or_insert(0) += n;
    }

    for (arm, sample) in by_arm(vector(source, &queries.feedback)?) {
        let Some(n) = count(sample.value) else {
            continue;
        };
        let feedback = observations.arm_mut(arm).feedback.get_or_insert_default();
        match sample.label("correct") {
            "true" => feedback.correct += n,
            "false" => feedback.wrong += n,
            // Neither: not an answer this readout understands, so not counted at all.
            _ => continue,
        }
        *feedback
            .by_model_version
            .entry(sample.label("model_version").to_owned())
            .or_insert(0) += n;
    }

    for sample in vector(source, &queries.shadow_comparisons)? {
        let Some(n) = count(sample.value) else {
            continue;
        };
        let (agreed, disagreed) = observations.shadow.comparisons.get_or_insert((0, 0));
        match sample.label("agree") {
            "true" => *agreed += n,
            "false" => *disagreed += n,
            _ => {}
        }
    }

    for sample in vector(source, &queries.shadow_pairs)? {
        let Some(n) = count(sample.value) else {
            continue;
        };
        observations.shadow.pairs.push(LabelPair {
            live: sample.label("live").to_owned(),
            shadow: sample.label("shadow").to_owned(),
            count: n,
        });
    }

    Ok(observations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::parse_answer;

    /// Replays recorded answers; a query without one answers with no series, as Prometheus
    /// does for a metric that does not exist.
    struct Recorded(Vec<(String, &'static str)>);

    impl Source for Recorded {
        fn query(&self, promql: &str) -> Result<Answer, PrometheusError> {
            match self.0.iter().find(|(query, _)| query == promql) {
                Some((_, body)) => parse_answer(promql, body),
                None => Ok(Answer::Vector(vec![])),
            }
        }
    }

    fn window() -> Window {
        "1h".parse().expect("valid")
    }

    #[test]
    fn window_all_reads_the_counters_totals() {
        let queries = Queries::new(&Window::all());
        assert_eq!(
            queries.feedback,
            r#"sum by (variant, model_version, correct) (emotion_feedback_total{variant=~"v1|v2"})"#
        );
        assert_eq!(
            queries.latency_p50,
            r#"histogram_quantile(0.5, sum by (variant, le) (gateway_request_duration_seconds_bucket{variant=~"v1|v2",route=~"/predict.*"}))"#
        );
        assert_eq!(
            queries.shadow_comparisons,
            "sum by (agree) (emotion_shadow_comparisons_total)"
        );
    }

    #[test]
    fn the_queries_are_the_documented_promql() {
        let queries = Queries::new(&"30m".parse().expect("valid"));
        assert_eq!(
            queries.requests,
            r#"sum by (variant, status) (increase(gateway_requests_total{variant=~"v1|v2",route=~"/predict.*"}[30m]))"#
        );
        assert_eq!(
            queries.latency_p99,
            r#"histogram_quantile(0.99, sum by (variant, le) (increase(gateway_request_duration_seconds_bucket{variant=~"v1|v2",route=~"/predict.*"}[30m])))"#
        );
        assert_eq!(
            queries.feedback,
            r#"sum by (variant, model_version, correct) (increase(emotion_feedback_total{variant=~"v1|v2"}[30m]))"#
        );
        assert_eq!(
            queries.shadow_pairs,
            "sum by (live, shadow) (increase(emotion_shadow_label_pairs_total[30m]))"
        );
    }

    #[test]
    fn no_series_at_all_is_no_data_everywhere() {
        let observations = gather(&Recorded(vec![]), &window()).expect("no error");
        assert_eq!(observations, Observations::default());
    }

    #[test]
    fn recorded_answers_become_counts_per_arm() {
        let queries = Queries::new(&window());
        // Shapes as recorded from the project's Prometheus; the 5xx and feedback figures made up.
        let source = Recorded(vec![
            (
                queries.requests.clone(),
                r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"status":"200","variant":"v2"},"value":[1796590636.946,"902.998308"]},
                {"metric":{"status":"422","variant":"v2"},"value":[1796590636.946,"10.060563636363637"]},
                {"metric":{"status":"503","variant":"v2"},"value":[1796590636.946,"2.4"]},
                {"metric":{"status":"200","variant":"v1"},"value":[1796590636.946,"1202.3296"]}]}}"#,
            ),
            (
                queries.latency_p50.clone(),
                r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"variant":"v1"},"value":[1796590636.939,"0.0005734945311044198"]},
                {"metric":{"variant":"v2"},"value":[1796590636.939,"NaN"]}]}}"#,
            ),
            (
                queries.feedback.clone(),
                r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"correct":"true","model_version":"a","variant":"v1"},"value":[1,"40"]},
                {"metric":{"correct":"false","model_version":"a","variant":"v1"},"value":[1,"60.2"]},
                {"metric":{"correct":"true","model_version":"b","variant":"v2"},"value":[1,"7"]}]}}"#,
            ),
            (
                queries.shadow_comparisons.clone(),
                r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"agree":"true"},"value":[1,"90"]},
                {"metric":{"agree":"false"},"value":[1,"10"]}]}}"#,
            ),
        ]);
        let observations = gather(&source, &window()).expect("no error");

        assert_eq!(observations.v1.requests, Some(1202));
        assert_eq!(observations.v1.server_errors, Some(0));
        assert_eq!(observations.v2.requests, Some(903 + 10 + 2));
        assert_eq!(observations.v2.server_errors, Some(2));
        assert_eq!(observations.v1.latency_p50, Some(0.0005734945311044198));
        assert_eq!(observations.v2.latency_p50, None);
        assert_eq!(observations.v1.latency_p99, None);
        assert_eq!(observations.v1.predictions, None);
        let v1 = observations.v1.feedback.as_ref().expect("v1 feedback");
        assert_eq!((v1.correct, v1.wrong), (40, 60));
        assert_eq!(v1.by_model_version, BTreeMap::from([("a".to_owned(), 100)]));
        let v2 = observations.v2.feedback.as_ref().expect("v2 feedback");
        assert_eq!((v2.correct, v2.wrong), (7, 0));
        assert_eq!(observations.shadow.comparisons, Some((90, 10)));
        assert!(observations.shadow.pairs.is_empty());
    }

    #[test]
    fn a_refused_query_is_an_error() {
        let queries = Queries::new(&window());
        let source = Recorded(vec![(
            queries.predictions,
            r#"{"status":"error","errorType":"execution","error":"query timed out"}"#,
        )]);
        let error = gather(&source, &window()).expect_err("refused");
        assert!(
            matches!(error, PrometheusError::Refused { .. }),
            "{error:?}"
        );
    }
}
