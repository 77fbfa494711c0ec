//! The settler's circuit breakers, one per region: after `failures` unknown outcomes in a
//! row from a region's charge service, that region's payments wait for `pause` before one
//! is tried again, so an outage costs one timeout per pause instead of one per payment,
//! and the other regions' payments go on.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use crate::ids::Region;

/// How the settler sends payments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettlerSettings {
    /// Payments sent at once.
    pub concurrency: usize,
    /// Payments read per round.
    pub batch: u32,
    /// Unknown outcomes in a row that pause a region.
    pub breaker_failures: u32,
    /// How long a paused region waits.
    pub breaker_pause: TimeDelta,
}

impl Default for SettlerSettings {
    fn default() -> Self {
        Self {
            concurrency: 16,
            batch: 500,
            breaker_failures: 5,
            breaker_pause: TimeDelta::seconds(30),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct RegionState {
    unknown_in_a_row: u32,
    paused_until: Option<DateTime<Utc>>,
}

/// The breakers of every region, shared by the use cases of one process.
#[derive(Debug)]
pub(super) struct Breakers {
    settings: SettlerSettings,
    regions: Mutex<HashMap<Region, RegionState>>,
}

impl Breakers {
    pub(super) fn new(settings: SettlerSettings) -> Self {
        Self {
            settings,
            regions: Mutex::new(HashMap::new()),
        }
    }

    /// The regions paused at `now`.
    pub(super) fn paused(&self, now: DateTime<Utc>) -> Vec<Region> {
        let regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
        regions
            .iter()
            .filter(|(_, state)| state.paused_until.is_some_and(|until| now < until))
            .map(|(region, _)| region.clone())
            .collect()
    }

    /// Whether `region` is paused at `now`.
    pub(super) fn is_paused(&self, region: &Region, now: DateTime<Utc>) -> bool {
        let regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
        regions
            .get(region)
            .and_then(|state| state.paused_until)
            .is_some_and(|until| now < until)
    }

    /// Records an answer from the region's charge service: `unknown` when the outcome was
    /// unknown (a timeout, a 5xx), else a definitive answer, which closes the breaker.
    /// Returns whether this answer paused the region.
    pub(super) fn record(&self, region: &Region, unknown: bool, now: DateTime<Utc>) -> bool {
        let mut regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
        let state = regions.entry(region.clone()).or_default();
        if !unknown {
            *state = RegionState::default();
            return false;
        }
        state.unknown_in_a_row = state.unknown_in_a_row.saturating_add(1);
        if state.unknown_in_a_row >= self.settings.breaker_failures.max(1) {
            // Half open after the pause: the next failure pauses it again at once.
            state.unknown_in_a_row = self.settings.breaker_failures.saturating_sub(1);
            state.paused_until = now.checked_add_signed(self.settings.breaker_pause);
            return true;
        }
        false
    }
}

impl super::UseCases {
    /// The regions whose charge service the settler pauses now, after too many unknown
    /// outcomes in a row: their payments wait, so the service is not ready for their money.
    pub fn paused_regions(&self) -> Vec<Region> {
        self.breakers.paused(self.ports.clock.now())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::testing::utc;

    fn breakers() -> Breakers {
        Breakers::new(SettlerSettings {
            breaker_failures: 3,
            breaker_pause: TimeDelta::seconds(30),
            ..SettlerSettings::default()
        })
    }

    #[test]
    fn a_region_pauses_after_n_unknown_outcomes_in_a_row_and_others_go_on() {
        let breakers = breakers();
        let north = Region::parse("north").unwrap();
        let south = Region::parse("south").unwrap();
        let now = utc("2026-01-01T00:00:00Z");
        assert!(!breakers.record(&north, true, now));
        assert!(!breakers.record(&north, true, now));
        assert!(!breakers.record(&south, true, now));
        assert!(breakers.record(&north, true, now));
        assert_eq!(breakers.paused(now), std::slice::from_ref(&north));
        assert!(!breakers.is_paused(&south, now));
        assert!(!breakers.is_paused(&north, now + TimeDelta::seconds(30)));
    }

    #[test]
    fn a_definitive_answer_closes_the_breaker() {
        let breakers = breakers();
        let north = Region::parse("north").unwrap();
        let now = utc("2026-01-01T00:00:00Z");
        breakers.record(&north, true, now);
        breakers.record(&north, true, now);
        breakers.record(&north, false, now);
        assert!(!breakers.record(&north, true, now));
        assert!(!breakers.is_paused(&north, now));
    }

    #[test]
    fn after_the_pause_one_more_failure_pauses_the_region_again() {
        let breakers = breakers();
        let north = Region::parse("north").unwrap();
        let now = utc("2026-01-01T00:00:00Z");
        for _ in 0..3 {
            breakers.record(&north, true, now);
        }
        let later = now + TimeDelta::seconds(31);
        assert!(!breakers.is_paused(&north, later));
        assert!(breakers.record(&north, true, later));
        assert!(breakers.is_paused(&north, later));
    }
}
