//! The raw-SQL ceiling: the renewal's statements without the service (no domain rules, no
//! events, no process start), batch by batch, each batch one READ COMMITTED transaction.
//!
//! [`Writes::PerOrder`] is the service's design (one guarded UPDATE per order, one guarded
//! debit per project); [`Writes::Batched`] folds each of those into one statement per batch
//! (`CASE ORDER_ID WHEN … THEN …`, guards in the WHERE clause, affected rows checked), to
//! show what the round trips cost.

use std::collections::BTreeMap;

use blackbox_tests::calendar::cycle_end;
use blackbox_tests::catalog::{self, PREPAID};
use blackbox_tests::schema::{balance, consuming_history, purchase_order};
use blackbox_tests::seed::{CONSUMING, MARGIN_DAYS};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::mysql::Mysql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, SmallInt, Text, Timestamp};
use diesel::MysqlConnection;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// KIND of a renewal row.
const RENEW: i16 = 1;

/// How a batch writes its order updates and debits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writes {
    PerOrder,
    Batched,
}

type Claimed = (
    String,
    String,
    String,
    String,
    i32,
    NaiveDateTime,
    NaiveDateTime,
    i32,
);

/// Renews every due prepaid consuming order; returns how many orders it renewed.
pub fn renew_all(
    url: &str,
    now: NaiveDateTime,
    batch_size: usize,
    writes: Writes,
) -> Result<usize> {
    let mut conn = MysqlConnection::establish(url)?;
    diesel::sql_query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .execute(&mut conn)?;
    let due_by = now + TimeDelta::days(MARGIN_DAYS);
    let mut cursor = (chrono::DateTime::UNIX_EPOCH.naive_utc(), String::new());
    let mut renewed = 0;
    loop {
        let claimed = conn.transaction(|conn| batch(conn, due_by, &cursor, batch_size, writes))?;
        let Some(last) = claimed.last() else {
            return Ok(renewed);
        };
        cursor = last.clone();
        renewed += claimed.len();
    }
}

/// One batch; returns the claimed orders' cursors.
fn batch(
    conn: &mut MysqlConnection,
    due_by: NaiveDateTime,
    (after_deadline, after_id): &(NaiveDateTime, String),
    limit: usize,
    writes: Writes,
) -> Result<Vec<(NaiveDateTime, String)>> {
    let claimed: Vec<Claimed> = purchase_order::table
        .filter(purchase_order::charging_mode.eq(PREPAID))
        .filter(purchase_order::status.eq(CONSUMING))
        .filter(purchase_order::deadline_time.le(due_by))
        .filter(purchase_order::deadline_time.ge(after_deadline))
        .filter(
            purchase_order::deadline_time
                .gt(after_deadline)
                .or(purchase_order::order_id.gt(after_id)),
        )
        .order((purchase_order::deadline_time, purchase_order::order_id))
        .limit(i64::try_from(limit)?)
        .select((
            purchase_order::order_id,
            purchase_order::account_id,
            purchase_order::region,
            purchase_order::plan_id,
            purchase_order::quantities,
            purchase_order::start_time,
            purchase_order::deadline_time,
            purchase_order::last_consume_id,
        ))
        .for_update()
        .skip_locked()
        .load(conn)?;
    let mut projects: Vec<&str> = claimed.iter().map(|c| c.1.as_str()).collect();
    projects.sort_unstable();
    projects.dedup();
    let mut balances: BTreeMap<String, i64> = balance::table
        .filter(balance::account_id.eq_any(&projects))
        .order(balance::account_id)
        .select((balance::account_id, balance::amount))
        .for_update()
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();

    let mut rows = Vec::new();
    let mut updates = Vec::new();
    let mut debits: BTreeMap<&str, i64> = BTreeMap::new();
    for (order_id, project, region, plan_id, quantities, start, deadline, last) in &claimed {
        let plan = catalog::find(plan_id).ok_or("unknown plan")?;
        let price = plan.price * i64::from(*quantities);
        let available = balances.entry(project.clone()).or_default();
        let (mut deadline, mut next) = (*deadline, *last);
        while deadline <= due_by && *available >= price {
            next += 1;
            let covered = cycle_end(*start, plan.months, u32::try_from(next)?);
            rows.push((
                consuming_history::order_id.eq(order_id.as_str()),
                consuming_history::consume_id.eq(next),
                consuming_history::consuming.eq(price),
                consuming_history::consume_time.eq(deadline),
                consuming_history::deadline_time.eq(covered),
                consuming_history::account_id.eq(project.as_str()),
                consuming_history::region.eq(region.as_str()),
                consuming_history::plan_id.eq(plan_id.as_str()),
                consuming_history::kind.eq(RENEW),
            ));
            *available -= price;
            *debits.entry(project.as_str()).or_default() += price;
            deadline = covered;
        }
        if next != *last {
            updates.push((order_id.as_str(), *last, next, deadline));
        }
    }
    for chunk in rows.chunks(1_000) {
        diesel::insert_into(consuming_history::table)
            .values(chunk)
            .execute(conn)?;
    }
    match writes {
        Writes::PerOrder => {
            update_each(conn, &updates)?;
            debit_each(conn, &debits, due_by)?;
        }
        Writes::Batched => {
            update_batch(conn, &updates)?;
            debit_batch(conn, &debits, due_by)?;
        }
    }
    Ok(claimed.into_iter().map(|c| (c.6, c.0)).collect())
}

/// An order's new state: (order id, expected last consume id, new last consume id, new
/// deadline).
type Update<'a> = (&'a str, i32, i32, NaiveDateTime);

fn update_each(conn: &mut MysqlConnection, updates: &[Update<'_>]) -> Result<()> {
    for &(order_id, last, next, deadline) in updates {
        let changed = diesel::update(
            purchase_order::table
                .filter(purchase_order::order_id.eq(order_id))
                .filter(purchase_order::last_consume_id.eq(last))
                .filter(purchase_order::status.eq(CONSUMING)),
        )
        .set((
            purchase_order::deadline_time.eq(deadline),
            purchase_order::last_consume_id.eq(next),
            purchase_order::renew_retries.eq(0),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(format!("order {order_id} changed under the ceiling run").into());
        }
    }
    Ok(())
}

fn debit_each(
    conn: &mut MysqlConnection,
    debits: &BTreeMap<&str, i64>,
    at: NaiveDateTime,
) -> Result<()> {
    for (&project, &total) in debits {
        let changed = diesel::update(
            balance::table
                .filter(balance::account_id.eq(project))
                .filter(balance::amount.ge(total)),
        )
        .set((
            balance::amount.eq(balance::amount - total),
            balance::update_time.eq(at),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(format!("project {project} cannot cover {total}").into());
        }
    }
    Ok(())
}

/// `CASE <key> WHEN ? THEN ? … END` with `n` arms.
fn case(key: &str, n: usize) -> String {
    format!("CASE {key}{} END", " WHEN ? THEN ?".repeat(n))
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// All of a batch's order updates in one statement, each guarded as in [`update_each`].
fn update_batch(conn: &mut MysqlConnection, updates: &[Update<'_>]) -> Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let n = updates.len();
    let sql = format!(
        "UPDATE DF_PURCHASE_ORDER SET DEADLINE_TIME = {}, LAST_CONSUME_ID = {}, \
         RENEW_RETRIES = 0 WHERE ORDER_ID IN ({}) AND STATUS = ? AND LAST_CONSUME_ID = {}",
        case("ORDER_ID", n),
        case("ORDER_ID", n),
        placeholders(n),
        case("ORDER_ID", n)
    );
    let mut query = diesel::sql_query(sql).into_boxed::<Mysql>();
    for &(order_id, _, _, deadline) in updates {
        query = query
            .bind::<Text, _>(order_id)
            .bind::<Timestamp, _>(deadline);
    }
    for &(order_id, _, next, _) in updates {
        query = query.bind::<Text, _>(order_id).bind::<Integer, _>(next);
    }
    for &(order_id, _, _, _) in updates {
        query = query.bind::<Text, _>(order_id);
    }
    query = query.bind::<SmallInt, _>(CONSUMING);
    for &(order_id, last, _, _) in updates {
        query = query.bind::<Text, _>(order_id).bind::<Integer, _>(last);
    }
    let changed = query.execute(conn)?;
    if changed != n {
        return Err(format!("{changed} of {n} orders updated: some changed under the run").into());
    }
    Ok(())
}

/// All of a batch's debits in one statement, each guarded as in [`debit_each`].
fn debit_batch(
    conn: &mut MysqlConnection,
    debits: &BTreeMap<&str, i64>,
    at: NaiveDateTime,
) -> Result<()> {
    if debits.is_empty() {
        return Ok(());
    }
    let n = debits.len();
    let sql = format!(
        "UPDATE DF_BALANCE SET BALANCE = BALANCE - {}, UPDATE_TIME = ? \
         WHERE ACCOUNT_ID IN ({}) AND BALANCE >= {}",
        case("ACCOUNT_ID", n),
        placeholders(n),
        case("ACCOUNT_ID", n)
    );
    let mut query = diesel::sql_query(sql).into_boxed::<Mysql>();
    for (&project, &total) in debits {
        query = query.bind::<Text, _>(project).bind::<BigInt, _>(total);
    }
    query = query.bind::<Timestamp, _>(at);
    for &project in debits.keys() {
        query = query.bind::<Text, _>(project);
    }
    for (&project, &total) in debits {
        query = query.bind::<Text, _>(project).bind::<BigInt, _>(total);
    }
    let changed = query.execute(conn)?;
    if changed != n {
        return Err(format!("{changed} of {n} balances debited: some cannot cover").into());
    }
    Ok(())
}
