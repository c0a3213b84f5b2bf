//! The readout as data: what `--json` prints and what the text renderer lays out.
//!
//! Every figure that may be missing (a metric not exported yet, an arm without traffic in the
//! window) is an `Option`, `null` in JSON and "no data" in text, never a zero or a `NaN`: zero
//! requests and no request counter at all are different news.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::{ChiSquareTest, Interval, ZTest};

/// An arm of the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arm {
    /// The control: what everyone gets unless routed to v2.
    V1,
    /// The candidate.
    V2,
}

impl Arm {
    /// Both arms, control first.
    pub const ALL: [Arm; 2] = [Arm::V1, Arm::V2];

    /// The `variant` label value.
    pub fn label(self) -> &'static str {
        match self {
            Arm::V1 => "v1",
            Arm::V2 => "v2",
        }
    }

    /// Its part in the experiment.
    pub fn role(self) -> &'static str {
        match self {
            Arm::V1 => "control",
            Arm::V2 => "candidate",
        }
    }

    /// The arm whose `variant` label is `label`, if it is one of the two.
    pub fn from_label(label: &str) -> Option<Arm> {
        Arm::ALL.into_iter().find(|arm| arm.label() == label)
    }
}

/// The whole readout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The Prometheus queried.
    pub prometheus_url: String,
    /// The range of every `increase()`, as given (`1h`).
    pub window: String,
    /// The instant every query was evaluated at (Prometheus' clock, Unix seconds).
    pub evaluated_at: f64,
    /// v1, then v2.
    pub arms: Vec<ArmReport>,
    /// v2 against v1.
    pub tests: Tests,
    /// Live answers compared with the shadow model's.
    pub shadow: Shadow,
    /// The one-line conclusion.
    pub verdict: Verdict,
    /// What the figures do not say (distinct users, rough approximations).
    pub notes: Vec<String>,
}

/// One arm's figures over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmReport {
    /// Which arm.
    pub arm: Arm,
    /// `control` or `candidate`.
    pub role: &'static str,
    /// Requests to `/predict` and `/predict/batch` answered by this arm (a batch is one).
    pub requests: Option<u64>,
    /// Of those, answered with a 5xx.
    pub server_errors: Option<u64>,
    /// `server_errors / requests`; `None` without requests.
    pub error_rate: Option<f64>,
    /// Median gateway latency of those requests, in seconds.
    pub latency_p50_seconds: Option<f64>,
    /// 99th percentile gateway latency, in seconds.
    pub latency_p99_seconds: Option<f64>,
    /// Live predictions by label.
    pub predictions: Option<Predictions>,
    /// Users' answers to "was this prediction right?".
    pub feedback: Option<Feedback>,
}

/// An arm's predictions by label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Predictions {
    /// All labels together.
    pub total: u64,
    /// Label to count and share of `total`.
    pub by_label: BTreeMap<String, LabelShare>,
}

/// One label's part of an arm's predictions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LabelShare {
    /// Predictions of this label.
    pub count: u64,
    /// `count / total`; `None` when the arm predicted nothing in the window.
    pub share: Option<f64>,
}

/// An arm's feedback: each answer is one observation of accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feedback {
    /// Answers received.
    pub answers: u64,
    /// Answers saying the prediction was right.
    pub correct: u64,
    /// `correct / answers`; `None` without answers.
    pub accuracy: Option<f64>,
    /// 95% Wilson interval of the accuracy.
    pub interval: Option<Interval>,
    /// Answers by the `model_version` that made the prediction (more than one: the model
    /// changed during the window).
    pub by_model_version: BTreeMap<String, u64>,
}

/// The comparisons of v2 against v1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tests {
    /// Do both arms predict labels in the same proportions? `None` without predictions in both.
    pub prediction_chi_square: Option<ChiSquareTest>,
    /// Is v2's feedback accuracy different from v1's? `None` without feedback in both.
    pub accuracy_z_test: Option<ZTest>,
    /// Observations per arm needed to detect the observed accuracy difference.
    pub sample_size: Option<SampleSize>,
}

/// The observations needed to detect the observed difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSize {
    /// Two-sided significance level.
    pub alpha: f64,
    /// Probability of detecting the difference if it is real.
    pub power: f64,
    /// Observations (feedback answers) needed in each arm.
    pub per_arm: u64,
    /// How many more each arm needs (0 when it has enough).
    pub more_needed: BTreeMap<Arm, u64>,
}

/// Live predictions compared with the shadow model's on the same requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shadow {
    /// Comparisons made; `None` when the shadow metrics do not exist.
    pub comparisons: Option<u64>,
    /// Of those, with the same label.
    pub agreements: Option<u64>,
    /// `agreements / comparisons`.
    pub agreement: Option<f64>,
    /// Its 95% Wilson interval.
    pub interval: Option<Interval>,
    /// The most frequent disagreements, most frequent first.
    pub top_disagreements: Vec<LabelPair>,
}

/// How often the live model said one label and the shadow model another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelPair {
    /// The live model's label.
    pub live: String,
    /// The shadow model's label.
    pub shadow: String,
    /// How often.
    pub count: u64,
}

/// The conclusion, from the feedback accuracy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// For programs.
    pub kind: VerdictKind,
    /// For people: "v2 better", "v2 worse", "no significant difference yet, …", "no data yet…".
    pub text: String,
}

/// The kinds of conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// v2's accuracy is significantly higher.
    V2Better,
    /// v2's accuracy is significantly lower.
    V2Worse,
    /// No significant difference (yet).
    NoSignificantDifference,
    /// An arm has no feedback: nothing to compare.
    NoData,
}
