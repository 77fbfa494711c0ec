//! Cancelling an order: it ends now, in one transaction with its closing rows and their
//! payments. A prepaid order gets back the unused part of its paid cycles (pro rata by the
//! microsecond, rounded up; with `refund_on_cancel = false` only the periods not begun); a
//! postpaid order pays for what it used since its last charge — always: a balance that
//! cannot cover it goes negative (arrears), a charge service that declines it is owed it.
//! The order's resource is released (or its quota reset) by a task queued with it.
//!
//! An order a payment or a switch holds cannot be cancelled until that settles: the store
//! decides which came first, and the loser answers 409, never moving money.

use crate::change::ChangeBuilder;
use crate::closing::{Closing, Refund};
use crate::error::{Error, Result};
use crate::idempotency::{Idempotency, IdempotencyRecord};
use crate::ids::{OrderId, ProjectId};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::Order;
use crate::principal::Principal;
use crate::provisioning::{NewTask, Resource};

use super::UseCases;

/// What a `PUT /orders/{id}` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderAction {
    /// End the order now, refunding or settling as [`UseCases::cancel_order`] says.
    Cancel,
    /// Renew now what is due (or overdue): after a top-up in the grace period, without
    /// waiting for the next run.
    Renew,
}

impl OrderAction {
    /// Parses the request's `action`. Errors: `InvalidParameter` naming the two actions.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "cancel" => Ok(OrderAction::Cancel),
            "renew" => Ok(OrderAction::Renew),
            other => Err(Error::invalid(format!(
                "unknown action: {other:?} (cancel or renew)"
            ))),
        }
    }
}

/// A validated cancel (or renew) request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelOrderRequest {
    /// The project the order must belong to: another project's order is `NotFound`.
    pub project: ProjectId,
    /// The order to act on.
    pub order_id: OrderId,
    /// The client's idempotency key, recorded with the change.
    pub idempotency: Option<Idempotency>,
}

/// The ended order and what went back to the balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelOutcome {
    /// The order as it ended.
    pub order: Order,
    /// What went back to the balance: the unused part of a prepaid order's paid cycles.
    pub refunded: Money,
    /// What a postpaid order's unpaid usage up to the cancel cost.
    pub settled: Money,
}

impl UseCases {
    /// Ends an order of the project now.
    ///
    /// Errors: `PermissionDenied`, `NotFound`, `Conflict` (already ended, a payment or a
    /// switch holds it, or changed while cancelling: retry), `DuplicateRequest`,
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
        if order.is_held() {
            return Err(Error::Conflict(format!(
                "order {} has a payment or a switch being settled; try again shortly",
                order.id
            )));
        }
        let now = self.ports.clock.now();
        let history = self.ports.usages.for_order(&order.id).await?;
        let refund = if self.policy.refund_on_cancel {
            Refund::Unused
        } else {
            Refund::Unstarted
        };
        let closing = Closing::of(&order, &history, now, refund, &self.policy.calendar)?;
        let (refunded, settled) = (closing.refunded, closing.settled);
        let ended = closing.order.clone();
        let mut change = ChangeBuilder::new();
        let net = closing.net()?;
        closing.write(&order, &mut change)?;
        change.event(Notification::about(
            &ended,
            NotificationKind::OrderEnded,
            now,
            net,
            format!("cancelled: {settled} settled, {refunded} refunded"),
        ));
        if let Some(resource) = Resource::of(&ended) {
            change.task(NewTask::after_change(resource, now));
        }
        if let Some(request) = request.idempotency {
            change.idempotency(IdempotencyRecord {
                request,
                result: format!("order:{}", order.id),
                at: now,
            });
        }
        log::info!(
            "order {}: cancelling it ({settled} settled, {refunded} refunded)",
            order.id
        );
        let committed = self.commit(change.seal()?).await?;
        log::info!("order {}: cancelled", order.id);
        self.settle_recorded(&committed).await;
        self.run_recorded(&committed).await;
        Ok(CancelOutcome {
            order: ended,
            refunded,
            settled,
        })
    }
}
