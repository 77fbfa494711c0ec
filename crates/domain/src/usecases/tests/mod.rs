//! The use cases over the in-memory store and the fakes (`crate::testing`): state-based —
//! each test drives requests, runs and settlements, then reads what the books hold.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod balances;
mod cancel;
mod create;
mod model;
mod reconcile;
mod renew;
mod settle;
mod tasks;

use chrono::{DateTime, Utc};

use super::{CancelOrderRequest, CreateOrderOutcome, CreateOrderRequest};
use crate::error::Result;
use crate::ids::{OrderId, PlanId, ProjectId, Quantity, Region, ResourceName};
use crate::money::Money;
use crate::order::Order;
use crate::plan::{ChargingMode, Plan};
use crate::policy::BillingPolicy;
use crate::reconcile::Mismatch;
use crate::testing::{money, principal, utc, Harness, PlanBuilder};
use crate::usecases::ReconcileSettings;

/// Where the local ledger keeps the money.
const LEDGER: &str = "cn-south-1";
/// Where a charge service keeps it.
const REMOTE: &str = "cn-north-1";

fn now() -> DateTime<Utc> {
    utc("2026-03-01T00:00:00Z")
}

fn project() -> ProjectId {
    ProjectId::parse("demo").unwrap()
}

/// A prepaid monthly volume plan at 50.00, named, in `region`.
fn volume(region: &str) -> Plan {
    PlanBuilder::default()
        .id(&format!("vol-{region}"))
        .region(region)
        .price("50")
        .named()
        .build()
}

/// A prepaid monthly quota plan at 20.00 (or `price`) in `region`.
fn quota(region: &str, id: &str, price: &str) -> Plan {
    PlanBuilder::default()
        .id(id)
        .plan_type("resources")
        .region(region)
        .price(price)
        .build()
}

/// A postpaid monthly network plan at 30.00 in `region`.
fn postpaid(region: &str) -> Plan {
    PlanBuilder::default()
        .id(&format!("net-{region}"))
        .plan_type("network")
        .region(region)
        .mode(ChargingMode::Postpaid)
        .price("30")
        .build()
}

fn plans() -> Vec<Plan> {
    let mut plans = Vec::new();
    for region in [LEDGER, REMOTE] {
        plans.push(volume(region));
        plans.push(postpaid(region));
        plans.push(quota(region, &format!("cpu-small-{region}"), "20"));
        plans.push(quota(region, &format!("cpu-large-{region}"), "60"));
    }
    plans
}

/// Use cases where [`REMOTE`]'s money is its charge service's; the project holds 1000.00
/// in the ledger and 1000.00 at the charge service.
fn harness() -> Harness {
    let policy = BillingPolicy {
        charge_regions: vec![Region::parse(REMOTE).unwrap()],
        ..BillingPolicy::default()
    };
    let harness = Harness::new(policy, plans(), now());
    harness.store.fund(&project(), money("1000"));
    harness.charging.fund(&project(), money("1000"));
    harness
}

fn request(plan: &str) -> CreateOrderRequest {
    CreateOrderRequest {
        project: project(),
        plan_id: PlanId::parse(plan).unwrap(),
        quantities: Quantity::ONE,
        region: None,
        resource_name: None,
        replaces: None,
        dry_run: false,
        idempotency: None,
    }
}

fn named(plan: &str, name: &str) -> CreateOrderRequest {
    CreateOrderRequest {
        resource_name: Some(ResourceName::parse(name).unwrap()),
        ..request(plan)
    }
}

async fn create(harness: &Harness, request: CreateOrderRequest) -> Result<Order> {
    match harness
        .usecases
        .create_order(&principal("alice"), request)
        .await?
    {
        CreateOrderOutcome::Created { order, .. } => Ok(order),
        CreateOrderOutcome::Quoted(quote) => panic!("quoted {quote:?}"),
    }
}

fn cancel_request(order: &OrderId) -> CancelOrderRequest {
    CancelOrderRequest {
        project: project(),
        order_id: order.clone(),
        idempotency: None,
    }
}

/// What `serviceusage reconcile` finds now (pending payments count after an hour).
async fn mismatches(harness: &Harness) -> Vec<(ProjectId, Mismatch)> {
    let settings = ReconcileSettings {
        project: None,
        pending_limit: chrono::TimeDelta::hours(1),
    };
    harness
        .usecases
        .reconcile(&settings, &mut |_, _| {})
        .await
        .unwrap()
        .mismatches
}

fn ledger_balance(harness: &Harness) -> Money {
    harness.store.balance_of(&project())
}
