//! The raw-SQL ceiling: per batch, the statements the service's renewal store runs for
//! orders the local ledger keeps (`crates/infra-mysql`: `repos/renewals.rs`,
//! `repos/changes.rs`, `backend.rs`), without the service — no domain rules, no events, no
//! process start — each batch one READ COMMITTED transaction:
//!
//! 1. the claim: ids and deadlines, `FOR UPDATE SKIP LOCKED`, in (deadline, id) order;
//! 2. the claimed rows, every column the service reads, in one `WHERE ORDER_ID IN (…)`;
//! 3. the balances, locked `FOR UPDATE` in ACCOUNT_ID order;
//! 4. one multi-row INSERT of the renewal rows;
//! 5. one multi-row INSERT of their payments (settled by the ledger, one per row);
//! 6. one `UPDATE … JOIN (SELECT ? AS ORDER_ID, ? AS EXPECTED_VERSION, … UNION ALL …)` of the
//!    orders' 13 state columns, guarded by each order's version, affected rows checked;
//! 7. one guarded debit of all the batch's projects (`BALANCE >= CASE …`), checked;
//! 8. one upsert of the list totals the new rows move (rows per project and region).
//!
//! Every value is a bound parameter, times bound as DATETIME, as the service binds them.

use std::collections::BTreeMap;

use blackbox_tests::calendar::cycle_end;
use blackbox_tests::catalog::{self, PREPAID};
use blackbox_tests::seed::{is_quota, CONSUMING, MARGIN_DAYS};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::mysql::Mysql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Datetime, Integer, Nullable, SmallInt, Text};
use diesel::MysqlConnection;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// KIND / ROW_KIND of a renewal row.
const RENEW: i16 = 1;
/// DF_PAYMENT codes: the local ledger, a deduction, settled.
const LEDGER: i16 = 0;
const DEDUCTION: i16 = 0;
const SETTLED: i16 = 1;
/// Rows per multi-row INSERT, as the service's stores chunk them.
const ROWS_PER_INSERT: usize = 1_000;

/// Renews every due prepaid consuming order; returns how many orders it renewed.
pub fn renew_all(url: &str, now: NaiveDateTime, batch_size: usize) -> Result<usize> {
    let mut conn = MysqlConnection::establish(url)?;
    diesel::sql_query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .execute(&mut conn)?;
    let due_by = now + TimeDelta::days(MARGIN_DAYS);
    let mut cursor = (chrono::DateTime::UNIX_EPOCH.naive_utc(), String::new());
    let mut renewed = 0;
    loop {
        let claimed = conn.transaction(|conn| batch(conn, now, due_by, &cursor, batch_size))?;
        let Some(last) = claimed.last() else {
            return Ok(renewed);
        };
        cursor = last.clone();
        renewed += claimed.len();
    }
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text, column_name = ORDER_ID)]
    order_id: String,
    #[diesel(sql_type = Datetime, column_name = DEADLINE_TIME)]
    deadline: NaiveDateTime,
}

/// The columns the service's `OrderRow` reads, all of them, though the ceiling decides
/// from a few.
#[allow(dead_code)]
#[derive(QueryableByName)]
struct OrderRow {
    #[diesel(sql_type = BigInt, column_name = ID)]
    id: i64,
    #[diesel(sql_type = Text, column_name = ORDER_ID)]
    order_id: String,
    #[diesel(sql_type = Text, column_name = ACCOUNT_ID)]
    project: String,
    #[diesel(sql_type = Text, column_name = REGION)]
    region: String,
    #[diesel(sql_type = Text, column_name = PLAN_ID)]
    plan_id: String,
    #[diesel(sql_type = Text, column_name = PLAN_TYPE)]
    plan_type: String,
    #[diesel(sql_type = SmallInt, column_name = CHARGING_MODE)]
    charging_mode: i16,
    #[diesel(sql_type = Integer, column_name = QUANTITIES)]
    quantities: i32,
    #[diesel(sql_type = SmallInt, column_name = CYCLE)]
    cycle: i16,
    #[diesel(sql_type = BigInt, column_name = PRICE)]
    price: i64,
    #[diesel(sql_type = SmallInt, column_name = KEEPER)]
    keeper: i16,
    #[diesel(sql_type = Datetime, column_name = START_TIME)]
    start: NaiveDateTime,
    #[diesel(sql_type = Nullable<Datetime>, column_name = END_TIME)]
    end: Option<NaiveDateTime>,
    #[diesel(sql_type = Datetime, column_name = DEADLINE_TIME)]
    deadline: NaiveDateTime,
    #[diesel(sql_type = Integer, column_name = LAST_CONSUME_ID)]
    last_consume_id: i32,
    #[diesel(sql_type = Integer, column_name = RENEW_RETRIES)]
    renew_retries: i32,
    #[diesel(sql_type = Nullable<Datetime>, column_name = LAST_WARNED_AT)]
    last_warned_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Integer, column_name = VERSION)]
    version: i32,
    #[diesel(sql_type = Integer, column_name = PAYMENT_SEQ)]
    payment_seq: i32,
    #[diesel(sql_type = Nullable<Integer>, column_name = AWAITING_PAYMENT)]
    awaiting_payment: Option<i32>,
    #[diesel(sql_type = Nullable<Text>, column_name = REPLACES)]
    replaces: Option<String>,
    #[diesel(sql_type = Nullable<Text>, column_name = REPLACED_BY)]
    replaced_by: Option<String>,
    #[diesel(sql_type = SmallInt, column_name = STATUS)]
    status: i16,
    #[diesel(sql_type = Text, column_name = CREATOR)]
    creator: String,
    #[diesel(sql_type = Nullable<Text>, column_name = RESOURCE_NAME)]
    resource_name: Option<String>,
}

const ORDER_COLUMNS: &str = "ID, ORDER_ID, ACCOUNT_ID, REGION, PLAN_ID, PLAN_TYPE, \
     CHARGING_MODE, QUANTITIES, CYCLE, PRICE, KEEPER, START_TIME, END_TIME, DEADLINE_TIME, \
     LAST_CONSUME_ID, RENEW_RETRIES, LAST_WARNED_AT, VERSION, PAYMENT_SEQ, AWAITING_PAYMENT, \
     REPLACES, REPLACED_BY, STATUS, CREATOR, RESOURCE_NAME";

#[derive(QueryableByName)]
struct BalanceRow {
    #[diesel(sql_type = Text, column_name = ACCOUNT_ID)]
    project: String,
    #[diesel(sql_type = BigInt, column_name = BALANCE)]
    amount: i64,
}

/// One renewal row and the settled payment that pays it.
struct Cycle<'a> {
    order: &'a OrderRow,
    consume_id: i32,
    seq: i32,
    price: i64,
    from: NaiveDateTime,
    until: NaiveDateTime,
}

/// An order's new state, written if it still has `expected_version`.
struct Update<'a> {
    order: &'a OrderRow,
    deadline: NaiveDateTime,
    last_consume_id: i32,
    unit_price: i64,
    payment_seq: i32,
}

/// One batch; returns the claimed orders' cursors.
fn batch(
    conn: &mut MysqlConnection,
    now: NaiveDateTime,
    due_by: NaiveDateTime,
    (after_deadline, after_id): &(NaiveDateTime, String),
    limit: usize,
) -> Result<Vec<(NaiveDateTime, String)>> {
    let claimed: Vec<Claimed> = diesel::sql_query(
        "SELECT ORDER_ID, DEADLINE_TIME FROM DF_PURCHASE_ORDER \
         WHERE CHARGING_MODE = ? AND STATUS = ? AND DEADLINE_TIME <= ? AND DEADLINE_TIME >= ? \
         AND (DEADLINE_TIME > ? OR ORDER_ID > ?) \
         AND AWAITING_PAYMENT IS NULL AND REPLACED_BY IS NULL \
         ORDER BY DEADLINE_TIME ASC, ORDER_ID ASC LIMIT ? FOR UPDATE SKIP LOCKED",
    )
    .bind::<SmallInt, _>(PREPAID)
    .bind::<SmallInt, _>(CONSUMING)
    .bind::<Datetime, _>(due_by)
    .bind::<Datetime, _>(after_deadline)
    .bind::<Datetime, _>(after_deadline)
    .bind::<Text, _>(after_id)
    .bind::<BigInt, _>(i64::try_from(limit)?)
    .load(conn)?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }

    let mut query = diesel::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM DF_PURCHASE_ORDER WHERE ORDER_ID IN ({})",
        placeholders(claimed.len())
    ))
    .into_boxed::<Mysql>();
    for order in &claimed {
        query = query.bind::<Text, _>(order.order_id.as_str());
    }
    let mut orders: Vec<OrderRow> = query.load(conn)?;
    let position: BTreeMap<&str, usize> = claimed
        .iter()
        .enumerate()
        .map(|(n, c)| (c.order_id.as_str(), n))
        .collect();
    orders.sort_by_key(|o| position.get(o.order_id.as_str()).copied());

    let mut projects: Vec<&str> = orders.iter().map(|o| o.project.as_str()).collect();
    projects.sort_unstable();
    projects.dedup();
    let mut query = diesel::sql_query(format!(
        "SELECT ACCOUNT_ID, BALANCE FROM DF_BALANCE WHERE ACCOUNT_ID IN ({}) \
         ORDER BY ACCOUNT_ID ASC FOR UPDATE",
        placeholders(projects.len())
    ))
    .into_boxed::<Mysql>();
    for project in &projects {
        query = query.bind::<Text, _>(*project);
    }
    let mut balances: BTreeMap<String, i64> = query
        .load::<BalanceRow>(conn)?
        .into_iter()
        .map(|b| (b.project, b.amount))
        .collect();

    let mut cycles = Vec::new();
    let mut updates = Vec::new();
    let mut debits: BTreeMap<&str, i64> = BTreeMap::new();
    for order in &orders {
        let plan = catalog::find(&order.plan_id).ok_or("unknown plan")?;
        let price = plan.price * i64::from(order.quantities);
        let available = balances.entry(order.project.clone()).or_default();
        let (mut deadline, mut consume_id, mut seq) =
            (order.deadline, order.last_consume_id, order.payment_seq);
        while deadline <= due_by && *available >= price {
            consume_id += 1;
            seq += 1;
            let until = cycle_end(order.start, plan.months, u32::try_from(consume_id)?);
            cycles.push(Cycle {
                order,
                consume_id,
                seq,
                price,
                from: deadline,
                until,
            });
            *available -= price;
            *debits.entry(order.project.as_str()).or_default() += price;
            deadline = until;
        }
        if consume_id != order.last_consume_id {
            updates.push(Update {
                order,
                deadline,
                last_consume_id: consume_id,
                unit_price: plan.price,
                payment_seq: seq,
            });
        }
    }
    for chunk in cycles.chunks(ROWS_PER_INSERT) {
        insert_rows(conn, chunk)?;
        insert_payments(conn, chunk, now)?;
    }
    update_orders(conn, &updates)?;
    debit_all(conn, &debits, now)?;
    add_row_totals(conn, &cycles)?;
    Ok(claimed
        .into_iter()
        .map(|c| (c.deadline, c.order_id))
        .collect())
}

/// The rows the batch adds to each project's and region's usage total, in one upsert.
fn add_row_totals(conn: &mut MysqlConnection, cycles: &[Cycle<'_>]) -> Result<()> {
    let mut totals: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for cycle in cycles {
        *totals
            .entry((cycle.order.project.as_str(), cycle.order.region.as_str()))
            .or_default() += 1;
    }
    if totals.is_empty() {
        return Ok(());
    }
    let mut query = diesel::sql_query(format!(
        "INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, TOTAL) VALUES {} \
         ON DUPLICATE KEY UPDATE TOTAL = TOTAL + VALUES(TOTAL)",
        values(5, totals.len())
    ))
    .into_boxed::<Mysql>();
    for ((project, region), rows) in totals {
        query = query
            .bind::<Text, _>(project)
            .bind::<Text, _>("usages")
            .bind::<SmallInt, _>(0)
            .bind::<Text, _>(region)
            .bind::<BigInt, _>(rows);
    }
    query.execute(conn)?;
    Ok(())
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `(?, ?, …)` of `columns` placeholders, `rows` times.
fn values(columns: usize, rows: usize) -> String {
    let row = format!("({})", placeholders(columns));
    vec![row.as_str(); rows].join(", ")
}

fn insert_rows(conn: &mut MysqlConnection, cycles: &[Cycle<'_>]) -> Result<()> {
    let mut query = diesel::sql_query(format!(
        "INSERT INTO DF_CONSUMING_HISTORY (ORDER_ID, CONSUME_ID, CONSUMING, CONSUME_TIME, \
         DEADLINE_TIME, ACCOUNT_ID, REGION, PLAN_ID, KIND) VALUES {}",
        values(9, cycles.len())
    ))
    .into_boxed::<Mysql>();
    for cycle in cycles {
        query = query
            .bind::<Text, _>(cycle.order.order_id.as_str())
            .bind::<Integer, _>(cycle.consume_id)
            .bind::<BigInt, _>(cycle.price)
            .bind::<Datetime, _>(cycle.from)
            .bind::<Datetime, _>(cycle.until)
            .bind::<Text, _>(cycle.order.project.as_str())
            .bind::<Text, _>(cycle.order.region.as_str())
            .bind::<Text, _>(cycle.order.plan_id.as_str())
            .bind::<SmallInt, _>(RENEW);
    }
    query.execute(conn)?;
    Ok(())
}

fn insert_payments(
    conn: &mut MysqlConnection,
    cycles: &[Cycle<'_>],
    now: NaiveDateTime,
) -> Result<()> {
    let mut query = diesel::sql_query(format!(
        "INSERT INTO DF_PAYMENT (ORDER_ID, SEQ, ACCOUNT_ID, REGION, KEEPER, DIRECTION, AMOUNT, \
         CONSUME_ID, ROW_KIND, PERIOD_FROM, PERIOD_UNTIL, DEFERRED, STATE, CREATED_AT, \
         SETTLED_AT, ATTEMPTS, NEXT_ATTEMPT_AT, LAST_ERROR) VALUES {}",
        values(18, cycles.len())
    ))
    .into_boxed::<Mysql>();
    for cycle in cycles {
        query = query
            .bind::<Text, _>(cycle.order.order_id.as_str())
            .bind::<Integer, _>(cycle.seq)
            .bind::<Text, _>(cycle.order.project.as_str())
            .bind::<Text, _>(cycle.order.region.as_str())
            .bind::<SmallInt, _>(LEDGER)
            .bind::<SmallInt, _>(DEDUCTION)
            .bind::<BigInt, _>(cycle.price)
            .bind::<Integer, _>(cycle.consume_id)
            .bind::<SmallInt, _>(RENEW)
            .bind::<Datetime, _>(cycle.from)
            .bind::<Datetime, _>(cycle.until)
            .bind::<Bool, _>(false)
            .bind::<SmallInt, _>(SETTLED)
            .bind::<Datetime, _>(now)
            .bind::<Nullable<Datetime>, _>(Some(now))
            .bind::<Integer, _>(0)
            .bind::<Datetime, _>(now)
            .bind::<Nullable<Text>, _>(None::<&str>);
    }
    query.execute(conn)?;
    Ok(())
}

/// The order state columns the service writes, in the order it binds them.
const STATE_COLUMNS: [&str; 13] = [
    "STATUS",
    "END_TIME",
    "DEADLINE_TIME",
    "LAST_CONSUME_ID",
    "RENEW_RETRIES",
    "LAST_WARNED_AT",
    "PRICE",
    "VERSION",
    "PAYMENT_SEQ",
    "AWAITING_PAYMENT",
    "REPLACED_BY",
    "ACTIVE_RESOURCE_NAME",
    "ACTIVE_QUOTA",
];

/// All the batch's orders in one statement (the service's `update_orders`), each written
/// only if it still has the version it was read with.
fn update_orders(conn: &mut MysqlConnection, updates: &[Update<'_>]) -> Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let first = std::iter::once("? AS ORDER_ID, ? AS EXPECTED_VERSION".to_owned())
        .chain(STATE_COLUMNS.iter().map(|column| format!("? AS {column}")))
        .collect::<Vec<_>>()
        .join(", ");
    let other = placeholders(STATE_COLUMNS.len() + 2);
    let rows = std::iter::once(format!("SELECT {first}"))
        .chain((1..updates.len()).map(|_| format!("SELECT {other}")))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let set = STATE_COLUMNS
        .iter()
        .map(|column| format!("o.{column} = v.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut query = diesel::sql_query(format!(
        "UPDATE DF_PURCHASE_ORDER o JOIN ({rows}) v \
         ON o.ORDER_ID = v.ORDER_ID AND o.VERSION = v.EXPECTED_VERSION SET {set}"
    ))
    .into_boxed::<Mysql>();
    for update in updates {
        let order = update.order;
        let plan = catalog::find(&order.plan_id).ok_or("unknown plan")?;
        let quota = is_quota(&plan).then_some(order.region.as_str());
        query = query
            .bind::<Text, _>(order.order_id.as_str())
            .bind::<Integer, _>(order.version)
            .bind::<SmallInt, _>(CONSUMING)
            .bind::<Nullable<Datetime>, _>(None::<NaiveDateTime>)
            .bind::<Datetime, _>(update.deadline)
            .bind::<Integer, _>(update.last_consume_id)
            .bind::<Integer, _>(0)
            .bind::<Nullable<Datetime>, _>(None::<NaiveDateTime>)
            .bind::<BigInt, _>(update.unit_price)
            .bind::<Integer, _>(order.version + 1)
            .bind::<Integer, _>(update.payment_seq)
            .bind::<Nullable<Integer>, _>(None::<i32>)
            .bind::<Nullable<Text>, _>(None::<&str>)
            .bind::<Nullable<Text>, _>(order.resource_name.as_deref())
            .bind::<Nullable<Text>, _>(quota);
    }
    let changed = query.execute(conn)?;
    if changed != updates.len() {
        return Err(format!(
            "{changed} of {} orders updated: some changed under the run",
            updates.len()
        )
        .into());
    }
    Ok(())
}

/// `CASE <key> WHEN ? THEN ? … END` with `n` arms.
fn case(key: &str, n: usize) -> String {
    format!("CASE {key}{} END", " WHEN ? THEN ?".repeat(n))
}

/// All of a batch's debits in one statement, each guarded by the balance it requires.
fn debit_all(
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
    query = query.bind::<Datetime, _>(at);
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
