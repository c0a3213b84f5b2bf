//! Delivery to the operator: each alert of a notification becomes one JSON line on stdout.
//!
//! That is where the stack's alerts end up (`docker compose logs alert-receiver`, journald on
//! NixOS), and what a log shipper would forward. The line has the same flat `timestamp`,
//! `level`, `message`, `target` keys as the service's other log lines (tracing's JSON format),
//! plus the alert itself with its labels and annotations as nested objects, so one `jq` filter
//! reads them all. Written directly rather than through `tracing`, whose fields are flat
//! scalars: label sets would become escaped strings.

use std::io::{self, Write};

use serde::Serialize;

use crate::history::Received;
use crate::webhook::{LabelSet, Status};

/// The `message` of every alert line, to tell them from the service's own log lines.
pub const MESSAGE: &str = "alert";

#[derive(Serialize)]
struct Line<'a> {
    timestamp: &'a str,
    level: &'static str,
    message: &'static str,
    target: &'static str,
    /// This alert's state.
    status: &'static str,
    alertname: &'a str,
    receiver: &'a str,
    group_key: &'a str,
    /// The notification's `seq` in `GET /alerts`.
    notification: u64,
    labels: &'a LabelSet,
    annotations: &'a LabelSet,
    starts_at: &'a str,
    ends_at: &'a str,
    generator_url: &'a str,
    fingerprint: &'a str,
}

/// Writes one line per alert of `received` to `out`.
pub fn write_lines<W: Write>(out: &mut W, received: &Received) -> io::Result<()> {
    let n = &received.notification;
    for alert in &n.alerts {
        let line = Line {
            timestamp: &received.received_at,
            // A firing alert is what an operator must act on; a resolved one is news.
            level: match alert.status {
                Status::Firing => "WARN",
                Status::Resolved => "INFO",
            },
            message: MESSAGE,
            target: module_path!(),
            status: alert.status.as_str(),
            alertname: alert.alertname(),
            receiver: &n.receiver,
            group_key: &n.group_key,
            notification: received.seq,
            labels: &alert.labels,
            annotations: &alert.annotations,
            starts_at: &alert.starts_at,
            ends_at: &alert.ends_at,
            generator_url: &alert.generator_url,
            fingerprint: &alert.fingerprint,
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Writes the lines to stdout. A failed write (a closed pipe) is reported once in the log;
/// the notification is still kept and counted.
pub fn deliver(received: &Received) {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if let Err(error) = write_lines(&mut out, received) {
        drop(out);
        tracing::error!(%error, seq = received.seq, "cannot write the alert lines to stdout");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::History;

    #[test]
    fn one_parseable_line_per_alert() {
        let notification = serde_json::from_value(serde_json::json!({
            "version": "4", "groupKey": "g", "status": "firing", "receiver": "webhook",
            "alerts": [
                {"status": "firing", "labels": {"alertname": "A", "job": "api-v1"},
                 "annotations": {"summary": "line\nbreak"}, "startsAt": "2025-01-01T00:00:00Z"},
                {"status": "resolved", "labels": {"alertname": "B"}, "startsAt": "2025-01-01T00:00:00Z",
                 "endsAt": "2025-01-01T00:05:00Z"}
            ]
        }))
        .expect("valid");
        let received = History::new(1).push("2025-01-01T00:05:01.000Z".into(), notification);
        let mut out = Vec::new();
        write_lines(&mut out, &received).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["message"], MESSAGE);
        assert_eq!(lines[0]["status"], "firing");
        assert_eq!(lines[0]["level"], "WARN");
        assert_eq!(lines[0]["labels"]["job"], "api-v1");
        assert_eq!(lines[0]["annotations"]["summary"], "line\nbreak");
        assert_eq!(lines[1]["alertname"], "B");
        assert_eq!(lines[1]["status"], "resolved");
        assert_eq!(lines[1]["ends_at"], "2025-01-01T00:05:00Z");
        assert_eq!(lines[1]["notification"], 1);
    }
}
