//! Wall-clock time as RFC 3339 UTC text (`2025-12-06T20:15:03.250Z`), the format Alertmanager
//! uses for `startsAt`, so a notification's times and its `received_at` read alike.
//!
//! Thirty lines of calendar arithmetic rather than a date crate: the receiver only ever formats
//! "now", in UTC, to the millisecond.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, formatted.
pub fn now_rfc3339() -> String {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_unix_millis(since_epoch.as_millis() as u64)
}

/// Milliseconds since the Unix epoch, formatted (UTC; no leap seconds, like Unix time itself).
pub fn format_unix_millis(millis: u64) -> String {
    let (secs, ms) = (millis / 1000, millis % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_unix_millis(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a year divisible by 400).
        assert_eq!(
            format_unix_millis(951_782_400_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            format_unix_millis(1_765_052_103_250),
            "2025-12-06T20:15:03.250Z"
        );
        // The last millisecond of 2024 (a leap year) and the first of 2025.
        assert_eq!(
            format_unix_millis(1_735_689_599_999),
            "2024-12-31T23:59:59.999Z"
        );
        assert_eq!(
            format_unix_millis(1_735_689_600_000),
            "2025-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn now_is_after_this_code_was_written() {
        assert!(now_rfc3339().as_str() > "2025-12-01", "{}", now_rfc3339());
    }
}
