//! From raw counts to the readout: the per-arm figures, the tests of v2 against v1, and the
//! verdict. Pure: the same [`Observations`] always give the same [`Report`].
//!
//! The verdict rests on feedback accuracy alone, the only figure that says whether a model is
//! *right*; the distributions, latency and errors are context a person weighs beside it.

use std::collections::{BTreeMap, BTreeSet};

use crate::collect::{ArmObservations, Observations};
use crate::report::{
    Arm, ArmReport, Feedback, LabelPair, LabelShare, Predictions, Report, SampleSize, Shadow,
    Tests, Verdict, VerdictKind,
};
use crate::stats::{self, ALPHA, POWER};

/// Where the report's figures came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// The Prometheus queried.
    pub prometheus_url: String,
    /// The window, as given.
    pub window: String,
    /// The evaluation instant, Unix seconds.
    pub evaluated_at: f64,
}

/// How many of the shadow model's disagreements the report lists.
const TOP_DISAGREEMENTS: usize = 5;
/// Below this many successes or failures in an arm, the normal approximation behind the z-test
/// is rough (the usual `n·p ≥ 5` rule).
const MIN_FOR_NORMAL: u64 = 5;
/// Below this expected count in a cell, the chi-square approximation is rough.
const MIN_EXPECTED: f64 = 5.0;

const USERS_NOTE: &str = "Prometheus has no count of distinct users: the arms are compared in \
    requests, and the observations needed are feedback answers per arm (a user may give several).";

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn arm_report(arm: Arm, figures: &ArmObservations) -> ArmReport {
    let predictions = figures.predictions.as_ref().map(|counts| {
        let total = counts.values().sum();
        Predictions {
            total,
            by_label: counts
                .iter()
                .map(|(label, &count)| {
                    let share = ratio(count, total);
                    (label.clone(), LabelShare { count, share })
                })
                .collect(),
        }
    });
    let feedback = figures.feedback.as_ref().map(|counts| {
        let answers = counts.correct + counts.wrong;
        Feedback {
            answers,
            correct: counts.correct,
            accuracy: ratio(counts.correct, answers),
            interval: stats::wilson_interval(counts.correct, answers),
            by_model_version: counts.by_model_version.clone(),
        }
    });
    ArmReport {
        arm,
        role: arm.role(),
        requests: figures.requests,
        server_errors: figures.server_errors,
        error_rate: figures
            .requests
            .zip(figures.server_errors)
            .and_then(|(requests, errors)| ratio(errors, requests)),
        latency_p50_seconds: figures.latency_p50,
        latency_p99_seconds: figures.latency_p99,
        predictions,
        feedback,
    }
}

/// The chi-square test over the union of both arms' labels (a label one arm never predicted
/// counts 0 there).
fn prediction_chi_square(observations: &Observations) -> Option<stats::ChiSquareTest> {
    let v1 = observations.v1.predictions.as_ref()?;
    let v2 = observations.v2.predictions.as_ref()?;
    let labels: BTreeSet<&String> = v1.keys().chain(v2.keys()).collect();
    let column = |counts: &BTreeMap<String, u64>| -> Vec<u64> {
        labels
            .iter()
            .map(|label| counts.get(*label).copied().unwrap_or(0))
            .collect()
    };
    stats::chi_square_homogeneity(&column(v1), &column(v2))
}

/// Correct answers and all answers of an arm's feedback, if it has any.
fn answers(report: &ArmReport) -> Option<(u64, u64)> {
    report
        .feedback
        .as_ref()
        .filter(|feedback| feedback.answers > 0)
        .map(|feedback| (feedback.correct, feedback.answers))
}

fn sample_size(v1: (u64, u64), v2: (u64, u64)) -> Option<SampleSize> {
    let p1 = v1.0 as f64 / v1.1 as f64;
    let p2 = v2.0 as f64 / v2.1 as f64;
    let per_arm = stats::sample_size_per_arm(p1, p2, ALPHA, POWER)?;
    Some(SampleSize {
        alpha: ALPHA,
        power: POWER,
        per_arm,
        more_needed: BTreeMap::from([
            (Arm::V1, per_arm.saturating_sub(v1.1)),
            (Arm::V2, per_arm.saturating_sub(v2.1)),
        ]),
    })
}

fn verdict(v1: Option<(u64, u64)>, v2: Option<(u64, u64)>, tests: &Tests) -> Verdict {
    let no_data = |text: String| Verdict {
        kind: VerdictKind::NoData,
        text,
    };
    // The z-test exists exactly when both arms have answers.
    let Some(test) = tests.accuracy_z_test.as_ref() else {
        let missing: Vec<&str> = [(Arm::V1, v1), (Arm::V2, v2)]
            .into_iter()
            .filter(|(_, answers)| answers.is_none())
            .map(|(arm, _)| arm.label())
            .collect();
        return no_data(format!(
            "no data yet: no feedback answers from {}",
            missing.join(" or ")
        ));
    };
    if test.p_value < ALPHA {
        let (kind, text) = if test.difference > 0.0 {
            (VerdictKind::V2Better, "v2 better")
        } else {
            (VerdictKind::V2Worse, "v2 worse")
        };
        return Verdict {
            kind,
            text: text.to_owned(),
        };
    }
    let text = match &tests.sample_size {
        // Equal accuracies: no sample size detects a difference of zero.
        None => "no significant difference yet, no difference observed".to_owned(),
        Some(size) => {
            let more = size.more_needed.values().copied().max().unwrap_or(0);
            if more > 0 {
                format!(
                    "no significant difference yet, {more} more observations (feedback answers) \
                     per arm needed"
                )
            } else {
                // Hardly reachable: with this many observations in each arm the observed
                // difference is itself significant, except for rounding at the margin. Kept so
                // that the sentence never reads "0 more observations needed".
                format!(
                    "no significant difference yet, although each arm has the {} observations \
                     needed to detect the observed difference",
                    size.per_arm
                )
            }
        }
    };
    Verdict {
        kind: VerdictKind::NoSignificantDifference,
        text,
    }
}

fn shadow(observations: &Observations) -> Shadow {
    let comparisons = observations
        .shadow
        .comparisons
        .map(|(agreed, disagreed)| (agreed, agreed + disagreed));
    let mut disagreements: Vec<LabelPair> = observations
        .shadow
        .pairs
        .iter()
        .filter(|pair| pair.live != pair.shadow && pair.count > 0)
        .cloned()
        .collect();
    disagreements.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.live, &a.shadow).cmp(&(&b.live, &b.shadow)))
    });
    disagreements.truncate(TOP_DISAGREEMENTS);
    Shadow {
        comparisons: comparisons.map(|(_, total)| total),
        agreements: comparisons.map(|(agreed, _)| agreed),
        agreement: comparisons.and_then(|(agreed, total)| ratio(agreed, total)),
        interval: comparisons.and_then(|(agreed, total)| stats::wilson_interval(agreed, total)),
        top_disagreements: disagreements,
    }
}

fn notes(arms: &[ArmReport], tests: &Tests) -> Vec<String> {
    let mut notes = vec![USERS_NOTE.to_owned()];
    let thin: Vec<&str> = arms
        .iter()
        .filter(|arm| {
            answers(arm).is_some_and(|(correct, all)| correct.min(all - correct) < MIN_FOR_NORMAL)
        })
        .map(|arm| arm.arm.label())
        .collect();
    if !thin.is_empty() && tests.accuracy_z_test.is_some() {
        notes.push(format!(
            "fewer than {MIN_FOR_NORMAL} right or wrong answers in {}: the z-test's p-value is \
             a rough approximation",
            thin.join(" and ")
        ));
    }
    if let Some(test) = tests
        .prediction_chi_square
        .filter(|test| test.min_expected < MIN_EXPECTED)
    {
        notes.push(format!(
            "the smallest expected label count is {:.1} (below {MIN_EXPECTED}): the chi-square \
             p-value is a rough approximation",
            test.min_expected
        ));
    }
    for arm in arms {
        if let Some(feedback) = arm
            .feedback
            .as_ref()
            .filter(|f| f.by_model_version.len() > 1)
        {
            notes.push(format!(
                "{}'s feedback spans {} model versions: the model changed during the window",
                arm.arm.label(),
                feedback.by_model_version.len()
            ));
        }
    }
    notes
}

/// The readout of `observations`.
pub fn analyse(observations: &Observations, provenance: Provenance) -> Report {
    let arms: Vec<ArmReport> = Arm::ALL
        .into_iter()
        .map(|arm| arm_report(arm, observations.arm(arm)))
        .collect();
    let (v1, v2) = (answers(&arms[0]), answers(&arms[1]));
    let tests = Tests {
        prediction_chi_square: prediction_chi_square(observations),
        accuracy_z_test: v1
            .zip(v2)
            .and_then(|((x1, n1), (x2, n2))| stats::two_proportion_z_test(x1, n1, x2, n2)),
        sample_size: v1.zip(v2).and_then(|(v1, v2)| sample_size(v1, v2)),
    };
    let verdict = verdict(v1, v2, &tests);
    Report {
        prometheus_url: provenance.prometheus_url,
        window: provenance.window,
        evaluated_at: provenance.evaluated_at,
        notes: notes(&arms, &tests),
        shadow: shadow(observations),
        arms,
        tests,
        verdict,
    }
}

/// The provenance the unit tests report under, one fixture for every module's tests.
#[cfg(test)]
impl Provenance {
    pub(crate) fn fixture() -> Self {
        Self {
            prometheus_url: "http://127.0.0.1:9090".to_owned(),
            window: "1h".to_owned(),
            evaluated_at: 1_796_590_636.925,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::{FeedbackCounts, ShadowObservations};

    fn feedback(correct: u64, wrong: u64) -> Option<FeedbackCounts> {
        Some(FeedbackCounts {
            correct,
            wrong,
            by_model_version: BTreeMap::from([("m1".to_owned(), correct + wrong)]),
        })
    }

    fn with_feedback(v1: Option<FeedbackCounts>, v2: Option<FeedbackCounts>) -> Observations {
        let mut observations = Observations::default();
        observations.v1.feedback = v1;
        observations.v2.feedback = v2;
        observations
    }

    #[test]
    fn nothing_at_all_is_no_data_yet() {
        let report = analyse(&Observations::default(), Provenance::fixture());
        assert_eq!(report.verdict.kind, VerdictKind::NoData);
        assert_eq!(
            report.verdict.text,
            "no data yet: no feedback answers from v1 or v2"
        );
        assert_eq!(report.arms.len(), 2);
        assert!(report.arms.iter().all(|arm| arm.requests.is_none()
            && arm.error_rate.is_none()
            && arm.feedback.is_none()));
        assert_eq!(report.tests.accuracy_z_test, None);
        assert_eq!(report.tests.prediction_chi_square, None);
        assert_eq!(report.shadow.comparisons, None);
        assert_eq!(report.notes, vec![USERS_NOTE.to_owned()]);
    }

    #[test]
    fn an_empty_arm_is_no_data_yet() {
        // v2 has a feedback series, but nothing in the window.
        let report = analyse(
            &with_feedback(feedback(40, 60), feedback(0, 0)),
            Provenance::fixture(),
        );
        assert_eq!(report.verdict.kind, VerdictKind::NoData);
        assert_eq!(
            report.verdict.text,
            "no data yet: no feedback answers from v2"
        );
        let v2 = report.arms[1].feedback.as_ref().expect("series");
        assert_eq!((v2.answers, v2.accuracy, v2.interval), (0, None, None));
        assert_eq!(report.tests.sample_size, None);
    }

    #[test]
    fn a_significant_gain_is_v2_better() {
        // proportions_ztest([470, 420], [1000, 1000]) -> z 2.2497, p 0.0245
        let report = analyse(
            &with_feedback(feedback(420, 580), feedback(470, 530)),
            Provenance::fixture(),
        );
        assert_eq!(report.verdict.kind, VerdictKind::V2Better);
        assert_eq!(report.verdict.text, "v2 better");
        let test = report.tests.accuracy_z_test.expect("both arms");
        assert!(
            (test.p_value - 0.02446671187449629).abs() < 1e-9 * 0.02446671187449629,
            "{}",
            test.p_value
        );
        // Flipped: the same p-value, v2 worse.
        let report = analyse(
            &with_feedback(feedback(470, 530), feedback(420, 580)),
            Provenance::fixture(),
        );
        assert_eq!(report.verdict.kind, VerdictKind::V2Worse);
        assert_eq!(report.verdict.text, "v2 worse");
    }

    #[test]
    fn a_small_difference_says_how_many_more_observations() {
        // 30/100 against 35/100: n = 1377 per arm (p1 0.30, p2 0.35 in stats' tests).
        let report = analyse(
            &with_feedback(feedback(30, 70), feedback(35, 65)),
            Provenance::fixture(),
        );
        assert_eq!(report.verdict.kind, VerdictKind::NoSignificantDifference);
        assert_eq!(
            report.verdict.text,
            "no significant difference yet, 1277 more observations (feedback answers) per arm needed"
        );
        let size = report.tests.sample_size.expect("a difference");
        assert_eq!(size.per_arm, 1377);
        assert_eq!(
            size.more_needed,
            BTreeMap::from([(Arm::V1, 1277), (Arm::V2, 1277)])
        );
    }

    #[test]
    fn the_smaller_arm_sets_how_many_more() {
        // 300/1000 against 7/20 (0.35): 1377 per arm; v1 needs 377 more, v2 1357.
        let report = analyse(
            &with_feedback(feedback(300, 700), feedback(7, 13)),
            Provenance::fixture(),
        );
        let size = report.tests.sample_size.as_ref().expect("a difference");
        assert_eq!(
            size.more_needed,
            BTreeMap::from([(Arm::V1, 377), (Arm::V2, 1357)])
        );
        assert!(
            report.verdict.text.contains("1357 more"),
            "{}",
            report.verdict.text
        );
    }

    #[test]
    fn identical_accuracies_are_no_difference_observed() {
        let report = analyse(
            &with_feedback(feedback(50, 50), feedback(50, 50)),
            Provenance::fixture(),
        );
        assert_eq!(report.verdict.kind, VerdictKind::NoSignificantDifference);
        assert_eq!(
            report.verdict.text,
            "no significant difference yet, no difference observed"
        );
        assert_eq!(report.tests.accuracy_z_test.expect("both").p_value, 1.0);
        // Everyone right in both arms: no variance, still p = 1 and no difference.
        let report = analyse(
            &with_feedback(feedback(10, 0), feedback(20, 0)),
            Provenance::fixture(),
        );
        assert_eq!(
            report.verdict.text,
            "no significant difference yet, no difference observed"
        );
        assert!(report.notes.iter().any(|note| note.contains("rough")));
    }

    #[test]
    fn enough_observations_without_significance_says_so() {
        // Real counts hardly get here (an arm with the observations needed for the observed
        // difference makes that difference significant), so the tests are made up.
        let tests = Tests {
            prediction_chi_square: None,
            accuracy_z_test: stats::two_proportion_z_test(195, 400, 215, 400),
            sample_size: Some(SampleSize {
                alpha: ALPHA,
                power: POWER,
                per_arm: 388,
                more_needed: BTreeMap::from([(Arm::V1, 0), (Arm::V2, 0)]),
            }),
        };
        let verdict = verdict(Some((195, 400)), Some((215, 400)), &tests);
        assert_eq!(verdict.kind, VerdictKind::NoSignificantDifference);
        assert!(
            verdict.text.contains("has the 388 observations"),
            "{}",
            verdict.text
        );
    }

    #[test]
    fn distributions_are_shared_and_compared_over_the_union_of_labels() {
        let mut observations = Observations::default();
        observations.v1.predictions = Some(BTreeMap::from([
            ("joy".to_owned(), 10),
            ("worry".to_owned(), 30),
        ]));
        observations.v2.predictions = Some(BTreeMap::from([
            ("joy".to_owned(), 20),
            ("worry".to_owned(), 40),
            ("hate".to_owned(), 0),
        ]));
        let report = analyse(&observations, Provenance::fixture());
        let v1 = report.arms[0].predictions.as_ref().expect("v1");
        assert_eq!(v1.total, 40);
        assert_eq!(
            v1.by_label["worry"],
            LabelShare {
                count: 30,
                share: Some(0.75)
            }
        );
        // chi2_contingency([[10, 30], [20, 40]], correction=False): the same as
        // [[10, 20], [30, 40]] transposed: statistic 0.7936507936507936, p 0.37299848361348686
        let test = report.tests.prediction_chi_square.expect("both arms");
        assert_eq!(test.degrees_of_freedom, 1);
        assert!((test.statistic - 0.7936507936507936).abs() < 1e-12);
    }

    #[test]
    fn requests_errors_and_shadow() {
        let mut observations = Observations::default();
        observations.v1.requests = Some(200);
        observations.v1.server_errors = Some(3);
        observations.v2.requests = Some(0);
        observations.v2.server_errors = Some(0);
        observations.shadow = ShadowObservations {
            comparisons: Some((90, 10)),
            pairs: vec![
                LabelPair {
                    live: "worry".into(),
                    shadow: "worry".into(),
                    count: 90,
                },
                LabelPair {
                    live: "worry".into(),
                    shadow: "sadness".into(),
                    count: 6,
                },
                LabelPair {
                    live: "fun".into(),
                    shadow: "love".into(),
                    count: 4,
                },
                LabelPair {
                    live: "fun".into(),
                    shadow: "hate".into(),
                    count: 0,
                },
            ],
        };
        let report = analyse(&observations, Provenance::fixture());
        assert_eq!(report.arms[0].error_rate, Some(0.015));
        assert_eq!(report.arms[1].requests, Some(0));
        assert_eq!(report.arms[1].error_rate, None);
        assert_eq!(report.shadow.comparisons, Some(100));
        assert_eq!(report.shadow.agreement, Some(0.9));
        assert!(report.shadow.interval.is_some());
        let pairs: Vec<(&str, u64)> = report
            .shadow
            .top_disagreements
            .iter()
            .map(|pair| (pair.shadow.as_str(), pair.count))
            .collect();
        assert_eq!(pairs, vec![("sadness", 6), ("love", 4)]);
    }
}
