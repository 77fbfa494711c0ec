//! Creating an order, or switching an order to another plan (`replaces`), or quoting either
//! (a dry run: writes nothing, calls no platform service).
//!
//! The new order keeps the terms it opens with (see [`crate::opening`]). Where the local
//! ledger keeps its money, it opens in one transaction — for a switch, together with the
//! old order's end — and the balance moves by exactly the payments recorded with it. Where
//! a charge service keeps it, a prepaid order opens `pending` with its first payment
//! recorded, the request asks the charge service right after the commit, and answers with
//! the outcome: open (taken), refused (declined; the pending order ended), or still pending
//! (unknown: the settler finishes it, and `GET` shows the outcome). A switch ends the old
//! order only once the new order's first payment is taken.
//!
//! A volume or service instance is created before the order is written, under a release
//! queued first as a safety net, or, where the store keeps it, by the order's own change
//! (see `provision`); a quota is set by a task the order's own change queues, run right
//! after the commit.

use chrono::{DateTime, Utc};

use crate::change::ChangeBuilder;
use crate::closing::{Closing, Refund};
use crate::error::{Error, Result};
use crate::idempotency::{Idempotency, IdempotencyRecord};
use crate::ids::{OrderId, PlanId, ProjectId, Quantity, Region, ResourceName};
use crate::money::Money;
use crate::opening::{NewOrder, Opening};
use crate::order::{Order, OrderStatus};
use crate::payment::{self, MoneyKeeper};
use crate::plan::{ChargingMode, Plan};
use crate::principal::Principal;

use super::provision::Provisioned;
use super::settle::Settled;
use super::tasks::TaskRun;
use super::UseCases;

/// A validated request to create an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateOrderRequest {
    /// Whose order it is; the caller must be a member (or an admin).
    pub project: ProjectId,
    /// The plan to buy.
    pub plan_id: PlanId,
    /// Units to buy.
    pub quantities: Quantity,
    /// If given, must be the plan's region.
    pub region: Option<Region>,
    /// The resource the order provides, for plans that require a name.
    pub resource_name: Option<ResourceName>,
    /// The open order of the same project and plan type this one replaces (a plan
    /// switch): it ends, its unused remainder refunded.
    pub replaces: Option<OrderId>,
    /// Quote only; write nothing.
    pub dry_run: bool,
    /// The client's idempotency key, recorded with the order.
    pub idempotency: Option<Idempotency>,
}

/// What a dry run answers: the net charge, its parts, and the order's first period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    /// What the balance pays: `charge + settlement − refund` (negative: it gains).
    pub money: Money,
    /// The new order's upfront charge.
    pub charge: Money,
    /// The replaced order's unused remainder, given back.
    pub refund: Money,
    /// The replaced order's usage not yet paid (postpaid), charged.
    pub settlement: Money,
    /// The order the switch would end.
    pub replaces: Option<OrderId>,
    /// Whose order it would be.
    pub project: ProjectId,
    /// The plan it would buy.
    pub plan: Plan,
    /// Units it would buy.
    pub quantities: Quantity,
    /// When it would open (now).
    pub start_time: DateTime<Utc>,
    /// When its first period would end: paid until (prepaid) or first settlement (postpaid).
    pub deadline_time: DateTime<Utc>,
}

/// The result of a create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateOrderOutcome {
    /// A dry run: what the create would charge, with nothing written.
    Quoted(Quote),
    /// The order as it stands: `consuming` (opened), or `pending` while its first payment's
    /// outcome is unknown (the settler finishes it).
    Created {
        /// The new order, `consuming` or `pending`.
        order: Order,
        /// The net amount the balance paid (see [`Quote::money`]).
        charged: Money,
        /// Its parts, as in [`Quote`].
        charge: Money,
        /// The replaced order's unused remainder, given back.
        refund: Money,
        /// The replaced order's usage not yet paid, charged.
        settlement: Money,
        /// The order the switch ends (or, while the new one is pending, will end).
        replaced: Option<Box<Order>>,
    },
}

impl UseCases {
    /// Creates an order (or quotes it, for a dry run); with `replaces`, switches the old
    /// order to it.
    ///
    /// Errors: `PermissionDenied`, `InvalidParameter` (unknown plan, other region, resource
    /// name missing, not allowed or not the replaced order's, quantities too large for the
    /// price, replaced order of another plan type or region), `NotFound` (replaced order
    /// not in the project), `Conflict` (replaced order ended, being switched or paid for,
    /// or changed meanwhile; a quota order already open in the region),
    /// `InsufficientBalance` (the local balance does not cover the first cycle, or a
    /// postpaid order's credit check), `PaymentDeclined` (the charge service declined the
    /// first cycle, or the project owes it), `DuplicateResourceName` (in the store or on the
    /// platform), `DuplicateRequest` (the idempotency key is taken), `ProvisioningFailed`
    /// (the resource could not be created; nothing charged), `ChargedButNotProvisioned` (the
    /// quota was refused: the order ended, refunded), `DependencyUnavailable` (the resource's
    /// creation has an unknown outcome; nothing written, the resource released),
    /// `PlanCatalogUnavailable`, `Unavailable`.
    pub async fn create_order(
        &self,
        principal: &Principal,
        request: CreateOrderRequest,
    ) -> Result<CreateOrderOutcome> {
        self.authorize(principal, &request.project).await?;
        let plan = self
            .ports
            .plans
            .get(&request.plan_id)
            .await?
            .ok_or_else(|| Error::invalid(format!("unknown plan: {}", request.plan_id)))?;
        check_region(&plan, request.region.as_ref())?;
        let old = match &request.replaces {
            Some(id) => {
                let old = self.find_in_project(&request.project, id).await?;
                check_replaceable(&old, &plan)?;
                Some(old)
            }
            None => None,
        };
        let resource_name = resource_name(&plan, request.resource_name, old.as_ref())?;
        // A postpaid order pays nothing now, but one whose cycle price overflows could never
        // be settled, so it is refused up front like a prepaid one.
        plan.cycle_price(request.quantities)?;
        let now = self.ports.clock.now();
        // A switch always refunds the old order's unused remainder: the customer moves
        // their service, they do not give it up.
        let closing = match &old {
            Some(old) => {
                let history = self.ports.usages.for_order(&old.id).await?;
                Some(Closing::of(
                    old,
                    &history,
                    now,
                    Refund::Unused,
                    &self.policy.calendar,
                )?)
            }
            None => None,
        };
        let opening = Opening::of(
            NewOrder {
                id: self.ports.ids.order_id(),
                project: request.project.clone(),
                plan: &plan,
                quantities: request.quantities,
                resource_name,
                creator: principal.user.clone(),
                start: now,
                replaces: request.replaces.clone(),
            },
            &self.policy,
        )?;
        let (refund, settlement) = closing
            .as_ref()
            .map_or((Money::ZERO, Money::ZERO), |c| (c.refunded, c.settled));
        let charge = opening.charge;
        let money = closing
            .as_ref()
            .map_or(Ok(Money::ZERO), Closing::net)?
            .checked_add(charge)
            .ok_or_else(|| Error::Internal("switch amount overflowed".into()))?;
        if request.dry_run {
            return Ok(CreateOrderOutcome::Quoted(Quote {
                money,
                charge,
                refund,
                settlement,
                replaces: request.replaces,
                project: request.project,
                plan,
                quantities: request.quantities,
                start_time: now,
                deadline_time: opening.order.deadline_time,
            }));
        }
        self.check_credit(&opening.order).await?;
        let provisioned = match &old {
            // A switch keeps the old order's resource.
            Some(_) => Provisioned::Nothing,
            None => self.provision_before_write(&opening.order).await?,
        };
        let net = provisioned.net();
        let mut change = ChangeBuilder::new();
        match (&old, closing) {
            (Some(old), Some(closing)) if !opening.is_pending() => {
                let event = closing.switched_to(&opening.order)?;
                closing.write(old, &mut change)?;
                change.event(event);
            }
            (Some(old), _) => {
                let mut held = old.clone();
                held.replaced_by = Some(opening.order.id.clone());
                change.update(old, held)?;
            }
            (None, _) => {}
        }
        opening.write(&mut change, &plan);
        provisioned.write(&mut change);
        if let Some(request) = request.idempotency {
            change.idempotency(IdempotencyRecord {
                request,
                result: format!("order:{}", opening.order.id),
                at: now,
            });
        }
        log::debug!(
            "order {}: opening it on plan {} ({}){}",
            opening.order.id,
            plan.id,
            opening.order.terms.keeper.label(),
            old.as_ref()
                .map_or(String::new(), |o| format!(", replacing order {}", o.id))
        );
        let committed = match self.commit(change.seal()?).await {
            Ok(committed) => committed,
            Err(e) => {
                log::info!("order {}: not opened: {e}", opening.order.id);
                if let Some(net) = net {
                    self.release_now(&opening.order, net).await;
                }
                return Err(e);
            }
        };
        let mut order = opening.order.clone();
        if let Some(payment) = committed.payments.iter().find(|p| p.deferred) {
            match self.settle_now(payment.clone()).await {
                Settled::Declined(why) => {
                    log::info!(
                        "order {}: not opened, its first payment {} was declined: {why}",
                        order.id,
                        payment.id
                    );
                    return Err(Error::PaymentDeclined {
                        needed: payment.amount,
                        detail: why,
                    });
                }
                Settled::Taken | Settled::NotSent => {}
                other => log::info!(
                    "order {}: opened pending, its first payment {} is the settler's: {other:?}",
                    order.id,
                    payment.id
                ),
            }
            order = self.reread(&order).await;
        }
        self.settle_recorded(&committed).await;
        for run in self.run_recorded(&committed).await {
            if let TaskRun::Refunded(ended, why) = run {
                if ended.id == order.id {
                    return Err(Error::ChargedButNotProvisioned(why));
                }
            }
        }
        if order.status == OrderStatus::Ended {
            // Opened, then its quota was refused while the settler finished it.
            return Err(Error::ChargedButNotProvisioned(format!(
                "order {} ended: its resource could not be provided",
                order.id
            )));
        }
        let replaced = match &old {
            Some(old) => Some(Box::new(self.reread(old).await)),
            None => None,
        };
        log::info!(
            "order {}: {} ({charge} charged)",
            order.id,
            order.status.label()
        );
        Ok(CreateOrderOutcome::Created {
            order,
            charged: money,
            charge,
            refund,
            settlement,
            replaced,
        })
    }

    /// A postpaid order needs credit: the local ledger checks the balance in the order's
    /// own transaction (see [`Opening::of`]); a charge service's balance cannot be read,
    /// so there the project must owe it nothing.
    async fn check_credit(&self, order: &Order) -> Result<()> {
        if order.mode != ChargingMode::Postpaid || order.terms.keeper != MoneyKeeper::ChargeService
        {
            return Ok(());
        }
        let unsettled = self.ports.payments.unsettled(&order.project).await?;
        let owed = payment::owed(unsettled.iter().filter(|p| p.region == order.region))
            .ok_or_else(|| Error::Internal("arrears overflowed".into()))?;
        if owed.is_positive() {
            log::info!(
                "project {}: a postpaid order refused, it owes {owed} in {}",
                order.project,
                order.region
            );
            return Err(Error::PaymentDeclined {
                needed: owed,
                detail: format!(
                    "project {} owes {owed} in {}: pay it before opening a postpaid order",
                    order.project, order.region
                ),
            });
        }
        Ok(())
    }

    /// The order as the store has it now; as given if it cannot be read.
    pub(super) async fn reread(&self, order: &Order) -> Order {
        match self.ports.orders.find(&order.id).await {
            Ok(Some(fresh)) => fresh,
            Ok(None) => order.clone(),
            Err(e) => {
                log::warn!("order {}: not read back after writing: {e}", order.id);
                order.clone()
            }
        }
    }
}

fn check_region(plan: &Plan, requested: Option<&Region>) -> Result<()> {
    match requested {
        Some(region) if *region != plan.region => Err(Error::invalid(format!(
            "plan {} is offered in region {}, not {region}",
            plan.id, plan.region
        ))),
        _ => Ok(()),
    }
}

/// A switch replaces a running order with one of the same kind of service in the same place.
fn check_replaceable(old: &Order, plan: &Plan) -> Result<()> {
    if !matches!(old.status, OrderStatus::Consuming | OrderStatus::Ending) {
        return Err(Error::Conflict(format!(
            "order {} is {} and cannot be replaced",
            old.id,
            old.status.label()
        )));
    }
    if old.is_held() {
        return Err(Error::Conflict(format!(
            "order {} has a payment or a switch being settled; try again shortly",
            old.id
        )));
    }
    if old.plan_type != plan.plan_type || old.region != plan.region {
        return Err(Error::invalid(format!(
            "order {} is a {} in {}; plan {} is a {} in {}",
            old.id, old.plan_type, old.region, plan.id, plan.plan_type, plan.region
        )));
    }
    Ok(())
}

/// The new order's resource name: the request's, or on a switch the replaced order's when
/// the request names none. A switch keeps the resource, so naming another one is refused.
fn resource_name(
    plan: &Plan,
    requested: Option<ResourceName>,
    old: Option<&Order>,
) -> Result<Option<ResourceName>> {
    let inherited = old.and_then(|o| o.resource_name.clone());
    match (plan.requires_resource_name, requested, inherited) {
        (false, Some(_), _) => Err(Error::invalid(format!(
            "plan {} takes no parameters.resourceName",
            plan.id
        ))),
        (false, None, _) => Ok(None),
        (true, Some(name), Some(held)) if name != held => Err(Error::invalid(format!(
            "parameters.resourceName {name} differs from {held}, the name of the replaced order"
        ))),
        (true, Some(name), _) | (true, None, Some(name)) => Ok(Some(name)),
        (true, None, None) => Err(Error::invalid(format!(
            "plan {} needs parameters.resourceName",
            plan.id
        ))),
    }
}
