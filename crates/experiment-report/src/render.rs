//! The report as text for a person: an aligned table with a column per arm, the prediction
//! distribution, the tests, notes, and the verdict as the last line (so `| tail -1` gives it).

use std::fmt::Write as _;

use crate::report::{Arm, ArmReport, Report};
use crate::stats::Interval;

/// What a missing figure reads as.
const NO_DATA: &str = "no data";

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// A finer percentage for error rates, where 0.04% and 0% are different news.
fn fine_percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

fn interval(interval: &Interval) -> String {
    format!("{:.1}–{:.1}%", interval.low * 100.0, interval.high * 100.0)
}

/// Seconds, in the unit that keeps three significant digits readable.
fn duration(seconds: f64) -> String {
    if seconds.is_infinite() {
        // histogram_quantile with no finite bucket to interpolate in (only +Inf was filled).
        return "above the largest bucket".to_owned();
    }
    let ms = seconds * 1000.0;
    match ms {
        ms if ms < 10.0 => format!("{ms:.2} ms"),
        ms if ms < 1000.0 => format!("{ms:.1} ms"),
        _ => format!("{seconds:.2} s"),
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// `seconds` since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC` (Howard Hinnant's
/// `civil_from_days`, to keep a date library out for one line).
fn utc(seconds: f64) -> String {
    let seconds = seconds.floor() as i64;
    let (days, time) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        time / 3600,
        time / 60 % 60,
        time % 60
    )
}

/// How the cells of a column after the first line up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    /// Numbers: right-aligned, so that digits line up.
    Right,
}

/// Rows of cells, each column padded to its widest cell. The first column is always
/// left-aligned (names); `align` applies to the others. Trailing spaces are trimmed.
fn table(out: &mut String, indent: &str, align: Align, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|row| row.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = indent.to_owned();
        for (c, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[c] - cell.chars().count());
            if c > 0 {
                line.push_str("  ");
            }
            if c > 0 && align == Align::Right {
                let _ = write!(line, "{pad}{cell}");
            } else {
                let _ = write!(line, "{cell}{pad}");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn or_no_data<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or_else(|| NO_DATA.to_owned(), show)
}

fn arm_rows(arms: &[ArmReport]) -> Vec<Vec<String>> {
    let row = |name: &str, cell: &dyn Fn(&ArmReport) -> String| {
        std::iter::once(name.to_owned())
            .chain(arms.iter().map(cell))
            .collect::<Vec<_>>()
    };
    vec![
        row("", &|arm| format!("{} ({})", arm.arm.label(), arm.role)),
        row("requests (/predict*)", &|arm| {
            or_no_data(arm.requests, thousands)
        }),
        row("error rate (5xx)", &|arm| {
            or_no_data(arm.error_rate.zip(arm.server_errors), |(rate, errors)| {
                format!("{} ({})", fine_percent(rate), thousands(errors))
            })
        }),
        row("latency p50", &|arm| {
            or_no_data(arm.latency_p50_seconds, duration)
        }),
        row("latency p99", &|arm| {
            or_no_data(arm.latency_p99_seconds, duration)
        }),
        row("predictions", &|arm| {
            or_no_data(arm.predictions.as_ref(), |p| thousands(p.total))
        }),
        row("feedback answers", &|arm| {
            or_no_data(arm.feedback.as_ref(), |f| thousands(f.answers))
        }),
        row("feedback accuracy", &|arm| {
            or_no_data(arm.feedback.as_ref().and_then(|f| f.accuracy), percent)
        }),
        row("  95% Wilson interval", &|arm| {
            or_no_data(arm.feedback.as_ref().and_then(|f| f.interval), |i| {
                interval(&i)
            })
        }),
        row("model versions", &|arm| {
            or_no_data(arm.feedback.as_ref(), |f| {
                let versions: Vec<&str> = f.by_model_version.keys().map(String::as_str).collect();
                if versions.is_empty() {
                    NO_DATA.to_owned()
                } else {
                    versions.join(", ")
                }
            })
        }),
    ]
}

fn distribution(out: &mut String, arms: &[ArmReport]) {
    let _ = writeln!(out, "Prediction distribution (live traffic)");
    let labels: std::collections::BTreeSet<&String> = arms
        .iter()
        .filter_map(|arm| arm.predictions.as_ref())
        .flat_map(|p| p.by_label.keys())
        .collect();
    if labels.is_empty() {
        let _ = writeln!(out, "  {NO_DATA}");
        return;
    }
    let mut header = vec!["label".to_owned()];
    for arm in arms {
        header.push(format!("{} share", arm.arm.label()));
        header.push(format!("{} count", arm.arm.label()));
    }
    let mut rows = vec![header];
    for label in labels {
        let mut row = vec![label.clone()];
        for arm in arms {
            let (share, count) = match &arm.predictions {
                None => (NO_DATA.to_owned(), String::new()),
                Some(p) => {
                    let share = p.by_label.get(label).copied().unwrap_or_default();
                    // No predictions in the window: a share of nothing is not 0%.
                    let shown = share.share.map_or_else(|| "–".to_owned(), percent);
                    (shown, thousands(share.count))
                }
            };
            row.extend([share, count]);
        }
        rows.push(row);
    }
    table(out, "  ", Align::Right, &rows);
}

fn tests(out: &mut String, report: &Report) {
    let tests = &report.tests;
    let mut rows = Vec::new();
    rows.push(vec![
        "prediction distribution".to_owned(),
        or_no_data(tests.prediction_chi_square, |t| {
            format!(
                "chi-square {:.2}, df {}, p = {}",
                t.statistic,
                t.degrees_of_freedom,
                p_value(t.p_value)
            )
        }),
    ]);
    rows.push(vec![
        "feedback accuracy".to_owned(),
        or_no_data(tests.accuracy_z_test, |t| {
            format!(
                "{:+.1} points, z = {:.2}, p = {} (two-proportion z-test)",
                t.difference * 100.0,
                t.z,
                p_value(t.p_value)
            )
        }),
    ]);
    let needed = match (&tests.sample_size, &tests.accuracy_z_test) {
        (Some(size), _) => {
            let have: Vec<String> = report
                .arms
                .iter()
                .map(|arm| {
                    let answers = arm.feedback.as_ref().map_or(0, |f| f.answers);
                    let more = size.more_needed.get(&arm.arm).copied().unwrap_or(0);
                    let more = if more > 0 {
                        format!("{} more", thousands(more))
                    } else {
                        "enough".to_owned()
                    };
                    format!("{} has {} ({more})", arm.arm.label(), thousands(answers))
                })
                .collect();
            format!(
                "{} per arm for the observed difference (alpha {}, power {}); {}",
                thousands(size.per_arm),
                size.alpha,
                size.power,
                have.join(", ")
            )
        }
        (None, Some(_)) => "no difference observed".to_owned(),
        (None, None) => NO_DATA.to_owned(),
    };
    rows.push(vec!["observations needed".to_owned(), needed]);
    let shadow = &report.shadow;
    let mut agreement = or_no_data(shadow.agreement.zip(shadow.comparisons), |(share, n)| {
        let ci = shadow.interval.as_ref().map(interval).unwrap_or_default();
        format!(
            "{} of {} comparisons (95% CI {ci})",
            percent(share),
            thousands(n)
        )
    });
    if !shadow.top_disagreements.is_empty() {
        let pairs: Vec<String> = shadow
            .top_disagreements
            .iter()
            .map(|pair| format!("{}→{} {}", pair.live, pair.shadow, thousands(pair.count)))
            .collect();
        let _ = write!(agreement, "; live→shadow: {}", pairs.join(", "));
    }
    rows.push(vec!["shadow agreement".to_owned(), agreement]);
    let _ = writeln!(out, "Tests (v2 against v1)");
    table(out, "  ", Align::Left, &rows);
}

/// The report as text, ending with the verdict line.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Experiment readout: {} ({}) against {} ({})",
        Arm::V2.label(),
        Arm::V2.role(),
        Arm::V1.label(),
        Arm::V1.role()
    );
    let span = if report.window == "all" {
        "since the counters started".to_owned()
    } else {
        format!("last {}", report.window)
    };
    let _ = writeln!(
        out,
        "Prometheus {}, {span}, at {}\n",
        report.prometheus_url,
        utc(report.evaluated_at)
    );
    table(&mut out, "", Align::Left, &arm_rows(&report.arms));
    out.push('\n');
    distribution(&mut out, &report.arms);
    out.push('\n');
    tests(&mut out, report);
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for note in &report.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    let _ = writeln!(out, "\nVerdict: {}", report.verdict.text);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::analysis::{analyse, Provenance};
    use crate::collect::{FeedbackCounts, Observations, ShadowObservations};
    use crate::report::LabelPair;

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration(0.000_573_4), "0.57 ms");
        assert_eq!(duration(0.013_47), "13.5 ms");
        assert_eq!(duration(2.5), "2.50 s");
        assert_eq!(p_value(0.024_466), "0.024");
        assert_eq!(p_value(5.09e-29), "5.1e-29");
        // date -u -d @1796590636; date -u -d @951782400 (a leap day)
        assert_eq!(utc(1_796_590_636.925), "2026-12-06 20:57:16 UTC");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(0.0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn nothing_reads_no_data_and_ends_with_the_verdict() {
        let text = text(&analyse(&Observations::default(), Provenance::fixture()));
        let expected = "\
Experiment readout: v2 (candidate) against v1 (control)
Prometheus http://127.0.0.1:9090, last 1h, at 2026-12-06 20:57:16 UTC

                       v1 (control)  v2 (candidate)
requests (/predict*)   no data       no data
error rate (5xx)       no data       no data
latency p50            no data       no data
latency p99            no data       no data
predictions            no data       no data
feedback answers       no data       no data
feedback accuracy      no data       no data
  95% Wilson interval  no data       no data
model versions         no data       no data

Prediction distribution (live traffic)
  no data

Tests (v2 against v1)
  prediction distribution  no data
  feedback accuracy        no data
  observations needed      no data
  shadow agreement         no data

Notes
  - Prometheus has no count of distinct users: the arms are compared in requests, and the observations needed are feedback answers per arm (a user may give several).

Verdict: no data yet: no feedback answers from v1 or v2
";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_full_report_shows_every_figure() {
        let mut observations = Observations::default();
        observations.v1.requests = Some(1202);
        observations.v1.server_errors = Some(0);
        observations.v2.requests = Some(915);
        observations.v2.server_errors = Some(2);
        observations.v1.latency_p50 = Some(0.000_573_4);
        observations.v1.latency_p99 = Some(0.013_47);
        observations.v1.predictions = Some(BTreeMap::from([
            ("happiness".into(), 300),
            ("worry".into(), 700),
        ]));
        observations.v2.predictions = Some(BTreeMap::from([
            ("happiness".into(), 350),
            ("worry".into(), 650),
        ]));
        let feedback = |correct, wrong| FeedbackCounts {
            correct,
            wrong,
            by_model_version: BTreeMap::from([("m1".into(), correct + wrong)]),
        };
        observations.v1.feedback = Some(feedback(30, 70));
        observations.v2.feedback = Some(feedback(35, 65));
        observations.shadow = ShadowObservations {
            comparisons: Some((90, 10)),
            pairs: vec![LabelPair {
                live: "worry".into(),
                shadow: "sadness".into(),
                count: 10,
            }],
        };
        // chi2_contingency([[300, 700], [350, 650]], correction=False) -> 5.698, p 0.01698
        // proportions_ztest([35, 30], [100, 100]) -> z 0.7549, p 0.4503
        // proportion_confint(90, 100, method="wilson") -> (0.8256, 0.9448)
        let text = text(&analyse(&observations, Provenance::fixture()));
        for expected in [
            "requests (/predict*)   1,202         915",
            "error rate (5xx)       0.00% (0)     0.22% (2)",
            "latency p50            0.57 ms       no data",
            "feedback accuracy      30.0%         35.0%",
            "  happiness     30.0%       300     35.0%       350",
            "prediction distribution  chi-square 5.70, df 1, p = 0.017",
            "feedback accuracy        +5.0 points, z = 0.75, p = 0.450",
            "1,377 per arm for the observed difference (alpha 0.05, power 0.8); v1 has 100 (1,277 more), v2 has 100 (1,277 more)",
            "shadow agreement         90.0% of 100 comparisons (95% CI 82.6–94.5%); live→shadow: worry→sadness 10",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(text.ends_with(
            "Verdict: no significant difference yet, 1277 more observations (feedback answers) per arm needed\n"
        ));
    }
}
