//! The billing rules a deployment chooses: the calendar cycles are anchored in, refunds on
//! cancel, the renewal engine's timings, the credit postpaid usage may run on, and which
//! regions' money a charge service keeps. Read once at start; new orders take their terms
//! from it, running orders keep the terms they opened with.

use chrono::TimeDelta;

use crate::cycle::BusinessCalendar;
use crate::ids::Region;
use crate::money::Money;
use crate::payment::MoneyKeeper;

/// The timings of the renewal engine that deployments choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenewalSettings {
    /// How long before its deadline a prepaid cycle is charged.
    pub margin: TimeDelta,
    /// How long after an unpaid deadline the order keeps running before it ends.
    pub grace: TimeDelta,
    /// The least time between two renewal-failed warnings for one order.
    pub warning_interval: TimeDelta,
    /// Orders claimed (and committed) per transaction.
    pub batch_size: u32,
}

impl Default for RenewalSettings {
    fn default() -> Self {
        Self {
            margin: TimeDelta::days(7),
            grace: TimeDelta::days(7),
            warning_interval: TimeDelta::days(1),
            batch_size: 500,
        }
    }
}

/// Billing rules that deployments choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingPolicy {
    /// The time zone whose calendar anchors cycles.
    pub calendar: BusinessCalendar,
    /// Whether cancelling a prepaid order refunds the unused part of its running cycle.
    /// Periods that have not started yet are refunded either way.
    pub refund_on_cancel: bool,
    /// The renewal engine's timings.
    pub renewal: RenewalSettings,
    /// How far a project's local balance may go below zero through postpaid usage before
    /// its postpaid orders stop renewing (and the least it must hold, minus this, to open
    /// one: a cycle's price). Settlements of usage already consumed go further if they
    /// must: they are arrears, recorded, never forgiven.
    pub credit_limit: Money,
    /// The regions whose money their charge service keeps; every other region's is the
    /// local ledger's.
    pub charge_regions: Vec<Region>,
}

impl Default for BillingPolicy {
    fn default() -> Self {
        Self {
            calendar: BusinessCalendar::default(),
            refund_on_cancel: true,
            renewal: RenewalSettings::default(),
            credit_limit: Money::ZERO,
            charge_regions: Vec::new(),
        }
    }
}

impl BillingPolicy {
    /// Who keeps the money of orders opened in `region` from now on.
    pub fn keeper_for(&self, region: &Region) -> MoneyKeeper {
        if self.charge_regions.contains(region) {
            MoneyKeeper::ChargeService
        } else {
            MoneyKeeper::LocalLedger
        }
    }

    /// The least balance postpaid usage may leave: minus the credit limit.
    pub fn postpaid_floor(&self) -> Money {
        Money::from_minor(self.credit_limit.minor().saturating_neg())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_region_is_the_ledgers_unless_its_charge_service_keeps_it() {
        let north = Region::parse("cn-north-1").unwrap();
        let south = Region::parse("cn-south-1").unwrap();
        let policy = BillingPolicy {
            charge_regions: vec![north.clone()],
            ..BillingPolicy::default()
        };
        assert_eq!(policy.keeper_for(&north), MoneyKeeper::ChargeService);
        assert_eq!(policy.keeper_for(&south), MoneyKeeper::LocalLedger);
    }

    #[test]
    fn the_postpaid_floor_is_minus_the_credit_limit() {
        let policy = BillingPolicy {
            credit_limit: Money::from_minor(500_000),
            ..BillingPolicy::default()
        };
        assert_eq!(policy.postpaid_floor(), Money::from_minor(-500_000));
        assert_eq!(BillingPolicy::default().postpaid_floor(), Money::ZERO);
    }
}
