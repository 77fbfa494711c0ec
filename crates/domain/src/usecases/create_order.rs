//! Creating an order: a prepaid order is charged its first cycle at once, with the debit,
//! the order and consumption row #1 written in one transaction. A plan switch (`replaces`)
//! also ends the old order in that transaction, and the balance moves by the net of the
//! new charge, the old order's settlement and its refund (see `switch_order`). A dry run
//! quotes the net and its parts, writes nothing and calls no platform service.
//!
//! Where a charge service keeps the region's money, the charge is deducted there first
//! (named `order:{id}:1`, the row that records it) and given back if the rows then cannot
//! be written. The order's platform resource is created around the charge as a saga (see
//! `provision`).

use chrono::{DateTime, Utc};

use crate::consumption::{Consumption, ConsumptionKind};
use crate::error::{Error, Result};
use crate::ids::{OrderId, PlanId, ProjectId, Quantity, Region, ResourceName};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::{Order, OrderStatus};
use crate::payment::MoneyKeeper;
use crate::plan::{ChargingMode, Plan};
use crate::ports::OrderOpening;
use crate::principal::Principal;

use super::closing::Ending;
use super::payments::{deduction, Compensation};
use super::UseCases;

/// A validated request to create an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateOrderRequest {
    pub project: ProjectId,
    pub plan_id: PlanId,
    pub quantities: Quantity,
    /// If given, must be the plan's region.
    pub region: Option<Region>,
    pub resource_name: Option<ResourceName>,
    /// The open order of the same project and plan type this one replaces (a plan
    /// switch): it ends, its unused remainder is refunded, in the same transaction.
    pub replaces: Option<OrderId>,
    /// Quote only; write nothing.
    pub dry_run: bool,
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
    pub replaces: Option<OrderId>,
    pub project: ProjectId,
    pub plan: Plan,
    pub quantities: Quantity,
    pub start_time: DateTime<Utc>,
    pub deadline_time: DateTime<Utc>,
}

/// The result of a create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateOrderOutcome {
    Quoted(Quote),
    Created {
        order: Order,
        /// The net amount the balance paid (see [`Quote::money`]).
        charged: Money,
        /// Its parts, as in [`Quote`].
        charge: Money,
        refund: Money,
        settlement: Money,
        /// The order the switch ended.
        replaced: Option<Box<Order>>,
    },
}

impl UseCases {
    /// Creates an order (or quotes it, for a dry run); with `replaces`, switches the old
    /// order to it. Once committed, sends `order_created` (and `order_switched` for the old
    /// order).
    ///
    /// Errors: `PermissionDenied`, `InvalidParameter` (unknown plan, other region, resource
    /// name missing, not allowed or not the replaced order's, quantities too large for the
    /// price, replaced order of another plan type or region), `NotFound` (replaced order
    /// not in the project), `Conflict` (replaced order already ended, or changed meanwhile),
    /// `InsufficientBalance` or `PaymentDeclined` (the balance, local or the charge
    /// service's, does not cover it), `DuplicateResourceName` (in the store or on the
    /// platform), `ProvisioningFailed` (the resource could not be created; nothing charged),
    /// `ChargedButNotProvisioned` (the quota could not be set; the order ended, refunded),
    /// `DependencyUnavailable` (a platform service did not answer; nothing written),
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
        let charge = plan.upfront_charge(request.quantities)?;
        let start_time = self.ports.clock.now();
        let deadline_time = self
            .policy
            .calendar
            .cycle_end(start_time, plan.cycle, 1)
            .ok_or_else(|| Error::Internal("cycle end out of range".into()))?;
        // A switch always refunds the old order's unused remainder: the customer moves
        // their service, they do not give it up.
        let ending = match &old {
            Some(old) => Some(self.ending(old, start_time, true).await?),
            None => None,
        };
        let (refund, settlement) = ending
            .as_ref()
            .map_or((Money::ZERO, Money::ZERO), |e| (e.refunded, e.settled));
        let money = ending
            .as_ref()
            .map_or(Ok(Money::ZERO), Ending::net)?
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
                start_time,
                deadline_time,
            }));
        }

        let mut order = Order {
            id: self.ports.ids.order_id(),
            project: request.project,
            region: plan.region.clone(),
            plan_id: plan.id.clone(),
            plan_type: plan.plan_type.clone(),
            mode: plan.mode,
            quantities: request.quantities,
            start_time,
            end_time: None,
            deadline_time,
            status: OrderStatus::Consuming,
            creator: principal.user.clone(),
            resource_name,
            last_consume_id: 0,
            renew_retries: 0,
            last_warned_at: None,
        };
        // A prepaid order records its first cycle even at a price of zero, so every paid
        // cycle has its row; a postpaid order has nothing to record until it settles.
        let first_charge = if plan.mode == ChargingMode::Prepaid {
            order.last_consume_id = 1;
            Some(Consumption {
                order_id: order.id.clone(),
                consume_id: 1,
                project: order.project.clone(),
                region: order.region.clone(),
                plan_id: order.plan_id.clone(),
                amount: charge,
                time: start_time,
                covered_until: deadline_time,
                kind: match ending {
                    Some(_) => ConsumptionKind::Switch,
                    None => ConsumptionKind::New,
                },
            })
        } else {
            None
        };
        let opening = OrderOpening {
            order: order.clone(),
            first_charge,
            keeper: self.ports.charging.keeper(&plan.region),
        };
        let replaced = match ending {
            None => {
                self.open_order(opening, &plan, charge).await?;
                None
            }
            Some(ending) => {
                let replaced = self
                    .switch_order(ending, opening, &plan, money, charge)
                    .await?;
                Some(Box::new(replaced))
            }
        };
        Ok(CreateOrderOutcome::Created {
            order,
            charged: money,
            charge,
            refund,
            settlement,
            replaced,
        })
    }

    /// Writes a new order as a saga: its resource first if that comes before the charge,
    /// then the charge (through the charge service when it keeps the region's money) and
    /// the rows, then its quota if it provides one. Sends `order_created` once written.
    async fn open_order(&self, opening: OrderOpening, plan: &Plan, charge: Money) -> Result<()> {
        let order = opening.order.clone();
        let keeper = opening.keeper;
        let provisioned = self.provision_before_charge(&order).await?;
        let deduction = match keeper {
            MoneyKeeper::Store => None,
            MoneyKeeper::ChargeService => opening
                .first_charge
                .as_ref()
                .and_then(|row| deduction(row, row.amount)),
        };
        log::info!("order {}: opening it on plan {}", order.id, plan.id);
        let opened = self
            .paid_write(deduction.as_ref(), Compensation::GiveBack, || {
                self.ports.orders.open(opening)
            })
            .await;
        if let Err(e) = opened {
            log::info!("order {}: not opened: {e}", order.id);
            if provisioned {
                self.release_resource(&order).await;
            }
            return Err(e);
        }
        log::info!("order {}: opened, {charge} charged", order.id);
        let created = Notification::about(
            &order,
            NotificationKind::OrderCreated,
            order.start_time,
            charge,
            format!("opened on plan {}", plan.id),
        );
        self.finish_opening(&order, charge, keeper, vec![created])
            .await
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
