//! The last notifications received, in memory, oldest first.
//!
//! Bounded: a receiver that runs for months, or is flooded, keeps at most `capacity`
//! notifications (each at most the body limit), dropping the oldest. Nothing is persisted: the
//! operator's record is the log (one JSON line per alert, [`crate::delivery`]), which Docker or
//! journald keep; this is for `GET /alerts` and the tests that wait on a delivery.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

use crate::webhook::Notification;

/// One notification as it was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Received {
    /// When the receiver accepted it (RFC 3339 UTC).
    pub received_at: String,
    /// Its position among every notification since start-up (1, 2, ...), so a reader can tell
    /// which ones are new even after old ones were dropped.
    pub seq: u64,
    /// The notification, with Alertmanager's field names.
    #[serde(flatten)]
    pub notification: Notification,
}

/// A bounded, thread-safe list of [`Received`].
#[derive(Debug)]
pub struct History {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<Received>,
    next_seq: u64,
}

impl History {
    /// An empty history keeping at most `capacity` notifications (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            inner: Mutex::new(Inner {
                entries: VecDeque::with_capacity(capacity.min(1024)),
                next_seq: 1,
            }),
        }
    }

    /// Appends a notification, dropping the oldest when full; returns what was stored.
    pub fn push(&self, received_at: String, notification: Notification) -> Received {
        let mut inner = self.lock();
        let received = Received {
            received_at,
            seq: inner.next_seq,
            notification,
        };
        inner.next_seq += 1;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(received.clone());
        received
    }

    /// Every kept notification, oldest first.
    pub fn snapshot(&self) -> Vec<Received> {
        self.lock().entries.iter().cloned().collect()
    }

    /// A poisoned lock only means another request panicked mid-push; the deque is still valid.
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::Notification;

    fn notification(group: &str) -> Notification {
        serde_json::from_value(serde_json::json!({
            "version": "4", "groupKey": group, "status": "firing", "receiver": "webhook",
            "alerts": [{"status": "firing", "labels": {"alertname": "A"}, "startsAt": "2025-01-01T00:00:00Z"}]
        }))
        .expect("valid")
    }

    #[test]
    fn keeps_the_newest_up_to_capacity_oldest_first() {
        let history = History::new(2);
        for group in ["a", "b", "c"] {
            history.push("t".into(), notification(group));
        }
        let kept = history.snapshot();
        let groups: Vec<_> = kept
            .iter()
            .map(|r| r.notification.group_key.as_str())
            .collect();
        assert_eq!(groups, ["b", "c"]);
        assert_eq!(kept.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn serialises_flat_with_the_receipt_time() {
        let history = History::new(1);
        let stored = history.push("2025-12-06T20:15:03.250Z".into(), notification("g"));
        let value = serde_json::to_value(stored).expect("serialises");
        assert_eq!(value["received_at"], "2025-12-06T20:15:03.250Z");
        assert_eq!(value["seq"], 1);
        assert_eq!(value["groupKey"], "g");
        assert_eq!(value["alerts"][0]["labels"]["alertname"], "A");
    }
}
