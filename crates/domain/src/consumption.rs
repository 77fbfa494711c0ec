//! Consumption history: one row per charge or refund of an order, numbered 1, 2, 3 … per
//! order. The (order, sequence number) pair is unique, which is what makes a cycle
//! impossible to charge twice.

use chrono::{DateTime, Utc};

use crate::ids::{OrderId, PlanId, ProjectId, Region};
use crate::money::Money;

/// Why a row was written (the seed's EXTRA_INFO).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsumptionKind {
    /// The first charge of a new order.
    New,
    /// A later cycle.
    Renew,
    /// The first charge of an order that replaced another.
    Switch,
    /// The order ended; the amount is minus what was refunded (zero when nothing was).
    End,
}

impl ConsumptionKind {
    /// Every kind, for adapters that map stored codes back.
    pub const ALL: [ConsumptionKind; 4] = [
        ConsumptionKind::New,
        ConsumptionKind::Renew,
        ConsumptionKind::Switch,
        ConsumptionKind::End,
    ];

    /// The stored code (the original schema's numbers, so existing rows keep their meaning).
    pub fn code(self) -> i16 {
        match self {
            ConsumptionKind::New => 0,
            ConsumptionKind::Renew => 1,
            ConsumptionKind::Switch => 2,
            ConsumptionKind::End => 3,
        }
    }

    /// The kind a stored code stands for; `None` for a code no kind has (a corrupt row).
    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The name the API shows.
    pub fn label(self) -> &'static str {
        match self {
            ConsumptionKind::New => "new",
            ConsumptionKind::Renew => "renew",
            ConsumptionKind::Switch => "switch",
            ConsumptionKind::End => "end",
        }
    }

    /// Whether the row pays for a period of service (as opposed to closing the order).
    pub fn is_charge(self) -> bool {
        self != ConsumptionKind::End
    }
}

/// One row of consumption history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumption {
    /// The order the row charges or refunds.
    pub order_id: OrderId,
    /// 1, 2, 3 … within the order.
    pub consume_id: u32,
    /// Who paid or got the money back.
    pub project: ProjectId,
    /// The order's region, so rows can be listed per region without reading orders.
    pub region: Region,
    /// The order's plan, so history can be shown without reading orders.
    pub plan_id: PlanId,
    /// Positive: taken from the balance. Negative: given back.
    pub amount: Money,
    /// When the paid period starts (charges) or when the order ended (end rows).
    pub time: DateTime<Utc>,
    /// When the paid period ends.
    pub covered_until: DateTime<Utc>,
    /// Why the row was written.
    pub kind: ConsumptionKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_and_labels_are_the_seeds() {
        let kinds: Vec<(i16, &str)> = ConsumptionKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect();
        assert_eq!(kinds, [(0, "new"), (1, "renew"), (2, "switch"), (3, "end")]);
    }

    #[test]
    fn kind_round_trips_through_its_code() {
        for kind in ConsumptionKind::ALL {
            assert_eq!(ConsumptionKind::from_code(kind.code()), Some(kind));
        }
    }

    #[test]
    fn unknown_kind_codes_have_no_kind() {
        for code in [-1, 4, 15, i16::MIN] {
            assert_eq!(ConsumptionKind::from_code(code), None, "{code}");
        }
    }

    #[test]
    fn every_kind_but_end_pays_for_a_period() {
        assert!(ConsumptionKind::New.is_charge());
        assert!(ConsumptionKind::Renew.is_charge());
        assert!(ConsumptionKind::Switch.is_charge());
        assert!(!ConsumptionKind::End.is_charge());
    }
}
