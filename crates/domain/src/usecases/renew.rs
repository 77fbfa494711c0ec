//! One renewal run: drain every renewal queue batch by batch, each batch one transaction in
//! the store: claim, decide the whole batch in the domain, write its change (rows, payments,
//! the ledger's movements, events, tasks). One engine whoever keeps the money: the local
//! ledger settles in the batch's transaction, a charge service's payments are recorded and
//! sent after the commit by the settler, so a run never waits on a remote service. Several
//! runs at once (replicas, a cron job beside the server) share the work.
//!
//! Failures stay where they happen: an order that cannot be read or written is skipped and
//! counted (the store isolates it from its batch), and a queue whose store calls fail is
//! abandoned for this run while the other queues go on.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::ids::PlanId;
use crate::money::Money;
use crate::ports::BatchOutcome;
use crate::renewal::{
    PlanLookup, RenewalBatch, RenewalDecision, RenewalOutcome, RenewalQueue, RenewalRun,
};

use super::UseCases;

/// Counts of what a batch or a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenewalTally {
    /// Orders claimed.
    pub claimed: u64,
    /// Orders with at least one cycle charged.
    pub renewed: u64,
    /// Cycles charged.
    pub cycles: u64,
    /// Money charged (whoever keeps it), settlements of ended orders included.
    pub charged: Money,
    /// Orders whose next cycle's payment a charge service is asked for.
    pub awaiting: u64,
    /// Orders left unpaid (running on or in their grace period).
    pub unpaid: u64,
    /// Orders ended because their grace period ran out.
    pub ended: u64,
    /// Orders left untouched because of a problem (logged), retried next run.
    pub skipped: u64,
    /// Orders that could not be read or written (logged as errors), retried next run.
    pub failed: u64,
}

impl RenewalTally {
    fn add(&mut self, other: &RenewalTally) {
        self.claimed += other.claimed;
        self.renewed += other.renewed;
        self.cycles += other.cycles;
        self.charged = self
            .charged
            .checked_add(other.charged)
            .unwrap_or(Money::MAX);
        self.awaiting += other.awaiting;
        self.unpaid += other.unpaid;
        self.ended += other.ended;
        self.skipped += other.skipped;
        self.failed += other.failed;
    }

    /// The tally of one batch.
    fn of(outcome: &BatchOutcome) -> Self {
        let mut tally = Self::of_decisions(&outcome.decisions);
        tally.claimed += outcome.failed.len() as u64;
        tally.failed += outcome.failed.len() as u64;
        tally
    }

    /// The tally of these decisions, one per order looked at.
    pub(super) fn of_decisions(decisions: &[RenewalDecision]) -> Self {
        let mut tally = RenewalTally {
            claimed: decisions.len() as u64,
            ..RenewalTally::default()
        };
        for decision in decisions {
            let cycles = u64::from(decision.cycles);
            tally.cycles += cycles;
            tally.renewed += u64::from(cycles > 0);
            tally.charged = tally
                .charged
                .checked_add(decision.charged())
                .unwrap_or(Money::MAX);
            match &decision.outcome {
                RenewalOutcome::AwaitingPayment => tally.awaiting += 1,
                RenewalOutcome::Unpaid => tally.unpaid += 1,
                RenewalOutcome::Ended => tally.ended += 1,
                RenewalOutcome::Skipped(why) => {
                    log::warn!("renewal skipped order {}: {why}", decision.before.id);
                    tally.skipped += 1;
                }
                RenewalOutcome::NotDue | RenewalOutcome::Renewed => {}
            }
        }
        tally
    }
}

/// A whole run: its batches, totals, and the queues it had to abandon.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenewalReport {
    /// Batches written.
    pub batches: u64,
    /// What the batches did, added up.
    pub total: RenewalTally,
    /// Queues abandoned for this run because the store failed them (logged).
    pub failed_queues: u64,
}

impl RenewalReport {
    /// Adds another run's batches and totals (a command that runs several rounds).
    pub fn absorb(&mut self, other: &RenewalReport) {
        self.batches += other.batches;
        self.total.add(&other.total);
        self.failed_queues += other.failed_queues;
    }
}

/// Hears of each batch a run has written: its queue, its number in the run, its tally.
pub(super) type Progress<'a> = dyn FnMut(RenewalQueue, u64, &RenewalTally) + Send + 'a;

impl UseCases {
    /// Renews everything due at the clock's now. `progress` hears of each written batch.
    /// The charge-service payments the run records are sent by the settler (see
    /// [`UseCases::settle_due`]), and the tasks it queues by the task runner.
    ///
    /// Errors: none of its own: a queue that fails is logged, counted in
    /// [`RenewalReport::failed_queues`] and left for the next run, and the others go on.
    pub async fn renew_due(
        &self,
        progress: &mut (dyn FnMut(RenewalQueue, u64, &RenewalTally) + Send),
    ) -> Result<RenewalReport> {
        let now = self.ports.clock.now();
        let mut report = RenewalReport::default();
        for queue in RenewalQueue::ALL {
            if let Err(e) = self.renew_queue(queue, now, &mut report, progress).await {
                log::error!(
                    "renewal of the {:?} {} queue stopped for this run: {e}",
                    queue.mode,
                    queue.status.label()
                );
                report.failed_queues += 1;
            }
        }
        Ok(report)
    }

    async fn renew_queue(
        &self,
        queue: RenewalQueue,
        now: DateTime<Utc>,
        report: &mut RenewalReport,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let settings = self.policy.renewal;
        let due_by = queue.due_by(now, &settings);
        let plan_ids = self.ports.renewals.due_plans(queue, due_by).await?;
        if plan_ids.is_empty() {
            return Ok(());
        }
        let rules = Arc::new(RenewalRun {
            now,
            policy: (*self.policy).clone(),
            plans: self.look_up_plans(plan_ids).await,
        });
        let mut after = None;
        loop {
            let batch = RenewalBatch {
                queue,
                due_by,
                after,
                limit: settings.batch_size.max(1),
            };
            let outcome = self
                .ports
                .renewals
                .renew_batch(batch, rules.clone())
                .await?;
            for (order, why) in &outcome.failed {
                log::error!("renewal of order {order} failed, retried next run: {why}");
            }
            let Some(next) = outcome.next.clone() else {
                return Ok(());
            };
            let tally = RenewalTally::of(&outcome);
            report.batches += 1;
            report.total.add(&tally);
            progress(queue, report.batches, &tally);
            for decision in &outcome.decisions {
                log_decision(decision);
            }
            after = Some(next);
        }
    }

    /// The catalog's answer for each plan; a plan it could not be asked about is left out,
    /// so its orders are skipped this run.
    pub(super) async fn look_up_plans(&self, ids: Vec<PlanId>) -> HashMap<PlanId, PlanLookup> {
        let mut plans = HashMap::with_capacity(ids.len());
        for id in ids {
            match self.ports.plans.get(&id).await {
                Ok(Some(plan)) => {
                    plans.insert(id, PlanLookup::Found(plan));
                }
                Ok(None) => {
                    plans.insert(id, PlanLookup::Withdrawn);
                }
                Err(e) => log::warn!("renewal cannot look up plan {id}; its orders wait: {e}"),
            }
        }
        plans
    }
}

/// The log lines of a written decision's events (the events themselves are stored with it).
fn log_decision(decision: &RenewalDecision) {
    for event in &decision.events {
        log::info!(
            "notification {} project={} order={}: {}",
            event.kind.label(),
            event.project,
            event.order_id,
            event.message
        );
    }
}
