//! What a postpaid order owes when it ends between two renewals (cancelled, switched, or
//! ended after its grace period): every cycle it used since its last charge, at the price
//! of its terms. Cycle `k` of an order covers
//! `[cycle_end(start, k - 1), cycle_end(start, k))`, as renewal charges it; an elapsed cycle
//! costs the full cycle price, the cycle running at the end costs its used share (rounded
//! down, in the customer's favour, by [`crate::proration::used_share`]). One function for
//! cancel and switch, so the two can never bill the same usage differently.

use chrono::{DateTime, Utc};

use crate::consumption::{Consumption, ConsumptionKind};
use crate::cycle::BusinessCalendar;
use crate::error::{Error, Result};
use crate::order::Order;
use crate::plan::ChargingMode;
use crate::proration::used_share;

/// The settlement rows of `order` ending at `at`, numbered after its `last_consume_id`, of
/// kind renew, oldest cycle first: each elapsed unbilled cycle in full, then the running
/// cycle's used share (a row of zero when that share rounds down to nothing). No rows for
/// a prepaid order (it paid in advance) or when `at` is at the start of its next cycle.
///
/// Errors: `InvalidParameter` (price × quantities overflows), `Internal` (a cycle out of
/// the calendar's range, or more rows than an order can number).
pub fn postpaid_settlement(
    calendar: &BusinessCalendar,
    order: &Order,
    at: DateTime<Utc>,
) -> Result<Vec<Consumption>> {
    if order.mode != ChargingMode::Postpaid {
        return Ok(Vec::new());
    }
    let price = order.cycle_price()?;
    let cycle = order.terms.cycle;
    let out_of_range = || Error::Internal(format!("a cycle of order {} is out of range", order.id));
    let mut rows = Vec::new();
    let mut billed = order.last_consume_id;
    loop {
        let from = calendar
            .cycle_end(order.start_time, cycle, billed)
            .ok_or_else(out_of_range)?;
        if from >= at {
            return Ok(rows);
        }
        let next = billed
            .checked_add(1)
            .ok_or_else(|| Error::Internal(format!("order {} has too many rows", order.id)))?;
        let until = calendar
            .cycle_end(order.start_time, cycle, next)
            .ok_or_else(out_of_range)?;
        rows.push(Consumption {
            order_id: order.id.clone(),
            consume_id: next,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount: used_share(price, from, until, at)?,
            time: from,
            covered_until: until.min(at),
            kind: ConsumptionKind::Renew,
        });
        if until >= at {
            return Ok(rows);
        }
        billed = next;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::ids::Quantity;
    use crate::money::Money;
    use crate::testing::{money, utc, OrderBuilder};

    /// A postpaid order started Jan 1 2017 at 100.00 a month, nothing billed yet: its
    /// first cycle is January.
    fn order() -> Order {
        OrderBuilder::default()
            .postpaid()
            .plan_type("network")
            .build()
    }

    fn settle(order: &Order, at: &str) -> Vec<(u32, Money, DateTime<Utc>, DateTime<Utc>)> {
        postpaid_settlement(&BusinessCalendar::default(), order, utc(at))
            .unwrap()
            .into_iter()
            .map(|row| {
                assert_eq!(row.kind, ConsumptionKind::Renew);
                (row.consume_id, row.amount, row.time, row.covered_until)
            })
            .collect()
    }

    #[test]
    fn mid_cycle_end_pays_the_used_share_rounded_down() {
        // 100.00 × 10.5 / 31 days = 33.87096… → 33.8709.
        assert_eq!(
            settle(&order(), "2017-01-11T12:00:00Z"),
            [(
                1,
                Money::from_minor(338_709),
                utc("2017-01-01T00:00:00Z"),
                utc("2017-01-11T12:00:00Z")
            )]
        );
    }

    #[test]
    fn elapsed_unbilled_cycles_are_paid_in_full_then_the_running_one_pro_rata() {
        // January and February unbilled; 14 of March's 31 days used: 45.1612… → 45.1612.
        assert_eq!(
            settle(&order(), "2017-03-15T00:00:00Z"),
            [
                (
                    1,
                    money("100"),
                    utc("2017-01-01T00:00:00Z"),
                    utc("2017-02-01T00:00:00Z")
                ),
                (
                    2,
                    money("100"),
                    utc("2017-02-01T00:00:00Z"),
                    utc("2017-03-01T00:00:00Z")
                ),
                (
                    3,
                    Money::from_minor(451_612),
                    utc("2017-03-01T00:00:00Z"),
                    utc("2017-03-15T00:00:00Z")
                ),
            ]
        );
    }

    #[test]
    fn rows_are_numbered_after_the_last_charge() {
        let billed = Order {
            last_consume_id: 2,
            deadline_time: utc("2017-04-01T00:00:00Z"),
            ..order()
        };
        let rows = settle(&billed, "2017-03-15T00:00:00Z");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 3);
        assert_eq!(rows[0].2, utc("2017-03-01T00:00:00Z"));
    }

    #[test]
    fn ending_exactly_on_a_boundary_pays_the_cycles_before_it_and_nothing_more() {
        let rows = settle(&order(), "2017-03-01T00:00:00Z");
        assert_eq!(
            rows.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(),
            [(1, money("100")), (2, money("100"))]
        );
        assert_eq!(rows[1].3, utc("2017-03-01T00:00:00Z"));
    }

    #[test]
    fn ending_at_the_start_owes_nothing() {
        assert!(settle(&order(), "2017-01-01T00:00:00Z").is_empty());
    }

    #[test]
    fn a_sliver_of_a_cycle_writes_a_row_of_zero() {
        let rows = settle(&order(), "2017-01-01T00:00:00.000001Z");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1, Money::ZERO);
    }

    #[test]
    fn quantities_multiply_the_price() {
        let three = Order {
            quantities: Quantity::new(3).unwrap(),
            ..order()
        };
        assert_eq!(settle(&three, "2017-02-01T00:00:00Z")[0].1, money("300"));
    }

    #[test]
    fn prepaid_orders_owe_nothing_in_arrears() {
        let prepaid = Order {
            mode: ChargingMode::Prepaid,
            ..order()
        };
        assert!(settle(&prepaid, "2017-03-15T00:00:00Z").is_empty());
    }

    #[test]
    fn a_price_that_overflows_is_an_invalid_parameter() {
        let mut two = Order {
            quantities: Quantity::new(2).unwrap(),
            ..order()
        };
        two.terms.price = Money::MAX;
        let at = utc("2017-01-11T00:00:00Z");
        assert!(matches!(
            postpaid_settlement(&BusinessCalendar::default(), &two, at),
            Err(Error::InvalidParameter(_))
        ));
    }
}
