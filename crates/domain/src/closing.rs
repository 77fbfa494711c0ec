//! Ending an order at an instant, as cancel, switch and the end of a grace period do: the
//! rows that close it and the payments that move their money. A prepaid order gives back
//! the unused remainder of its paid cycles (all of it when the caller refunds the running
//! cycle, else only the periods not begun); a postpaid order pays for what it used since
//! its last charge, at its own terms. What is used is owed whatever the balance: a local
//! balance may go negative (arrears), a charge service's refusal leaves the payment owed.

use chrono::{DateTime, Utc};

use crate::change::ChangeBuilder;
use crate::consumption::{Consumption, ConsumptionKind};
use crate::cycle::BusinessCalendar;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::Order;
use crate::payment::{LedgerMove, MoneyKeeper, Payment};
use crate::plan::ChargingMode;
use crate::proration::{unstarted_remainder, unused_remainder};
use crate::settlement::postpaid_settlement;

/// How a prepaid order's paid time is given back when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refund {
    /// The unused share of the running cycle and every period not begun.
    Unused,
    /// Only the periods not begun (`billing.refund_on_cancel = false`).
    Unstarted,
    /// Nothing: the order ended at its paid-until instant, every paid period used.
    Nothing,
}

/// An order's end: its new state, its rows and their payments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closing {
    /// The order as it ends.
    pub order: Order,
    /// Charges for usage not yet paid (postpaid), then the end row.
    pub rows: Vec<Consumption>,
    /// One per row that moves money (none for a zero end row).
    pub payments: Vec<Payment>,
    /// Given back to the balance (the end row is minus this).
    pub refunded: Money,
    /// Charged for unpaid postpaid usage (the sum of the settlement rows).
    pub settled: Money,
}

impl Closing {
    /// `order` ending at `at` (its end time `ended_at`, which is `at` but for an order
    /// ended after its grace period at its paid-until instant), given its rows so far
    /// (`history`, read for a prepaid refund).
    ///
    /// Errors: `Conflict` (already ended, or held: a payment of its own is out, which
    /// would then be taken for an ended order, or an order replacing it waits for its first
    /// payment, which ends it), `InvalidParameter` (the price overflows), `Internal`
    /// (amounts or row numbers overflow).
    pub fn of(
        order: &Order,
        history: &[Consumption],
        at: DateTime<Utc>,
        refund: Refund,
        calendar: &BusinessCalendar,
    ) -> Result<Closing> {
        if let Some(seq) = order.awaiting_payment {
            return Err(Error::Conflict(format!(
                "order {} waits for its payment #{seq}",
                order.id
            )));
        }
        if let Some(new) = &order.replaced_by {
            return Err(Error::Conflict(format!(
                "order {} is being replaced by order {new}",
                order.id
            )));
        }
        let mut ended = order.clone();
        ended.end(at)?;
        let (refunded, settlement) = match order.mode {
            ChargingMode::Prepaid => {
                let refunded = match refund {
                    Refund::Unused => unused_remainder(history, at)?,
                    Refund::Unstarted => unstarted_remainder(history, at)?,
                    Refund::Nothing => Money::ZERO,
                };
                (refunded, Vec::new())
            }
            ChargingMode::Postpaid => (Money::ZERO, postpaid_settlement(calendar, order, at)?),
        };
        let settled = settlement.iter().try_fold(Money::ZERO, |sum, row| {
            sum.checked_add(row.amount)
                .ok_or_else(|| Error::Internal("settlement overflowed".into()))
        })?;
        let last = settlement
            .last()
            .map_or(order.last_consume_id, |row| row.consume_id);
        let consume_id = last
            .checked_add(1)
            .ok_or_else(|| Error::Internal(format!("order {} has too many rows", order.id)))?;
        let amount = refunded
            .checked_neg()
            .ok_or_else(|| Error::Internal("refund overflowed".into()))?;
        // A prepaid end row spans what the refund gave back; a postpaid one, nothing.
        let covered_until = match order.mode {
            ChargingMode::Prepaid => order.deadline_time.max(at),
            ChargingMode::Postpaid => at,
        };
        let end_row = Consumption {
            order_id: order.id.clone(),
            consume_id,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount,
            time: at,
            covered_until,
            kind: ConsumptionKind::End,
        };
        ended.last_consume_id = consume_id;
        let mut rows = settlement;
        rows.push(end_row);
        let mut payments = Vec::new();
        for row in rows.iter().filter(|row| !row.amount.is_zero()) {
            let id = ended.next_payment_id()?;
            payments.push(Payment::of_row(&ended, id.seq, row, false, at)?);
        }
        Ok(Closing {
            order: ended,
            rows,
            payments,
            refunded,
            settled,
        })
    }

    /// What the balance pays for the ending: settlement less refund (negative: it gains).
    ///
    /// Errors: `Internal` on overflow.
    pub fn net(&self) -> Result<Money> {
        self.settled
            .checked_sub(self.refunded)
            .ok_or_else(|| Error::Internal("closing amount overflowed".into()))
    }

    /// The `order_switched` event of this ending, the old order's, replaced by `new`.
    ///
    /// Errors: `Internal` on overflow.
    pub fn switched_to(&self, new: &Order) -> Result<Notification> {
        Ok(Notification::about(
            &self.order,
            NotificationKind::OrderSwitched,
            new.start_time,
            self.net()?,
            format!(
                "switched to order {} on plan {}: {} settled, {} refunded",
                new.id, new.plan_id, self.settled, self.refunded
            ),
        ))
    }

    /// Writes the ending of `before` into `change`: the order's update, its rows, their
    /// payments and, where the local ledger keeps the money, one movement of the net with
    /// no guard (what was used is owed whatever the balance; a refund always goes back).
    ///
    /// Errors: `Internal` (see [`ChangeBuilder::update`]).
    pub fn write(self, before: &Order, change: &mut ChangeBuilder) -> Result<()> {
        let net = self.net()?;
        let project = self.order.project.clone();
        let keeper = self.order.terms.keeper;
        change.update(before, self.order)?;
        for row in self.rows {
            change.row(row);
        }
        for payment in self.payments {
            change.payment(payment);
        }
        if keeper == MoneyKeeper::LocalLedger && !net.is_zero() {
            change.ledger(LedgerMove::unguarded(project, net));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::order::OrderStatus;
    use crate::payment::{PaymentDirection, PaymentState};
    use crate::testing::{money, utc, OrderBuilder};

    fn calendar() -> BusinessCalendar {
        BusinessCalendar::default()
    }

    /// Row #1 of the default order: 100.00 for Jan 1 → Feb 1 2017.
    fn first_row(order: &Order) -> Consumption {
        Consumption {
            order_id: order.id.clone(),
            consume_id: 1,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount: money("100"),
            time: order.start_time,
            covered_until: order.deadline_time,
            kind: ConsumptionKind::New,
        }
    }

    #[test]
    fn a_prepaid_cancel_refunds_the_unused_share_as_a_credit_of_the_end_row() {
        let order = OrderBuilder::default().build();
        let at = utc("2017-01-11T12:00:00Z");
        let closing = Closing::of(
            &order,
            &[first_row(&order)],
            at,
            Refund::Unused,
            &calendar(),
        )
        .unwrap();
        // 100 × 20.5 / 31 days = 66.129032… → 66.1291, rounded up.
        assert_eq!(closing.refunded, money("66.1291"));
        assert_eq!(closing.rows.len(), 1);
        assert_eq!(closing.rows[0].consume_id, 2);
        assert_eq!(closing.rows[0].amount, money("-66.1291"));
        assert_eq!(closing.order.status, OrderStatus::Ended);
        assert_eq!(closing.order.last_consume_id, 2);
        let [payment] = closing.payments.as_slice() else {
            panic!("{:?}", closing.payments);
        };
        assert_eq!(payment.direction, PaymentDirection::Credit);
        assert_eq!(payment.amount, money("66.1291"));
        assert_eq!((payment.id.seq, payment.consume_id), (2, 2));
        assert_eq!(payment.state, PaymentState::Settled);
    }

    #[test]
    fn without_refund_on_cancel_only_unstarted_periods_go_back() {
        let order = OrderBuilder::default().build();
        let mut paid_ahead = first_row(&order);
        paid_ahead.consume_id = 2;
        paid_ahead.time = order.deadline_time;
        paid_ahead.covered_until = utc("2017-03-01T00:00:00Z");
        let history = [first_row(&order), paid_ahead];
        let at = utc("2017-01-28T00:00:00Z");
        let closing = Closing::of(&order, &history, at, Refund::Unstarted, &calendar()).unwrap();
        assert_eq!(closing.refunded, money("100"));
    }

    #[test]
    fn a_postpaid_end_settles_used_cycles_as_deductions_and_writes_a_zero_end_row() {
        let order = OrderBuilder::default()
            .postpaid()
            .keeper(MoneyKeeper::ChargeService)
            .build();
        let at = utc("2017-03-15T00:00:00Z");
        let closing = Closing::of(&order, &[], at, Refund::Unused, &calendar()).unwrap();
        let amounts: Vec<_> = closing.rows.iter().map(|r| r.amount).collect();
        assert_eq!(
            amounts,
            [money("100"), money("100"), money("45.1612"), Money::ZERO]
        );
        assert_eq!(closing.settled, money("245.1612"));
        // The zero end row has no payment; each charge has its own, pending.
        let paid: Vec<_> = closing
            .payments
            .iter()
            .map(|p| (p.id.seq, p.consume_id, p.state))
            .collect();
        assert_eq!(
            paid,
            [
                (1, 1, PaymentState::Pending),
                (2, 2, PaymentState::Pending),
                (3, 3, PaymentState::Pending)
            ]
        );
    }

    #[test]
    fn the_ledger_moves_the_net_unguarded_so_a_short_balance_goes_into_arrears() {
        let before = OrderBuilder::default().postpaid().build();
        let at = utc("2017-02-01T00:00:00Z");
        let closing = Closing::of(&before, &[], at, Refund::Unused, &calendar()).unwrap();
        let mut change = ChangeBuilder::new();
        closing.write(&before, &mut change).unwrap();
        let change = change.seal().unwrap();
        assert_eq!(
            change.ledger(),
            [LedgerMove::unguarded(before.project.clone(), money("100"))]
        );
    }

    #[test]
    fn an_ended_order_cannot_end_again() {
        let order = OrderBuilder::default().status(OrderStatus::Ended).build();
        let at = utc("2017-01-11T12:00:00Z");
        assert!(matches!(
            Closing::of(&order, &[], at, Refund::Unused, &calendar()),
            Err(Error::Conflict(_))
        ));
    }
}
