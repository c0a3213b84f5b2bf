//! The statistics of the readout, as pure functions of counts: no I/O, no Prometheus.
//!
//! Each function returns `None` where its answer is undefined (an empty arm, no difference to
//! size a sample for, fewer than two labels to compare), so that the caller reports "no data"
//! instead of printing a `NaN`. The distributions come from `statrs`; the expected values in the
//! tests were computed with scipy 1.17.1 and statsmodels 0.15.0, and the Python that produced
//! each one sits beside it.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// The significance level of every test and interval of the readout (two-sided).
pub const ALPHA: f64 = 0.05;
/// The power at which the readout sizes the sample needed to detect a difference.
pub const POWER: f64 = 0.8;

/// The standard normal quantile `z` with `P(Z <= z) = p`.
fn z_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// A closed interval of proportions.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// Lower bound, at least 0.
    pub low: f64,
    /// Upper bound, at most 1.
    pub high: f64,
}

/// The Wilson score interval for `successes` out of `trials` at confidence `1 - ALPHA` (95%).
///
/// Wilson rather than the textbook `p ± z·sqrt(p(1-p)/n)`: that one collapses to a width of
/// zero at 0% and 100% and leaves [0, 1] for small samples, which is exactly where a young
/// experiment is. `None` when there are no trials.
pub fn wilson_interval(successes: u64, trials: u64) -> Option<Interval> {
    if trials == 0 || successes > trials {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z = z_quantile(1.0 - ALPHA / 2.0);
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        low: (centre - half_width).max(0.0),
        high: (centre + half_width).min(1.0),
    })
}

/// The outcome of a two-proportion z-test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ZTest {
    /// The second proportion minus the first.
    pub difference: f64,
    /// The test statistic: the difference over its pooled standard error.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Two-sided z-test of `x2/n2` against `x1/n1`, with the pooled proportion in the standard
/// error (the test under the null hypothesis that both are equal; statsmodels'
/// `proportions_ztest` default). The sign of `z` is that of `x2/n2 - x1/n1`.
///
/// When every observation of both arms has the same outcome, the pooled standard error is
/// zero; the proportions are then equal, and the answer is `z = 0`, `p = 1` (statsmodels
/// returns `NaN` there). `None` when an arm is empty.
pub fn two_proportion_z_test(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<ZTest> {
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let difference = x2 as f64 / n2f - x1 as f64 / n1f;
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    if standard_error == 0.0 {
        return Some(ZTest {
            difference,
            z: 0.0,
            p_value: 1.0,
        });
    }
    let z = difference / standard_error;
    // The survival function rather than 1 - cdf keeps tiny p-values from rounding to 0.
    let p_value = (2.0 * Normal::standard().sf(z.abs())).min(1.0);
    Some(ZTest {
        difference,
        z,
        p_value,
    })
}

/// The outcome of a chi-square test of homogeneity.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ChiSquareTest {
    /// Pearson's statistic, without continuity correction.
    pub statistic: f64,
    /// Labels compared minus one.
    pub degrees_of_freedom: u64,
    /// The probability of a statistic at least this large if both arms share one distribution.
    pub p_value: f64,
    /// The smallest expected count of the table; below 5 the chi-square approximation is rough.
    pub min_expected: f64,
}

/// Chi-square test that two arms' counts per label (`first[i]`, `second[i]` for label `i`)
/// come from one distribution: a 2×k contingency table, Pearson's statistic without Yates'
/// correction (scipy's `chi2_contingency(..., correction=False)`), `k - 1` degrees of freedom.
///
/// Labels that neither arm predicted are dropped: they carry no information and would divide
/// by a zero expected count. `None` when an arm has no counts, fewer than two labels remain,
/// or the slices differ in length.
pub fn chi_square_homogeneity(first: &[u64], second: &[u64]) -> Option<ChiSquareTest> {
    if first.len() != second.len() {
        return None;
    }
    let columns: Vec<(f64, f64)> = first
        .iter()
        .zip(second)
        .filter(|(a, b)| **a + **b > 0)
        .map(|(a, b)| (*a as f64, *b as f64))
        .collect();
    let first_total: f64 = columns.iter().map(|(a, _)| a).sum();
    let second_total: f64 = columns.iter().map(|(_, b)| b).sum();
    if columns.len() < 2 || first_total == 0.0 || second_total == 0.0 {
        return None;
    }
    let total = first_total + second_total;
    let mut statistic = 0.0;
    let mut min_expected = f64::INFINITY;
    for (a, b) in &columns {
        let column_total = a + b;
        for (observed, row_total) in [(a, first_total), (b, second_total)] {
            let expected = row_total * column_total / total;
            statistic += (observed - expected).powi(2) / expected;
            min_expected = min_expected.min(expected);
        }
    }
    let degrees_of_freedom = columns.len() as u64 - 1;
    let distribution = ChiSquared::new(degrees_of_freedom as f64).ok()?;
    Some(ChiSquareTest {
        statistic,
        degrees_of_freedom,
        p_value: distribution.sf(statistic).clamp(0.0, 1.0),
        min_expected,
    })
}

/// Observations needed in each of two equal arms for a two-sided test at level `alpha` to
/// detect the difference between proportions `p1` and `p2` with probability `power`:
///
/// ```text
/// n = (z_{1-α/2}·sqrt(2·p̄(1-p̄)) + z_{power}·sqrt(p1(1-p1) + p2(1-p2)))² / (p1 - p2)²,  p̄ = (p1+p2)/2
/// ```
///
/// (the normal approximation without continuity correction; statsmodels'
/// `samplesize_proportions_2indep_onetail` gives the same), rounded up. `None` when the
/// proportions are equal (no sample detects no difference) or out of [0, 1].
pub fn sample_size_per_arm(p1: f64, p2: f64, alpha: f64, power: f64) -> Option<u64> {
    let valid = |p: f64| (0.0..=1.0).contains(&p);
    if !valid(p1) || !valid(p2) || p1 == p2 || !(0.0..1.0).contains(&alpha) {
        return None;
    }
    let z_alpha = z_quantile(1.0 - alpha / 2.0);
    let z_power = z_quantile(power);
    let mean = (p1 + p2) / 2.0;
    let root = z_alpha * (2.0 * mean * (1.0 - mean)).sqrt()
        + z_power * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    let n = (root * root / (p1 - p2).powi(2)).ceil();
    // A difference near f64's resolution would need more observations than a u64 counts.
    (n.is_finite() && n < u64::MAX as f64).then_some(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative agreement to 1e-9: statrs and scipy use different algorithms for the normal
    /// quantile and the incomplete gamma function, so the last few digits may differ.
    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1e-300)
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!(close(actual, expected), "{actual} != {expected}");
    }

    #[test]
    fn the_normal_quantiles_are_scipys() {
        // from scipy.stats import norm; norm.ppf(0.975), norm.ppf(0.8)
        assert_close(z_quantile(0.975), 1.959963984540054);
        assert_close(z_quantile(0.8), 0.8416212335729143);
    }

    #[test]
    fn wilson_interval_matches_statsmodels() {
        // from statsmodels.stats.proportion import proportion_confint
        // proportion_confint(x, n, alpha=0.05, method='wilson')
        let cases = [
            (81, 263, 0.2552885198782742, 0.36620957698280004),
            (470, 1000, 0.43923991460215, 0.5009896909069833),
            (0, 10, 0.0, 0.27753279986288926),
            (10, 10, 0.7224672001371106, 1.0),
            (1, 1, 0.2065493143772374, 1.0),
        ];
        for (x, n, low, high) in cases {
            let interval = wilson_interval(x, n).expect("trials");
            assert!(
                (interval.low - low).abs() < 1e-12 && close(interval.high, high),
                "{x}/{n}: {interval:?}, expected [{low}, {high}]"
            );
        }
    }

    #[test]
    fn wilson_interval_of_nothing_is_none() {
        assert_eq!(wilson_interval(0, 0), None);
        assert_eq!(wilson_interval(3, 2), None);
    }

    #[test]
    fn z_test_matches_statsmodels() {
        // from statsmodels.stats.proportion import proportions_ztest
        // proportions_ztest([x2, x1], [n2, n1])   # pooled, two-sided
        let cases = [
            (
                420,
                1000,
                470,
                1000,
                2.2497202084475294,
                0.02446671187449629,
            ),
            (30, 100, 45, 120, 1.1685534824642432, 0.24258357934832098),
            (45, 120, 30, 100, -1.1685534824642432, 0.24258357934832098),
            (
                100,
                1000,
                300,
                1000,
                11.180339887498947,
                5.089468973814369e-29,
            ),
        ];
        for (x1, n1, x2, n2, z, p) in cases {
            let test = two_proportion_z_test(x1, n1, x2, n2).expect("both arms");
            assert_close(test.z, z);
            assert_close(test.p_value, p);
            assert_close(
                test.difference,
                x2 as f64 / n2 as f64 - x1 as f64 / n1 as f64,
            );
        }
    }

    #[test]
    fn z_test_of_identical_arms_is_p_one() {
        // proportions_ztest([50, 50], [100, 100]) -> (0.0, 1.0)
        let test = two_proportion_z_test(50, 100, 50, 100).expect("both arms");
        assert_eq!((test.z, test.p_value, test.difference), (0.0, 1.0, 0.0));
        // Every answer right in both arms: no variance at all (statsmodels says NaN).
        let test = two_proportion_z_test(10, 10, 20, 20).expect("both arms");
        assert_eq!((test.z, test.p_value, test.difference), (0.0, 1.0, 0.0));
        let test = two_proportion_z_test(0, 10, 0, 20).expect("both arms");
        assert_eq!((test.z, test.p_value), (0.0, 1.0));
    }

    #[test]
    fn z_test_with_an_empty_arm_is_none() {
        assert_eq!(two_proportion_z_test(0, 0, 5, 10), None);
        assert_eq!(two_proportion_z_test(5, 10, 0, 0), None);
    }

    #[test]
    fn chi_square_matches_scipy() {
        // import numpy as np; from scipy.stats import chi2_contingency
        // t = np.array([a, b]); t = t[:, t.sum(axis=0) > 0]
        // r = chi2_contingency(t, correction=False)
        // r.statistic, r.dof, r.pvalue, r.expected_freq.min()
        /// Both arms' counts, then statistic, degrees of freedom, p-value, smallest expected count.
        type Case<'a> = (&'a [u64], &'a [u64], f64, u64, f64, f64);
        let cases: [Case; 3] = [
            (
                &[10, 20],
                &[30, 40],
                0.7936507936507936,
                1,
                0.37299848361348686,
                12.0,
            ),
            // 13 labels, the second predicted by neither arm.
            (
                &[12, 0, 5, 30, 80, 110, 40, 90, 210, 20, 100, 25, 85],
                &[8, 0, 9, 22, 95, 100, 30, 70, 230, 15, 120, 30, 60],
                16.869689554596775,
                11,
                0.111789670780074,
                6.921052631578948,
            ),
            (&[5, 0, 3], &[0, 4, 0], 12.0, 2, 0.002478752176666357, 1.0),
        ];
        for (a, b, statistic, dof, p, min_expected) in cases {
            let test = chi_square_homogeneity(a, b).expect("testable");
            assert_close(test.statistic, statistic);
            assert_eq!(test.degrees_of_freedom, dof);
            assert_close(test.p_value, p);
            assert_close(test.min_expected, min_expected);
        }
    }

    #[test]
    fn chi_square_of_proportional_arms_is_p_one() {
        // chi2_contingency([[10, 20, 30], [20, 40, 60]], correction=False) -> 0.0, 2, 1.0
        let test = chi_square_homogeneity(&[10, 20, 30], &[20, 40, 60]).expect("testable");
        assert_eq!(test.statistic, 0.0);
        assert_eq!(test.degrees_of_freedom, 2);
        assert_eq!(test.p_value, 1.0);
    }

    #[test]
    fn chi_square_needs_two_arms_and_two_labels() {
        assert_eq!(chi_square_homogeneity(&[0, 0, 0], &[1, 2, 3]), None);
        assert_eq!(chi_square_homogeneity(&[4, 5], &[0, 0]), None);
        assert_eq!(chi_square_homogeneity(&[0, 7, 0], &[0, 3, 0]), None);
        assert_eq!(chi_square_homogeneity(&[], &[]), None);
        assert_eq!(chi_square_homogeneity(&[1, 2], &[1]), None);
    }

    #[test]
    fn sample_size_matches_the_formula_and_statsmodels() {
        // from scipy.stats import norm; import numpy as np
        // za, zb = norm.ppf(0.975), norm.ppf(0.8); pb = (p1 + p2) / 2
        // n = (za*np.sqrt(2*pb*(1-pb)) + zb*np.sqrt(p1*(1-p1) + p2*(1-p2)))**2 / (p1-p2)**2
        // statsmodels agrees to 1e-12: samplesize_proportions_2indep_onetail(p2 - p1, p1, 0.8,
        //   alpha=0.05, alternative='two-sided')
        let cases = [
            (0.5, 0.6, 388),    // n = 387.33851669903584
            (0.3, 0.35, 1377),  // n = 1376.2988682907194
            (0.42, 0.47, 1550), // n = 1549.6021986505175
            (0.9, 0.95, 435),   // n = 434.4320224394695
            (0.0, 1.0, 2),      // n = 1.9207294103470631
        ];
        for (p1, p2, n) in cases {
            assert_eq!(
                sample_size_per_arm(p1, p2, ALPHA, POWER),
                Some(n),
                "{p1} vs {p2}"
            );
            assert_eq!(
                sample_size_per_arm(p2, p1, ALPHA, POWER),
                Some(n),
                "{p2} vs {p1}"
            );
        }
    }

    #[test]
    fn sample_size_of_no_difference_is_none() {
        assert_eq!(sample_size_per_arm(0.4, 0.4, ALPHA, POWER), None);
        assert_eq!(sample_size_per_arm(-0.1, 0.4, ALPHA, POWER), None);
        assert_eq!(sample_size_per_arm(0.4, f64::NAN, ALPHA, POWER), None);
    }
}
