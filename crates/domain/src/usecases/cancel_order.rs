//! Cancelling an order: it ends now, in one transaction with its closing rows. A prepaid
//! order gets back (by default) the unused part of its paid cycles, pro rata by the
//! microsecond and rounded up; a postpaid order pays for what it used since its last charge.
//! Where a charge service keeps the region's money, the settlement is deducted before the
//! rows are written and the refund is queued as a credit with them. The order's resource
//! is released once it has ended.

use crate::error::{Error, Result};
use crate::ids::{OrderId, ProjectId};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::Order;
use crate::payment::MoneyKeeper;
use crate::principal::Principal;

use super::payments::Compensation;
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
    /// Ends an order of the project now and, once committed, sends `order_ended`, releases
    /// the order's resource (a failure is logged) and, if a refund was queued for the
    /// charge service, tries to deliver it at once.
    ///
    /// Errors: `PermissionDenied`, `NotFound`, `Conflict` (already ended, or changed while
    /// cancelling: retry), `InsufficientBalance` or `PaymentDeclined` (a postpaid order's
    /// settlement is not covered; nothing changes), `DependencyUnavailable` (the charge
    /// service did not answer; nothing written, retry), `PlanCatalogUnavailable` (postpaid),
    /// `Unavailable`.
    pub async fn cancel_order(
        &self,
        principal: &Principal,
        request: CancelOrderRequest,
    ) -> Result<CancelOutcome> {
        self.authorize(principal, &request.project).await?;
        let order = self
            .find_in_project(&request.project, &request.order_id)
            .await?;
        let now = self.ports.clock.now();
        let mut ending = self
            .ending(&order, now, self.policy.refund_on_cancel)
            .await?;
        let net = ending.net()?;
        let keeper = self.ports.charging.keeper(&order.region);
        ending.kept_by(keeper, ending.refunded);
        let deduction = match keeper {
            MoneyKeeper::Store => None,
            MoneyKeeper::ChargeService => ending.settlement_deduction(),
        };
        let queued = ending.closing.credit.is_some();
        log::info!(
            "order {}: cancelling it ({} settled, {} refunded)",
            order.id,
            ending.settled,
            ending.refunded
        );
        let order = self
            .paid_write(deduction.as_ref(), Compensation::Keep, || {
                self.ports.orders.close(ending.closing)
            })
            .await?;
        log::info!("order {}: cancelled", order.id);
        let message = format!(
            "cancelled: {} settled, {} refunded",
            ending.settled, ending.refunded
        );
        self.send(vec![Notification::about(
            &order,
            NotificationKind::OrderEnded,
            now,
            net,
            message,
        )])
        .await;
        self.release_resource(&order).await;
        if queued {
            self.deliver_credits_best_effort().await;
        }
        Ok(CancelOutcome {
            order,
            refunded: ending.refunded,
            settled: ending.settled,
        })
    }
}
