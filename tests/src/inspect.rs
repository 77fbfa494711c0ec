//! Looking at what the service wrote, for the tests' own expectations (the invariants
//! themselves are in [`crate::invariants`]).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{on_backend, Db, Result};
use crate::schema::{consuming_history, order_terms, payment, purchase_order, resource};

/// STATUS codes of the orders a cancel or a switch may act on: consuming, ending.
const OPEN: [i16; 2] = [5, 10];
/// STATUS of an order waiting for its first payment.
pub const PENDING: i16 = 0;
/// STATUS of an order that has ended.
pub const ENDED: i16 = 15;
/// STATE of a payment recorded and not yet answered for sure.
pub const PAYMENT_PENDING: i16 = 0;
/// STATE of a payment its keeper took.
pub const PAYMENT_SETTLED: i16 = 1;
/// KIND of a renewal charge.
const RENEW: i16 = 1;

/// An order that has not ended.
#[derive(Clone, Debug)]
pub struct OpenOrder {
    pub order_id: String,
    pub project: String,
    pub plan_id: String,
}

/// Every order that has not ended, by order id.
pub fn open_orders(db: &mut Db) -> Result<Vec<OpenOrder>> {
    let rows: Vec<(String, String, String)> = on_backend!(&mut *db, |c| purchase_order::table
        .filter(purchase_order::status.eq_any(OPEN))
        .select((
            purchase_order::order_id,
            purchase_order::account_id,
            purchase_order::plan_id,
        ))
        .order(purchase_order::order_id)
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(order_id, project, plan_id)| OpenOrder {
            order_id,
            project,
            plan_id,
        })
        .collect())
}

/// Whether the project has an open order of a quota plan type in the region (it may hold
/// no other: one open quota order per project and region).
pub fn holds_open_quota(db: &mut Db, project: &str, region: &str) -> Result<bool> {
    let open: i64 = on_backend!(&mut *db, |c| purchase_order::table
        .filter(purchase_order::account_id.eq(project))
        .filter(purchase_order::region.eq(region))
        .filter(purchase_order::plan_type.eq_any(["cpuquota", "quota", "resources"]))
        .filter(purchase_order::status.eq_any(OPEN))
        .count()
        .get_result(c))?;
    Ok(open > 0)
}

/// Number of consumption rows of every order that has any.
pub fn rows_per_order(db: &mut Db) -> Result<BTreeMap<String, u32>> {
    let ids: Vec<String> = on_backend!(&mut *db, |c| consuming_history::table
        .select(consuming_history::order_id)
        .load(c))?;
    let mut counts = BTreeMap::new();
    for id in ids {
        *counts.entry(id).or_insert(0) += 1;
    }
    Ok(counts)
}

/// What the consumption rows of every order that has any add up to, ten-thousandths.
pub fn money_per_order(db: &mut Db) -> Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = on_backend!(&mut *db, |c| consuming_history::table
        .select((consuming_history::order_id, consuming_history::consuming))
        .load(c))?;
    let mut totals = BTreeMap::new();
    for (id, money) in rows {
        *totals.entry(id).or_insert(0) += money;
    }
    Ok(totals)
}

/// A renewal charge with its order's anchor.
#[derive(Clone, Debug)]
pub struct RenewRow {
    pub order_id: String,
    pub plan_id: String,
    pub start: NaiveDateTime,
    pub consume_id: i32,
    /// The row's DEADLINE_TIME: the end of the cycle it pays for.
    pub covered_until: NaiveDateTime,
}

/// Every renewal charge (kind renew) of the orders of CHARGING_MODE `mode`.
pub fn renew_rows(db: &mut Db, mode: i16) -> Result<Vec<RenewRow>> {
    let rows: Vec<(String, String, NaiveDateTime, i32, NaiveDateTime)> =
        on_backend!(&mut *db, |c| consuming_history::table
            .inner_join(
                purchase_order::table.on(purchase_order::order_id.eq(consuming_history::order_id)),
            )
            .filter(consuming_history::kind.eq(RENEW))
            .filter(purchase_order::charging_mode.eq(mode))
            .select((
                consuming_history::order_id,
                purchase_order::plan_id,
                purchase_order::start_time,
                consuming_history::consume_id,
                consuming_history::deadline_time,
            ))
            .load(c))?;
    Ok(rows
        .into_iter()
        .map(
            |(order_id, plan_id, start, consume_id, covered_until)| RenewRow {
                order_id,
                plan_id,
                start,
                consume_id,
                covered_until,
            },
        )
        .collect())
}

/// An order as the crash tests check it: whose it is, where it stands, what it waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderState {
    pub order_id: String,
    pub project: String,
    pub plan_id: String,
    /// STATUS code (see [`PENDING`], [`crate::seed::CONSUMING`], [`ENDED`]).
    pub status: i16,
    /// The number of the payment it waits for, if any.
    pub awaiting_payment: Option<i32>,
    /// REGION while it holds its project's quota there.
    pub active_quota: Option<String>,
}

/// Every order, by order id.
pub fn orders(db: &mut Db) -> Result<Vec<OrderState>> {
    let orders: Vec<(String, String, String, i16)> =
        on_backend!(&mut *db, |c| purchase_order::table
            .select((
                purchase_order::order_id,
                purchase_order::account_id,
                purchase_order::plan_id,
                purchase_order::status,
            ))
            .order(purchase_order::order_id)
            .load(c))?;
    let terms: Vec<(String, Option<i32>, Option<String>)> =
        on_backend!(&mut *db, |c| order_terms::table
            .select((
                order_terms::order_id,
                order_terms::awaiting_payment,
                order_terms::active_quota,
            ))
            .load(c))?;
    let mut terms: BTreeMap<String, (Option<i32>, Option<String>)> = terms
        .into_iter()
        .map(|(id, awaiting, quota)| (id, (awaiting, quota)))
        .collect();
    Ok(orders
        .into_iter()
        .map(|(order_id, project, plan_id, status)| {
            let (awaiting_payment, active_quota) = terms.remove(&order_id).unwrap_or_default();
            OrderState {
                order_id,
                project,
                plan_id,
                status,
                awaiting_payment,
                active_quota,
            }
        })
        .collect())
}

/// A payment as the crash tests check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentState {
    pub order_id: String,
    pub seq: i32,
    pub project: String,
    /// 0 deduction, 1 credit.
    pub direction: i16,
    /// Ten-thousandths.
    pub amount: i64,
    /// STATE code (see [`PAYMENT_PENDING`]).
    pub state: i16,
}

/// Every payment, by order and number.
pub fn payments(db: &mut Db) -> Result<Vec<PaymentState>> {
    let rows: Vec<(String, i32, String, i16, i64, i16)> =
        on_backend!(&mut *db, |c| payment::table
            .select((
                payment::order_id,
                payment::seq,
                payment::account_id,
                payment::direction,
                payment::amount,
                payment::state,
            ))
            .order((payment::order_id, payment::seq))
            .load(c))?;
    Ok(rows
        .into_iter()
        .map(
            |(order_id, seq, project, direction, amount, state)| PaymentState {
                order_id,
                seq,
                project,
                direction,
                amount,
                state,
            },
        )
        .collect())
}

/// A resource the embedded provisioning holds for an order, not released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveResource {
    pub order_id: String,
    pub project: String,
    pub region: String,
    /// `volume`, `bsi` or `quota`.
    pub kind: String,
}

/// Every live resource of the embedded provisioning, by order id.
pub fn live_resources(db: &mut Db) -> Result<Vec<LiveResource>> {
    let rows: Vec<(String, String, String, String)> = on_backend!(&mut *db, |c| resource::table
        .filter(resource::released_at.is_null())
        .select((
            resource::order_id,
            resource::account_id,
            resource::region,
            resource::kind,
        ))
        .order(resource::order_id)
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(order_id, project, region, kind)| LiveResource {
            order_id,
            project,
            region,
            kind,
        })
        .collect())
}
