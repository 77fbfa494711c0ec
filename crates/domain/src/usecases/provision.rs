//! The platform resources orders provide, created and released around the money as a saga
//! (see [`ResourceKind`]): a volume or service instance is created before the charge, so a
//! name the platform refuses costs nothing, and released if the charge or the write then
//! fails; a quota is set after the order is written, and if that fails the order ends at
//! once with its charge refunded in full. Every step is logged with the order id, so one
//! grep follows an order through the saga.

use crate::error::{Error, Result};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::Order;
use crate::payment::MoneyKeeper;
use crate::provisioning::ResourceKind;

use super::closing::Ending;
use super::UseCases;

impl UseCases {
    /// Creates the new order's resource if its kind comes before the charge. Returns
    /// whether it did, so the caller knows to release it should the charge or the write
    /// fail.
    ///
    /// Errors: those of [`crate::ports::Provisioning::provision`]; nothing was charged.
    pub(super) async fn provision_before_charge(&self, order: &Order) -> Result<bool> {
        match ResourceKind::of(&order.plan_type) {
            Some(kind) if kind.before_charge() => {
                self.provision(order, kind).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Sets the new order's quota, now that it is written, if it provides one.
    ///
    /// Errors: those of [`crate::ports::Provisioning::provision`]; the caller must refund
    /// (see [`UseCases::refund_unprovisioned`]).
    pub(super) async fn provision_after_charge(&self, order: &Order) -> Result<()> {
        match ResourceKind::of(&order.plan_type) {
            Some(kind) if !kind.before_charge() => self.provision(order, kind).await,
            _ => Ok(()),
        }
    }

    /// Ends the saga of an order just written (opened or switched to): sets its quota if it
    /// provides one, then sends `events`. If the quota cannot be set, the order is ended at
    /// once with its charge refunded, and `order_ended` follows the events.
    ///
    /// Errors: `ChargedButNotProvisioned` (refunded and ended), or the store's error when
    /// even the refund could not be written.
    pub(super) async fn finish_opening(
        &self,
        order: &Order,
        charge: Money,
        keeper: MoneyKeeper,
        mut events: Vec<Notification>,
    ) -> Result<()> {
        let Err(cause) = self.provision_after_charge(order).await else {
            self.send(events).await;
            return Ok(());
        };
        let refunded = self
            .refund_unprovisioned(order, charge, keeper, &cause)
            .await;
        match refunded {
            Ok(ended) => {
                // A quota call that timed out may have been applied all the same: the
                // refunded order must not leave it in place.
                self.release_resource(order).await;
                events.push(ended);
                self.send(events).await;
                Err(Error::ChargedButNotProvisioned(cause.to_string()))
            }
            Err(e) => {
                self.send(events).await;
                Err(e)
            }
        }
    }

    async fn provision(&self, order: &Order, kind: ResourceKind) -> Result<()> {
        log::info!("order {}: creating its {kind:?}", order.id);
        match self.ports.provisioning.provision(order).await {
            Ok(()) => {
                log::info!("order {}: {kind:?} created", order.id);
                Ok(())
            }
            Err(e) => {
                log::warn!("order {}: {kind:?} not created: {e}", order.id);
                Err(e)
            }
        }
    }

    /// Releases the resource of an order that ended or was never written. A failure is
    /// not returned: the money and the order are already settled, so it is no reason to
    /// fail the request. A platform that is down or refusing gets the release queued and
    /// retried (see [`UseCases::retry_releases`]); only when even that cannot be queued
    /// (the store down too, or an order never written) is the resource left to an
    /// operator, logged as an error.
    pub(super) async fn release_resource(&self, order: &Order) {
        let Some(kind) = ResourceKind::of(&order.plan_type) else {
            return;
        };
        log::info!("order {}: releasing its {kind:?}", order.id);
        let failure = match self.ports.provisioning.release(order).await {
            Ok(()) => {
                log::info!("order {}: {kind:?} released", order.id);
                return;
            }
            Err(e) => e,
        };
        let name = order
            .resource_name
            .as_ref()
            .map_or("-", |name| name.as_str());
        let retried = matches!(
            failure,
            Error::DependencyUnavailable(_) | Error::ProvisioningFailed(_) | Error::Internal(_)
        );
        let queued = if retried {
            let now = self.ports.clock.now();
            self.ports.releases.enqueue(order, now).await
        } else {
            Err(failure.clone())
        };
        match queued {
            Ok(()) => log::warn!(
                "order {}: {kind:?} {name} of project {} in {} not released, queued for                  retry: {failure}",
                order.id,
                order.project,
                order.region
            ),
            Err(e) => log::error!(
                "order {}: {kind:?} {name} of project {} in {} could not be released                  ({failure}) nor queued for retry: {e}",
                order.id,
                order.project,
                order.region
            ),
        }
    }

    /// Ends `order`, just written and charged `charge`, whose resource could not be created
    /// (`cause`): the end row gives the charge back in full, through the store's ledger or
    /// as a credit queued for the charge service (delivered right away, best effort).
    /// Returns the `order_ended` event to send.
    ///
    /// Errors: those of [`crate::ports::OrderRepository::close`]; the order then stays
    /// open and charged, which is logged as an error for an operator.
    pub(super) async fn refund_unprovisioned(
        &self,
        order: &Order,
        charge: Money,
        keeper: MoneyKeeper,
        cause: &Error,
    ) -> Result<Notification> {
        let now = self.ports.clock.now();
        let mut ending = Ending::new(order, now, charge, Vec::new())?;
        ending.kept_by(keeper, charge);
        let queued = ending.closing.credit.is_some();
        let refund = ending.closing.end_row.amount;
        log::info!(
            "order {}: ending it and refunding {charge}, its resource not created",
            order.id
        );
        let ended = self
            .ports
            .orders
            .close(ending.closing)
            .await
            .inspect_err(|e| {
                log::error!(
                    "order {} of project {} was charged {charge} but its resource could not be \
                     created ({cause}), and it could not be ended with a refund: {e}",
                    order.id,
                    order.project
                );
            })?;
        log::info!("order {}: ended, {charge} refunded", order.id);
        if queued {
            self.deliver_credits_best_effort().await;
        }
        Ok(Notification::about(
            &ended,
            NotificationKind::OrderEnded,
            now,
            refund,
            format!("ended at once, its resource not created: {cause}"),
        ))
    }
}
