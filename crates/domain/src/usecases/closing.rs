//! Ending an order now, as cancel and switch both do: the rows that close it and what they
//! move. A prepaid order gives back the unused remainder of its paid cycles (when the caller
//! refunds); a postpaid order pays for what it used since its last charge.

use chrono::{DateTime, Utc};

use crate::consumption::{Consumption, ConsumptionKind};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::order::Order;
use crate::payment::{MoneyKeeper, Payment};
use crate::plan::ChargingMode;
use crate::ports::OrderClosing;
use crate::proration::unused_remainder;
use crate::settlement::postpaid_settlement;

use super::payments::{credit, deduction};
use super::UseCases;

/// An order's closing and its two money parts.
pub(super) struct Ending {
    pub closing: OrderClosing,
    /// Given back to the balance (the end row is minus this).
    pub refunded: Money,
    /// Charged for unpaid postpaid usage (the sum of the settlement rows).
    pub settled: Money,
}

impl Ending {
    /// The closing of `order` at `now` that gives back `refunded` and charges the
    /// `settlement` rows, with its end row numbered after them. Money moves in the store's
    /// ledger; callers whose region a charge service keeps hand it over (see
    /// [`OrderClosing::keeper`]).
    ///
    /// Errors: `Internal` (an amount or the row numbers overflow).
    pub fn new(
        order: &Order,
        now: DateTime<Utc>,
        refunded: Money,
        settlement: Vec<Consumption>,
    ) -> Result<Self> {
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
            ChargingMode::Prepaid => order.deadline_time,
            ChargingMode::Postpaid => now,
        };
        let end_row = Consumption {
            order_id: order.id.clone(),
            consume_id,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount,
            time: now,
            covered_until,
            kind: ConsumptionKind::End,
        };
        Ok(Ending {
            closing: OrderClosing {
                order_id: order.id.clone(),
                expected_last_consume_id: order.last_consume_id,
                end_time: now,
                settlement,
                end_row,
                keeper: MoneyKeeper::Store,
                credit: None,
            },
            refunded,
            settled,
        })
    }

    /// Hands the ending's money to `keeper`. The store's ledger moves it in the closing's
    /// transaction; with a charge service the store moves none, and `owed_back` (when
    /// positive) is queued as a credit named by the end row, in that same transaction, so
    /// it is paid back even if the process dies right after the commit. A settlement is
    /// the caller's to deduct beforehand (see [`Ending::settlement_deduction`]).
    pub fn kept_by(&mut self, keeper: MoneyKeeper, owed_back: Money) {
        self.closing.keeper = keeper;
        self.closing.credit = match keeper {
            MoneyKeeper::Store => None,
            MoneyKeeper::ChargeService => credit(&self.closing.end_row, owed_back),
        };
    }

    /// The one payment that takes the settlement through a charge service, named by the
    /// last settlement row; `None` when nothing is settled.
    pub fn settlement_deduction(&self) -> Option<Payment> {
        let last = self.closing.settlement.last()?;
        deduction(last, self.settled)
    }

    /// What the balance pays for the ending: settlement less refund (negative: it gains).
    pub fn net(&self) -> Result<Money> {
        self.settled
            .checked_sub(self.refunded)
            .ok_or_else(|| Error::Internal("closing amount overflowed".into()))
    }
}

impl UseCases {
    /// Computes how `order` ends at `now`, reading its rows (prepaid, when `refund`) or its
    /// plan (postpaid; a plan the catalog no longer has leaves nothing to settle, since its
    /// price is unknown). Writes nothing.
    ///
    /// Errors: `Conflict` (the order has already ended), `PlanCatalogUnavailable`,
    /// `Unavailable`, `Internal`.
    pub(super) async fn ending(
        &self,
        order: &Order,
        now: DateTime<Utc>,
        refund: bool,
    ) -> Result<Ending> {
        order.clone().end(now)?;
        let (refunded, settlement) = match order.mode {
            ChargingMode::Prepaid if refund => {
                let rows = self.ports.usages.for_order(&order.id).await?;
                (unused_remainder(&rows, now)?, Vec::new())
            }
            ChargingMode::Prepaid => (Money::ZERO, Vec::new()),
            ChargingMode::Postpaid => match self.ports.plans.get(&order.plan_id).await? {
                Some(plan) => {
                    let calendar = &self.policy.calendar;
                    let rows = postpaid_settlement(calendar, order, &plan, now)?;
                    (Money::ZERO, rows)
                }
                None => (Money::ZERO, Vec::new()),
            },
        };
        Ending::new(order, now, refunded, settlement)
    }
}
