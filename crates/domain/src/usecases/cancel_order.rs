//! Cancelling an order: it ends now, and (by default) the unused part of its prepaid cycles
//! is refunded, pro rata by the second and rounded up, in the same transaction that ends it.

use crate::consumption::{Consumption, ConsumptionKind};
use crate::error::{Error, Result};
use crate::ids::{OrderId, ProjectId};
use crate::money::Money;
use crate::order::Order;
use crate::ports::OrderClosing;
use crate::principal::Principal;
use crate::proration::unused_remainder;

use super::UseCases;

/// What a `PUT /orders/{id}` asks for. Only cancel exists today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderAction {
    Cancel,
}

impl OrderAction {
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "cancel" => Ok(OrderAction::Cancel),
            other => Err(Error::invalid(format!("unknown action: {other:?}"))),
        }
    }
}

/// A validated cancel request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelOrderRequest {
    pub project: ProjectId,
    pub order_id: OrderId,
}

/// The ended order and what went back to the balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelOutcome {
    pub order: Order,
    pub refunded: Money,
    /// What a postpaid order's unpaid usage up to the cancel cost.
    pub settled: Money,
}

impl UseCases {
    /// Ends an order of the project now.
    ///
    /// Errors: `PermissionDenied`, `NotFound`, `Conflict` (already ended, or changed while
    /// cancelling: retry), `Unavailable`.
    pub async fn cancel_order(
        &self,
        principal: &Principal,
        request: CancelOrderRequest,
    ) -> Result<CancelOutcome> {
        self.authorize(principal, &request.project).await?;
        let mut order = self
            .find_in_project(&request.project, &request.order_id)
            .await?;
        let now = self.ports.clock.now();
        let expected_last_consume_id = order.last_consume_id;
        let consume_id = order.next_consume_id()?;
        order.end(now)?;

        let refunded = if self.policy.refund_on_cancel {
            let rows = self.ports.usages.for_order(&order.id).await?;
            unused_remainder(&rows, now)?
        } else {
            Money::ZERO
        };
        let amount = refunded
            .checked_neg()
            .ok_or_else(|| Error::Internal("refund overflowed".into()))?;
        let end_row = Consumption {
            order_id: order.id.clone(),
            consume_id,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount,
            time: now,
            covered_until: order.deadline_time,
            kind: ConsumptionKind::End,
        };
        let order = self
            .ports
            .orders
            .close(OrderClosing {
                order_id: order.id,
                expected_last_consume_id,
                end_time: now,
                settlement: Vec::new(),
                end_row,
            })
            .await?;
        Ok(CancelOutcome {
            order,
            refunded,
            settled: Money::ZERO,
        })
    }
}
