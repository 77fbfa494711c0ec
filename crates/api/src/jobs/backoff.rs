//! When a failed webhook delivery is tried again: 5 s after the first failure, doubling
//! with each further one, never more than an hour apart, and given up after the
//! configured number of attempts.

use chrono::{DateTime, TimeDelta, Utc};

/// The wait after the first failure.
const FIRST_RETRY_SECONDS: i64 = 5;
/// The longest wait: a receiver down for a day is tried hourly, not daily.
const MAX_RETRY_SECONDS: i64 = 3_600;

/// The wait after `failures` failed attempts (1 after the first): 5 s, 10 s, 20 s, …, 1 h.
pub fn retry_delay(failures: u32) -> TimeDelta {
    let doublings = failures.saturating_sub(1);
    // 2^10 × 5 s is already past the cap, so larger exponents need not be computed.
    let seconds = if doublings >= 10 {
        MAX_RETRY_SECONDS
    } else {
        (FIRST_RETRY_SECONDS << doublings).min(MAX_RETRY_SECONDS)
    };
    TimeDelta::seconds(seconds)
}

/// When to attempt again after `failures` failed attempts at `now`; `None` once
/// `max_attempts` attempts have failed (the delivery is given up).
pub fn next_attempt(now: DateTime<Utc>, failures: u32, max_attempts: u32) -> Option<DateTime<Utc>> {
    (failures < max_attempts).then(|| now + retry_delay(failures))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_delay_starts_at_5_seconds_and_doubles() {
        let delays: Vec<_> = (1..=6).map(|n| retry_delay(n).num_seconds()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160]);
    }

    #[test]
    fn the_delay_is_capped_at_an_hour_for_any_count() {
        assert_eq!(retry_delay(10).num_seconds(), 2_560);
        assert_eq!(retry_delay(11).num_seconds(), 3_600);
        for failures in [12, 20, 64, 65, u32::MAX] {
            assert_eq!(retry_delay(failures).num_seconds(), 3_600, "{failures}");
        }
    }

    #[test]
    fn zero_failures_waits_like_the_first() {
        assert_eq!(retry_delay(0).num_seconds(), 5);
    }

    #[test]
    fn the_next_attempt_is_now_plus_the_delay_until_the_attempts_run_out() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(next_attempt(now, 1, 20), Some(now + TimeDelta::seconds(5)));
        assert_eq!(next_attempt(now, 3, 20), Some(now + TimeDelta::seconds(20)));
        assert_eq!(next_attempt(now, 19, 20), Some(now + TimeDelta::hours(1)));
        assert_eq!(next_attempt(now, 20, 20), None);
        assert_eq!(next_attempt(now, 1, 1), None);
    }
}
