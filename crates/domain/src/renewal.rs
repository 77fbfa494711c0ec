//! The renewal rules: what one run does to one due order. They are pure — the order, its
//! plan, the balance left and the run's instant go in; the rows to write, the order's new
//! state and the events come out — so the store can apply them inside the transaction
//! that holds the order, and every rule is testable without a database.
//!
//! - A prepaid order is due once its paid-until deadline is within the margin; each due
//!   cycle is charged in order, one row each, while the balance allows. A run after an
//!   outage therefore catches up every missed cycle, never skipping one.
//! - A postpaid order is due once its cycle has ended; it pays that cycle in arrears.
//! - A charge the balance cannot cover (or a plan withdrawn from the catalog) leaves the
//!   order running until its deadline, then `ending`, warned at most once per warning
//!   interval, and `ended` at its paid-until instant once the grace period has passed.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::consumption::{Consumption, ConsumptionKind};
use crate::cycle::Cycle;
use crate::ids::{OrderId, PlanId};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::{Order, OrderStatus};
use crate::plan::{ChargingMode, Plan};
use crate::usecases::BillingPolicy;

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

/// One stream of work: the open orders of one charging mode and status, oldest deadline
/// first. Each maps onto one range of one index, so a claim reads no more rows than it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RenewalQueue {
    pub mode: ChargingMode,
    pub status: OrderStatus,
}

impl RenewalQueue {
    /// The order a run drains the queues in. `ending` before `consuming`: an order that a
    /// run moves from consuming to ending must not be tried twice in that run.
    pub const ALL: [RenewalQueue; 4] = [
        RenewalQueue {
            mode: ChargingMode::Prepaid,
            status: OrderStatus::Ending,
        },
        RenewalQueue {
            mode: ChargingMode::Prepaid,
            status: OrderStatus::Consuming,
        },
        RenewalQueue {
            mode: ChargingMode::Postpaid,
            status: OrderStatus::Ending,
        },
        RenewalQueue {
            mode: ChargingMode::Postpaid,
            status: OrderStatus::Consuming,
        },
    ];

    /// Orders of this queue whose deadline is at or before this instant are due at `now`.
    pub fn due_by(self, now: DateTime<Utc>, settings: &RenewalSettings) -> DateTime<Utc> {
        due_by(self.mode, now, settings)
    }
}

fn due_by(mode: ChargingMode, now: DateTime<Utc>, settings: &RenewalSettings) -> DateTime<Utc> {
    match mode {
        ChargingMode::Prepaid => now + settings.margin,
        ChargingMode::Postpaid => now,
    }
}

/// Where the previous batch of a queue stopped: its last order's deadline (as claimed) and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewalCursor {
    pub deadline: DateTime<Utc>,
    pub order_id: OrderId,
}

/// What a store claims for one batch: up to `limit` orders of `queue` with a deadline at or
/// before `due_by`, after `after` in (deadline, order id) order, that nobody else holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewalBatch {
    pub queue: RenewalQueue,
    /// The regions the batch covers: the store-kept ones for a claiming batch, the
    /// charge-service ones for [`crate::ports::RenewalRepository::due_orders`].
    pub regions: crate::payment::RegionScope,
    pub due_by: DateTime<Utc>,
    pub after: Option<RenewalCursor>,
    pub limit: u32,
}

/// How one order came out of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenewalOutcome {
    /// Nothing to do yet (claimed, but a concurrent change already handled it).
    NotDue,
    /// Every due cycle was charged.
    Renewed,
    /// A due cycle could not be charged; the order runs on (or is in its grace period).
    Unpaid,
    /// The grace period ran out: the order ended at its paid-until instant.
    Ended,
    /// Left untouched this run (say, the catalog could not be asked); retried next run.
    Skipped(String),
}

/// What to write for one order: its rows in sequence, its new state, and the events to send
/// once committed. `before` is the state the decision was made from; the store refuses to
/// write if the order no longer has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewalDecision {
    pub before: Order,
    pub after: Order,
    pub rows: Vec<Consumption>,
    pub events: Vec<Notification>,
    pub outcome: RenewalOutcome,
}

impl RenewalDecision {
    fn untouched(order: &Order, outcome: RenewalOutcome) -> Self {
        Self {
            before: order.clone(),
            after: order.clone(),
            rows: Vec::new(),
            events: Vec::new(),
            outcome,
        }
    }

    /// What the rows take from the project's balance.
    pub fn debit(&self) -> Money {
        self.rows
            .iter()
            .filter(|row| row.amount.is_positive())
            .fold(Money::ZERO, |sum, row| {
                sum.checked_add(row.amount).unwrap_or(Money::MAX)
            })
    }

    /// How many cycles the decision charges.
    pub fn cycles(&self) -> usize {
        self.rows.iter().filter(|row| row.kind.is_charge()).count()
    }

    /// Whether anything is to be written.
    pub fn changes(&self) -> bool {
        self.before != self.after || !self.rows.is_empty()
    }
}

/// The decision function a store calls for each order it claims, inside its transaction.
pub trait RenewalRules: Send + Sync {
    /// Decides what a run does to `order` when its project's balance, less what earlier
    /// decisions of the same batch took, is `available`. Infallible by design: a problem
    /// becomes [`RenewalOutcome::Skipped`] with nothing to write, so one bad order never
    /// blocks a batch.
    fn decide(&self, order: &Order, available: Money) -> RenewalDecision;
}

/// What the catalog said about a plan when the run started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanLookup {
    Found(Plan),
    /// The catalog answered that it has no such plan: orders on it cannot renew.
    Withdrawn,
}

/// The rules of one run: its instant, the policy, and the plans of the due orders.
#[derive(Clone, Debug)]
pub struct RenewalRun {
    pub now: DateTime<Utc>,
    pub policy: BillingPolicy,
    /// Plans the run could not look up are absent; their orders are skipped.
    pub plans: HashMap<PlanId, PlanLookup>,
}

/// One cycle to charge: its period and price.
struct Period {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    price: Money,
}

impl RenewalRun {
    fn is_due(&self, order: &Order) -> bool {
        order.status.is_open()
            && order.status != OrderStatus::Pending
            && order.deadline_time <= due_by(order.mode, self.now, &self.policy.renewal)
    }

    /// The next cycle the order owes: prepaid pays the cycle that starts at its deadline,
    /// postpaid the one that ends there.
    fn next_period(&self, order: &Order, plan: &Plan) -> Result<Period, String> {
        let calendar = &self.policy.calendar;
        let price = plan
            .cycle_price(order.quantities)
            .map_err(|e| e.to_string())?;
        let out_of_range = || format!("the cycle after {} is out of range", order.deadline_time);
        let (from, until) = match order.mode {
            ChargingMode::Prepaid => {
                let until = calendar
                    .next_cycle_end(order.start_time, plan.cycle, order.deadline_time)
                    .ok_or_else(out_of_range)?;
                (order.deadline_time, until)
            }
            ChargingMode::Postpaid => {
                let from = calendar
                    .cycle_end(order.start_time, plan.cycle, order.last_consume_id)
                    .ok_or_else(out_of_range)?;
                (from, order.deadline_time)
            }
        };
        if from >= until {
            return Err(format!(
                "cycle {from} – {until} is empty: the plan's cycle changed under the order"
            ));
        }
        Ok(Period { from, until, price })
    }

    /// The deadline after charging `period`: prepaid, its end; postpaid, the end of the
    /// cycle after it. A postpaid order with `last_consume_id = k - 1` pays cycle `k`, so
    /// its next deadline is the end of cycle `k + 1`.
    fn deadline_after(&self, order: &Order, plan: &Plan, period: &Period) -> Option<DateTime<Utc>> {
        match order.mode {
            ChargingMode::Prepaid => Some(period.until),
            ChargingMode::Postpaid => self.policy.calendar.cycle_end(
                order.start_time,
                plan.cycle,
                order.last_consume_id.checked_add(2)?,
            ),
        }
    }

    /// Where the order's paid time ends, given the cycle it cannot pay: prepaid, its
    /// deadline; postpaid, the start of the unpaid cycle. A withdrawn plan's cycle is no
    /// longer known, so it is the one (month or year) whose boundary the deadline is:
    /// the two never share the end of cycle `k` for `k >= 1`.
    fn paid_until(&self, order: &Order) -> Result<DateTime<Utc>, String> {
        if order.mode == ChargingMode::Prepaid {
            return Ok(order.deadline_time);
        }
        let calendar = &self.policy.calendar;
        let cycles = match self.plans.get(&order.plan_id) {
            Some(PlanLookup::Found(plan)) => vec![plan.cycle],
            _ => vec![Cycle::Month, Cycle::Year],
        };
        let unpaid = order
            .last_consume_id
            .checked_add(1)
            .ok_or_else(|| format!("order {} has too many rows", order.id))?;
        cycles
            .into_iter()
            .find(|cycle| {
                calendar.cycle_end(order.start_time, *cycle, unpaid) == Some(order.deadline_time)
            })
            .and_then(|cycle| calendar.cycle_end(order.start_time, cycle, order.last_consume_id))
            .ok_or_else(|| {
                format!(
                    "deadline {} is no cycle boundary of order {}",
                    order.deadline_time, order.id
                )
            })
    }

    fn event(
        &self,
        order: &Order,
        kind: NotificationKind,
        amount: Money,
        message: String,
    ) -> Notification {
        Notification::about(order, kind, self.now, amount, message)
    }

    /// Charges every due cycle the balance covers. Returns why it stopped early, if it did.
    fn charge_due_cycles(
        &self,
        decision: &mut RenewalDecision,
        plan: &Plan,
        available: Money,
    ) -> Result<Option<String>, String> {
        let mut left = available;
        while self.is_due(&decision.after) {
            let order = &decision.after;
            let period = self.next_period(order, plan)?;
            if period.price > left {
                return Ok(Some(format!(
                    "balance {left} does not cover {} for {} – {}",
                    period.price, period.from, period.until
                )));
            }
            let deadline = self
                .deadline_after(order, plan, &period)
                .ok_or_else(|| format!("the cycle after {} is out of range", period.until))?;
            let consume_id = order.next_consume_id().map_err(|e| e.to_string())?;
            decision.rows.push(Consumption {
                order_id: order.id.clone(),
                consume_id,
                project: order.project.clone(),
                region: order.region.clone(),
                plan_id: order.plan_id.clone(),
                amount: period.price,
                time: period.from,
                covered_until: period.until,
                kind: ConsumptionKind::Renew,
            });
            left = left.checked_sub(period.price).unwrap_or(Money::ZERO);
            let order = &mut decision.after;
            order.last_consume_id = consume_id;
            order.deadline_time = deadline;
            order.status = OrderStatus::Consuming;
            order.renew_retries = 0;
            order.last_warned_at = None;
        }
        Ok(None)
    }

    /// The unpaid path: run on, enter the grace period, or end at the paid-until instant.
    /// Errors (nothing is then written) when the order cannot be ended.
    fn handle_unpaid(&self, decision: &mut RenewalDecision, why: String) -> Result<(), String> {
        let paid_until = self.paid_until(&decision.after)?;
        let order = &mut decision.after;
        let overdue_since = order.deadline_time;
        let settings = &self.policy.renewal;
        let ends = overdue_since
            .checked_add_signed(settings.grace)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if self.now >= ends {
            let consume_id = order.next_consume_id().map_err(|e| e.to_string())?;
            order.status = OrderStatus::Ended;
            order.end_time = Some(paid_until);
            order.last_consume_id = consume_id;
            decision.rows.push(Consumption {
                order_id: order.id.clone(),
                consume_id,
                project: order.project.clone(),
                region: order.region.clone(),
                plan_id: order.plan_id.clone(),
                amount: Money::ZERO,
                time: paid_until,
                covered_until: paid_until,
                kind: ConsumptionKind::End,
            });
            let message = format!("ended at {paid_until}, its grace period having run out: {why}");
            let event = self.event(order, NotificationKind::OrderEnded, Money::ZERO, message);
            decision.events.push(event);
            decision.outcome = RenewalOutcome::Ended;
            return Ok(());
        }
        order.renew_retries = order.renew_retries.saturating_add(1);
        if self.now >= overdue_since && order.status == OrderStatus::Consuming {
            order.status = OrderStatus::Ending;
            let message =
                format!("unpaid since {overdue_since}; ends on {ends} unless paid: {why}");
            let event = self.event(order, NotificationKind::OrderEnding, Money::ZERO, message);
            decision.events.push(event);
        }
        let warned_recently = order.last_warned_at.is_some_and(|at| {
            at.checked_add_signed(settings.warning_interval)
                .is_none_or(|again| self.now < again)
        });
        if !warned_recently {
            order.last_warned_at = Some(self.now);
            let event = self.event(order, NotificationKind::RenewalFailed, Money::ZERO, why);
            decision.events.push(event);
        }
        decision.outcome = RenewalOutcome::Unpaid;
        Ok(())
    }
}

impl RenewalRules for RenewalRun {
    fn decide(&self, order: &Order, available: Money) -> RenewalDecision {
        let mut decision = RenewalDecision::untouched(order, RenewalOutcome::NotDue);
        if !self.is_due(order) {
            return decision;
        }
        let charged = match self.plans.get(&order.plan_id) {
            None => {
                let why = format!("plan {} could not be looked up", order.plan_id);
                return RenewalDecision::untouched(order, RenewalOutcome::Skipped(why));
            }
            Some(PlanLookup::Withdrawn) => Ok(Some(format!(
                "plan {} was withdrawn from the catalog",
                order.plan_id
            ))),
            Some(PlanLookup::Found(plan)) => self.charge_due_cycles(&mut decision, plan, available),
        };
        let shortfall = match charged {
            Ok(shortfall) => shortfall,
            Err(why) => return RenewalDecision::untouched(order, RenewalOutcome::Skipped(why)),
        };
        if let Some(last) = decision.rows.last() {
            let after = &decision.after;
            let amount = decision.debit();
            let message = format!(
                "{} cycle(s) charged, {amount} in all; paid until {}",
                decision.rows.len(),
                last.covered_until
            );
            let event = self.event(after, NotificationKind::OrderRenewed, amount, message);
            decision.events.push(event);
            decision.outcome = RenewalOutcome::Renewed;
        }
        if let Some(why) = shortfall {
            if let Err(why) = self.handle_unpaid(&mut decision, why) {
                return RenewalDecision::untouched(order, RenewalOutcome::Skipped(why));
            }
        }
        decision
    }
}

#[cfg(test)]
mod tests;
