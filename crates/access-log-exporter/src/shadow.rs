//! Joins a live answer with its shadow answer by request id.
//!
//! With `SHADOW_PERCENT` > 0 the gateway mirrors a share of the requests v1 serves to v2
//! (nginx/conf/shadow.conf). Both lines reach us with the same `$request_id` and the labels each
//! replica predicted, in either order: the mirror subrequest may finish before or after the
//! live request is logged. The first line of a pair waits here until its partner arrives; then
//! the two label lists are compared sentence by sentence.
//!
//! Memory is bounded twice: a line waits at most [`ShadowJoin::ttl`] (a partner later than that
//! is not coming: the mirror failed, or the line was lost), and at most [`ShadowJoin::capacity`]
//! lines wait at once (the oldest is dropped first). Dropped lines are counted as unmatched, so a
//! join that stops working shows on the dashboard instead of silently reporting 100 % agreement.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Which side of a pair a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The answer the client got (v1).
    Live,
    /// The mirrored answer (v2), discarded by the gateway.
    Shadow,
}

impl Side {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Shadow => "shadow",
        }
    }
}

/// What one offered line led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Joined {
    /// Its partner was waiting: the live and the shadow labels, in that order.
    Pair {
        /// Labels of the live answer.
        live: Vec<String>,
        /// Labels of the shadow answer.
        shadow: Vec<String>,
    },
    /// It waits for its partner.
    Waiting,
}

struct Pending {
    side: Side,
    labels: Vec<String>,
}

/// Lines waiting for their partner, by request id.
pub struct ShadowJoin {
    waiting: HashMap<String, Pending>,
    /// Arrival order, for expiry: (arrival, request id). An id whose entry was already joined is
    /// skipped when it reaches the front.
    order: VecDeque<(Instant, String)>,
    ttl: Duration,
    capacity: usize,
}

impl ShadowJoin {
    /// A join that keeps a line at most `ttl` and at most `capacity` lines at once.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            waiting: HashMap::new(),
            order: VecDeque::new(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// How long a line waits for its partner.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many lines may wait at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Lines waiting now.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// No line is waiting.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Offers one line at `now`; returns what it led to and the sides of the lines dropped to
    /// make room or because they waited too long.
    pub fn offer(
        &mut self,
        id: &str,
        side: Side,
        labels: Vec<String>,
        now: Instant,
    ) -> (Joined, Vec<Side>) {
        let mut dropped = self.expire(now);
        if let Some(partner) = self.waiting.remove(id) {
            if partner.side != side {
                let (live, shadow) = match side {
                    Side::Live => (labels, partner.labels),
                    Side::Shadow => (partner.labels, labels),
                };
                return (Joined::Pair { live, shadow }, dropped);
            }
            // Two lines of the same side with one id cannot be a pair; the newer one waits.
            dropped.push(partner.side);
        }
        while self.waiting.len() >= self.capacity {
            match self.order.pop_front() {
                Some((_, old)) => {
                    if let Some(p) = self.waiting.remove(&old) {
                        dropped.push(p.side);
                    }
                }
                None => break,
            }
        }
        self.waiting.insert(id.to_owned(), Pending { side, labels });
        self.order.push_back((now, id.to_owned()));
        (Joined::Waiting, dropped)
    }

    /// Drops the lines that waited longer than the ttl; returns their sides.
    pub fn expire(&mut self, now: Instant) -> Vec<Side> {
        let mut dropped = Vec::new();
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < self.ttl {
                break;
            }
            let (_, id) = self.order.pop_front().expect("front exists");
            if let Some(p) = self.waiting.remove(&id) {
                dropped.push(p.side);
            }
        }
        // Joined ids leave stale entries in `order`; keep it from growing past the live set.
        if self.order.len() > 2 * self.capacity {
            let waiting = &self.waiting;
            self.order.retain(|(_, id)| waiting.contains_key(id));
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str) -> Vec<String> {
        s.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn a_pair_joins_in_either_order() {
        let t = Instant::now();
        let mut join = ShadowJoin::new(Duration::from_secs(30), 10);
        assert_eq!(
            join.offer("a", Side::Live, labels("joy"), t).0,
            Joined::Waiting
        );
        assert_eq!(
            join.offer("a", Side::Shadow, labels("worry"), t).0,
            Joined::Pair {
                live: labels("joy"),
                shadow: labels("worry")
            }
        );
        assert_eq!(
            join.offer("b", Side::Shadow, labels("fun"), t).0,
            Joined::Waiting
        );
        assert_eq!(
            join.offer("b", Side::Live, labels("love"), t).0,
            Joined::Pair {
                live: labels("love"),
                shadow: labels("fun")
            }
        );
        assert!(join.is_empty());
    }

    #[test]
    fn lines_expire_after_the_ttl_and_are_reported() {
        let t = Instant::now();
        let mut join = ShadowJoin::new(Duration::from_secs(30), 10);
        join.offer("a", Side::Live, labels("joy"), t);
        assert!(join.expire(t + Duration::from_secs(29)).is_empty());
        assert_eq!(join.expire(t + Duration::from_secs(30)), vec![Side::Live]);
        // The partner arriving late waits on its own instead of joining.
        let (joined, dropped) = join.offer(
            "a",
            Side::Shadow,
            labels("joy"),
            t + Duration::from_secs(31),
        );
        assert_eq!((joined, dropped), (Joined::Waiting, vec![]));
    }

    #[test]
    fn capacity_drops_the_oldest_line() {
        let t = Instant::now();
        let mut join = ShadowJoin::new(Duration::from_secs(30), 2);
        join.offer("a", Side::Live, labels("joy"), t);
        join.offer("b", Side::Live, labels("joy"), t);
        let (_, dropped) = join.offer("c", Side::Shadow, labels("joy"), t);
        assert_eq!(dropped, vec![Side::Live]);
        assert_eq!(join.len(), 2);
        // "b" still joins; "a" is gone, so its partner waits alone.
        assert!(matches!(
            join.offer("b", Side::Shadow, labels("x"), t).0,
            Joined::Pair { .. }
        ));
        assert_eq!(
            join.offer("a", Side::Shadow, labels("x"), t).0,
            Joined::Waiting
        );
    }

    #[test]
    fn joined_ids_do_not_grow_the_order_queue_without_bound() {
        let t = Instant::now();
        let mut join = ShadowJoin::new(Duration::from_secs(30), 4);
        for i in 0..1000 {
            let id = i.to_string();
            join.offer(&id, Side::Live, labels("joy"), t);
            join.offer(&id, Side::Shadow, labels("joy"), t);
        }
        assert!(join.is_empty());
        assert!(join.order.len() <= 2 * join.capacity() + 1);
    }
}
