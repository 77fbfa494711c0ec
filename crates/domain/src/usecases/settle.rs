//! The settler: sends the payments the charge services keep, under their ids, until the
//! answer is definitive, and writes what each answer means in one change.
//!
//! - Taken: the payment is settled; a payment an order waited for writes its row and moves
//!   the order on (a pending order opens, a renewal advances).
//! - Declined (deductions only): a payment an order waited for is declined and the order
//!   moves on without it (a pending order ends without charge, a renewal is unpaid); a
//!   payment for usage already consumed is owed, asked again hourly, then daily.
//! - Unknown (a timeout, a 5xx, an unreadable answer): the attempt is counted and the
//!   payment sent again later under the same id, with back-off; the region's breaker counts
//!   it too.
//! - Another amount under the same id: the payment is disputed, never sent again, and left
//!   to an operator.
//!
//! A request sends the payments it recorded itself right after its commit, for a prompt
//! answer; the background job sends everything else due, a bounded number at once, and
//! writes the answers that arrive together in one call of the store (each still its own
//! change: one that is refused holds back none of the others).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};

use crate::change::{Change, ChangeBuilder, PaymentUpdate};
use crate::error::{Error, Result};
use crate::ids::OrderId;
use crate::notification::{Notification, NotificationKind};
use crate::opening::{OpeningDeclined, OpeningPaid};
use crate::order::{Order, OrderStatus};
use crate::payment::{Payment, PaymentDirection, PaymentState};
use crate::plan::{ChargingMode, Plan};
use crate::renewal::RenewalRun;
use crate::retry::Backoff;

use super::follow::Committed;
use super::UseCases;

/// How one payment came out of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    Taken,
    Declined(String),
    Owed(String),
    Unknown(String),
    Disputed(String),
    /// Not sent: its region is paused, or another settler finished it first.
    NotSent,
}

/// What one settling round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SettleTally {
    /// Taken (or credited) by their keeper.
    pub taken: u64,
    /// Refused for want of balance; what they would have bought was not granted.
    pub declined: u64,
    /// Refused for usage already consumed: owed, asked again later.
    pub owed: u64,
    /// No definitive answer: sent again later under the same id.
    pub unknown: u64,
    /// The keeper holds another amount under their id: left to an operator.
    pub disputed: u64,
    /// Not sent: their region was paused, or another settler finished them first.
    pub not_sent: u64,
}

impl SettleTally {
    fn count(&mut self, outcome: &Settled) {
        match outcome {
            Settled::Taken => self.taken += 1,
            Settled::Declined(_) => self.declined += 1,
            Settled::Owed(_) => self.owed += 1,
            Settled::Unknown(_) => self.unknown += 1,
            Settled::Disputed(_) => self.disputed += 1,
            Settled::NotSent => self.not_sent += 1,
        }
    }

    /// Payments finished for now: taken, declined, owed (asked again much later) or
    /// disputed (never sent again).
    fn finished(&self) -> u64 {
        self.taken + self.declined + self.owed + self.disputed
    }

    /// Whether anything was sent.
    pub fn is_empty(&self) -> bool {
        *self == SettleTally::default()
    }

    /// Adds another round's counts.
    pub fn absorb(&mut self, other: &SettleTally) {
        self.taken += other.taken;
        self.declined += other.declined;
        self.owed += other.owed;
        self.unknown += other.unknown;
        self.disputed += other.disputed;
        self.not_sent += other.not_sent;
    }
}

/// Record writers at once: one writes a group of answers while the next group gathers.
const WRITERS: usize = 2;

/// A payment's answer from its keeper, before what it means is written.
enum Asked {
    /// Nothing (more) to write: not sent, or its attempt already recorded.
    Done(Settled),
    /// Taken at `at`.
    Taken(Payment, DateTime<Utc>),
    /// A deduction declined at `at`, whose order (a deferred payment's, or the one an owed
    /// settlement announces) moves on or hears of it.
    Declined(Payment, String, DateTime<Utc>),
}

impl Asked {
    /// The order whose state the answer's change depends on, if any.
    fn order(&self) -> Option<&OrderId> {
        match self {
            Asked::Taken(payment, _) if payment.deferred => Some(&payment.id.order),
            Asked::Declined(payment, _, _) => Some(&payment.id.order),
            Asked::Done(_) | Asked::Taken(..) => None,
        }
    }
}

/// An answer's change, to be written.
struct Answer {
    change: Change,
    payment: Payment,
    what: &'static str,
    outcome: Settled,
}

impl UseCases {
    /// Sends the payments due now, in rounds of the settler's batch (the longest due
    /// first, a bounded number at once), skipping the regions whose breaker is open. Run by the
    /// background job every few seconds, and by `serviceusage renew --once` after its run.
    ///
    /// A full round may leave more due behind it, so another follows as long as the last
    /// one finished some payment for good (taken, declined, owed or disputed: each then
    /// leaves the due ones). A round that finished none — its payments' regions paused,
    /// their outcomes unknown, or their answers not written — ends the call: what it left
    /// due waits for the next call rather than being sent again at once.
    ///
    /// Errors: `Unavailable`, `Internal` (reading the store) in the first round; a later
    /// round that cannot read ends the call with what the earlier ones did (logged). An
    /// answer that cannot be written is logged and counted as unknown; the payment is sent
    /// again later.
    pub async fn settle_due(&self) -> Result<SettleTally> {
        let mut tally = SettleTally::default();
        let mut first = true;
        loop {
            let (read, round) = match self.settle_round().await {
                Ok(round) => round,
                Err(e) if first => return Err(e),
                Err(e) => {
                    log::warn!("settling stopped after {tally:?}, the rest waits: {e}");
                    return Ok(tally);
                }
            };
            first = false;
            tally.absorb(&round);
            let full = usize::try_from(self.settler.batch.max(1)).unwrap_or(usize::MAX);
            if read < full || round.finished() == 0 {
                return Ok(tally);
            }
        }
    }

    /// One round: the payments due now, up to the batch, sent a bounded number at once.
    /// The answers are written as they come, those that arrive together in one call of
    /// the store ([`crate::ports::ChangeStore::commit_each`]: each its own change, written
    /// together where none refuses), so writing never waits on the charge service nor
    /// costs a transaction per payment. Returns how many it read, and their outcomes.
    async fn settle_round(&self) -> Result<(usize, SettleTally)> {
        let now = self.ports.clock.now();
        let paused = self.breakers.paused(now);
        let due = self
            .ports
            .payments
            .due(now, self.settler.batch.max(1), paused)
            .await?;
        let read = due.len();
        let concurrency = self.settler.concurrency.max(1);
        let mut written = stream::iter(due)
            .map(|payment| self.ask(payment))
            .buffer_unordered(concurrency)
            .ready_chunks(concurrency)
            .map(|answers| self.record(answers))
            .buffer_unordered(WRITERS);
        let mut tally = SettleTally::default();
        while let Some(outcomes) = written.next().await {
            for outcome in &outcomes {
                tally.count(outcome);
            }
        }
        Ok((read, tally))
    }

    /// Sends one payment a request has just recorded, asking once more at once if the
    /// outcome is unknown (the id makes a repeat harmless), so the request can answer with
    /// the outcome more often than not.
    pub(super) async fn settle_now(&self, payment: Payment) -> Settled {
        match self.settle(payment.clone()).await {
            Settled::Unknown(why) => {
                log::warn!(
                    "order {}: payment {} has an unknown outcome ({why}); asking again",
                    payment.id.order,
                    payment.id
                );
                let Ok(Some(fresh)) = self.ports.payments.find(&payment.id).await else {
                    return Settled::Unknown(why);
                };
                if !fresh.state.is_open() {
                    return Settled::NotSent;
                }
                self.settle(fresh).await
            }
            outcome => outcome,
        }
    }

    /// One attempt at `payment`, and what it means written down.
    async fn settle(&self, payment: Payment) -> Settled {
        let asked = self.ask(payment).await;
        self.record(vec![asked])
            .await
            .pop()
            .unwrap_or(Settled::NotSent)
    }

    /// Sends `payment` once and counts the answer in its region's breaker. An answer that
    /// leaves the orders alone (unknown, disputed, owed again) is recorded at once; the
    /// others are for [`UseCases::record`].
    async fn ask(&self, payment: Payment) -> Asked {
        let now = self.ports.clock.now();
        if self.breakers.is_paused(&payment.region, now) {
            return Asked::Done(Settled::NotSent);
        }
        log::debug!(
            "order {}: sending {} {} of {} ({}, attempt {})",
            payment.id.order,
            payment.direction.label(),
            payment.id,
            payment.amount,
            payment.region,
            u64::from(payment.attempts) + 1
        );
        let answer = match payment.direction {
            PaymentDirection::Deduction => self.ports.charging.deduct(&payment).await,
            PaymentDirection::Credit => self.ports.charging.credit(&payment).await,
        };
        let now = self.ports.clock.now();
        let unknown = matches!(answer, Err(Error::DependencyUnavailable(_)));
        if self.breakers.record(&payment.region, unknown, now) {
            log::warn!(
                "region {}: {} unknown outcomes in a row from its charge service; its \
                 payments pause for {}s",
                payment.region,
                self.settler.breaker_failures,
                self.settler.breaker_pause.num_seconds()
            );
        }
        let recorded = match answer {
            Ok(()) => return Asked::Taken(payment, now),
            Err(Error::PaymentDeclined { detail: why, .. })
                if payment.direction == PaymentDirection::Deduction =>
            {
                if payment.deferred || payment.state != PaymentState::Owed {
                    return Asked::Declined(payment, why, now);
                }
                self.owed_again(&payment, why, now).await
            }
            Err(Error::PaymentMismatch(why)) => self.disputed(&payment, why, now).await,
            Err(e) => self.unanswered(&payment, e.to_string(), now).await,
        };
        Asked::Done(recorded.unwrap_or_else(|e| not_written(&payment, &e)))
    }

    /// Writes what the answers mean: reads the orders they move on (at once), decides each
    /// answer's change, and commits them (each its own change, in one call of the store).
    /// Returns each answer's outcome.
    async fn record(&self, answers: Vec<Asked>) -> Vec<Settled> {
        let ids: Vec<OrderId> = answers.iter().filter_map(Asked::order).cloned().collect();
        let orders = self.orders_of(ids).await;
        let mut outcomes = Vec::with_capacity(answers.len());
        let mut changes = Vec::new();
        for answer in answers {
            let decided = match answer {
                Asked::Done(outcome) => {
                    outcomes.push(Some(outcome));
                    continue;
                }
                Asked::Taken(payment, at) => match self.taken(&payment, &orders, at).await {
                    Ok(change) => (payment, Ok((change, "taken", Settled::Taken))),
                    Err(e @ (Error::Conflict(_) | Error::Internal(_))) => {
                        outcomes.push(Some(self.moved_on(&payment, Settled::Taken, e).await));
                        continue;
                    }
                    Err(e) => (payment, Err(e)),
                },
                Asked::Declined(payment, why, at) => {
                    let change = self.refused(&payment, &orders, why, at).await;
                    (payment, change)
                }
            };
            match decided {
                (payment, Ok((change, what, outcome))) => {
                    outcomes.push(None);
                    changes.push(Answer {
                        change,
                        payment,
                        what,
                        outcome,
                    });
                }
                (payment, Err(e)) => outcomes.push(Some(not_written(&payment, &e))),
            }
        }
        let mut written = self.write_answers(changes).await.into_iter();
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome
                    .or_else(|| written.next())
                    .unwrap_or(Settled::NotSent)
            })
            .collect()
    }

    /// The orders of `ids` (`None` for one that does not exist), read at once; if that
    /// fails, one by one, so that an order that cannot be read holds back only its own
    /// payment.
    async fn orders_of(&self, ids: Vec<OrderId>) -> Orders {
        if ids.is_empty() {
            return HashMap::new();
        }
        match self.ports.orders.find_all(&ids).await {
            Ok(orders) => {
                let mut found: Orders = orders
                    .into_iter()
                    .map(|order| (order.id.clone(), Ok(Some(order))))
                    .collect();
                for id in ids {
                    found.entry(id).or_insert(Ok(None));
                }
                found
            }
            Err(e) => {
                log::warn!(
                    "reading {} orders at once failed, reading them one by one: {e}",
                    ids.len()
                );
                let mut found = HashMap::with_capacity(ids.len());
                for id in ids {
                    let order = self.ports.orders.find(&id).await;
                    found.insert(id, order);
                }
                found
            }
        }
    }

    /// The keeper took the payment: settled, and what waited for it moves on.
    async fn taken(
        &self,
        payment: &Payment,
        orders: &Orders,
        now: DateTime<Utc>,
    ) -> Result<Change> {
        let mut change = ChangeBuilder::new();
        change.payment_update(update(payment, PaymentState::Settled, Some(now), now, None));
        if payment.deferred {
            let order = waiting_order(orders, payment)?;
            match order.status {
                OrderStatus::Pending => {
                    let replaced = match &order.replaces {
                        Some(id) => {
                            let old = self.ports.orders.find(id).await?.ok_or_else(|| {
                                Error::Internal(format!(
                                    "order {id}, replaced by {}, is gone",
                                    order.id
                                ))
                            })?;
                            let history = self.ports.usages.for_order(id).await?;
                            Some((old, history))
                        }
                        None => None,
                    };
                    OpeningPaid {
                        order,
                        payment,
                        replaced: replaced.as_ref().map(|(o, h)| (o, h.as_slice())),
                    }
                    .write(&mut change, &self.policy.calendar, now)?;
                }
                OrderStatus::Consuming | OrderStatus::Ending => {
                    let run = RenewalRun::at(now, (*self.policy).clone());
                    let plan = self.plan_of(order).await;
                    run.paid(order, payment, plan.as_ref())?
                        .write_into(&mut change)?;
                }
                OrderStatus::Ended => {
                    return Err(Error::Internal(format!(
                        "order {} is ended but waits for payment {}",
                        order.id, payment.id
                    )))
                }
            }
        }
        change.seal()
    }

    /// `order`'s plan as the catalog has it now, for a postpaid order to follow its price
    /// once a cycle is paid; `None` (the order keeps its price) when the catalog cannot
    /// say.
    async fn plan_of(&self, order: &Order) -> Option<Plan> {
        if order.mode != ChargingMode::Postpaid {
            return None;
        }
        match self.ports.plans.get(&order.plan_id).await {
            Ok(plan) => plan,
            Err(e) => {
                log::warn!(
                    "order {}: plan {} could not be read, its price stays as it is: {e}",
                    order.id,
                    order.plan_id
                );
                None
            }
        }
    }

    /// The keeper declined a deduction for want of balance: a settlement of usage already
    /// consumed is owed (announced, asked again later), a payment an order waited for is
    /// declined and the order moves on without it. Returns the change, what it records
    /// and the outcome.
    async fn refused(
        &self,
        payment: &Payment,
        orders: &Orders,
        why: String,
        now: DateTime<Utc>,
    ) -> Result<(Change, &'static str, Settled)> {
        if !payment.deferred {
            let mut change = ChangeBuilder::new();
            change.payment_update(owed(payment, &why, now));
            match orders.get(&payment.id.order) {
                Some(Ok(Some(order))) => {
                    change.event(Notification::about(
                        order,
                        NotificationKind::PaymentOwed,
                        now,
                        payment.amount,
                        format!(
                            "{} for the period from {} is owed: the charge service declined it ({why})",
                            payment.amount, payment.period_from
                        ),
                    ));
                }
                Some(Ok(None)) | None => {}
                Some(Err(e)) => return Err(e.clone()),
            }
            return Ok((change.seal()?, "owed", Settled::Owed(why)));
        }
        let order = waiting_order(orders, payment)?;
        let mut change = ChangeBuilder::new();
        change.payment_update(update(
            payment,
            PaymentState::Declined,
            Some(now),
            now,
            Some(why.clone()),
        ));
        match order.status {
            OrderStatus::Pending => {
                let replaced = match &order.replaces {
                    Some(id) => self.ports.orders.find(id).await?,
                    None => None,
                };
                OpeningDeclined {
                    order,
                    payment,
                    replaced: replaced.as_ref(),
                    why: &why,
                }
                .write(&mut change, now)?;
            }
            OrderStatus::Consuming | OrderStatus::Ending => {
                let run = RenewalRun::at(now, (*self.policy).clone());
                run.declined(order, payment, &why)?
                    .write_into(&mut change)?;
            }
            OrderStatus::Ended => {
                return Err(Error::Internal(format!(
                    "order {} is ended but waits for payment {}",
                    order.id, payment.id
                )))
            }
        }
        Ok((change.seal()?, "declined", Settled::Declined(why)))
    }

    /// An owed payment declined again: asked again later still.
    async fn owed_again(
        &self,
        payment: &Payment,
        why: String,
        now: DateTime<Utc>,
    ) -> Result<Settled> {
        self.ports
            .payments
            .attempted(owed(payment, &why, now), payment.attempts)
            .await?;
        Ok(Settled::Owed(why))
    }
    /// The keeper holds another amount under this id: never sent again.
    async fn disputed(
        &self,
        payment: &Payment,
        why: String,
        now: DateTime<Utc>,
    ) -> Result<Settled> {
        log::error!(
            "order {}: payment {} of {} is disputed, an operator must reconcile it with the \
             charge service of {}: {why}",
            payment.id.order,
            payment.id,
            payment.amount,
            payment.region
        );
        let disputed = update(
            payment,
            PaymentState::Disputed,
            Some(now),
            now,
            Some(why.clone()),
        );
        self.ports
            .payments
            .attempted(disputed, payment.attempts)
            .await?;
        Ok(Settled::Disputed(why))
    }

    /// No definitive answer: counted, sent again later under the same id.
    async fn unanswered(
        &self,
        payment: &Payment,
        why: String,
        now: DateTime<Utc>,
    ) -> Result<Settled> {
        let attempts = payment.attempts.saturating_add(1);
        let backoff = match payment.state {
            PaymentState::Owed => Backoff::OWED,
            _ => Backoff::PROMPT,
        };
        let next = backoff.next_attempt(now, attempts);
        log::warn!(
            "order {}: payment {} not settled (attempt {attempts}), next at {next}: {why}",
            payment.id.order,
            payment.id
        );
        let retry = PaymentUpdate {
            attempts,
            ..update(payment, payment.state, None, next, Some(why.clone()))
        };
        self.ports
            .payments
            .attempted(retry, payment.attempts)
            .await?;
        Ok(Settled::Unknown(why))
    }

    /// Commits the answers' changes, together where the store can, and runs the tasks
    /// each queued (an order just opened sets its quota). One another settler (or the
    /// request) wrote first is not an error: the payment moved on either way. Returns each
    /// answer's outcome, in order; an answer that could not be written is unknown.
    async fn write_answers(&self, answers: Vec<Answer>) -> Vec<Settled> {
        let committed: Vec<Result<Committed>> = match answers.as_slice() {
            [] => return Vec::new(),
            [one] => vec![self.commit(one.change.clone()).await],
            _ => {
                let changes = answers.iter().map(|a| a.change.clone()).collect();
                match self.commit_each(changes).await {
                    Ok(each) => each,
                    Err(e) => answers.iter().map(|_| Err(e.clone())).collect(),
                }
            }
        };
        let mut outcomes = Vec::with_capacity(answers.len());
        for (answer, committed) in answers.into_iter().zip(committed) {
            let payment = &answer.payment;
            outcomes.push(match committed {
                Ok(committed) => {
                    log::info!(
                        "order {}: payment {} {}",
                        payment.id.order,
                        payment.id,
                        answer.what
                    );
                    self.run_recorded(&committed).await;
                    answer.outcome
                }
                Err(e @ Error::Conflict(_)) => self.moved_on(payment, answer.outcome, e).await,
                Err(e) => not_written(payment, &e),
            });
        }
        outcomes
    }
}

impl UseCases {
    /// An answer whose change could not be decided or written because the payment or its
    /// order moved on since it was read. Another sender (the request, another replica's
    /// settler) recording the payment first is no error: it moved on either way. Unless
    /// that was a decline, final, and this answer a take (the project funded in between):
    /// the charge service then holds money no row accounts for, so the payment is disputed
    /// for an operator (and `reconcile` reports it) rather than forgotten. A payment still
    /// as it was read is sent again later.
    async fn moved_on(&self, payment: &Payment, outcome: Settled, error: Error) -> Settled {
        let fresh = match self.ports.payments.find(&payment.id).await {
            Ok(Some(fresh)) => fresh,
            Ok(None) => return not_written(payment, &error),
            Err(e) => return not_written(payment, &e),
        };
        if fresh.state == payment.state && fresh.attempts == payment.attempts {
            return not_written(payment, &error);
        }
        if outcome == Settled::Taken && fresh.state == PaymentState::Declined {
            let why = format!(
                "the charge service took it after it was recorded declined ({})",
                fresh.last_error.as_deref().unwrap_or("no reason recorded")
            );
            let now = self.ports.clock.now();
            return self
                .disputed(&fresh, why, now)
                .await
                .unwrap_or_else(|e| not_written(payment, &e));
        }
        log::info!(
            "order {}: payment {} was recorded {} elsewhere ({error})",
            payment.id.order,
            payment.id,
            fresh.state.label()
        );
        outcome
    }
}

/// An answer that could not be written: logged, and unknown (the payment is sent again
/// later).
fn not_written(payment: &Payment, error: &Error) -> Settled {
    log::error!(
        "order {}: the answer to payment {} could not be written, it is sent again \
         later: {error}",
        payment.id.order,
        payment.id
    );
    Settled::Unknown(error.to_string())
}

/// The orders an answer's change depends on, as read: `None` for one that is gone.
type Orders = HashMap<OrderId, Result<Option<Order>>>;

/// The order `payment` was read for.
fn waiting_order<'a>(orders: &'a Orders, payment: &Payment) -> Result<&'a Order> {
    match orders.get(&payment.id.order) {
        Some(Ok(Some(order))) => Ok(order),
        Some(Err(e)) => Err(e.clone()),
        Some(Ok(None)) | None => Err(Error::Internal(format!(
            "payment {} has no order",
            payment.id
        ))),
    }
}

/// `payment` declined for want of balance, still owed: asked again after the arrears'
/// back-off.
fn owed(payment: &Payment, why: &str, now: DateTime<Utc>) -> PaymentUpdate {
    let attempts = payment.attempts.saturating_add(1);
    let next = Backoff::OWED.next_attempt(now, attempts);
    PaymentUpdate {
        attempts,
        ..update(
            payment,
            PaymentState::Owed,
            None,
            next,
            Some(why.to_owned()),
        )
    }
}

/// `payment` moving to `state`, guarded by the state it was read in.
fn update(
    payment: &Payment,
    state: PaymentState,
    settled_at: Option<DateTime<Utc>>,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
) -> PaymentUpdate {
    PaymentUpdate {
        id: payment.id.clone(),
        expected: payment.state,
        state,
        settled_at,
        attempts: payment.attempts,
        next_attempt_at,
        last_error,
    }
}
