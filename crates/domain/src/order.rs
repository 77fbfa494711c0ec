//! An order is one service instance bought from one plan by one project. Its plan never
//! changes: switching plans ends the order and opens another.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};
use crate::plan::ChargingMode;

/// Where an order is in its life: `pending` → `consuming` → `ending` → `ended`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Created, first charge not taken.
    Pending,
    /// Paid and running.
    Consuming,
    /// Past its paid-until deadline with a renewal unpaid; still running during the grace period.
    Ending,
    /// Finished; nothing more is charged.
    Ended,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Consuming,
        OrderStatus::Ending,
        OrderStatus::Ended,
    ];

    /// The original schema's numeric code (STATUS TINYINT).
    pub fn code(self) -> i16 {
        match self {
            OrderStatus::Pending => 0,
            OrderStatus::Consuming => 5,
            OrderStatus::Ending => 10,
            OrderStatus::Ended => 15,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Consuming => "consuming",
            OrderStatus::Ending => "ending",
            OrderStatus::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.label() == text)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "status must be one of pending, consuming, ending, ended (got {text:?})"
                ))
            })
    }

    /// Whether the order may still be ended (by cancel, switch or non-payment).
    pub fn is_open(self) -> bool {
        self != OrderStatus::Ended
    }

    /// The state machine: statuses only move forward, except that a payment during the
    /// grace period brings an `ending` order back to `consuming`.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Consuming)
                | (Pending, Ended)
                | (Consuming, Ending)
                | (Consuming, Ended)
                | (Ending, Consuming)
                | (Ending, Ended)
        )
    }
}

/// One order: one service instance of a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub project: ProjectId,
    pub region: Region,
    pub plan_id: PlanId,
    pub plan_type: PlanType,
    /// Fixed when the order opens: a plan later edited in the catalog does not turn a
    /// prepaid order into a postpaid one.
    pub mode: ChargingMode,
    pub quantities: Quantity,
    pub start_time: DateTime<Utc>,
    /// Set once the order has ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Paid until (prepaid), or next settlement (postpaid).
    pub deadline_time: DateTime<Utc>,
    pub status: OrderStatus,
    pub creator: UserName,
    pub resource_name: Option<ResourceName>,
    /// Sequence number of the order's latest consumption row; 0 before the first.
    pub last_consume_id: u32,
    /// Failed renewal attempts since the last successful charge.
    pub renew_retries: u32,
    /// When the last renewal-failed warning went out; at most one per warning interval.
    pub last_warned_at: Option<DateTime<Utc>>,
}

impl Order {
    /// The next consumption sequence number.
    pub fn next_consume_id(&self) -> Result<u32> {
        self.last_consume_id
            .checked_add(1)
            .ok_or_else(|| Error::Internal(format!("order {} has too many rows", self.id)))
    }

    /// Ends the order at `at`, checking the state machine.
    pub fn end(&mut self, at: DateTime<Utc>) -> Result<()> {
        if !self.status.can_become(OrderStatus::Ended) {
            return Err(Error::Conflict(format!(
                "order {} is already {}",
                self.id,
                self.status.label()
            )));
        }
        self.status = OrderStatus::Ended;
        self.end_time = Some(at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;

    use super::OrderStatus::{Consuming, Ended, Ending, Pending};
    use super::*;

    fn order(status: OrderStatus) -> Order {
        Order {
            id: OrderId::parse("o1").unwrap(),
            project: ProjectId::parse("p1").unwrap(),
            region: Region::parse("r1").unwrap(),
            plan_id: PlanId::parse("plan1").unwrap(),
            plan_type: PlanType::parse("volume").unwrap(),
            mode: ChargingMode::Prepaid,
            quantities: Quantity::ONE,
            start_time: Utc.with_ymd_and_hms(2017, 1, 31, 10, 0, 0).unwrap(),
            end_time: None,
            deadline_time: Utc.with_ymd_and_hms(2017, 2, 28, 10, 0, 0).unwrap(),
            status,
            creator: UserName::parse("alice").unwrap(),
            resource_name: None,
            last_consume_id: 1,
            renew_retries: 0,
            last_warned_at: None,
        }
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2017, 2, 10, 12, 0, 0).unwrap()
    }

    #[test]
    fn status_codes_are_the_original_schemas() {
        let codes: Vec<(i16, &str)> = OrderStatus::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect();
        assert_eq!(
            codes,
            [
                (0, "pending"),
                (5, "consuming"),
                (10, "ending"),
                (15, "ended")
            ]
        );
    }

    #[test]
    fn status_round_trips_through_its_code_and_its_label() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::from_code(status.code()), Some(status));
            assert_eq!(OrderStatus::parse(status.label()), Ok(status));
        }
    }

    #[test]
    fn unknown_status_codes_have_no_status() {
        for code in [-1, 1, 4, 6, 11, 16, 20, i16::MAX] {
            assert_eq!(OrderStatus::from_code(code), None, "{code}");
        }
    }

    #[test]
    fn status_parse_rejects_unknown_and_differently_cased_labels() {
        for text in ["", "Consuming", "CONSUMING", " ended", "renewfailed", "5"] {
            assert!(
                matches!(OrderStatus::parse(text), Err(Error::InvalidParameter(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn status_moves_only_forward_except_ending_back_to_consuming() {
        let table = [
            (Pending, [false, true, false, true]),
            (Consuming, [false, false, true, true]),
            (Ending, [false, true, false, true]),
            (Ended, [false, false, false, false]),
        ];
        for (from, allowed) in table {
            for (to, expected) in OrderStatus::ALL.into_iter().zip(allowed) {
                assert_eq!(from.can_become(to), expected, "{from:?} → {to:?}");
            }
        }
    }

    #[test]
    fn only_an_ended_order_is_closed() {
        assert!(Pending.is_open() && Consuming.is_open() && Ending.is_open());
        assert!(!Ended.is_open());
    }

    #[test]
    fn ending_an_open_order_sets_status_and_end_time() {
        for status in [Pending, Consuming, Ending] {
            let mut order = order(status);
            order.end(noon()).unwrap();
            assert_eq!(order.status, Ended);
            assert_eq!(order.end_time, Some(noon()));
        }
    }

    #[test]
    fn ending_an_ended_order_is_a_conflict_and_changes_nothing() {
        let mut ended = order(Ended);
        ended.end_time = Some(noon());
        let before = ended.clone();
        let later = noon() + chrono::Duration::days(1);
        assert!(matches!(ended.end(later), Err(Error::Conflict(_))));
        assert_eq!(ended, before);
    }

    #[test]
    fn next_consume_id_follows_the_last_one() {
        let mut order = order(Consuming);
        order.last_consume_id = 0;
        assert_eq!(order.next_consume_id(), Ok(1));
        order.last_consume_id = 41;
        assert_eq!(order.next_consume_id(), Ok(42));
    }

    #[test]
    fn next_consume_id_past_the_largest_is_an_internal_error() {
        let mut order = order(Consuming);
        order.last_consume_id = u32::MAX;
        assert!(matches!(order.next_consume_id(), Err(Error::Internal(_))));
    }
}
