//! One renewal run: drain every renewal queue batch by batch, each batch one transaction in
//! the store, and send the events of each batch once it is committed. Several runs at once
//! (replicas, a cron job beside the server) share the work: each claims only orders nobody
//! else holds.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Result;
use crate::money::Money;
use crate::ports::BatchOutcome;
use crate::renewal::{PlanLookup, RenewalBatch, RenewalOutcome, RenewalQueue, RenewalRun};

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

    fn of(outcome: &BatchOutcome) -> Self {
        let mut tally = RenewalTally {
            claimed: outcome.decisions.len() as u64,
            ..RenewalTally::default()
        };
        for decision in &outcome.decisions {
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

impl UseCases {
    /// Renews everything due at the clock's now. `progress` hears of each committed batch
    /// (its queue, its number in the run and its tally).
    ///
    /// Errors: `Unavailable` (the store), `Internal`. A catalog that cannot be asked about a
    /// plan is not an error: that plan's orders are skipped and retried next run.
    pub async fn renew_due(
        &self,
        progress: &mut (dyn FnMut(RenewalQueue, u64, &RenewalTally) + Send),
    ) -> Result<RenewalReport> {
        let now = self.ports.clock.now();
        let settings = self.policy.renewal;
        let mut report = RenewalReport::default();
        for queue in RenewalQueue::ALL {
            let due_by = queue.due_by(now, &settings);
            let plan_ids = self
                .ports
                .renewals
                .due_plans(queue, due_by, crate::payment::RegionScope::All)
                .await?;
            if plan_ids.is_empty() {
                continue;
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
                    regions: crate::payment::RegionScope::All,
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
                    break;
                };
                report.batches += 1;
                let tally = RenewalTally::of(&outcome);
                report.total.add(&tally);
                progress(queue, report.batches, &tally);
                let events: Vec<_> = outcome
                    .decisions
                    .into_iter()
                    .flat_map(|decision| decision.events)
                    .collect();
                self.send(events).await;
                after = Some(next);
            }
        }
        Ok(report)
    }

    async fn look_up_plans(
        &self,
        ids: Vec<crate::ids::PlanId>,
    ) -> HashMap<crate::ids::PlanId, PlanLookup> {
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
