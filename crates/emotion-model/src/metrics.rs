//! Held-out evaluation: accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix,
//! and the majority-class baseline beside them.

use serde::{Deserialize, Serialize};

/// Precision, recall and F1 of one class (0 when undefined, as scikit-learn's `zero_division=0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Label name.
    pub label: String,
    /// Held-out rows with this true label.
    pub support: usize,
    /// Of the rows predicted as this label, the share that are.
    pub precision: f64,
    /// Of the rows with this label, the share predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// Always predicting the training set's most frequent label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// The majority label.
    pub label: String,
    /// Its held-out accuracy.
    pub accuracy: f64,
    /// Its held-out macro-F1.
    pub macro_f1: f64,
}

/// The result of scoring predictions against the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Number of rows scored.
    pub rows: usize,
    /// Share of rows predicted correctly.
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1.
    pub macro_f1: f64,
    /// One entry per label, in label order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]` counts, in label order.
    pub confusion: Vec<Vec<u64>>,
    /// The majority-class baseline on the same rows.
    pub baseline: Baseline,
}

/// Scores `predicted` against `truth` (label indices into `labels`); `majority` is the label
/// index of the baseline.
pub fn evaluate(
    labels: &[String],
    truth: &[usize],
    predicted: &[usize],
    majority: usize,
) -> Evaluation {
    assert_eq!(truth.len(), predicted.len(), "one prediction per row");
    let (accuracy, macro_f1, per_class, confusion) = score(labels, truth, predicted);
    let constant = vec![majority; truth.len()];
    let (base_accuracy, base_f1, _, _) = score(labels, truth, &constant);
    Evaluation {
        rows: truth.len(),
        accuracy,
        macro_f1,
        per_class,
        confusion,
        baseline: Baseline {
            label: labels[majority].clone(),
            accuracy: base_accuracy,
            macro_f1: base_f1,
        },
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn score(
    labels: &[String],
    truth: &[usize],
    predicted: &[usize],
) -> (f64, f64, Vec<ClassMetrics>, Vec<Vec<u64>>) {
    let n = labels.len();
    let mut confusion = vec![vec![0u64; n]; n];
    for (&t, &p) in truth.iter().zip(predicted) {
        confusion[t][p] += 1;
    }
    let correct: u64 = (0..n).map(|c| confusion[c][c]).sum();
    let per_class: Vec<ClassMetrics> = (0..n)
        .map(|c| {
            let tp = confusion[c][c];
            let support: u64 = confusion[c].iter().sum();
            let predicted_as: u64 = confusion.iter().map(|row| row[c]).sum();
            let precision = ratio(tp, predicted_as);
            let recall = ratio(tp, support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassMetrics {
                label: labels[c].clone(),
                support: support as usize,
                precision,
                recall,
                f1,
            }
        })
        .collect();
    let macro_f1 = per_class.iter().map(|m| m.f1).sum::<f64>() / n as f64;
    (
        ratio(correct, truth.len() as u64),
        macro_f1,
        per_class,
        confusion,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_a_small_case_by_hand() {
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let truth = [0, 0, 1, 1, 2];
        let pred = [0, 1, 1, 1, 0];
        let e = evaluate(&labels, &truth, &pred, 0);
        assert_eq!(e.rows, 5);
        assert!((e.accuracy - 0.6).abs() < 1e-12);
        assert_eq!(
            e.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
        );
        // a: p=1/2 r=1/2 f1=1/2; b: p=2/3 r=1 f1=0.8; c: 0.
        assert!((e.per_class[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.macro_f1 - (0.5 + 0.8) / 3.0).abs() < 1e-12);
        // Baseline "a": accuracy 2/5, f1(a) = 2*(0.4*1)/(1.4) / 3.
        assert!((e.baseline.accuracy - 0.4).abs() < 1e-12);
        assert!((e.baseline.macro_f1 - (0.8 / 1.4) / 3.0).abs() < 1e-12);
    }
}
