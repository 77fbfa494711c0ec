//! When something that failed is tried again: one back-off for every retried thing (a
//! payment whose outcome was unknown, an owed payment, a resource task, a webhook), each
//! with its own first wait and ceiling. The wait doubles after each failure and never
//! overflows, whatever the count.

use chrono::{DateTime, TimeDelta, Utc};

/// A doubling back-off: `first` after the first failure, then twice as long each time, at
/// most `longest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub first: TimeDelta,
    /// The ceiling the doubling stops at, so a long outage is still retried regularly.
    pub longest: TimeDelta,
}

impl Backoff {
    /// Payments whose outcome was unknown, and resource tasks: 10 s, 20 s, … 1 h.
    pub const PROMPT: Backoff = Backoff {
        first: TimeDelta::seconds(10),
        longest: TimeDelta::hours(1),
    };
    /// Payments the charge service refused that the project still owes: an hour, then
    /// doubling to a day, so arrears are collected soon after the project is funded
    /// without hammering a service that keeps saying no.
    pub const OWED: Backoff = Backoff {
        first: TimeDelta::hours(1),
        longest: TimeDelta::days(1),
    };
    /// Webhook deliveries: 5 s, 10 s, … 1 h.
    pub const WEBHOOK: Backoff = Backoff {
        first: TimeDelta::seconds(5),
        longest: TimeDelta::hours(1),
    };

    /// The wait after `failures` failures (the first failure is 1; 0 waits like 1).
    pub fn wait(self, failures: u32) -> TimeDelta {
        let doublings = failures.saturating_sub(1);
        let mut wait = self.first;
        for _ in 0..doublings {
            if wait >= self.longest {
                break;
            }
            wait = wait.checked_mul(2).unwrap_or(self.longest);
        }
        wait.min(self.longest)
    }

    /// When to try again at `now` after `failures` failures.
    pub fn next_attempt(self, now: DateTime<Utc>, failures: u32) -> DateTime<Utc> {
        now.checked_add_signed(self.wait(failures))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_prompt_wait_doubles_from_ten_seconds() {
        let waits: Vec<_> = (1..=6)
            .map(|n| Backoff::PROMPT.wait(n).num_seconds())
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320]);
    }

    #[test]
    fn the_wait_stops_growing_at_its_ceiling_for_any_count() {
        assert_eq!(Backoff::PROMPT.wait(9).num_seconds(), 2_560);
        for failures in [10, 11, 32, 64, 100, u32::MAX] {
            assert_eq!(
                Backoff::PROMPT.wait(failures),
                TimeDelta::hours(1),
                "{failures}"
            );
            assert_eq!(
                Backoff::OWED.wait(failures),
                TimeDelta::days(1),
                "{failures}"
            );
        }
    }

    #[test]
    fn no_failure_yet_waits_like_the_first() {
        assert_eq!(Backoff::WEBHOOK.wait(0), TimeDelta::seconds(5));
        assert_eq!(Backoff::OWED.wait(1), TimeDelta::hours(1));
    }

    #[test]
    fn the_next_attempt_near_the_end_of_time_stays_at_the_end_of_time() {
        let end = DateTime::<Utc>::MAX_UTC;
        assert_eq!(Backoff::PROMPT.next_attempt(end, 3), end);
        let now = at("2017-01-01T00:00:00Z");
        assert_eq!(
            Backoff::PROMPT.next_attempt(now, 1),
            at("2017-01-01T00:00:10Z")
        );
    }
}
