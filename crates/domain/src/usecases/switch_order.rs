//! Writing a plan switch: the old order ends and the new one opens in one transaction, and
//! the project pays the net of the new charge, the old order's settlement and its refund.
//! Where a charge service keeps the region's money, the net moves as one payment: a
//! positive net is deducted before the write, a negative one is queued as a credit with
//! the rows. The resource carries over: a volume or service instance keeps its name and is
//! neither created nor released, while the new order sets its own quota over the old one.

use crate::error::{Error, Result};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::Order;
use crate::payment::{MoneyKeeper, Payment};
use crate::plan::Plan;
use crate::ports::OrderOpening;

use super::closing::Ending;
use super::payments::{deduction, Compensation};
use super::UseCases;

impl UseCases {
    /// Ends the old order (`ending`) and opens the new one (`opening`), the project paying
    /// `net` (charge + settlement − refund). Sends `order_switched` and `order_created`
    /// once written. Returns the ended old order.
    ///
    /// Errors: `PaymentDeclined`, `DependencyUnavailable` (nothing written), those of
    /// [`crate::ports::OrderRepository::switch`], `ChargedButNotProvisioned` (the new
    /// order's quota could not be set: it ended at once, refunded).
    pub(super) async fn switch_order(
        &self,
        mut ending: Ending,
        opening: OrderOpening,
        plan: &Plan,
        net: Money,
        charge: Money,
    ) -> Result<Order> {
        let order = opening.order.clone();
        let keeper = opening.keeper;
        let old_net = ending.net()?;
        let owed_back = net
            .checked_neg()
            .ok_or_else(|| Error::Internal("switch amount overflowed".into()))?;
        ending.kept_by(keeper, owed_back);
        let deduction = match keeper {
            MoneyKeeper::Store => None,
            MoneyKeeper::ChargeService => net_deduction(&ending, &opening, net)?,
        };
        let queued = ending.closing.credit.is_some();
        let (settled, refunded) = (ending.settled, ending.refunded);
        log::info!(
            "order {}: opening it on plan {}, replacing order {} (net {net})",
            order.id,
            plan.id,
            ending.closing.order_id
        );
        // The net is named by the new order's first row, unless that order is postpaid and
        // it is named by the old order's next row (see `net_deduction`).
        let compensation = match &deduction {
            Some(payment) if payment.reason.order == order.id => Compensation::GiveBack,
            _ => Compensation::Keep,
        };
        let replaced = self
            .paid_write(deduction.as_ref(), compensation, || {
                self.ports.orders.switch(ending.closing, opening)
            })
            .await
            .inspect_err(|e| log::info!("order {}: not opened: {e}", order.id))?;
        log::info!(
            "order {}: opened, order {} ended (net {net})",
            order.id,
            replaced.id
        );
        if queued {
            self.deliver_credits_best_effort().await;
        }
        let switched = Notification::about(
            &replaced,
            NotificationKind::OrderSwitched,
            order.start_time,
            old_net,
            format!(
                "switched to order {} on plan {}: {settled} settled, {refunded} refunded",
                order.id, plan.id
            ),
        );
        let created = Notification::about(
            &order,
            NotificationKind::OrderCreated,
            order.start_time,
            charge,
            format!(
                "opened on plan {}, replacing order {}",
                plan.id, replaced.id
            ),
        );
        self.finish_opening(&order, charge, keeper, vec![switched, created])
            .await?;
        Ok(replaced)
    }
}

/// The deduction of a positive switch `net`, named by the new order's first row. A
/// postpaid new order has no first row yet (its row 1 will be its first settlement, whose
/// name must stay free), so then the old order's last settlement row names it: a positive
/// net without a new charge can only come from that settlement.
fn net_deduction(ending: &Ending, opening: &OrderOpening, net: Money) -> Result<Option<Payment>> {
    if !net.is_positive() {
        return Ok(None);
    }
    let row = opening
        .first_charge
        .as_ref()
        .or(ending.closing.settlement.last())
        .ok_or_else(|| {
            Error::Internal(format!(
                "switch to order {} owes {net} with no row to record it",
                opening.order.id
            ))
        })?;
    Ok(deduction(row, net))
}
