//! Money kept outside the store: who keeps a region's balances, and the payments a charge
//! service moves. A charge service is reached over a network, so a payment cannot share the
//! store's transaction; instead every payment is named by the consumption row that records
//! it, and the charge service takes a named payment at most once. Retrying with the same
//! name after a timeout is therefore safe, and is how an unknown outcome is resolved.

use std::fmt;

use crate::ids::{OrderId, ProjectId, Region};
use crate::money::Money;

/// Who keeps a region's balances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MoneyKeeper {
    /// The store's own ledger: money moves inside the store's transactions, with the rows
    /// that record it.
    Store,
    /// A charge service: the use cases move money through the `Charging` port, and the
    /// store writes only the rows.
    ChargeService,
}

/// Which way a payment moves money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentDirection {
    /// From the project's balance.
    Deduction,
    /// Back to the project's balance.
    Credit,
}

impl PaymentDirection {
    pub fn label(self) -> &'static str {
        match self {
            PaymentDirection::Deduction => "deduction",
            PaymentDirection::Credit => "credit",
        }
    }
}

/// The idempotency key of a payment: the consumption row that records it. Displayed as
/// `order:{orderId}:{consumeId}`, the original service's payment reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaymentReason {
    pub order: OrderId,
    pub consume_id: u32,
}

impl fmt::Display for PaymentReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order:{}:{}", self.order, self.consume_id)
    }
}

/// One payment a charge service moves. `amount` is positive: nothing is sent for zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub project: ProjectId,
    pub region: Region,
    pub amount: Money,
    pub direction: PaymentDirection,
    pub reason: PaymentReason,
}

/// Which regions a store query covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RegionScope {
    /// Every region.
    #[default]
    All,
    /// Only these regions.
    Only(Vec<Region>),
    /// Every region but these.
    Except(Vec<Region>),
}

impl RegionScope {
    pub fn contains(&self, region: &Region) -> bool {
        match self {
            RegionScope::All => true,
            RegionScope::Only(regions) => regions.contains(region),
            RegionScope::Except(regions) => !regions.contains(region),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn region(name: &str) -> Region {
        Region::parse(name).unwrap()
    }

    #[test]
    fn reason_reads_like_the_original_services() {
        let reason = PaymentReason {
            order: OrderId::parse("ord-1").unwrap(),
            consume_id: 12,
        };
        assert_eq!(reason.to_string(), "order:ord-1:12");
    }

    #[test]
    fn scope_contains_what_it_names() {
        let north1 = region("cn-north-1");
        let north2 = region("cn-north-2");
        assert!(RegionScope::All.contains(&north1));
        assert!(RegionScope::Only(vec![north1.clone()]).contains(&north1));
        assert!(!RegionScope::Only(vec![north1.clone()]).contains(&north2));
        assert!(!RegionScope::Except(vec![north1.clone()]).contains(&north1));
        assert!(RegionScope::Except(vec![north1]).contains(&north2));
    }
}
