//! An order is one service instance bought from one plan by one project. Its plan never
//! changes: switching plans ends the order and opens another. It keeps its own terms (cycle,
//! price, who keeps its money), so editing the catalog or the region's configuration never
//! changes what a running order has agreed to; only its price follows the catalog, at its
//! next renewal.

use chrono::{DateTime, Utc};

use crate::cycle::Cycle;
use crate::error::{Error, Result};
use crate::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};
use crate::money::Money;
use crate::payment::{MoneyKeeper, PaymentId};
use crate::plan::ChargingMode;
use crate::provisioning::ResourceKind;

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
    /// Every status, for adapters that map stored codes back.
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

    /// The status a stored code stands for; `None` for a code no status has (a corrupt row).
    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The name the API shows and filters by.
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Consuming => "consuming",
            OrderStatus::Ending => "ending",
            OrderStatus::Ended => "ended",
        }
    }

    /// Parses a `status` filter. Errors: `InvalidParameter` naming the four statuses.
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

/// What an order has agreed to, fixed when it opens: the length of its cycles and who keeps
/// its money never change; its price is the catalog's when the order opened, refreshed when
/// a renewal charges a cycle at the catalog's current price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    /// How long a paid period lasts.
    pub cycle: Cycle,
    /// The price of one cycle of one unit.
    pub price: Money,
    /// Which keeper takes the order's payments and gives its refunds back.
    pub keeper: MoneyKeeper,
}

impl Terms {
    /// The price of one cycle for `quantities` units.
    ///
    /// Errors: `InvalidParameter` when it overflows.
    pub fn cycle_price(&self, quantities: Quantity) -> Result<Money> {
        self.price
            .checked_mul(quantities.get())
            .ok_or_else(|| Error::invalid("quantities too large for this plan's price"))
    }
}

/// One order: one service instance of a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// The order's public handle, chosen by [`crate::ports::IdGenerator`].
    pub id: OrderId,
    /// Who pays, and whose members see the order.
    pub project: ProjectId,
    /// The plan's region: it picks the keeper and the platform the resource lives on.
    pub region: Region,
    /// The plan bought; it never changes (a switch opens another order).
    pub plan_id: PlanId,
    /// The plan's type, kept on the order so unique resources are checked without the catalog.
    pub plan_type: PlanType,
    /// Fixed when the order opens: a plan later edited in the catalog does not turn a
    /// prepaid order into a postpaid one.
    pub mode: ChargingMode,
    /// Units bought; every cycle charges the price times this.
    pub quantities: Quantity,
    /// When the order opened; every cycle boundary is computed from it (see
    /// [`crate::cycle::BusinessCalendar::cycle_end`]).
    pub start_time: DateTime<Utc>,
    /// Set once the order has ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Paid until (prepaid), or next settlement (postpaid).
    pub deadline_time: DateTime<Utc>,
    /// Where it is in its life; changes are checked by [`OrderStatus::can_become`].
    pub status: OrderStatus,
    /// Who opened it.
    pub creator: UserName,
    /// The platform resource it provides, for plans that [require
    /// one](crate::plan::Plan::requires_resource_name).
    pub resource_name: Option<ResourceName>,
    /// Sequence number of the order's latest consumption row; 0 before the first.
    pub last_consume_id: u32,
    /// Failed renewal attempts since the last successful charge.
    pub renew_retries: u32,
    /// When the last renewal-failed warning went out; at most one per warning interval.
    pub last_warned_at: Option<DateTime<Utc>>,
    /// What it agreed to when it opened.
    pub terms: Terms,
    /// Bumped by every write of the order; every update is guarded by the version it was
    /// decided from, so two writers never both change the same state.
    pub version: u32,
    /// The number of the order's latest payment; 0 before the first.
    pub payment_seq: u32,
    /// The payment (its number) the order waits for: the first cycle of a `pending` order,
    /// or the next cycle of a renewal in a charge-service region. Nothing else may change
    /// the order's money meanwhile: renewal skips it, cancel and switch are refused.
    pub awaiting_payment: Option<u32>,
    /// The order this one replaces (a plan switch), for as long as the order exists.
    pub replaces: Option<OrderId>,
    /// The pending order that is switching this one away: set while the new order's first
    /// payment is unsettled, so that no second switch, cancel or renewal races it.
    pub replaced_by: Option<OrderId>,
}

impl Order {
    /// The next consumption sequence number.
    pub fn next_consume_id(&self) -> Result<u32> {
        self.last_consume_id
            .checked_add(1)
            .ok_or_else(|| Error::Internal(format!("order {} has too many rows", self.id)))
    }

    /// Takes the next payment number and returns the payment's id.
    ///
    /// Errors: `Internal` past the largest number.
    pub fn next_payment_id(&mut self) -> Result<PaymentId> {
        self.payment_seq = self
            .payment_seq
            .checked_add(1)
            .ok_or_else(|| Error::Internal(format!("order {} has too many payments", self.id)))?;
        Ok(PaymentId {
            order: self.id.clone(),
            seq: self.payment_seq,
        })
    }

    /// Whether a payment or a switch in flight holds the order: its money must not move
    /// otherwise until that settles.
    pub fn is_held(&self) -> bool {
        self.awaiting_payment.is_some() || self.replaced_by.is_some()
    }

    /// Whether the order holds its resource: its name (a volume, an instance) or its
    /// project's quota in its region, which only one order at a time may hold. An open order
    /// holds it, but for a pending switch target, which takes it over from the order it
    /// replaces only once its first payment settles.
    pub fn holds_resource(&self) -> bool {
        match self.status {
            OrderStatus::Consuming | OrderStatus::Ending => true,
            OrderStatus::Pending => self.replaces.is_none(),
            OrderStatus::Ended => false,
        }
    }

    /// Whether the order provides its project's quota in its region (see
    /// [`Order::holds_resource`]).
    pub fn holds_quota(&self) -> bool {
        ResourceKind::of(&self.plan_type) == Some(ResourceKind::Quota) && self.holds_resource()
    }

    /// The price of one cycle at the order's terms.
    ///
    /// Errors: `InvalidParameter` when it overflows.
    pub fn cycle_price(&self) -> Result<Money> {
        self.terms.cycle_price(self.quantities)
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
            terms: Terms {
                cycle: Cycle::Month,
                price: Money::from_minor(990_000),
                keeper: MoneyKeeper::LocalLedger,
            },
            version: 1,
            payment_seq: 1,
            awaiting_payment: None,
            replaces: None,
            replaced_by: None,
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
    fn payment_ids_follow_the_last_one_and_are_the_orders() {
        let mut order = order(Consuming);
        let id = order.next_payment_id().unwrap();
        assert_eq!((id.order.as_str(), id.seq), ("o1", 2));
        assert_eq!(order.payment_seq, 2);
        order.payment_seq = u32::MAX;
        assert!(matches!(order.next_payment_id(), Err(Error::Internal(_))));
    }

    #[test]
    fn a_pending_switch_target_does_not_hold_the_resource_until_paid() {
        let mut target = order(Pending);
        assert!(target.holds_resource());
        target.replaces = Some(OrderId::parse("old").unwrap());
        assert!(!target.holds_resource());
        target.status = Consuming;
        assert!(target.holds_resource());
        target.status = Ended;
        assert!(!target.holds_resource());
    }

    #[test]
    fn only_a_quota_order_holding_its_resource_holds_the_quota() {
        let mut quota = order(Ending);
        quota.plan_type = PlanType::parse("resources").unwrap();
        assert!(quota.holds_quota());
        quota.status = Ended;
        assert!(!quota.holds_quota());
        assert!(!order(Consuming).holds_quota());
    }

    #[test]
    fn a_payment_or_a_switch_in_flight_holds_the_order() {
        let mut order = order(Consuming);
        assert!(!order.is_held());
        order.awaiting_payment = Some(2);
        assert!(order.is_held());
        order.awaiting_payment = None;
        order.replaced_by = Some(OrderId::parse("new").unwrap());
        assert!(order.is_held());
    }

    #[test]
    fn next_consume_id_past_the_largest_is_an_internal_error() {
        let mut order = order(Consuming);
        order.last_consume_id = u32::MAX;
        assert!(matches!(order.next_consume_id(), Err(Error::Internal(_))));
    }
}
