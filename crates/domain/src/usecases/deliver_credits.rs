//! Delivering the credits the charge service owes: refunds and negative switch nets are
//! queued in the store with the rows that record them, and handed to the charge service
//! here, at least once. A credit that cannot be delivered is tried again later, waiting
//! twice as long after each failure (10 s, 20 s, 40 s … at most an hour), so a charge
//! service that is down is not hammered while it comes back.

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::Result;

use super::UseCases;

/// Credits asked for per call: enough to drain a normal backlog in one tick, few enough
/// that one call stays short.
const BATCH: u32 = 100;

/// The wait after the first failed attempt.
const FIRST_WAIT_SECONDS: u64 = 10;

/// The longest wait between two attempts.
const LONGEST_WAIT_SECONDS: u64 = 3_600;

/// What one delivery round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CreditTally {
    /// Credits the charge service took (or already had: a repeat is harmless).
    pub delivered: u64,
    /// Credits it could not take this time; each waits for its next attempt.
    pub failed: u64,
}

impl UseCases {
    /// Hands the credits due now (up to 100, oldest first) to the charge service. Each one
    /// delivered is marked so; each failure (the service unreachable or refusing) is
    /// recorded with its next attempt at now + min(10 s × 2^attempts so far, 1 h). Run
    /// right after a cancel or switch that queued a credit, and on every background tick.
    ///
    /// Errors: `Unavailable`, `Internal` (the store). A failed delivery is no error: it is
    /// counted, logged and retried later.
    pub async fn deliver_credits(&self) -> Result<CreditTally> {
        let now = self.ports.clock.now();
        let due = self.ports.credits.due(now, BATCH).await?;
        let mut tally = CreditTally::default();
        for queued in due {
            let payment = &queued.payment;
            match self.ports.charging.credit(payment).await {
                Ok(()) => {
                    log::info!(
                        "order {}: credited {} back ({})",
                        payment.reason.order,
                        payment.amount,
                        payment.reason
                    );
                    self.ports.credits.delivered(queued.id, now).await?;
                    tally.delivered += 1;
                }
                Err(e) => {
                    let next = next_attempt(now, queued.attempts);
                    log::warn!(
                        "order {}: credit of {} ({}) not delivered, attempt {}; next at {next}: {e}",
                        payment.reason.order,
                        payment.amount,
                        payment.reason,
                        u64::from(queued.attempts) + 1
                    );
                    self.ports
                        .credits
                        .failed(queued.id, next, e.to_string())
                        .await?;
                    tally.failed += 1;
                }
            }
        }
        Ok(tally)
    }

    /// [`UseCases::deliver_credits`] after a request or run that does not depend on it: a
    /// credit left undelivered is the background tick's, so a failure is only logged.
    pub(super) async fn deliver_credits_best_effort(&self) {
        match self.deliver_credits().await {
            Ok(CreditTally { failed: 0, .. }) => {}
            Ok(tally) => log::warn!("{} credit(s) left for a later attempt", tally.failed),
            Err(e) => log::warn!("queued credits not delivered now, left for later: {e}"),
        }
    }
}

/// When to try again a credit (or a queued release, which backs off the same way) that has
/// failed `attempts` times before this failure: `now` + min(10 s × 2^attempts, 1 h),
/// without overflowing for any `attempts`.
pub(super) fn next_attempt(now: DateTime<Utc>, attempts: u32) -> DateTime<Utc> {
    let seconds = 1u64
        .checked_shl(attempts)
        .and_then(|factor| FIRST_WAIT_SECONDS.checked_mul(factor))
        .map_or(LONGEST_WAIT_SECONDS, |wait| wait.min(LONGEST_WAIT_SECONDS));
    let wait = i64::try_from(seconds).map_or(TimeDelta::hours(1), TimeDelta::seconds);
    now.checked_add_signed(wait)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
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
    fn the_wait_doubles_from_ten_seconds() {
        let now = at("2017-01-01T00:00:00Z");
        let waits: Vec<_> = (0..6)
            .map(|attempts| (next_attempt(now, attempts) - now).num_seconds())
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320]);
    }

    #[test]
    fn the_wait_stops_growing_at_an_hour() {
        let now = at("2017-01-01T00:00:00Z");
        // 10 s × 2^8 = 2,560 s is the last wait under the cap; 2^9 is past it.
        assert_eq!((next_attempt(now, 8) - now).num_seconds(), 2_560);
        for attempts in [9, 10, 31, 32, 59, 60, 63, 64, 100, u32::MAX] {
            assert_eq!(
                next_attempt(now, attempts) - now,
                TimeDelta::hours(1),
                "{attempts}"
            );
        }
    }

    #[test]
    fn the_wait_near_the_end_of_time_stays_at_the_end_of_time() {
        let end = DateTime::<Utc>::MAX_UTC;
        assert_eq!(next_attempt(end, 0), end);
    }
}
