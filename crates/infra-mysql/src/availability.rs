//! Whether the database answers, as the pool last found out. A failed connect marks it
//! down, a successful one up again. While it is down a checkout fails at once instead of
//! waiting the pool's checkout timeout — so every request, `/healthz` included, answers 503
//! in a moment rather than after five seconds — except one caller a second, which goes
//! through to the pool and so finds out first when the database is back. The pool itself
//! keeps trying to connect in the background (r2d2 retries a failed connect with a backoff
//! of at most half its checkout timeout), so the service recovers with no request at all.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Least time between two callers let through to the pool while the database is down.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Up or down, and when a caller last probed.
#[derive(Debug)]
pub(crate) struct Availability {
    down: AtomicBool,
    /// Milliseconds after `epoch` of the last probe.
    last_probe: AtomicU64,
    epoch: Instant,
}

impl Availability {
    pub(crate) fn new() -> Self {
        Self {
            down: AtomicBool::new(false),
            last_probe: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// A connect failed with `why`.
    pub(crate) fn lost(&self, why: &str) {
        if !self.down.swap(true, Ordering::SeqCst) {
            log::error!(
                "database unreachable ({why}): requests answer 503 at once until a connection \
                 opens again"
            );
        }
    }

    /// A connect succeeded.
    pub(crate) fn restored(&self) {
        if self.down.swap(false, Ordering::SeqCst) {
            log::info!("database reachable again");
        }
    }

    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Whether this caller, the database being down, is the one of this second that may
    /// try the pool.
    pub(crate) fn may_probe(&self) -> bool {
        self.may_probe_at(Instant::now())
    }

    fn may_probe_at(&self, now: Instant) -> bool {
        let now = u64::try_from(now.duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX);
        let last = self.last_probe.load(Ordering::SeqCst);
        let interval = u64::try_from(PROBE_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        (last == 0 || now.saturating_sub(last) >= interval)
            && self
                .last_probe
                .compare_exchange(last, now.max(1), Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_connect_marks_it_down_and_a_successful_one_up() {
        let availability = Availability::new();
        assert!(!availability.is_down());
        availability.lost("connection refused");
        availability.lost("connection refused");
        assert!(availability.is_down());
        availability.restored();
        assert!(!availability.is_down());
    }

    #[test]
    fn one_caller_a_second_may_probe() {
        let availability = Availability::new();
        let start = availability.epoch + Duration::from_secs(10);
        assert!(availability.may_probe_at(start));
        assert!(!availability.may_probe_at(start));
        assert!(!availability.may_probe_at(start + Duration::from_millis(999)));
        assert!(availability.may_probe_at(start + PROBE_INTERVAL));
        assert!(!availability.may_probe_at(start + PROBE_INTERVAL));
    }

    #[test]
    fn the_first_probe_may_come_right_away() {
        let availability = Availability::new();
        assert!(availability.may_probe_at(availability.epoch));
        assert!(!availability.may_probe_at(availability.epoch));
    }
}
