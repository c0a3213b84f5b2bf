//! The replay ledger: which receipts this replica has already counted, in bounded memory.
//!
//! A receipt counts at most once per replica lifetime, with no unbounded growth:
//!
//! 1. Every counted receipt is remembered as `(issued_at, first 16 bytes of its tag)`, in a set
//!    ordered by issue time (24 bytes, 40 to 50 with the B-tree's overhead, so the default
//!    capacity of 100,000 is under 5 MB).
//! 2. Receipts older than the maximum age are refused outright (`receipt_expired`), so entries
//!    past that age are useless and are dropped.
//! 3. When the set is full, the *oldest-issued* entry is dropped, and a floor is raised to its
//!    issue time: from then on any receipt issued at or before the floor is refused as expired,
//!    counted before or not. Memory stays bounded, and a dropped receipt can never count again;
//!    the price, under a flood of feedback, is that the oldest still-valid receipts are refused
//!    early (with 100,000 entries and a day's maximum age, only past a sustained ~1.2 counted
//!    receipts a second per replica).
//!
//! The ledger lives in memory: a restarted replica starts empty (the maximum age still bounds what
//! can be replayed there), and replicas do not share it (README.md, "Feedback").

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::receipt::TAG_BYTES;

/// Default number of receipts remembered per replica.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// How much of a tag identifies a receipt: 128 bits, so two receipts never share one.
const ID_BYTES: usize = 16;

/// What became of a receipt presented for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// New here: remembered, and to be counted.
    Counted,
    /// Counted before by this replica: count nothing.
    AlreadyCounted,
    /// Too old to tell (past the maximum age, or at or below the floor): count nothing.
    Expired,
}

/// See the module documentation.
pub struct ReplayLedger {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    seen: BTreeSet<(u64, [u8; ID_BYTES])>,
    /// Receipts issued at or before this second may have been forgotten; refused.
    floor: Option<u64>,
}

impl ReplayLedger {
    /// An empty ledger remembering at most `capacity` receipts (at least 1).
    pub fn new(capacity: usize) -> Self {
        ReplayLedger {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Admits the receipt with `tag`, issued at `issued_at`, at time `now` (both in seconds since
    /// the epoch), if it is younger than `max_age_secs` and not counted before.
    pub fn admit(
        &self,
        issued_at: u64,
        tag: &[u8; TAG_BYTES],
        now: u64,
        max_age_secs: u64,
    ) -> Admission {
        let mut id = [0; ID_BYTES];
        id.copy_from_slice(&tag[..ID_BYTES]);
        let entry = (issued_at, id);
        let cutoff = now.saturating_sub(max_age_secs);
        // A panic while holding the lock cannot leave the set half-updated in a way that matters
        // (each step is one insert or removal), so a poisoned lock is still usable.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.forget_before(cutoff);
        if inner.seen.contains(&entry) {
            return Admission::AlreadyCounted;
        }
        if issued_at < cutoff || inner.floor.is_some_and(|floor| issued_at <= floor) {
            return Admission::Expired;
        }
        inner.seen.insert(entry);
        while inner.seen.len() > self.capacity {
            inner.forget_oldest();
        }
        Admission::Counted
    }

    /// Receipts remembered now.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seen
            .len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    /// Drops the entries issued before `cutoff`: the age rule refuses them anyway. They still
    /// raise the floor, so that a clock stepping back cannot make them countable again.
    fn forget_before(&mut self, cutoff: u64) {
        while self
            .seen
            .first()
            .is_some_and(|(issued, _)| *issued < cutoff)
        {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((issued, _)) = self.seen.pop_first() {
            self.floor = Some(self.floor.map_or(issued, |floor| floor.max(issued)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;
    const NOW: u64 = 1_700_000_000;

    fn tag(n: u8) -> [u8; TAG_BYTES] {
        [n; TAG_BYTES]
    }

    #[test]
    fn a_receipt_counts_once() {
        let ledger = ReplayLedger::new(10);
        assert_eq!(ledger.admit(NOW, &tag(1), NOW, DAY), Admission::Counted);
        assert_eq!(
            ledger.admit(NOW, &tag(1), NOW, DAY),
            Admission::AlreadyCounted
        );
        assert_eq!(
            ledger.admit(NOW, &tag(1), NOW + 60, DAY),
            Admission::AlreadyCounted
        );
        assert_eq!(ledger.admit(NOW, &tag(2), NOW, DAY), Admission::Counted);
        assert_eq!(ledger.len(), 2);
    }

    #[test]
    fn old_receipts_are_expired_and_forgotten() {
        let ledger = ReplayLedger::new(10);
        assert_eq!(
            ledger.admit(NOW - DAY - 1, &tag(1), NOW, DAY),
            Admission::Expired
        );
        assert_eq!(
            ledger.admit(NOW - DAY, &tag(2), NOW, DAY),
            Admission::Counted
        );
        // A second later it is past the age: forgotten, and a replay is refused as expired.
        assert_eq!(
            ledger.admit(NOW - DAY, &tag(2), NOW + 1, DAY),
            Admission::Expired
        );
        assert!(ledger.is_empty());
        // Even if the clock steps back: the floor remembers what was forgotten.
        assert_eq!(
            ledger.admit(NOW - DAY, &tag(2), NOW, DAY),
            Admission::Expired
        );
    }

    #[test]
    fn memory_is_bounded_and_a_forgotten_receipt_never_counts_again() {
        let ledger = ReplayLedger::new(3);
        for n in 0..3 {
            let issued = NOW + u64::from(n);
            assert_eq!(
                ledger.admit(issued, &tag(n), NOW + 10, DAY),
                Admission::Counted
            );
        }
        // A fourth, issued earlier than the others: the oldest-issued one is forgotten, which is
        // the new one itself; its replay is refused.
        assert_eq!(
            ledger.admit(NOW - 5, &tag(9), NOW + 10, DAY),
            Admission::Counted
        );
        assert_eq!(ledger.len(), 3);
        assert_eq!(
            ledger.admit(NOW - 5, &tag(9), NOW + 10, DAY),
            Admission::Expired
        );
        // A newer one pushes out the receipt issued at NOW: replaying that is refused too.
        assert_eq!(
            ledger.admit(NOW + 5, &tag(5), NOW + 10, DAY),
            Admission::Counted
        );
        assert_eq!(ledger.len(), 3);
        assert_eq!(
            ledger.admit(NOW, &tag(0), NOW + 10, DAY),
            Admission::Expired
        );
        // The ones still remembered are refused as already counted.
        assert_eq!(
            ledger.admit(NOW + 1, &tag(1), NOW + 10, DAY),
            Admission::AlreadyCounted
        );
        // A receipt issued at the floor's second but never counted is refused as well: it cannot
        // be told apart from a forgotten one.
        assert_eq!(
            ledger.admit(NOW, &tag(7), NOW + 10, DAY),
            Admission::Expired
        );
        // Newer receipts still count.
        assert_eq!(
            ledger.admit(NOW + 6, &tag(6), NOW + 10, DAY),
            Admission::Counted
        );
        assert_eq!(ledger.len(), 3);
    }

    #[test]
    fn receipts_are_told_apart_by_tag_and_issue_time() {
        let ledger = ReplayLedger::new(10);
        assert_eq!(ledger.admit(NOW, &tag(1), NOW, DAY), Admission::Counted);
        assert_eq!(ledger.admit(NOW - 1, &tag(1), NOW, DAY), Admission::Counted);
        let mut other = tag(1);
        other[ID_BYTES - 1] = 2;
        assert_eq!(ledger.admit(NOW, &other, NOW, DAY), Admission::Counted);
        assert_eq!(ledger.len(), 3);
    }
}
