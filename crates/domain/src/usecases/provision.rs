//! Creating a new order's volume or service instance before the order is written, so a
//! name the platform refuses costs nothing. A release of it is queued *first*, due a while
//! later: if the process dies before the order is written, or the creation's outcome is
//! unknown, that release frees the resource; the commit that writes the order cancels it.
//! Where the store itself keeps the resource (the embedded provisioning), none of this is
//! needed: the order's change creates it, in the same transaction. (A quota needs none of
//! this either: it is set by a task the order's own change queues.)

use chrono::TimeDelta;

use crate::change::ChangeBuilder;
use crate::error::{Error, Result};
use crate::order::Order;
use crate::provisioning::{NewTask, Resource};

use super::UseCases;

/// How long the safety-net release waits: far longer than a commit takes, so it only ever
/// runs for an order that was never written.
const SAFETY_NET: TimeDelta = TimeDelta::minutes(5);

/// How a new order's resource comes to exist.
#[derive(Debug)]
pub(super) enum Provisioned {
    /// Its plan provides nothing created ahead (no resource, or a quota).
    Nothing,
    /// Created on the platform, under the safety-net release with this id, which the
    /// order's change cancels.
    Ahead(u64),
    /// A record of the store: the order's change creates it.
    InChange(Resource),
}

impl Provisioned {
    /// The safety-net release to run now if the order is not written after all.
    pub(super) fn net(&self) -> Option<u64> {
        match self {
            Provisioned::Ahead(net) => Some(*net),
            Provisioned::Nothing | Provisioned::InChange(_) => None,
        }
    }

    /// What the order's change writes of it: the safety net cancelled, or the resource.
    pub(super) fn write(self, change: &mut ChangeBuilder) {
        match self {
            Provisioned::Nothing => {}
            Provisioned::Ahead(net) => {
                change.cancel_task(net);
            }
            Provisioned::InChange(resource) => {
                change.create_resource(resource);
            }
        }
    }
}

impl UseCases {
    /// Creates `order`'s resource if it is one created before the order is written: on the
    /// platform now, under a safety-net release queued first; where the store keeps it,
    /// by the order's own change (one transaction, nothing to release if it fails).
    ///
    /// Errors: those of [`crate::ports::Provisioning::provision`] (nothing is left behind:
    /// a refused creation cancels the release, an unknown one makes it due now), and
    /// `Unavailable` when the release cannot be queued (nothing was created).
    pub(super) async fn provision_before_write(&self, order: &Order) -> Result<Provisioned> {
        let Some(resource) = Resource::of(order).filter(|r| r.kind.before_charge()) else {
            return Ok(Provisioned::Nothing);
        };
        if self.ports.provisioning.kept_in_store(&resource) {
            return Ok(Provisioned::InChange(resource));
        }
        let now = self.ports.clock.now();
        let due = now.checked_add_signed(SAFETY_NET).unwrap_or(now);
        let net = self
            .ports
            .tasks
            .enqueue(NewTask::release_unless_committed(resource.clone(), due))
            .await?;
        log::debug!("order {}: creating its {:?}", order.id, resource.kind);
        match self.ports.provisioning.provision(&resource).await {
            Ok(()) => {
                log::debug!("order {}: {:?} created", order.id, resource.kind);
                Ok(Provisioned::Ahead(net))
            }
            Err(e @ (Error::DuplicateResourceName(_) | Error::ProvisioningFailed(_))) => {
                log::info!("order {}: {:?} not created: {e}", order.id, resource.kind);
                if let Err(cancel) = self.ports.tasks.cancel(net).await {
                    log::warn!(
                        "order {}: safety-net release not cancelled: {cancel}",
                        order.id
                    );
                }
                Err(e)
            }
            Err(e) => {
                log::warn!(
                    "order {}: {:?} creation has an unknown outcome, releasing it by name: {e}",
                    order.id,
                    resource.kind
                );
                self.release_now(order, net).await;
                Err(e)
            }
        }
    }

    /// The order will not be written after all: its resource is released now (by the
    /// safety net, made due at once and run right away; the job retries it if it fails).
    pub(super) async fn release_now(&self, order: &Order, net: u64) {
        let now = self.ports.clock.now();
        if let Err(e) = self.ports.tasks.due_at(net, now).await {
            log::warn!(
                "order {}: release left for its safety net at its due time: {e}",
                order.id
            );
            return;
        }
        self.run_own_tasks(vec![net]).await;
    }
}
