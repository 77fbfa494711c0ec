//! Creating an order: a prepaid order is charged its first cycle at once, with the debit,
//! the order and consumption row #1 written in one transaction. A dry run quotes the charge
//! and writes nothing.

use chrono::{DateTime, Utc};

use crate::consumption::{Consumption, ConsumptionKind};
use crate::error::{Error, Result};
use crate::ids::{OrderId, PlanId, ProjectId, Quantity, Region, ResourceName};
use crate::money::Money;
use crate::order::{Order, OrderStatus};
use crate::plan::{ChargingMode, Plan};
use crate::ports::OrderOpening;
use crate::principal::Principal;

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
        /// The order the switch ended.
        replaced: Option<Box<Order>>,
    },
}

impl UseCases {
    /// Creates an order (or quotes it, for a dry run).
    ///
    /// Errors: `PermissionDenied`, `InvalidParameter` (unknown plan, other region, resource
    /// name missing or not allowed, quantities too large for the price),
    /// `InsufficientBalance`, `DuplicateResourceName`, `PlanCatalogUnavailable`,
    /// `Unavailable`.
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
        check_resource_name(&plan, request.resource_name.as_ref())?;

        // A postpaid order pays nothing now, but one whose cycle price overflows could never
        // be settled, so it is refused up front like a prepaid one.
        plan.cycle_price(request.quantities)?;
        let money = plan.upfront_charge(request.quantities)?;
        let start_time = self.ports.clock.now();
        let deadline_time = self
            .policy
            .calendar
            .cycle_end(start_time, plan.cycle, 1)
            .ok_or_else(|| Error::Internal("cycle end out of range".into()))?;

        if request.dry_run {
            return Ok(CreateOrderOutcome::Quoted(Quote {
                money,
                charge: money,
                refund: Money::ZERO,
                settlement: Money::ZERO,
                replaces: None,
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
            resource_name: request.resource_name,
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
                amount: money,
                time: start_time,
                covered_until: deadline_time,
                kind: ConsumptionKind::New,
            })
        } else {
            None
        };
        self.ports
            .orders
            .open(OrderOpening {
                order: order.clone(),
                first_charge,
            })
            .await?;
        Ok(CreateOrderOutcome::Created {
            order,
            charged: money,
            replaced: None,
        })
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

fn check_resource_name(plan: &Plan, name: Option<&ResourceName>) -> Result<()> {
    match (plan.requires_resource_name, name) {
        (true, None) => Err(Error::invalid(format!(
            "plan {} needs parameters.resourceName",
            plan.id
        ))),
        (false, Some(_)) => Err(Error::invalid(format!(
            "plan {} takes no parameters.resourceName",
            plan.id
        ))),
        _ => Ok(()),
    }
}
