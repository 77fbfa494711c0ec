//! Money a charge service keeps, as the use cases move it. A payment cannot share the
//! store's transaction, so it is taken first and the rows are written after; each payment
//! is named by the row that records it, which makes a repeat harmless. If the rows then
//! cannot be written, the payment is given back under the same name, so the project never
//! pays for rows that do not exist.

use std::future::Future;

use crate::consumption::Consumption;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::payment::{Payment, PaymentDirection, PaymentReason};

use super::UseCases;

/// The payment of `amount` that `row` records, moving money in `direction`. Its reason is
/// the row's (order, consume id), the charge service's idempotency key.
pub(super) fn payment_for(
    row: &Consumption,
    amount: Money,
    direction: PaymentDirection,
) -> Payment {
    Payment {
        project: row.project.clone(),
        region: row.region.clone(),
        amount,
        direction,
        reason: PaymentReason {
            order: row.order_id.clone(),
            consume_id: row.consume_id,
        },
    }
}

/// The deduction of `amount` that `row` records, or `None` when there is nothing to take:
/// the charge service is never asked for zero.
pub(super) fn deduction(row: &Consumption, amount: Money) -> Option<Payment> {
    amount
        .is_positive()
        .then(|| payment_for(row, amount, PaymentDirection::Deduction))
}

/// The credit of `amount` that `row` records, or `None` when nothing goes back.
pub(super) fn credit(row: &Consumption, amount: Money) -> Option<Payment> {
    amount
        .is_positive()
        .then(|| payment_for(row, amount, PaymentDirection::Credit))
}

/// What to do with a taken deduction whose rows could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Compensation {
    /// Credit it back: its reason names the first row of an order that was never written,
    /// so nothing will ever carry that reason again.
    GiveBack,
    /// Keep it: its reason names the next row of an order that exists. Crediting it would
    /// spend the reason, and the charge service would then take the retry (or the next
    /// renewal) of that row as a repeat and move nothing; kept, the retry lands on it.
    Keep,
}

/// Extra attempts, with the same reason, at a deduction whose outcome is unknown. The
/// reason makes a repeat harmless, and a prompt answer settles what a timeout left open
/// before the request gives up.
const UNKNOWN_OUTCOME_RETRIES: u32 = 1;

impl UseCases {
    /// Takes `deduction` (if any) through the charge service, then runs `write`; if the
    /// write fails, deals with the deduction as `compensation` says and returns the write's
    /// error. A deduction the charge service declines or cannot answer (after
    /// [`UNKNOWN_OUTCOME_RETRIES`] more attempts) leaves nothing written; an unknown outcome
    /// is never compensated, since a credit for money never taken would be a gift.
    ///
    /// Errors: those of [`crate::ports::Charging::deduct`], then those of `write`.
    pub(super) async fn paid_write<T, W, F>(
        &self,
        deduction: Option<&Payment>,
        compensation: Compensation,
        write: W,
    ) -> Result<T>
    where
        W: FnOnce() -> F,
        F: Future<Output = Result<T>>,
    {
        if let Some(payment) = deduction {
            log::info!(
                "order {}: deducting {} in {} ({})",
                payment.reason.order,
                payment.amount,
                payment.region,
                payment.reason
            );
            self.deduct_settled(payment)
                .await
                .inspect_err(|e| match e {
                    // For a new order no row will ever carry this reason, so no later run
                    // retries it: if the service did take it, only an operator can give it back.
                    Error::DependencyUnavailable(_) => log::error!(
                        "order {}: deduction {} of {} from project {} in {} has an unknown \
                     outcome and nothing was written; if the charge service took it, \
                     credit it back: {e}",
                        payment.reason.order,
                        payment.reason,
                        payment.amount,
                        payment.project,
                        payment.region
                    ),
                    _ => log::info!(
                        "order {}: deduction {} not taken: {e}",
                        payment.reason.order,
                        payment.reason
                    ),
                })?;
        }
        let written = write().await;
        if let (Err(e), Some(payment)) = (&written, deduction) {
            match compensation {
                Compensation::GiveBack => self.compensate(payment, e).await,
                Compensation::Keep => log::warn!(
                    "order {}: rows not written ({e}); deduction {} of {} is kept for the \
                     retry of the same row",
                    payment.reason.order,
                    payment.reason,
                    payment.amount
                ),
            }
        }
        written
    }

    /// Deducts, asking again with the same reason while the outcome is unknown.
    async fn deduct_settled(&self, payment: &Payment) -> Result<()> {
        let mut retries = UNKNOWN_OUTCOME_RETRIES;
        loop {
            match self.ports.charging.deduct(payment).await {
                Err(Error::DependencyUnavailable(why)) if retries > 0 => {
                    retries -= 1;
                    log::warn!(
                        "order {}: deduction {} has an unknown outcome ({why}); asking again",
                        payment.reason.order,
                        payment.reason
                    );
                }
                answer => return answer,
            }
        }
    }

    /// Gives back a deduction whose rows could not be written. A failure here leaves the
    /// project charged for nothing, so it is logged as an error with everything needed to
    /// credit it by hand.
    async fn compensate(&self, taken: &Payment, cause: &Error) {
        let order = &taken.reason.order;
        log::warn!(
            "order {order}: rows not written ({cause}); crediting {} back ({})",
            taken.amount,
            taken.reason
        );
        let refund = Payment {
            direction: PaymentDirection::Credit,
            ..taken.clone()
        };
        if let Err(e) = self.ports.charging.credit(&refund).await {
            log::error!(
                "order {order}: {} deducted from project {} in {} for rows never written could \
                 not be credited back ({}): {e}",
                taken.amount,
                taken.project,
                taken.region,
                taken.reason
            );
        }
    }
}
