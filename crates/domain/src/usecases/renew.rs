//! One renewal run: drain every renewal queue batch by batch, each batch one transaction in
//! the store, and send the events of each batch once it is committed. Several runs at once
//! (replicas, a cron job beside the server) share the work: each claims only orders nobody
//! else holds. Regions whose money a charge service keeps are renewed apart, order by
//! order (see `renew_charged`), since their money cannot move inside a store transaction.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::ids::{PlanId, Region};
use crate::money::Money;
use crate::payment::RegionScope;
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
    /// Money charged.
    pub charged: Money,
    /// Orders left unpaid (running on or in their grace period).
    pub unpaid: u64,
    /// Orders ended because their grace period ran out.
    pub ended: u64,
    /// Orders left untouched because of a problem (logged), retried next run.
    pub skipped: u64,
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
        self.unpaid += other.unpaid;
        self.ended += other.ended;
        self.skipped += other.skipped;
    }

    /// The tally of a claiming batch: every claimed order's decision.
    fn of(outcome: &BatchOutcome) -> Self {
        Self::of_decisions(&outcome.decisions)
    }

    /// The tally of these decisions, one per order looked at.
    pub(super) fn of_decisions(decisions: &[RenewalDecision]) -> Self {
        let mut tally = RenewalTally {
            claimed: decisions.len() as u64,
            ..RenewalTally::default()
        };
        for decision in decisions {
            let cycles = decision.cycles() as u64;
            tally.cycles += cycles;
            tally.renewed += u64::from(cycles > 0);
            tally.charged = tally
                .charged
                .checked_add(decision.debit())
                .unwrap_or(Money::MAX);
            match &decision.outcome {
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

/// A whole run: its batches and totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenewalReport {
    pub batches: u64,
    pub total: RenewalTally,
}

/// Hears of each batch a run has written: its queue, its number in the run, its tally.
pub(super) type Progress<'a> = dyn FnMut(RenewalQueue, u64, &RenewalTally) + Send + 'a;

impl UseCases {
    /// Renews everything due at the clock's now. Each queue is drained twice: the regions
    /// whose money the store keeps in claiming batches, one transaction each; then the
    /// regions a charge service keeps, one order at a time, each charged before it is
    /// recorded (see `renew_charged`). Once a batch is written its events are sent and the
    /// resources of the orders it ended are released; at the end of the run the queued
    /// credits due are delivered, best effort. `progress` hears of each written batch (its
    /// queue, its number in the run and its tally).
    ///
    /// Errors: `Unavailable` (the store), `Internal`. A catalog that cannot be asked about a
    /// plan, or a charge service that cannot be reached, is not an error: the orders
    /// concerned are skipped and retried next run.
    pub async fn renew_due(
        &self,
        progress: &mut (dyn FnMut(RenewalQueue, u64, &RenewalTally) + Send),
    ) -> Result<RenewalReport> {
        let now = self.ports.clock.now();
        let charged = self.ports.charging.charged_regions();
        let mut report = RenewalReport::default();
        for queue in RenewalQueue::ALL {
            self.renew_store_kept(queue, now, &charged, &mut report, progress)
                .await?;
            if !charged.is_empty() {
                self.renew_charged(queue, now, &charged, &mut report, progress)
                    .await?;
            }
        }
        self.deliver_credits_best_effort().await;
        Ok(report)
    }

    /// Drains `queue` in the regions the store keeps (all but `charged`): the store claims
    /// each batch and moves the money in its transaction.
    async fn renew_store_kept(
        &self,
        queue: RenewalQueue,
        now: DateTime<Utc>,
        charged: &[Region],
        report: &mut RenewalReport,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let settings = self.policy.renewal;
        let due_by = queue.due_by(now, &settings);
        // With no charged region the scope is every region, and says so: a store then
        // never has to express an empty exception list.
        let regions = if charged.is_empty() {
            RegionScope::All
        } else {
            RegionScope::Except(charged.to_vec())
        };
        let plan_ids = self
            .ports
            .renewals
            .due_plans(queue, due_by, regions.clone())
            .await?;
        if plan_ids.is_empty() {
            return Ok(());
        }
        let rules = Arc::new(RenewalRun {
            now,
            policy: self.policy,
            plans: self.look_up_plans(plan_ids).await,
        });
        let mut after = None;
        loop {
            let batch = RenewalBatch {
                queue,
                regions: regions.clone(),
                due_by,
                after,
                limit: settings.batch_size.max(1),
            };
            let outcome = self
                .ports
                .renewals
                .renew_batch(batch, rules.clone())
                .await?;
            let Some(next) = outcome.next.clone() else {
                return Ok(());
            };
            let tally = RenewalTally::of(&outcome);
            self.batch_written(queue, tally, outcome.decisions, report, progress)
                .await;
            after = Some(next);
        }
    }

    /// What follows a written batch: it is counted and reported, its events are sent,
    /// and the resources of the orders it ended are released (failures logged).
    pub(super) async fn batch_written(
        &self,
        queue: RenewalQueue,
        tally: RenewalTally,
        decisions: Vec<RenewalDecision>,
        report: &mut RenewalReport,
        progress: &mut Progress<'_>,
    ) {
        report.batches += 1;
        report.total.add(&tally);
        progress(queue, report.batches, &tally);
        let mut ended = Vec::new();
        let mut events = Vec::new();
        for decision in decisions {
            if decision.outcome == RenewalOutcome::Ended {
                ended.push(decision.after);
            }
            events.extend(decision.events);
        }
        self.send(events).await;
        for order in &ended {
            self.release_resource(order).await;
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
