//! Renewing the orders of regions a charge service keeps. Their money cannot move inside a
//! store transaction, so nothing is claimed: each due order is decided as if its balance
//! were unlimited, each cycle the decision charges is deducted in turn (named by its row,
//! so a repeat is harmless), and the decision is re-made from what was actually taken when
//! the charge service declines one. Only then are the rows recorded, guarded by the state
//! the decision was made from. A run that dies, times out or races another between the
//! deductions and the record leaves the order as it was; the next run makes the same
//! decision, the charge service takes none of its payments twice, and one record wins.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::Region;
use crate::money::Money;
use crate::order::Order;
use crate::payment::RegionScope;
use crate::renewal::{
    RenewalBatch, RenewalCursor, RenewalDecision, RenewalQueue, RenewalRules, RenewalRun,
};

use super::payments::deduction;
use super::renew::Progress;
use super::{RenewalReport, RenewalTally, UseCases};

/// How one order of a charge-service region came out of the run.
enum Renewal {
    /// Decided, and recorded if the decision changes anything: it counts in the tally.
    Decided(Box<RenewalDecision>),
    /// The charge service could not be asked (or refused the request): nothing recorded;
    /// the next run retries the same payments.
    Postponed,
    /// Another run recorded the order first; its events and counts are that run's.
    RecordedElsewhere,
}

impl UseCases {
    /// Drains `queue` in the `regions` a charge service keeps, batch by batch in
    /// (deadline, id) order, renewing each order on its own.
    ///
    /// Errors: `Unavailable`, `Internal` (the store). The orders of the batch recorded
    /// before a failure keep their events and releases.
    pub(super) async fn renew_charged(
        &self,
        queue: RenewalQueue,
        now: DateTime<Utc>,
        regions: &[Region],
        report: &mut RenewalReport,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let settings = self.policy.renewal;
        let due_by = queue.due_by(now, &settings);
        let scope = RegionScope::Only(regions.to_vec());
        let plan_ids = self
            .ports
            .renewals
            .due_plans(queue, due_by, scope.clone())
            .await?;
        if plan_ids.is_empty() {
            return Ok(());
        }
        let rules = RenewalRun {
            now,
            policy: self.policy,
            plans: self.look_up_plans(plan_ids).await,
        };
        let limit = settings.batch_size.max(1);
        let mut after = None;
        loop {
            let batch = RenewalBatch {
                queue,
                regions: scope.clone(),
                due_by,
                after,
                limit,
            };
            let orders = self.ports.renewals.due_orders(batch).await?;
            let Some(last) = orders.last() else {
                return Ok(());
            };
            let next = RenewalCursor {
                deadline: last.deadline_time,
                order_id: last.id.clone(),
            };
            let mut decided = Vec::with_capacity(orders.len());
            let mut looked_at = 0;
            let mut postponed = 0;
            let mut failure = None;
            for order in &orders {
                looked_at += 1;
                match self.renew_charged_order(&rules, order).await {
                    Ok(Renewal::Decided(decision)) => decided.push(*decision),
                    Ok(Renewal::Postponed) => postponed += 1,
                    Ok(Renewal::RecordedElsewhere) => {}
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let mut tally = RenewalTally::of_decisions(&decided);
            tally.claimed = looked_at;
            tally.skipped += postponed;
            self.batch_written(queue, tally, decided, report, progress)
                .await;
            if let Some(e) = failure {
                return Err(e);
            }
            if orders.len() < limit as usize {
                return Ok(());
            }
            after = Some(next);
        }
    }

    /// Decides, charges and records one order.
    ///
    /// Errors: those of [`crate::ports::RenewalRepository::record`].
    async fn renew_charged_order(&self, rules: &RenewalRun, order: &Order) -> Result<Renewal> {
        let mut decision = rules.decide(order, Money::MAX);
        if !decision.changes() {
            return Ok(Renewal::Decided(Box::new(decision)));
        }
        let mut taken = Money::ZERO;
        let mut declined = false;
        for row in &decision.rows {
            let Some(payment) = deduction(row, row.amount) else {
                continue;
            };
            match self.ports.charging.deduct(&payment).await {
                Ok(()) => {
                    log::info!(
                        "order {}: renewal deducted {} ({})",
                        order.id,
                        payment.amount,
                        payment.reason
                    );
                    taken = taken.checked_add(row.amount).unwrap_or(Money::MAX);
                }
                Err(Error::PaymentDeclined(why)) => {
                    log::info!(
                        "order {}: renewal deduction {} declined: {why}",
                        order.id,
                        payment.reason
                    );
                    declined = true;
                    break;
                }
                Err(e) => {
                    log::warn!(
                        "order {}: renewal postponed, deduction {} not answered: {e}",
                        order.id,
                        payment.reason
                    );
                    return Ok(Renewal::Postponed);
                }
            }
        }
        if declined {
            // The rules, given exactly what was taken, charge exactly those rows (each
            // cycle costs the same) and take the unpaid path for the one declined.
            decision = rules.decide(order, taken);
        }
        if self.ports.renewals.record(decision.clone()).await? {
            Ok(Renewal::Decided(Box::new(decision)))
        } else {
            log::info!(
                "order {}: renewal already recorded by another run",
                order.id
            );
            Ok(Renewal::RecordedElsewhere)
        }
    }
}
