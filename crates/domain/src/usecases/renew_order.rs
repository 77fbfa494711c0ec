//! Renewing one order now, on request: what is due (or overdue) is charged at once — after a
//! top-up in the grace period the order runs on without waiting for the next run. The same
//! rules as a run, on the same store path, so a request and a run racing for the order
//! cannot both charge it.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::idempotency::IdempotencyRecord;
use crate::money::Money;
use crate::order::Order;
use crate::principal::Principal;
use crate::renewal::{RenewalOutcome, RenewalRun};

use super::settle::Settled;
use super::{CancelOrderRequest, UseCases};

/// What a manual renewal did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewOutcome {
    /// The order as the renewal left it.
    pub order: Order,
    /// How it came out (renewed, awaiting payment, unpaid…).
    pub outcome: RenewalOutcome,
    /// Charged by this renewal (for a charge service: once taken).
    pub charged: Money,
}

impl UseCases {
    /// Renews an order of the project now: every due cycle the balance covers; where a
    /// charge service keeps the money, the next cycle's payment, asked for at once.
    ///
    /// Errors: `PermissionDenied`, `NotFound`, `Conflict` (ended, or a payment or switch
    /// holds it), `PlanCatalogUnavailable`, `DuplicateRequest`, `Unavailable`.
    pub async fn renew_order(
        &self,
        principal: &Principal,
        request: CancelOrderRequest,
    ) -> Result<RenewOutcome> {
        self.authorize(principal, &request.project).await?;
        let order = self
            .find_in_project(&request.project, &request.order_id)
            .await?;
        if !order.status.is_open() || order.is_held() {
            return Err(Error::Conflict(format!(
                "order {} is {}{} and cannot be renewed now",
                order.id,
                order.status.label(),
                if order.is_held() {
                    ", with a payment or a switch being settled"
                } else {
                    ""
                }
            )));
        }
        let now = self.ports.clock.now();
        let plans = self.look_up_plans(vec![order.plan_id.clone()]).await;
        if plans.is_empty() {
            return Err(Error::PlanCatalogUnavailable(format!(
                "plan {} could not be looked up",
                order.plan_id
            )));
        }
        let rules = Arc::new(RenewalRun {
            now,
            policy: (*self.policy).clone(),
            plans,
        });
        let key = request.idempotency.map(|request| IdempotencyRecord {
            request,
            result: format!("order:{}", order.id),
            at: now,
        });
        let decision = self
            .ports
            .renewals
            .renew_order(&order.id, rules, key)
            .await?
            .ok_or_else(|| Error::NotFound(format!("order {}", order.id)))?;
        if let RenewalOutcome::Skipped(why) = &decision.outcome {
            return Err(Error::Conflict(format!(
                "order {} cannot be renewed now: {why}",
                order.id
            )));
        }
        let mut charged = decision.charged();
        let mut outcome = decision.outcome.clone();
        if let Some(payment) = decision.payments.iter().find(|p| p.deferred) {
            match self.settle_now(payment.clone()).await {
                Settled::Taken => {
                    charged = payment.amount;
                    outcome = RenewalOutcome::Renewed;
                }
                Settled::Declined(_) => outcome = RenewalOutcome::Unpaid,
                _ => {}
            }
        }
        let committed = super::follow::Committed {
            payments: decision
                .payments
                .iter()
                .filter(|p| !p.deferred && p.state.is_open())
                .cloned()
                .collect(),
            tasks: Vec::new(),
        };
        self.settle_recorded(&committed).await;
        let order = self.reread(&decision.after).await;
        Ok(RenewOutcome {
            order,
            outcome,
            charged,
        })
    }
}
