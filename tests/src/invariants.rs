//! The ledger's invariants, checked on the whole database after a run:
//! - per project: opening balance + Σ recharges − Σ consumption = balance, and balance ≥ 0
//!   unless the project has postpaid orders (their settlements, usage already consumed,
//!   may take it below zero: arrears);
//! - per order: its rows are consume ids 1..n without gap or duplicate, LAST_CONSUME_ID = n,
//!   and every row carries the order's project;
//! - every consuming order's deadline lies after the run's `now` (nothing due was left);
//! - every list total the service keeps (DF_LIST_TOTAL) equals the count of its orders or
//!   rows.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{on_backend, Db, Result};
use crate::schema::{
    balance, consuming_history, list_total, notification, purchase_order, recharge,
};
use crate::seed::CONSUMING;

/// CHARGING_MODE of a postpaid order.
const POSTPAID: i16 = 1;

/// What the check saw and what it found wrong.
#[derive(Debug, Default)]
pub struct Report {
    pub projects: usize,
    pub orders: usize,
    pub rows: usize,
    /// Orders per STATUS code.
    pub by_status: BTreeMap<i16, usize>,
    pub violations: Vec<String>,
}

impl Report {
    /// Panics listing the first violations, if any.
    #[track_caller]
    pub fn assert_holds(&self) {
        assert!(
            self.violations.is_empty(),
            "{} invariant violations, first ones:\n{}",
            self.violations.len(),
            self.violations
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

type OrderState = (String, String, i16, NaiveDateTime, i32);
type RowState = (String, i32, i64, String);

/// Checks every invariant. `opening` holds balances that reached projects without a
/// recharge row (none in this service today: configured openings are recharges).
pub fn check(db: &mut Db, now: NaiveDateTime, opening: &BTreeMap<String, i64>) -> Result<Report> {
    let orders: Vec<OrderState> = on_backend!(&mut *db, |c| purchase_order::table
        .select((
            purchase_order::order_id,
            purchase_order::account_id,
            purchase_order::status,
            purchase_order::deadline_time,
            purchase_order::last_consume_id,
        ))
        .load(c))?;
    let rows: Vec<RowState> = on_backend!(&mut *db, |c| consuming_history::table
        .select((
            consuming_history::order_id,
            consuming_history::consume_id,
            consuming_history::consuming,
            consuming_history::account_id,
        ))
        .order((consuming_history::order_id, consuming_history::consume_id))
        .load(c))?;
    let balances: Vec<(String, i64)> = on_backend!(&mut *db, |c| balance::table
        .select((balance::account_id, balance::amount))
        .load(c))?;
    let recharges: Vec<(String, i64)> = on_backend!(&mut *db, |c| recharge::table
        .select((recharge::account_id, recharge::amount))
        .load(c))?;
    let postpaid: Vec<String> = on_backend!(&mut *db, |c| purchase_order::table
        .filter(purchase_order::charging_mode.eq(POSTPAID))
        .select(purchase_order::account_id)
        .distinct()
        .load(c))?;

    let mut report = Report {
        orders: orders.len(),
        rows: rows.len(),
        ..Report::default()
    };
    let mut rows_of: BTreeMap<&str, Vec<&RowState>> = BTreeMap::new();
    for row in &rows {
        rows_of.entry(row.0.as_str()).or_default().push(row);
    }
    for (order_id, project, status, deadline, last) in &orders {
        *report.by_status.entry(*status).or_default() += 1;
        let own = rows_of.remove(order_id.as_str()).unwrap_or_default();
        let ids: Vec<i32> = own.iter().map(|row| row.1).collect();
        let expected: Vec<i32> = (1..=*last).collect();
        if ids != expected {
            report.violations.push(format!(
                "order {order_id}: LAST_CONSUME_ID {last} but rows {}",
                summarize(&ids)
            ));
        }
        if let Some(row) = own.iter().find(|row| &row.3 != project) {
            report.violations.push(format!(
                "order {order_id} of {project} has row #{} in project {}",
                row.1, row.3
            ));
        }
        if *status == CONSUMING && *deadline <= now {
            report.violations.push(format!(
                "order {order_id} is consuming with deadline {deadline}, not after {now}"
            ));
        }
    }
    for order_id in rows_of.keys() {
        report
            .violations
            .push(format!("rows of unknown order {order_id}"));
    }

    let mut expected: BTreeMap<&str, i64> = opening
        .iter()
        .map(|(project, amount)| (project.as_str(), *amount))
        .collect();
    for (project, amount) in &recharges {
        *expected.entry(project.as_str()).or_default() += amount;
    }
    for (_, _, amount, project) in &rows {
        *expected.entry(project.as_str()).or_default() -= amount;
    }
    let actual: BTreeMap<&str, i64> = balances
        .iter()
        .map(|(project, amount)| (project.as_str(), *amount))
        .collect();
    for (project, amount) in &actual {
        if *amount < 0 && !postpaid.iter().any(|p| p == project) {
            report.violations.push(format!(
                "project {project} has a negative balance {amount} and no postpaid order"
            ));
        }
    }
    report.projects = expected.len().max(actual.len());
    for (project, want) in &expected {
        let have = actual.get(project).copied().unwrap_or(0);
        if have != *want {
            report.violations.push(format!(
                "project {project}: opening + recharges - consumption = {want}, balance {have}"
            ));
        }
    }
    check_totals(db, &mut report)?;
    Ok(report)
}

/// A list total: project, list, status (orders), region, plan type and order type (orders).
type TotalKey = (String, String, i16, String, String, i16);

/// Compares every list total with the count of what it lists.
fn check_totals(db: &mut Db, report: &mut Report) -> Result<()> {
    use diesel::dsl::count_star;
    // Grouped by what a switch replaces too (its order type): a group per switch, and
    // one for the new orders of each status, region and plan type.
    type Grouped = (String, i16, String, String, Option<String>, i64);
    let orders: Vec<Grouped> = on_backend!(&mut *db, |c| purchase_order::table
        .group_by((
            purchase_order::account_id,
            purchase_order::status,
            purchase_order::region,
            purchase_order::plan_type,
            purchase_order::replaces,
        ))
        .select((
            purchase_order::account_id,
            purchase_order::status,
            purchase_order::region,
            purchase_order::plan_type,
            purchase_order::replaces,
            count_star(),
        ))
        .load(c))?;
    let rows: Vec<(String, String, i64)> = on_backend!(&mut *db, |c| consuming_history::table
        .group_by((consuming_history::account_id, consuming_history::region))
        .select((
            consuming_history::account_id,
            consuming_history::region,
            count_star(),
        ))
        .load(c))?;
    let notifications: Vec<(String, String, i64)> = on_backend!(&mut *db, |c| notification::table
        .group_by((notification::account_id, notification::region))
        .select((notification::account_id, notification::region, count_star()))
        .load(c))?;
    let recharges: Vec<(String, i64)> = on_backend!(&mut *db, |c| recharge::table
        .group_by(recharge::account_id)
        .select((recharge::account_id, count_star()))
        .load(c))?;
    let kept: Vec<(TotalKey, i64)> = on_backend!(&mut *db, |c| list_total::table
        .filter(list_total::total.ne(0))
        .select((
            (
                list_total::account_id,
                list_total::list,
                list_total::status,
                list_total::region,
                list_total::plan_type,
                list_total::order_type,
            ),
            list_total::total,
        ))
        .load(c))?;
    let other = |project: String, list: &str, region: String| {
        (project, list.to_owned(), 0, region, String::new(), 0)
    };
    let mut counted: BTreeMap<TotalKey, i64> = BTreeMap::new();
    for (project, status, region, plan_type, replaces, n) in orders {
        let order_type = i16::from(replaces.is_some());
        *counted
            .entry((
                project,
                "orders".into(),
                status,
                region,
                plan_type,
                order_type,
            ))
            .or_default() += n;
    }
    counted.extend(
        rows.into_iter()
            .map(|(project, region, n)| (other(project, "usages", region), n))
            .chain(
                notifications
                    .into_iter()
                    .map(|(project, region, n)| (other(project, "notifications", region), n)),
            )
            .chain(
                recharges
                    .into_iter()
                    .map(|(project, n)| (other(project, "recharges", String::new()), n)),
            ),
    );
    let kept: BTreeMap<TotalKey, i64> = kept.into_iter().collect();
    let keys: std::collections::BTreeSet<&TotalKey> = counted.keys().chain(kept.keys()).collect();
    for key in keys {
        let (have, want) = (kept.get(key), counted.get(key));
        if have != want {
            report.violations.push(format!(
                "list total {key:?} is {have:?}, but {want:?} are counted"
            ));
        }
    }
    Ok(())
}

/// `[1, 2, 3, 5]` → "1..3, 5": readable even for an order with hundreds of rows.
fn summarize(ids: &[i32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            ids[i].to_string()
        } else {
            format!("{}..{}", ids[i], ids[j])
        });
        i = j + 1;
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::summarize;

    #[test]
    fn summarize_collapses_runs_and_shows_gaps_and_duplicates() {
        assert_eq!(summarize(&[1, 2, 3, 5]), "1..3, 5");
        assert_eq!(summarize(&[1, 2, 2]), "1..2, 2");
        assert_eq!(summarize(&[]), "none");
    }
}
