//! The raw-SQL ceiling of the create: what the service's create of a volume order writes
//! with the embedded provisioning and ledger, straight on MariaDB, without the service — no
//! HTTP, no domain, no pool — by `clients` threads, one connection each, in a closed loop
//! like the load generator's. Every value is a bound parameter (`diesel::sql_query`, which
//! diesel prepares anew for every execution: the service's cached INSERTs and SELECTs
//! skip that round trip, its UPDATEs do not).
//!
//! The statements are all in [`create_order`]: keep it in step with the service.

use std::time::{Duration, Instant};

use blackbox_tests::catalog::VOLUME;
use chrono::{Months, NaiveDateTime, Utc};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Datetime, Integer, Nullable, SmallInt, Text};
use diesel::MysqlConnection;

use super::load::{Outcome, Share, Timing};
use super::Result;

/// STATUS of a consuming order; CHARGING_MODE, CYCLE and KEEPER of a monthly prepaid
/// order the local ledger keeps.
const CONSUMING: i16 = 5;
const PREPAID: i16 = 0;
const MONTHLY: i16 = 0;
const LEDGER: i16 = 0;
/// KIND / ROW_KIND of an order's first row; DF_PAYMENT direction and state.
const NEW: i16 = 0;
const DEDUCTION: i16 = 0;
const SETTLED: i16 = 1;
/// ACTION of the safety-net release ("release unless committed").
const RELEASE_UNLESS_COMMITTED: i16 = 0;
/// When the safety net is due, if the create never commits.
const SAFETY_NET_MINUTES: i64 = 5;
/// Who creates (the demo admin).
const CREATOR: &str = "admin";

/// One create's inputs.
pub struct NewOrder<'a> {
    pub order_id: &'a str,
    pub project: &'a str,
    pub resource_name: &'a str,
    pub now: NaiveDateTime,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// A resource already recorded for the order (a repeated create).
#[derive(QueryableByName)]
struct Recorded {
    #[diesel(sql_type = Text, column_name = ORDER_ID)]
    order_id: String,
}

/// Begins a transaction with `sql`, runs `work`, commits (rolls back on an error), the way
/// diesel's transaction manager does it for the service.
fn transaction<T>(
    conn: &mut MysqlConnection,
    begin: &str,
    work: impl FnOnce(&mut MysqlConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    AnsiTransactionManager::begin_transaction_sql(conn, begin)?;
    match work(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            let _ = AnsiTransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// THE STATEMENTS OF ONE CREATE, as the service issues them (volume plan, embedded
/// provisioning and ledger, no idempotency key, no webhook), transaction by transaction.
/// Derived from `crates/infra-mysql` (`repos/tasks.rs` `enqueue`, `repos/resources.rs`
/// `provision`, `repos/changes.rs` `write`, and the `rows/*.rs` they call) and checked
/// against MariaDB's general log of one create on 2026-12-06: the same statements, columns,
/// `DEFAULT`s and values, in the same three transactions. Left out: the pool's `SELECT 1`
/// on each of the service's three checkouts, which is plumbing, not the create. Update
/// this function when the service's create changes.
pub fn create_order(conn: &mut MysqlConnection, order: &NewOrder<'_>) -> QueryResult<()> {
    let price = VOLUME.price;
    let deadline = order
        .now
        .checked_add_months(Months::new(1))
        .unwrap_or(order.now);
    let net_due = order.now + chrono::TimeDelta::minutes(SAFETY_NET_MINUTES);
    // 1. The safety-net release, queued before the resource exists.
    let task = transaction(conn, "BEGIN", |conn| {
        diesel::sql_query(
            "INSERT INTO DF_RESOURCE_TASK (ORDER_ID, ACCOUNT_ID, REGION, PLAN_ID, PLAN_TYPE, \
             KIND, RESOURCE_NAME, CREATOR, ACTION, CREATED_AT, ATTEMPTS, NEXT_ATTEMPT_AT) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind::<Text, _>(order.order_id)
        .bind::<Text, _>(order.project)
        .bind::<Text, _>(VOLUME.region)
        .bind::<Text, _>(VOLUME.id)
        .bind::<Text, _>(VOLUME.plan_type)
        .bind::<Text, _>("volume")
        .bind::<Nullable<Text>, _>(Some(order.resource_name))
        .bind::<Text, _>(CREATOR)
        .bind::<SmallInt, _>(RELEASE_UNLESS_COMMITTED)
        .bind::<Datetime, _>(net_due)
        .bind::<Integer, _>(0)
        .bind::<Datetime, _>(net_due)
        .execute(conn)?;
        diesel::sql_query("SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS id").get_result::<Id>(conn)
    })?;
    // 2. The resource, recorded by the embedded provisioning.
    transaction(conn, "BEGIN", |conn| {
        let recorded: Vec<Recorded> = diesel::sql_query(
            "SELECT ORDER_ID, ACCOUNT_ID, REGION, KIND, NAME, CREATED_AT, RELEASED_AT \
             FROM DF_RESOURCE WHERE ORDER_ID = ? LIMIT ?",
        )
        .bind::<Text, _>(order.order_id)
        .bind::<BigInt, _>(1)
        .load(conn)?;
        if recorded.iter().any(|r| r.order_id == order.order_id) {
            return Ok(0);
        }
        diesel::sql_query(
            "INSERT INTO DF_RESOURCE (ORDER_ID, ACCOUNT_ID, REGION, KIND, NAME, ACTIVE_NAME, \
             CREATED_AT) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind::<Text, _>(order.order_id)
        .bind::<Text, _>(order.project)
        .bind::<Text, _>(VOLUME.region)
        .bind::<Text, _>("volume")
        .bind::<Nullable<Text>, _>(Some(order.resource_name))
        .bind::<Nullable<Text>, _>(Some(order.resource_name))
        .bind::<Datetime, _>(order.now)
        .execute(conn)
    })?;
    // 3. The change: the order, its first row and payment, the debit, the event, and the
    // safety net cancelled.
    transaction(
        conn,
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; BEGIN",
        |conn| {
            diesel::sql_query(
                "INSERT INTO DF_PURCHASE_ORDER (ORDER_ID, ACCOUNT_ID, REGION, PLAN_ID, \
                 PLAN_TYPE, CHARGING_MODE, QUANTITIES, CYCLE, KEEPER, START_TIME, CREATOR, \
                 RESOURCE_NAME, REPLACES, STATUS, END_TIME, DEADLINE_TIME, LAST_CONSUME_ID, \
                 RENEW_RETRIES, LAST_WARNED_AT, PRICE, VERSION, PAYMENT_SEQ, AWAITING_PAYMENT, \
                 REPLACED_BY, ACTIVE_RESOURCE_NAME, ACTIVE_QUOTA) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, DEFAULT, ?, DEFAULT, ?, ?, ?, \
                 DEFAULT, ?, ?, ?, DEFAULT, DEFAULT, ?, DEFAULT)",
            )
            .bind::<Text, _>(order.order_id)
            .bind::<Text, _>(order.project)
            .bind::<Text, _>(VOLUME.region)
            .bind::<Text, _>(VOLUME.id)
            .bind::<Text, _>(VOLUME.plan_type)
            .bind::<SmallInt, _>(PREPAID)
            .bind::<Integer, _>(1)
            .bind::<SmallInt, _>(MONTHLY)
            .bind::<SmallInt, _>(LEDGER)
            .bind::<Datetime, _>(order.now)
            .bind::<Text, _>(CREATOR)
            .bind::<Nullable<Text>, _>(Some(order.resource_name))
            .bind::<SmallInt, _>(CONSUMING)
            .bind::<Datetime, _>(deadline)
            .bind::<Integer, _>(1)
            .bind::<Integer, _>(0)
            .bind::<BigInt, _>(price)
            .bind::<Integer, _>(0)
            .bind::<Integer, _>(1)
            .bind::<Nullable<Text>, _>(Some(order.resource_name))
            .execute(conn)?;
            diesel::sql_query(
                "INSERT INTO DF_CONSUMING_HISTORY (ORDER_ID, CONSUME_ID, CONSUMING, \
                 CONSUME_TIME, DEADLINE_TIME, ACCOUNT_ID, REGION, PLAN_ID, KIND) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind::<Text, _>(order.order_id)
            .bind::<Integer, _>(1)
            .bind::<BigInt, _>(price)
            .bind::<Datetime, _>(order.now)
            .bind::<Datetime, _>(deadline)
            .bind::<Text, _>(order.project)
            .bind::<Text, _>(VOLUME.region)
            .bind::<Text, _>(VOLUME.id)
            .bind::<SmallInt, _>(NEW)
            .execute(conn)?;
            diesel::sql_query(
                "INSERT INTO DF_PAYMENT (ORDER_ID, SEQ, ACCOUNT_ID, REGION, KEEPER, DIRECTION, \
                 AMOUNT, CONSUME_ID, ROW_KIND, PERIOD_FROM, PERIOD_UNTIL, DEFERRED, STATE, \
                 CREATED_AT, SETTLED_AT, ATTEMPTS, NEXT_ATTEMPT_AT, LAST_ERROR) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, DEFAULT)",
            )
            .bind::<Text, _>(order.order_id)
            .bind::<Integer, _>(1)
            .bind::<Text, _>(order.project)
            .bind::<Text, _>(VOLUME.region)
            .bind::<SmallInt, _>(LEDGER)
            .bind::<SmallInt, _>(DEDUCTION)
            .bind::<BigInt, _>(price)
            .bind::<Integer, _>(1)
            .bind::<SmallInt, _>(NEW)
            .bind::<Datetime, _>(order.now)
            .bind::<Datetime, _>(deadline)
            .bind::<Bool, _>(false)
            .bind::<SmallInt, _>(SETTLED)
            .bind::<Datetime, _>(order.now)
            .bind::<Nullable<Datetime>, _>(Some(order.now))
            .bind::<Integer, _>(0)
            .bind::<Datetime, _>(order.now)
            .execute(conn)?;
            let debited = diesel::sql_query(
                "UPDATE DF_BALANCE SET BALANCE = BALANCE - ?, UPDATE_TIME = ? \
                 WHERE ACCOUNT_ID = ? AND BALANCE >= ? AND BALANCE <= ?",
            )
            .bind::<BigInt, _>(price)
            .bind::<Datetime, _>(order.now)
            .bind::<Text, _>(order.project)
            .bind::<BigInt, _>(price)
            .bind::<BigInt, _>(i64::MAX)
            .execute(conn)?;
            if debited != 1 {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            diesel::sql_query(
                "INSERT INTO DF_NOTIFICATION (ACCOUNT_ID, REGION, ORDER_ID, KIND, AMOUNT, \
                 MESSAGE, CREATE_TIME) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind::<Text, _>(order.project)
            .bind::<Text, _>(VOLUME.region)
            .bind::<Text, _>(order.order_id)
            .bind::<Text, _>("order_created")
            .bind::<Nullable<BigInt>, _>(Some(price))
            .bind::<Text, _>(&format!("opened on plan {}", VOLUME.id))
            .bind::<Datetime, _>(order.now)
            .execute(conn)?;
            let cancelled = diesel::sql_query(
                "UPDATE DF_RESOURCE_TASK SET DONE_AT = ? \
                 WHERE ID = ? AND ATTEMPTS = ? AND DONE_AT IS NULL",
            )
            .bind::<Nullable<Datetime>, _>(Some(order.now))
            .bind::<BigInt, _>(task.id)
            .bind::<Integer, _>(0)
            .execute(conn)?;
            if cancelled != 1 {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            Ok(())
        },
    )
}

/// Runs [`create_order`] in a closed loop of `clients` connections to `url`; the
/// `index`-th create of the run goes to `projects[project_of(index)]`.
pub fn run(
    url: &str,
    clients: usize,
    timing: Timing,
    projects: &[String],
    project_of: impl Fn(u64) -> usize + Sync,
) -> Result<Outcome> {
    let scenario = Utc::now().timestamp_micros();
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(MysqlConnection::establish(url)?);
    }
    let start = Instant::now() + Duration::from_millis(50);
    let from = start + timing.warmup;
    let until = from + timing.measured;
    let project_of = &project_of;
    let shares = std::thread::scope(|scope| {
        let threads: Vec<_> = connections
            .into_iter()
            .enumerate()
            .map(|(n, mut conn)| {
                scope.spawn(move || {
                    let mut share = Share::default();
                    std::thread::sleep(start.saturating_duration_since(Instant::now()));
                    let mut seq: u64 = 0;
                    loop {
                        let sent = Instant::now();
                        if sent >= until {
                            return share;
                        }
                        let index = seq * clients as u64 + n as u64;
                        let project = project_of(index);
                        let order_id = format!("c{scenario}-{n}-{seq}");
                        let order = NewOrder {
                            order_id: &order_id,
                            project: &projects[project],
                            resource_name: &format!("c{n}-{seq}-{scenario}"),
                            now: Utc::now().naive_utc(),
                        };
                        seq += 1;
                        let outcome = create_order(&mut conn, &order);
                        let done = Instant::now();
                        if sent >= from && done < until {
                            share.record(done - sent);
                        }
                        match outcome {
                            Ok(()) => share.succeeded(Some(project)),
                            Err(error) => share.failed(|| format!("{order_id}: {error}")),
                        }
                    }
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| {
                thread.join().unwrap_or_else(|_| {
                    let mut share = Share::default();
                    share.failed(|| "a ceiling client panicked".to_owned());
                    share
                })
            })
            .collect::<Vec<_>>()
    });
    Ok(Outcome::merge(timing.measured, shares))
}
