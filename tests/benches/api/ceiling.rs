//! The raw-SQL ceiling of the create: what the service's create of a volume order writes
//! with the embedded provisioning and ledger, straight on MariaDB, without the service — no
//! HTTP, no domain, no pool — by `clients` threads, one connection each, in a closed loop
//! like the load generator's. Every value is a bound parameter, and every statement is
//! prepared once per connection ([`execute`]), as the service's are, the transaction's
//! level, `BEGIN` and `COMMIT` included.
//!
//! The statements are all in [`create_order`]: keep it in step with the service.

use std::time::{Duration, Instant};

use blackbox_tests::catalog::VOLUME;
use chrono::{Months, NaiveDateTime, Utc};
use diesel::backend::Backend;
use diesel::connection::Connection;
use diesel::mysql::Mysql;
use diesel::prelude::*;
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{CollectedQuery, MoveableBindCollector, QueryBuilder, QueryFragment};
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
/// Who creates (the demo admin).
const CREATOR: &str = "admin";

/// One create's inputs.
pub struct NewOrder<'a> {
    pub order_id: &'a str,
    pub project: &'a str,
    pub resource_name: &'a str,
    pub now: NaiveDateTime,
}

/// Runs `query` as a statement prepared once per connection: diesel never caches a
/// `sql_query`, and preparing it anew would cost the ceiling a round trip per statement
/// that the service does not pay.
fn execute(conn: &mut MysqlConnection, query: &impl QueryFragment<Mysql>) -> QueryResult<usize> {
    let mut builder = <Mysql as Backend>::QueryBuilder::default();
    query.to_sql(&mut builder, &Mysql)?;
    let mut binds = RawBytesBindCollector::<Mysql>::new();
    query.collect_binds(&mut binds, &mut (), &Mysql)?;
    conn.execute_returning_count(&CollectedQuery::new(
        builder.finish(),
        true,
        binds.moveable(),
    ))
}

/// Runs `work` in one READ COMMITTED transaction, committed (rolled back on an error),
/// opened and closed as the service's store does it (`backend/transaction.rs`): the level
/// for the next transaction, `BEGIN` and `COMMIT`, each a statement prepared once per
/// connection. (diesel's transaction manager would send each as text wrapped in two more
/// commands, four more round trips a create than the service pays.)
fn read_committed<T>(
    conn: &mut MysqlConnection,
    work: impl FnOnce(&mut MysqlConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    execute(
        conn,
        &diesel::sql_query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"),
    )?;
    execute(conn, &diesel::sql_query("BEGIN"))?;
    match work(conn) {
        Ok(value) => {
            execute(conn, &diesel::sql_query("COMMIT"))?;
            Ok(value)
        }
        Err(error) => {
            let _ = execute(conn, &diesel::sql_query("ROLLBACK"));
            Err(error)
        }
    }
}

/// THE STATEMENTS OF ONE CREATE, as the service issues them (volume plan, embedded
/// provisioning and ledger, no idempotency key, no webhook): one transaction. Derived from
/// `crates/infra-mysql` (`repos/changes.rs` `write`, the `rows/*.rs` it calls, and
/// `backend.rs` `add_totals`) and checked against MariaDB's general log of one create: the
/// same statements, columns, `DEFAULT`s and values, in the same order. Update this function
/// when the service's create changes.
pub fn create_order(conn: &mut MysqlConnection, order: &NewOrder<'_>) -> QueryResult<()> {
    let price = VOLUME.price;
    let deadline = order
        .now
        .checked_add_months(Months::new(1))
        .unwrap_or(order.now);
    read_committed(conn, |conn| {
        execute(
            conn,
            &diesel::sql_query(
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
            .bind::<Nullable<Text>, _>(Some(order.resource_name)),
        )?;
        execute(
            conn,
            &diesel::sql_query(
                "INSERT INTO DF_RESOURCE (ORDER_ID, ACCOUNT_ID, REGION, KIND, NAME, ACTIVE_NAME, \
                 CREATED_AT) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind::<Text, _>(order.order_id)
            .bind::<Text, _>(order.project)
            .bind::<Text, _>(VOLUME.region)
            .bind::<Text, _>("volume")
            .bind::<Nullable<Text>, _>(Some(order.resource_name))
            .bind::<Nullable<Text>, _>(Some(order.resource_name))
            .bind::<Datetime, _>(order.now),
        )?;
        execute(
            conn,
            &diesel::sql_query(
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
            .bind::<SmallInt, _>(NEW),
        )?;
        execute(
            conn,
            &diesel::sql_query(
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
            .bind::<Datetime, _>(order.now),
        )?;
        execute(
            conn,
            &diesel::sql_query(
                "INSERT INTO DF_NOTIFICATION (ACCOUNT_ID, REGION, ORDER_ID, KIND, AMOUNT, \
                 MESSAGE, CREATE_TIME) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind::<Text, _>(order.project)
            .bind::<Text, _>(VOLUME.region)
            .bind::<Text, _>(order.order_id)
            .bind::<Text, _>("order_created")
            .bind::<Nullable<BigInt>, _>(Some(price))
            .bind::<Text, _>(&format!("opened on plan {}", VOLUME.id))
            .bind::<Datetime, _>(order.now),
        )?;
        let debited = execute(
            conn,
            &diesel::sql_query(
                "UPDATE DF_BALANCE SET BALANCE = BALANCE - ?, UPDATE_TIME = ? \
                 WHERE ACCOUNT_ID = ? AND BALANCE >= ? AND BALANCE <= ?",
            )
            .bind::<BigInt, _>(price)
            .bind::<Datetime, _>(order.now)
            .bind::<Text, _>(order.project)
            .bind::<BigInt, _>(price)
            .bind::<BigInt, _>(i64::MAX),
        )?;
        if debited != 1 {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        execute(
            conn,
            &diesel::sql_query(
                "INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, TOTAL) \
                 VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?) \
                 ON DUPLICATE KEY UPDATE TOTAL = TOTAL + VALUES(TOTAL)",
            )
            .bind::<Text, _>(order.project)
            .bind::<Text, _>("notifications")
            .bind::<SmallInt, _>(0)
            .bind::<Text, _>(VOLUME.region)
            .bind::<BigInt, _>(1)
            .bind::<Text, _>(order.project)
            .bind::<Text, _>("orders")
            .bind::<SmallInt, _>(CONSUMING)
            .bind::<Text, _>(VOLUME.region)
            .bind::<BigInt, _>(1)
            .bind::<Text, _>(order.project)
            .bind::<Text, _>("usages")
            .bind::<SmallInt, _>(0)
            .bind::<Text, _>(VOLUME.region)
            .bind::<BigInt, _>(1),
        )?;
        Ok(())
    })
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
