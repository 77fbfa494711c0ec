//! The renewal rules: what one run does to the due orders of a batch. They are pure — the
//! orders, their plans, their projects' balances and the run's instant go in; each order's
//! decision (its new state, rows, payments, the ledger's movement, events and resource
//! tasks) comes out — so the store can apply them inside the transaction that holds the
//! orders, and every rule is testable without a database.
//!
//! - A prepaid order is due once its paid-until deadline is within the margin; a postpaid
//!   order once its cycle has ended (it pays that cycle in arrears).
//! - Where the local ledger keeps the money, each due cycle is charged in order, one row and
//!   one payment each, while the balance allows (down to zero for prepaid service, down to
//!   minus the credit limit for postpaid usage). A run after an outage therefore catches up
//!   every missed cycle, never skipping one.
//! - Where a charge service keeps it, the run records one payment for the next cycle and the
//!   order waits for it: the cycle's row is written, and the order moves on, only once the
//!   charge service took the money ([`RenewalRun::paid`]); a refusal is the unpaid path
//!   ([`RenewalRun::declined`]). Nothing remote happens inside a run.
//! - A cycle that cannot be paid (or a plan withdrawn from the catalog) leaves the order
//!   running until its deadline, then `ending`, warned at most once per warning interval,
//!   and `ended` once the grace period has passed: a prepaid order at its paid-until
//!   instant, a postpaid one at the end of its grace with everything it used settled into
//!   arrears — usage is never forgiven.
//! - A catalog price change reaches a running order at its next renewal: a prepaid cycle is
//!   charged at the catalog's current price; every postpaid cycle that ended before the run
//!   (a run after an outage catches up several, a declined one is asked again) at the price
//!   it ran at, and once they are paid the order's price becomes the catalog's.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::change::{Change, ChangeBuilder};
use crate::closing::{Closing, Refund};
use crate::consumption::{Consumption, ConsumptionKind};
use crate::error::{Error, Result};
use crate::ids::{OrderId, PlanId, ProjectId};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::{Order, OrderStatus};
use crate::payment::{LedgerMove, MoneyKeeper, Payment};
use crate::plan::{ChargingMode, Plan};
use crate::policy::{BillingPolicy, RenewalSettings};
use crate::provisioning::{NewTask, Resource};

/// One stream of work: the open orders of one charging mode and status, oldest deadline
/// first. Each maps onto one range of one index, so a claim reads no more rows than it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RenewalQueue {
    /// Prepaid orders are due before their deadline, postpaid ones after it.
    pub mode: ChargingMode,
    /// `consuming` or `ending`: each moves on by other rules.
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

    /// Orders of this queue whose deadline is before this instant are overdue at `now`: a
    /// run should have moved them on more than one margin ago. A consuming order has been
    /// due for longer than the margin (a prepaid one is past its paid-until deadline, a
    /// postpaid one's cycle ended more than a margin ago); an ending one's grace period ran
    /// out more than a margin ago. A run that keeps up leaves none behind it, so operators
    /// watch their number as the renewal engine's lag.
    pub fn overdue_before(self, now: DateTime<Utc>, settings: &RenewalSettings) -> DateTime<Utc> {
        let before = |at: DateTime<Utc>, by| {
            at.checked_sub_signed(by)
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        let a_margin_ago = before(now, settings.margin);
        match self.status {
            OrderStatus::Ending => before(a_margin_ago, settings.grace),
            _ => due_by(self.mode, a_margin_ago, settings),
        }
    }
}

fn due_by(mode: ChargingMode, now: DateTime<Utc>, settings: &RenewalSettings) -> DateTime<Utc> {
    match mode {
        ChargingMode::Prepaid => now
            .checked_add_signed(settings.margin)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
        ChargingMode::Postpaid => now,
    }
}

/// Where the previous batch of a queue stopped: its last order's deadline (as claimed) and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewalCursor {
    /// The last order's deadline as claimed; the next batch starts after it.
    pub deadline: DateTime<Utc>,
    /// Breaks ties between orders with the same deadline.
    pub order_id: OrderId,
}

/// What a store claims for one batch: up to `limit` orders of `queue` with a deadline at or
/// before `due_by`, after `after` in (deadline, order id) order, that no payment or switch
/// holds and nobody else has claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewalBatch {
    /// The stream of orders to claim from.
    pub queue: RenewalQueue,
    /// The latest deadline that is due (see [`RenewalQueue::due_by`]).
    pub due_by: DateTime<Utc>,
    /// Where the previous batch stopped; `None` for the first.
    pub after: Option<RenewalCursor>,
    /// The most orders to claim in one transaction.
    pub limit: u32,
}

/// How one order came out of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenewalOutcome {
    /// Nothing to do yet (claimed, but a concurrent change already handled it, or a charge
    /// service refused it too recently to ask again).
    NotDue,
    /// Every due cycle was charged.
    Renewed,
    /// A payment for the next cycle is recorded; the charge service is asked after commit.
    AwaitingPayment,
    /// A due cycle could not be charged; the order runs on (or is in its grace period).
    Unpaid,
    /// The grace period ran out: the order ended.
    Ended,
    /// Left untouched this run (say, the catalog could not be asked); retried next run.
    Skipped(String),
}

/// What to write for one order: its new state, rows, payments, the ledger's movement,
/// events and tasks. `before` is the state the decision was made from; the store refuses to
/// write if the order no longer has its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewalDecision {
    /// The order as it was claimed; its version guards the write.
    pub before: Order,
    /// The order as the decision leaves it.
    pub after: Order,
    /// The rows to write: charged cycles, or a closing's settlement and end row.
    pub rows: Vec<Consumption>,
    /// The payments of those rows, or the one the order will wait for.
    pub payments: Vec<Payment>,
    /// The local ledger's movement for this order alone (none where a charge service keeps
    /// the money, or nothing moves).
    pub ledger: Option<LedgerMove>,
    /// Events for the project (renewed, renewal failed, ending, ended).
    pub events: Vec<Notification>,
    /// Resource tasks the decision queues (a release when the order ends).
    pub tasks: Vec<NewTask>,
    /// How the order came out.
    pub outcome: RenewalOutcome,
    /// Cycles charged (not the usage a grace period's end settles).
    pub cycles: u32,
}

impl RenewalDecision {
    fn untouched(order: &Order, outcome: RenewalOutcome) -> Self {
        Self {
            before: order.clone(),
            after: order.clone(),
            rows: Vec::new(),
            payments: Vec::new(),
            ledger: None,
            events: Vec::new(),
            tasks: Vec::new(),
            outcome,
            cycles: 0,
        }
    }

    /// What the decision's rows charge (whoever keeps the money).
    pub fn charged(&self) -> Money {
        self.rows
            .iter()
            .filter(|row| row.amount.is_positive())
            .fold(Money::ZERO, |sum, row| {
                sum.checked_add(row.amount).unwrap_or(Money::MAX)
            })
    }

    /// Whether anything is to be written.
    pub fn changes(&self) -> bool {
        self.before != self.after || !self.rows.is_empty() || !self.payments.is_empty()
    }

    /// The change that writes this decision alone, with its own ledger movement.
    ///
    /// Errors: `Internal` (a bug in the rules; see [`ChangeBuilder::seal`]).
    pub fn change(&self) -> Result<Change> {
        let mut change = ChangeBuilder::new();
        self.write_into(&mut change)?;
        if let Some(movement) = &self.ledger {
            change.ledger(movement.clone());
        }
        change.seal()
    }

    /// Everything but the ledger's movement, which a batch sums per project (and which a
    /// charge service's answer never has).
    pub(crate) fn write_into(&self, change: &mut ChangeBuilder) -> Result<()> {
        if self.before != self.after {
            change.update(&self.before, self.after.clone())?;
        }
        for row in &self.rows {
            change.row(row.clone());
        }
        for payment in &self.payments {
            change.payment(payment.clone());
        }
        for event in &self.events {
            change.event(event.clone());
        }
        for task in &self.tasks {
            change.task(task.clone());
        }
        Ok(())
    }
}

/// A batch's decisions and the change that writes them all, with one ledger movement per
/// project: the sum of its orders' movements, guarded by what the first of them to need a
/// balance needed, given the ones decided before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchPlan {
    /// Each claimed order's decision, in the order claimed.
    pub decisions: Vec<RenewalDecision>,
    /// The change that writes them all in one transaction.
    pub change: Change,
}

impl BatchPlan {
    /// Errors: `Internal` (see [`RenewalDecision::change`]).
    pub fn of(decisions: Vec<RenewalDecision>) -> Result<BatchPlan> {
        let mut totals: BTreeMap<ProjectId, (Money, Option<Money>)> = BTreeMap::new();
        for movement in decisions.iter().filter_map(|d| d.ledger.as_ref()) {
            let (taken, requires) = totals
                .entry(movement.project.clone())
                .or_insert((Money::ZERO, None));
            if let Some(needed) = movement.requires {
                let needed = taken.checked_add(needed).unwrap_or(Money::MAX);
                *requires = Some(requires.map_or(needed, |r| r.max(needed)));
            }
            *taken = taken.checked_add(movement.amount).unwrap_or(Money::MAX);
        }
        let ledger: Vec<LedgerMove> = totals
            .into_iter()
            .filter(|(_, (amount, requires))| !amount.is_zero() || requires.is_some())
            .map(|(project, (amount, requires))| LedgerMove {
                project,
                amount,
                requires,
            })
            .collect();
        let mut change = ChangeBuilder::new();
        for decision in decisions.iter().filter(|d| d.changes()) {
            decision.write_into(&mut change)?;
        }
        for movement in ledger {
            change.ledger(movement);
        }
        Ok(BatchPlan {
            decisions,
            change: change.seal()?,
        })
    }
}

/// The decision function a store calls for each batch it claims, inside its transaction.
pub trait RenewalRules: Send + Sync {
    /// The projects whose local balances the decisions about `orders` need (the store locks
    /// and reads them).
    fn balances_needed(&self, orders: &[Order]) -> Vec<ProjectId>;

    /// Decides every order of the batch, in order, given the balances of
    /// [`RenewalRules::balances_needed`] (a project without a balance has zero). Infallible
    /// by design: a problem with one order becomes [`RenewalOutcome::Skipped`] with nothing
    /// to write, so one bad order never blocks a batch.
    fn decide_batch(
        &self,
        orders: &[Order],
        balances: &BTreeMap<ProjectId, Money>,
    ) -> Vec<RenewalDecision>;
}

/// What the catalog said about a plan when the run started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanLookup {
    /// The plan as the catalog has it now: its price reaches the order at this renewal.
    Found(Plan),
    /// The catalog answered that it has no such plan: orders on it cannot renew.
    Withdrawn,
}

/// The rules of one run: its instant, the policy, and the plans of the due orders.
#[derive(Clone, Debug)]
pub struct RenewalRun {
    /// The run's instant: what is due, and the time of every row and event it writes.
    pub now: DateTime<Utc>,
    /// The deployment's billing rules.
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

impl RenewalRules for RenewalRun {
    fn balances_needed(&self, orders: &[Order]) -> Vec<ProjectId> {
        let mut projects: Vec<ProjectId> = orders
            .iter()
            .filter(|o| o.terms.keeper == MoneyKeeper::LocalLedger)
            .map(|o| o.project.clone())
            .collect();
        projects.sort_unstable();
        projects.dedup();
        projects
    }

    fn decide_batch(
        &self,
        orders: &[Order],
        balances: &BTreeMap<ProjectId, Money>,
    ) -> Vec<RenewalDecision> {
        let mut left = balances.clone();
        orders
            .iter()
            .map(|order| {
                let available = left.get(&order.project).copied().unwrap_or(Money::ZERO);
                let decision = self.decide(order, available);
                if let Some(movement) = &decision.ledger {
                    let after = available
                        .checked_sub(movement.amount)
                        .unwrap_or(Money::ZERO);
                    left.insert(order.project.clone(), after);
                }
                decision
            })
            .collect()
    }
}

impl RenewalRun {
    /// A run at `now` with no plans: for the transitions that need none (a renewal payment
    /// taken or declined).
    pub fn at(now: DateTime<Utc>, policy: BillingPolicy) -> Self {
        Self {
            now,
            policy,
            plans: HashMap::new(),
        }
    }

    fn is_due(&self, order: &Order) -> bool {
        matches!(order.status, OrderStatus::Consuming | OrderStatus::Ending)
            && !order.is_held()
            && order.deadline_time <= due_by(order.mode, self.now, &self.policy.renewal)
    }

    /// Decides what the run does to `order` when its project's local balance, less what
    /// earlier decisions of the same batch took, is `available`.
    pub fn decide(&self, order: &Order, available: Money) -> RenewalDecision {
        if !self.is_due(order) {
            return RenewalDecision::untouched(order, RenewalOutcome::NotDue);
        }
        let decided = match self.plans.get(&order.plan_id) {
            None => Err(format!("plan {} could not be looked up", order.plan_id)),
            Some(lookup) => match order.terms.keeper {
                MoneyKeeper::LocalLedger => self.decide_on_ledger(order, lookup, available),
                MoneyKeeper::ChargeService => self.decide_on_charge_service(order, lookup),
            },
        };
        decided
            .unwrap_or_else(|why| RenewalDecision::untouched(order, RenewalOutcome::Skipped(why)))
    }

    /// Charges every due cycle the balance covers, then the unpaid path if one is left.
    fn decide_on_ledger(
        &self,
        order: &Order,
        lookup: &PlanLookup,
        available: Money,
    ) -> std::result::Result<RenewalDecision, String> {
        let mut decision = RenewalDecision::untouched(order, RenewalOutcome::NotDue);
        let floor = match order.mode {
            ChargingMode::Prepaid => Money::ZERO,
            ChargingMode::Postpaid => self.policy.postpaid_floor(),
        };
        let mut left = available;
        let mut taken = Money::ZERO;
        let mut shortfall = None;
        let PlanLookup::Found(plan) = lookup else {
            return self.unpaid(decision, withdrawn(order));
        };
        while self.is_due(&decision.after) {
            let period = self.next_period(&decision.after, plan)?;
            let room = left.checked_sub(floor).unwrap_or(Money::MAX);
            if period.price > room {
                shortfall = Some(format!(
                    "balance {left} does not cover {} for {} – {}",
                    period.price, period.from, period.until
                ));
                break;
            }
            self.charge(&mut decision, plan, &period, false)?;
            left = left.checked_sub(period.price).unwrap_or(Money::ZERO);
            taken = taken
                .checked_add(period.price)
                .ok_or("the renewal's total overflowed")?;
        }
        if decision.cycles > 0 && shortfall.is_none() {
            follow_catalog(&mut decision.after, plan);
        }
        if !taken.is_zero() {
            let movement = LedgerMove::covered(order.project.clone(), taken, floor)
                .map_err(|e| e.to_string())?;
            decision.ledger = Some(movement);
        }
        self.announce_renewed(&mut decision);
        match shortfall {
            Some(why) => self.unpaid(decision, why),
            None => Ok(decision),
        }
    }

    /// Records the payment of the next cycle for the charge service, unless a refusal of it
    /// is too recent to ask again (at most once per warning interval) or the grace period
    /// has run out.
    fn decide_on_charge_service(
        &self,
        order: &Order,
        lookup: &PlanLookup,
    ) -> std::result::Result<RenewalDecision, String> {
        let decision = RenewalDecision::untouched(order, RenewalOutcome::NotDue);
        let PlanLookup::Found(plan) = lookup else {
            return self.unpaid(decision, withdrawn(order));
        };
        // Refused before, and its grace is over: it ends. Never refused (the service was
        // down, say), it is asked first: a run after an outage catches up, as on the ledger.
        if order.renew_retries > 0 && self.grace_is_over(order) {
            return self.unpaid(decision, "the grace period ran out unpaid".into());
        }
        if self.warned_recently(order) {
            // Refused too recently to ask again; an order past its deadline still enters
            // its grace period now rather than at the next attempt.
            if self.now >= order.deadline_time && order.status == OrderStatus::Consuming {
                return self.unpaid(decision, "the last renewal payment was declined".into());
            }
            return Ok(decision);
        }
        let period = self.next_period(order, plan)?;
        let mut decision = decision;
        self.charge(&mut decision, plan, &period, true)?;
        if decision.payments.is_empty() {
            // A cycle of zero needs no payment: its row is written now, as on the ledger.
            follow_catalog(&mut decision.after, plan);
            self.announce_renewed(&mut decision);
        } else {
            decision.outcome = RenewalOutcome::AwaitingPayment;
        }
        Ok(decision)
    }

    /// Charges `period`: its row and payment now, or (`deferred`) the payment alone, the
    /// order waiting for it. A cycle of zero is always written at once.
    fn charge(
        &self,
        decision: &mut RenewalDecision,
        plan: &Plan,
        period: &Period,
        deferred: bool,
    ) -> std::result::Result<(), String> {
        let order = decision.after.clone();
        let consume_id = order.next_consume_id().map_err(|e| e.to_string())?;
        let row = Consumption {
            order_id: order.id.clone(),
            consume_id,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount: period.price,
            time: period.from,
            covered_until: period.until,
            kind: ConsumptionKind::Renew,
        };
        let after = &mut decision.after;
        if order.mode == ChargingMode::Prepaid {
            // A prepaid cycle is paid at the catalog's price as it begins.
            after.terms.price = plan.price;
        }
        if period.price.is_zero() {
            decision.rows.push(row);
            decision.cycles += 1;
            self.advance(&mut decision.after, period.until, consume_id)?;
            return Ok(());
        }
        let id = after.next_payment_id().map_err(|e| e.to_string())?;
        if deferred {
            after.awaiting_payment = Some(id.seq);
        } else {
            self.advance(after, period.until, consume_id)?;
        }
        let payment =
            Payment::of_row(after, id.seq, &row, deferred, self.now).map_err(|e| e.to_string())?;
        decision.payments.push(payment);
        if !deferred {
            decision.rows.push(row);
            decision.cycles += 1;
        }
        Ok(())
    }

    /// Moves `order` past the cycle ending at `until`, recorded by row `consume_id`.
    fn advance(
        &self,
        order: &mut Order,
        until: DateTime<Utc>,
        consume_id: u32,
    ) -> std::result::Result<(), String> {
        order.deadline_time = match order.mode {
            ChargingMode::Prepaid => until,
            // A postpaid order that paid cycle k is next due at the end of cycle k + 1.
            ChargingMode::Postpaid => {
                let next = consume_id
                    .checked_add(1)
                    .ok_or_else(|| format!("order {} has too many rows", order.id))?;
                self.policy
                    .calendar
                    .cycle_end(order.start_time, order.terms.cycle, next)
                    .ok_or_else(|| format!("the cycle after {until} is out of range"))?
            }
        };
        order.last_consume_id = consume_id;
        order.status = OrderStatus::Consuming;
        order.renew_retries = 0;
        order.last_warned_at = None;
        order.awaiting_payment = None;
        Ok(())
    }

    /// The next cycle the order owes: prepaid pays the cycle that starts at its deadline
    /// at the catalog's price; postpaid the one that ends there, at its own price.
    fn next_period(&self, order: &Order, plan: &Plan) -> std::result::Result<Period, String> {
        let calendar = &self.policy.calendar;
        let cycle = order.terms.cycle;
        let out_of_range = || format!("the cycle after {} is out of range", order.deadline_time);
        let (from, until, price) = match order.mode {
            ChargingMode::Prepaid => {
                let until = calendar
                    .next_cycle_end(order.start_time, cycle, order.deadline_time)
                    .ok_or_else(out_of_range)?;
                let price = plan
                    .cycle_price(order.quantities)
                    .map_err(|e| e.to_string())?;
                (order.deadline_time, until, price)
            }
            ChargingMode::Postpaid => {
                let from = calendar
                    .cycle_end(order.start_time, cycle, order.last_consume_id)
                    .ok_or_else(out_of_range)?;
                let price = order.cycle_price().map_err(|e| e.to_string())?;
                (from, order.deadline_time, price)
            }
        };
        if from >= until {
            return Err(format!(
                "cycle {from} – {until} is empty: the deadline is no cycle boundary of the order"
            ));
        }
        Ok(Period { from, until, price })
    }

    fn announce_renewed(&self, decision: &mut RenewalDecision) {
        let Some(last) = decision.rows.last() else {
            return;
        };
        let amount = decision.charged();
        let message = format!(
            "{} cycle(s) charged, {amount} in all; paid until {}",
            decision.rows.len(),
            last.covered_until
        );
        let event = self.event(
            &decision.after,
            NotificationKind::OrderRenewed,
            amount,
            message,
        );
        decision.events.push(event);
        decision.outcome = RenewalOutcome::Renewed;
    }

    fn grace_ends(&self, order: &Order) -> DateTime<Utc> {
        order
            .deadline_time
            .checked_add_signed(self.policy.renewal.grace)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn grace_is_over(&self, order: &Order) -> bool {
        self.now >= self.grace_ends(order)
    }

    fn warned_recently(&self, order: &Order) -> bool {
        order.last_warned_at.is_some_and(|at| {
            at.checked_add_signed(self.policy.renewal.warning_interval)
                .is_none_or(|again| self.now < again)
        })
    }

    /// The unpaid path: run on, enter the grace period, or end. Errors (nothing is then
    /// written) when the order cannot be ended.
    fn unpaid(
        &self,
        mut decision: RenewalDecision,
        why: String,
    ) -> std::result::Result<RenewalDecision, String> {
        if self.grace_is_over(&decision.after) {
            return self.end_after_grace(decision, why);
        }
        let order = &mut decision.after;
        let overdue_since = order.deadline_time;
        let ends = self.grace_ends(order);
        order.renew_retries = order.renew_retries.saturating_add(1);
        if self.now >= overdue_since && order.status == OrderStatus::Consuming {
            order.status = OrderStatus::Ending;
            let message =
                format!("unpaid since {overdue_since}; ends on {ends} unless paid: {why}");
            let event = self.event(order, NotificationKind::OrderEnding, Money::ZERO, message);
            decision.events.push(event);
        }
        if !self.warned_recently(&decision.after) {
            decision.after.last_warned_at = Some(self.now);
            let event = self.event(
                &decision.after,
                NotificationKind::RenewalFailed,
                Money::ZERO,
                why,
            );
            decision.events.push(event);
        }
        decision.outcome = RenewalOutcome::Unpaid;
        Ok(decision)
    }

    /// Ends an order whose grace ran out: a prepaid one at its paid-until instant (every
    /// paid period used, nothing refunded), a postpaid one at the end of its grace with its
    /// unbilled usage settled, owed whatever the balance.
    fn end_after_grace(
        &self,
        mut decision: RenewalDecision,
        why: String,
    ) -> std::result::Result<RenewalDecision, String> {
        let order = decision.after.clone();
        let at = match order.mode {
            ChargingMode::Prepaid => order.deadline_time,
            ChargingMode::Postpaid => self.grace_ends(&order),
        };
        let closing = Closing::of(&order, &[], at, Refund::Nothing, &self.policy.calendar)
            .map_err(|e| e.to_string())?;
        let settled = closing.settled;
        decision.rows.extend(closing.rows);
        decision.payments.extend(closing.payments);
        decision.after = closing.order;
        if order.terms.keeper == MoneyKeeper::LocalLedger && !settled.is_zero() {
            let taken = decision.ledger.as_ref().map_or(Money::ZERO, |m| m.amount);
            let requires = decision.ledger.as_ref().and_then(|m| m.requires);
            decision.ledger = Some(LedgerMove {
                project: order.project.clone(),
                amount: taken.checked_add(settled).ok_or("arrears overflowed")?,
                requires,
            });
        }
        let message = if settled.is_zero() {
            format!("ended at {at}, its grace period having run out: {why}")
        } else {
            format!("ended at {at}, its grace period having run out ({settled} settled): {why}")
        };
        let event = self.event(
            &decision.after,
            NotificationKind::OrderEnded,
            settled,
            message,
        );
        decision.events.push(event);
        if let Some(resource) = Resource::of(&decision.after) {
            decision
                .tasks
                .push(NewTask::after_change(resource, self.now));
        }
        decision.outcome = RenewalOutcome::Ended;
        Ok(decision)
    }

    /// The renewal payment `payment` of `order` was taken: its row is written and the order
    /// moves on past the cycle it paid, a postpaid one to `plan`'s price (the catalog's, if
    /// it could be read; else it keeps its own until a later cycle is paid).
    ///
    /// Errors: `Conflict` when the order no longer waits for this payment (another settler
    /// recorded it), `Internal` when its cycle is out of range.
    pub fn paid(
        &self,
        order: &Order,
        payment: &Payment,
        plan: Option<&Plan>,
    ) -> Result<RenewalDecision> {
        if order.awaiting_payment != Some(payment.id.seq) {
            return Err(Error::Conflict(format!(
                "order {} does not wait for payment {}",
                order.id, payment.id
            )));
        }
        let mut decision = RenewalDecision::untouched(order, RenewalOutcome::NotDue);
        decision.rows.push(payment.row(&order.plan_id));
        decision.cycles = 1;
        self.advance(
            &mut decision.after,
            payment.period_until,
            payment.consume_id,
        )
        .map_err(Error::Internal)?;
        if let Some(plan) = plan {
            follow_catalog(&mut decision.after, plan);
        }
        self.announce_renewed(&mut decision);
        Ok(decision)
    }

    /// The renewal payment of `order` was refused: the order stops waiting for it and takes
    /// the unpaid path (asked again after the warning interval, ended after its grace).
    ///
    /// Errors: `Conflict` as [`RenewalRun::paid`], `Internal` when it cannot be ended.
    pub fn declined(&self, order: &Order, payment: &Payment, why: &str) -> Result<RenewalDecision> {
        if order.awaiting_payment != Some(payment.id.seq) {
            return Err(Error::Conflict(format!(
                "order {} does not wait for payment {}",
                order.id, payment.id
            )));
        }
        let mut decision = RenewalDecision::untouched(order, RenewalOutcome::Unpaid);
        decision.after.awaiting_payment = None;
        let why = format!(
            "the charge service declined {} for the cycle from {}: {why}",
            payment.amount, payment.period_from
        );
        self.unpaid(decision, why).map_err(Error::Internal)
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
}

/// A postpaid order whose cycles so far are paid (each at the price it ran at) runs on at
/// the catalog's price.
fn follow_catalog(order: &mut Order, plan: &Plan) {
    if order.mode == ChargingMode::Postpaid {
        order.terms.price = plan.price;
    }
}

fn withdrawn(order: &Order) -> String {
    format!("plan {} was withdrawn from the catalog", order.plan_id)
}

#[cfg(test)]
mod tests;
