//! The receiver's metrics, for Prometheus to scrape: what was delivered, and what was refused.
//!
//! The recorder is owned by the application rather than installed globally, so tests can run
//! several receivers in one process without sharing counters (`metrics::with_local_recorder`).
//! `alertname` comes from request bodies: the first [`MAX_ALERTNAMES`] distinct names get their
//! own series, later ones count as `other`, so a buggy or hostile sender cannot grow the series
//! count without bound.

use std::collections::HashSet;
use std::sync::Mutex;

use metrics::{counter, describe_counter, with_local_recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::webhook::Notification;

/// `alert_receiver_notifications_total{status,alertname}`: alerts delivered, one per alert per
/// notification (a notification carries every alert of its group).
pub const NOTIFICATIONS_TOTAL: &str = "alert_receiver_notifications_total";
/// `alert_receiver_rejected_total{code}`: requests to `POST /alerts` refused, by error code.
pub const REJECTED_TOTAL: &str = "alert_receiver_rejected_total";
/// Distinct `alertname` label values before the rest count as `other` (the project has about
/// ten alert rules).
pub const MAX_ALERTNAMES: usize = 256;
/// The `alertname` of alerts beyond [`MAX_ALERTNAMES`].
pub const OTHER: &str = "other";

/// The application's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    alertnames: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A private recorder with the families described.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        with_local_recorder(&recorder, || {
            describe_counter!(
                NOTIFICATIONS_TOTAL,
                "Alerts delivered by Alertmanager, one per alert per notification, by the alert's status."
            );
            describe_counter!(
                REJECTED_TOTAL,
                "Requests to POST /alerts refused, by error code."
            );
        });
        Self {
            recorder,
            handle,
            alertnames: Mutex::new(HashSet::new()),
        }
    }

    /// Renders the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Counts every alert of an accepted notification.
    pub fn delivered(&self, notification: &Notification) {
        for alert in &notification.alerts {
            let name = self.label_for(alert.alertname());
            let status = alert.status.as_str();
            with_local_recorder(&self.recorder, || {
                counter!(NOTIFICATIONS_TOTAL, "status" => status, "alertname" => name).increment(1);
            });
        }
    }

    /// Counts a refused request.
    pub fn rejected(&self, code: &'static str) {
        with_local_recorder(&self.recorder, || {
            counter!(REJECTED_TOTAL, "code" => code).increment(1);
        });
    }

    fn label_for(&self, alertname: &str) -> String {
        let mut seen = self
            .alertnames
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(alertname) {
            return alertname.to_owned();
        }
        if seen.len() < MAX_ALERTNAMES {
            seen.insert(alertname.to_owned());
            return alertname.to_owned();
        }
        OTHER.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(names: &[(&str, &str)]) -> Notification {
        let alerts: Vec<_> = names
            .iter()
            .map(|(name, status)| serde_json::json!({
                "status": status, "labels": {"alertname": name}, "startsAt": "2025-01-01T00:00:00Z"
            }))
            .collect();
        serde_json::from_value(serde_json::json!({
            "version": "4", "groupKey": "g", "status": "firing", "receiver": "webhook", "alerts": alerts
        }))
        .expect("valid")
    }

    #[test]
    fn counts_each_alert_by_status_and_name() {
        let metrics = Metrics::new();
        metrics.delivered(&notification(&[("A", "firing"), ("B", "resolved")]));
        metrics.delivered(&notification(&[("A", "firing")]));
        metrics.rejected("malformed_json");
        let text = metrics.render();
        assert!(
            text.contains(r#"alert_receiver_notifications_total{status="firing",alertname="A"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"alert_receiver_notifications_total{status="resolved",alertname="B"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"alert_receiver_rejected_total{code="malformed_json"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn alertnames_beyond_the_cap_count_as_other() {
        let metrics = Metrics::new();
        for i in 0..MAX_ALERTNAMES + 5 {
            metrics.delivered(&notification(&[(&format!("Alert{i}"), "firing")]));
        }
        let text = metrics.render();
        assert!(
            text.contains(
                r#"alert_receiver_notifications_total{status="firing",alertname="other"} 5"#
            ),
            "{text}"
        );
        // A name seen before the cap keeps its own series.
        metrics.delivered(&notification(&[("Alert0", "resolved")]));
        assert!(metrics.render().contains(
            r#"alert_receiver_notifications_total{status="resolved",alertname="Alert0"} 1"#
        ));
    }
}
