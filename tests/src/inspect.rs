//! Looking at what the service wrote, for the tests' own expectations (the invariants
//! themselves are in [`crate::invariants`]).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{on_backend, Db, Result};
use crate::schema::{consuming_history, purchase_order};

/// STATUS codes of the orders a cancel or a switch may act on: consuming, ending.
const OPEN: [i16; 2] = [5, 10];
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
