//! Alertmanager's webhook notification (payload version 4) and what makes one acceptable.
//!
//! The shape is Alertmanager's documented `webhook_config` body
//! (<https://prometheus.io/docs/alerting/latest/configuration/#webhook_config>). Fields we do not
//! know are kept as they came (`extra`) rather than refused, so that a newer Alertmanager adding
//! one (0.33 added `notification_reason`) keeps delivering and `GET /alerts` still shows it;
//! fields we rely on must be there with the right type (a type error is a 422, not a crash),
//! and [`Notification::validate`] checks what types cannot say.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The only payload version Alertmanager has sent since 0.7 and still sends.
pub const VERSION: &str = "4";
/// Longest `alertname` used as a metric label; longer ones are refused (real ones are short
/// CamelCase rule names).
pub const MAX_ALERTNAME_CHARS: usize = 200;

/// Label and annotation sets: name → value, both strings, kept sorted for stable output.
pub type LabelSet = BTreeMap<String, String>;

/// Whether an alert (or a whole notification) is firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The alert is active.
    Firing,
    /// The alert ended (`send_resolved: true`).
    Resolved,
}

impl Status {
    /// `firing` or `resolved`, as in the payload and the metric label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }
}

/// One notification: a group of alerts sharing `groupLabels`, sent to one receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Payload version; must be [`VERSION`].
    pub version: String,
    /// Identifies the group (route and group labels), stable across its notifications.
    pub group_key: String,
    /// Alerts left out because of the receiver's `max_alerts`.
    #[serde(default)]
    pub truncated_alerts: u64,
    /// `firing` when at least one alert fires, else `resolved`.
    pub status: Status,
    /// The Alertmanager receiver this was sent for.
    pub receiver: String,
    /// The labels the route groups by (`group_by`).
    #[serde(default)]
    pub group_labels: LabelSet,
    /// Labels every alert of the group has.
    #[serde(default)]
    pub common_labels: LabelSet,
    /// Annotations every alert of the group has.
    #[serde(default)]
    pub common_annotations: LabelSet,
    /// Alertmanager's own URL, for links back to it.
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// The alerts, at least one.
    pub alerts: Vec<Alert>,
    /// Top-level fields this version does not know, as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One alert of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// This alert's own state (a firing group can carry resolved alerts).
    pub status: Status,
    /// Identifying labels, `alertname` among them for alerts from Prometheus rules.
    pub labels: LabelSet,
    /// `summary`, `description`, ...
    #[serde(default)]
    pub annotations: LabelSet,
    /// When it started firing (RFC 3339).
    pub starts_at: String,
    /// When it resolved, or Go's zero time while firing (RFC 3339).
    #[serde(default)]
    pub ends_at: String,
    /// The Prometheus graph link of the rule's expression.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
    /// Alertmanager's hash of the labels.
    #[serde(default)]
    pub fingerprint: String,
    /// Fields of the alert this version does not know, as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Alert {
    /// The `alertname` label, empty when the alert has none (alerts posted by hand may not).
    pub fn alertname(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }
}

/// Why a well-formed JSON document is not a notification we accept.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Invalid {
    /// Another payload version than [`VERSION`].
    #[error("unsupported payload version {0:?}: expected \"4\"")]
    Version(String),
    /// `receiver` is empty.
    #[error("receiver must not be empty")]
    NoReceiver,
    /// `alerts` is empty.
    #[error("alerts must hold at least one alert")]
    NoAlerts,
    /// An alert has no labels at all.
    #[error("alerts[{0}] has no labels")]
    NoLabels(usize),
    /// An alert has no `startsAt`.
    #[error("alerts[{0}].startsAt must not be empty")]
    NoStart(usize),
    /// An `alertname` too long to be a rule name.
    #[error("alerts[{index}].labels.alertname is longer than {MAX_ALERTNAME_CHARS} characters")]
    AlertnameTooLong {
        /// Which alert.
        index: usize,
    },
    /// The group's status contradicts its alerts.
    #[error("status is {stated:?} but the alerts say {actual:?}")]
    Status {
        /// The notification's `status`.
        stated: &'static str,
        /// What the alerts' states make it.
        actual: &'static str,
    },
}

impl Notification {
    /// Checks what the types cannot: version, a non-empty group, and that `status` agrees with
    /// the alerts (Alertmanager sets it to `firing` exactly when one of them fires).
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.version != VERSION {
            return Err(Invalid::Version(self.version.clone()));
        }
        if self.receiver.trim().is_empty() {
            return Err(Invalid::NoReceiver);
        }
        if self.alerts.is_empty() {
            return Err(Invalid::NoAlerts);
        }
        for (index, alert) in self.alerts.iter().enumerate() {
            if alert.labels.is_empty() {
                return Err(Invalid::NoLabels(index));
            }
            if alert.starts_at.trim().is_empty() {
                return Err(Invalid::NoStart(index));
            }
            if alert.alertname().chars().count() > MAX_ALERTNAME_CHARS {
                return Err(Invalid::AlertnameTooLong { index });
            }
        }
        let actual = if self.alerts.iter().any(|a| a.status == Status::Firing) {
            Status::Firing
        } else {
            Status::Resolved
        };
        if actual != self.status {
            return Err(Invalid::Status {
                stated: self.status.as_str(),
                actual: actual.as_str(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notification as Alertmanager 0.28 sends it for one firing alert.
    pub(crate) const FIRING: &str = r#"{
        "receiver": "webhook", "status": "firing",
        "alerts": [{"status": "firing",
            "labels": {"alertname": "ApiVariantUnavailable", "job": "api-v1", "severity": "critical"},
            "annotations": {"summary": "No reachable instance in job api-v1"},
            "startsAt": "2025-12-06T20:00:00.000Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up", "fingerprint": "a1b2c3"}],
        "groupLabels": {"alertname": "ApiVariantUnavailable"},
        "commonLabels": {"alertname": "ApiVariantUnavailable", "job": "api-v1", "severity": "critical"},
        "commonAnnotations": {"summary": "No reachable instance in job api-v1"},
        "externalURL": "http://alertmanager:9093", "version": "4",
        "groupKey": "{}:{alertname=\"ApiVariantUnavailable\"}", "truncatedAlerts": 0,
        "futureField": {"kept": true}}"#;

    fn firing() -> Notification {
        serde_json::from_str(FIRING).expect("valid payload")
    }

    #[test]
    fn alertmanagers_payload_parses_and_validates() {
        let n = firing();
        assert_eq!(n.validate(), Ok(()));
        assert_eq!(n.status, Status::Firing);
        assert_eq!(n.alerts[0].alertname(), "ApiVariantUnavailable");
        assert_eq!(n.external_url, "http://alertmanager:9093");
        assert_eq!(
            n.alerts[0].generator_url,
            "http://prometheus:9090/graph?g0.expr=up"
        );
        assert_eq!(n.extra["futureField"], serde_json::json!({"kept": true}));
        assert!(n.alerts[0].extra.is_empty());
    }

    #[test]
    fn round_trips_with_alertmanagers_field_names() {
        let text = serde_json::to_string(&firing()).expect("serialises");
        for field in [
            "\"groupKey\"",
            "\"externalURL\"",
            "\"generatorURL\"",
            "\"startsAt\"",
            "\"futureField\"",
        ] {
            assert!(text.contains(field), "{field} missing from {text}");
        }
        assert_eq!(
            serde_json::from_str::<Notification>(&text).expect("parses"),
            firing()
        );
    }

    #[test]
    fn what_the_types_allow_but_alertmanager_never_sends_is_refused() {
        let mut n = firing();
        n.version = "3".into();
        assert_eq!(n.validate(), Err(Invalid::Version("3".into())));

        let mut n = firing();
        n.alerts.clear();
        assert_eq!(n.validate(), Err(Invalid::NoAlerts));

        let mut n = firing();
        n.receiver = " ".into();
        assert_eq!(n.validate(), Err(Invalid::NoReceiver));

        let mut n = firing();
        n.alerts[0].labels.clear();
        assert_eq!(n.validate(), Err(Invalid::NoLabels(0)));

        let mut n = firing();
        n.alerts[0].starts_at.clear();
        assert_eq!(n.validate(), Err(Invalid::NoStart(0)));

        let mut n = firing();
        n.alerts[0]
            .labels
            .insert("alertname".into(), "A".repeat(MAX_ALERTNAME_CHARS + 1));
        assert_eq!(n.validate(), Err(Invalid::AlertnameTooLong { index: 0 }));

        let mut n = firing();
        n.status = Status::Resolved;
        assert_eq!(
            n.validate(),
            Err(Invalid::Status {
                stated: "resolved",
                actual: "firing"
            })
        );
    }

    #[test]
    fn a_wrong_type_is_a_data_error() {
        let bad = FIRING.replace(r#""status": "firing","#, r#""status": "burning","#);
        let err = serde_json::from_str::<Notification>(&bad).expect_err("unknown status");
        assert_eq!(err.classify(), serde_json::error::Category::Data);
        let bad = FIRING.replace(r#""job": "api-v1","#, r#""job": 1,"#);
        let err = serde_json::from_str::<Notification>(&bad).expect_err("label not a string");
        assert_eq!(err.classify(), serde_json::error::Category::Data);
    }
}
