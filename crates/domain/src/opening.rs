//! Opening an order, and the end of the wait of one opened in a charge-service region.
//!
//! Where the local ledger keeps the money, an order opens in one transaction: the order,
//! its first row and payment, and the ledger's debit (guarded so the balance covers it). A
//! postpaid order pays nothing up front, but opening one needs credit: the balance plus the
//! credit limit must cover one cycle.
//!
//! Where a charge service keeps it, a prepaid order opens `pending`, waiting for its first
//! payment, which the charge service is asked for after the commit; the order is
//! `consuming` (and a switch's old order ends) only once the payment is taken
//! ([`OpeningPaid`]); a refusal ends the pending order without charge ([`OpeningDeclined`]).

use chrono::{DateTime, Utc};

use crate::change::ChangeBuilder;
use crate::closing::{Closing, Refund};
use crate::consumption::{Consumption, ConsumptionKind};
use crate::error::{Error, Result};
use crate::ids::{OrderId, ProjectId, Quantity, ResourceName, UserName};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::{Order, OrderStatus, Terms};
use crate::payment::{LedgerMove, MoneyKeeper, Payment};
use crate::plan::{ChargingMode, Plan};
use crate::policy::BillingPolicy;
use crate::provisioning::{NewTask, Resource, ResourceKind};

/// What a new order is opened with.
#[derive(Clone, Debug)]
pub struct NewOrder<'a> {
    /// Its id, from [`crate::ports::IdGenerator`].
    pub id: OrderId,
    /// Who pays.
    pub project: ProjectId,
    /// The plan bought; the order copies its terms, so a later catalog edit leaves it be.
    pub plan: &'a Plan,
    /// Units bought.
    pub quantities: Quantity,
    /// The resource it provides, for plans that require a name.
    pub resource_name: Option<ResourceName>,
    /// Who opens it.
    pub creator: UserName,
    /// When it opens: its first cycle starts here.
    pub start: DateTime<Utc>,
    /// The order this one replaces (a plan switch).
    pub replaces: Option<OrderId>,
}

/// A new order and what opening it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    /// The order as it is inserted: `consuming`, or `pending` waiting for `payment`.
    pub order: Order,
    /// Row #1, written now: a prepaid order's first cycle where the ledger keeps the money
    /// (or the cycle is free); `None` for a postpaid order, or a deferred first payment.
    pub row: Option<Consumption>,
    /// The payment of row #1, or the deferred first payment a pending order waits for; `None`
    /// when nothing is charged up front.
    pub payment: Option<Payment>,
    /// The ledger's debit of the first cycle, or a postpaid order's credit check.
    pub ledger: Option<LedgerMove>,
    /// The first cycle's price (zero for postpaid).
    pub charge: Money,
}

impl Opening {
    /// Opens `new` under `policy` (its region's keeper, the credit limit, the calendar).
    ///
    /// Errors: `InvalidParameter` (the price overflows), `Internal` (the first cycle is out
    /// of the calendar's range).
    pub fn of(new: NewOrder<'_>, policy: &BillingPolicy) -> Result<Opening> {
        let plan = new.plan;
        let cycle_price = plan.cycle_price(new.quantities)?;
        let charge = plan.upfront_charge(new.quantities)?;
        let deadline = policy
            .calendar
            .cycle_end(new.start, plan.cycle, 1)
            .ok_or_else(|| Error::Internal("cycle end out of range".into()))?;
        let keeper = policy.keeper_for(&plan.region);
        let mut order = Order {
            id: new.id,
            project: new.project,
            region: plan.region.clone(),
            plan_id: plan.id.clone(),
            plan_type: plan.plan_type.clone(),
            mode: plan.mode,
            quantities: new.quantities,
            start_time: new.start,
            end_time: None,
            deadline_time: deadline,
            status: OrderStatus::Consuming,
            creator: new.creator,
            resource_name: new.resource_name,
            last_consume_id: 0,
            renew_retries: 0,
            last_warned_at: None,
            terms: Terms {
                cycle: plan.cycle,
                price: plan.price,
                keeper,
            },
            version: 0,
            payment_seq: 0,
            awaiting_payment: None,
            replaces: new.replaces,
            replaced_by: None,
        };
        let mut opening = Opening {
            order: order.clone(),
            row: None,
            payment: None,
            ledger: None,
            charge,
        };
        if plan.mode == ChargingMode::Postpaid {
            if keeper == MoneyKeeper::LocalLedger {
                let requires = cycle_price
                    .checked_add(policy.postpaid_floor())
                    .ok_or_else(|| Error::Internal("credit check overflowed".into()))?;
                opening.ledger = Some(LedgerMove {
                    project: order.project.clone(),
                    amount: Money::ZERO,
                    requires: Some(requires),
                });
            }
            return Ok(opening);
        }
        let row = Consumption {
            order_id: order.id.clone(),
            consume_id: 1,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount: charge,
            time: new.start,
            covered_until: deadline,
            kind: match order.replaces {
                Some(_) => ConsumptionKind::Switch,
                None => ConsumptionKind::New,
            },
        };
        let deferred = keeper == MoneyKeeper::ChargeService && charge.is_positive();
        if charge.is_positive() {
            let id = order.next_payment_id()?;
            if deferred {
                order.status = OrderStatus::Pending;
                order.awaiting_payment = Some(id.seq);
            } else {
                order.last_consume_id = 1;
            }
            opening.payment = Some(Payment::of_row(&order, id.seq, &row, deferred, new.start)?);
            if keeper == MoneyKeeper::LocalLedger {
                opening.ledger = Some(LedgerMove::covered(
                    order.project.clone(),
                    charge,
                    Money::ZERO,
                )?);
            }
        } else {
            order.last_consume_id = 1;
        }
        if !deferred {
            opening.row = Some(row);
        }
        opening.order = order;
        Ok(opening)
    }

    /// Whether the order waits for its first payment.
    pub fn is_pending(&self) -> bool {
        self.order.status == OrderStatus::Pending
    }

    /// Writes the opening into `change`. An order opened at once is announced
    /// (`order_created`) and, providing a quota, has it set by a task; a pending one is
    /// announced once paid.
    pub fn write(&self, change: &mut ChangeBuilder, plan: &Plan) {
        change.insert(self.order.clone());
        if let Some(row) = &self.row {
            change.row(row.clone());
        }
        if let Some(payment) = &self.payment {
            change.payment(payment.clone());
        }
        if let Some(movement) = &self.ledger {
            change.ledger(movement.clone());
        }
        if !self.is_pending() {
            change.event(created(&self.order, plan.id.as_str(), self.charge));
            if let Some(task) = quota_task(&self.order, self.order.start_time) {
                change.task(task);
            }
        }
    }
}

fn created(order: &Order, plan: &str, charge: Money) -> Notification {
    let message = match &order.replaces {
        Some(old) => format!("opened on plan {plan}, replacing order {old}"),
        None => format!("opened on plan {plan}"),
    };
    Notification::about(
        order,
        NotificationKind::OrderCreated,
        order.start_time,
        charge,
        message,
    )
}

/// The task that sets the project's quota to what `order` provides, if it provides one.
fn quota_task(order: &Order, now: DateTime<Utc>) -> Option<NewTask> {
    Resource::of(order)
        .filter(|resource| resource.kind == ResourceKind::Quota)
        .map(|resource| NewTask::after_change(resource, now))
}

/// The first payment of a pending order was taken: the order opens (and the order it
/// replaces ends, at the switch's instant).
#[derive(Clone, Debug)]
pub struct OpeningPaid<'a> {
    /// The pending order.
    pub order: &'a Order,
    /// The payment it waited for, taken.
    pub payment: &'a Payment,
    /// The order it replaces and that order's rows, for a switch.
    pub replaced: Option<(&'a Order, &'a [Consumption])>,
}

impl OpeningPaid<'_> {
    /// Writes the opening's completion into `change`: the payment is the caller's to mark
    /// settled. Returns the new order as opened and, for a switch, the closing of the old one.
    ///
    /// Errors: `Conflict` (the order no longer waits for this payment, or the replaced order
    /// is not held for this switch any more), `Internal`.
    pub fn write(
        &self,
        change: &mut ChangeBuilder,
        calendar: &crate::cycle::BusinessCalendar,
        now: DateTime<Utc>,
    ) -> Result<(Order, Option<Closing>)> {
        let order = self.order;
        if order.status != OrderStatus::Pending
            || order.awaiting_payment != Some(self.payment.id.seq)
        {
            return Err(Error::Conflict(format!(
                "order {} does not wait for payment {}",
                order.id, self.payment.id
            )));
        }
        let mut closing = None;
        if let Some((old, history)) = self.replaced {
            if old.replaced_by.as_ref() != Some(&order.id) {
                return Err(Error::Conflict(format!(
                    "order {} is not being replaced by order {}",
                    old.id, order.id
                )));
            }
            // Its replacement, paid, frees it to end.
            let mut freed = old.clone();
            freed.replaced_by = None;
            let ended = Closing::of(&freed, history, order.start_time, Refund::Unused, calendar)?;
            let event = ended.switched_to(order)?;
            ended.clone().write(old, change)?;
            change.event(event);
            closing = Some(ended);
        }
        let mut opened = order.clone();
        opened.status = OrderStatus::Consuming;
        opened.awaiting_payment = None;
        opened.last_consume_id = self.payment.consume_id;
        change.update(order, opened.clone())?;
        change.row(self.payment.row(&order.plan_id));
        change.event(created(
            &opened,
            order.plan_id.as_str(),
            self.payment.amount,
        ));
        if let Some(task) = quota_task(&opened, now) {
            change.task(task);
        }
        Ok((opened, closing))
    }
}

/// The first payment of a pending order was refused: the order ends without charge, a
/// resource created for it is released, and the order it would have replaced runs on.
#[derive(Clone, Debug)]
pub struct OpeningDeclined<'a> {
    /// The pending order.
    pub order: &'a Order,
    /// The payment it waited for, refused.
    pub payment: &'a Payment,
    /// The order it would have replaced, freed to run on.
    pub replaced: Option<&'a Order>,
    /// The charge service's reason, told to the project.
    pub why: &'a str,
}

impl OpeningDeclined<'_> {
    /// Writes the end of the pending order into `change` (the payment is the caller's to
    /// mark declined). Returns the ended order.
    ///
    /// Errors: `Conflict` (it no longer waits for this payment), `Internal`.
    pub fn write(&self, change: &mut ChangeBuilder, now: DateTime<Utc>) -> Result<Order> {
        let order = self.order;
        if order.status != OrderStatus::Pending
            || order.awaiting_payment != Some(self.payment.id.seq)
        {
            return Err(Error::Conflict(format!(
                "order {} does not wait for payment {}",
                order.id, self.payment.id
            )));
        }
        let mut ended = order.clone();
        ended.end(now)?;
        ended.awaiting_payment = None;
        change.update(order, ended.clone())?;
        if let Some(old) = self.replaced {
            if old.replaced_by.as_ref() == Some(&order.id) {
                let mut freed = old.clone();
                freed.replaced_by = None;
                change.update(old, freed)?;
            }
        }
        let message = format!(
            "not opened: the charge service declined {} ({})",
            self.payment.amount, self.why
        );
        change.event(Notification::about(
            &ended,
            NotificationKind::OrderEnded,
            now,
            Money::ZERO,
            message,
        ));
        // A switch target created nothing; a new volume or instance was created for it.
        if order.replaces.is_none() {
            if let Some(resource) = Resource::of(order) {
                change.task(NewTask::after_change(resource, now));
            }
        }
        Ok(ended)
    }
}

#[cfg(test)]
mod tests;
