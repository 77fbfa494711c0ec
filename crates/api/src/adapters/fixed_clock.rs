//! A clock stopped at one instant: `serviceusage renew --once --now <RFC3339>` renews as if
//! it were then, so a test (or an operator replaying a missed day) can move through time.

use chrono::{DateTime, SubsecRound, Utc};
use domain::ports::Clock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock(DateTime<Utc>);

impl FixedClock {
    /// Truncated to microseconds, like the system clock, since the store keeps no finer.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(now.trunc_subsecs(6))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn now_is_the_given_instant_cut_to_microseconds_every_time() {
        let at = DateTime::parse_from_rfc3339("2027-02-28T23:59:59.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = FixedClock::new(at);
        let expected = DateTime::parse_from_rfc3339("2027-02-28T23:59:59.123456Z").unwrap();
        assert_eq!(clock.now(), expected);
        assert_eq!(clock.now(), clock.now());
    }
}
