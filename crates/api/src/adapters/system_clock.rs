//! The wall clock, cut to what the store keeps.

use chrono::{DateTime, SubsecRound, Utc};
use domain::ports::Clock;

/// UTC now, truncated to microseconds so that what a response shows equals what a later
/// read from the database shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;

    use super::*;

    #[test]
    fn now_has_no_sub_microsecond_part() {
        assert_eq!(SystemClock.now().nanosecond() % 1_000, 0);
    }
}
