//! The one place that knows there are two databases. Everything else talks to
//! [`DbConnection`] through diesel's backend-neutral query builder; what cannot be said
//! neutrally (write-transaction start and isolation, last insert id, migration locking,
//! the renewal claim's row locks, the time columns' SQL type in [`time`]) is matched per
//! variant here, so a third backend or a dialect change touches this file only.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::dsl::sql;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use diesel::sqlite::SqliteConnection;

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use domain::order::OrderStatus;

use crate::error::StoreError;
use crate::rows::consumption::NewConsumptionRow;
use crate::rows::notification::NewNotificationRow;
use crate::rows::order::{self, OrderRow, Regions, RenewOrder};
use crate::rows::webhook_delivery::NewDeliveryRow;
use crate::schema::{balance, consuming_history, notification, purchase_order, webhook_delivery};

mod time;

pub use time::{DbTime, UtcDateTime};

const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Name of the MySQL advisory lock that serialises migrations across replicas.
const MIGRATION_LOCK: &str = "serviceusage_migrations";
/// Seconds a replica waits for another one's migrations before giving up.
const MIGRATION_LOCK_WAIT_SECONDS: i64 = 60;

/// A connection to either supported database; the variant is chosen by the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Mysql(MysqlConnection),
    Sqlite(SqliteConnection),
}

/// Which database a [`crate::Database`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Mysql,
    Sqlite,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Mysql => "mysql",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// How strictly a write transaction is isolated from concurrent ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// The server's default (REPEATABLE READ on MariaDB).
    Default,
    /// MariaDB READ COMMITTED: locking reads take no gap locks, so a claim's range scan
    /// does not block orders being inserted into its range. Safe for work that reads only
    /// rows it locks. SQLite serialises writers anyway and ignores it.
    ReadCommitted,
}

/// Runs `work` in a transaction that is ready to write from its first statement.
///
/// On SQLite a plain `BEGIN` takes the write lock only at the first write, and a reader that
/// then wants to write fails with "database is locked" regardless of `busy_timeout`;
/// `BEGIN IMMEDIATE` takes it up front, so concurrent writers queue instead. The begin goes
/// through the inner connection's transaction manager, so nested transactions inside
/// `work` still become savepoints and commit/rollback go through the enum as usual.
pub fn write_transaction<T, E, F>(
    conn: &mut DbConnection,
    isolation: Isolation,
    work: F,
) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Mysql(inner) => {
            if isolation == Isolation::ReadCommitted {
                // Without SESSION it applies to the next transaction only.
                inner.batch_execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")?;
            }
            conn.transaction(work)
        }
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            finish_transaction(conn, work)
        }
    }
}

/// Commits or rolls back a transaction already begun, exactly as diesel's
/// `TransactionManager::transaction` does after its own `BEGIN`.
fn finish_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    match work(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(failure) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(failure),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// One renewal claim: the queue's orders in `regions` due by `due_by`, strictly after the
/// cursor in (deadline, order id) order, at most `limit`.
#[derive(Debug)]
pub(crate) struct Claim<'a> {
    pub mode: i16,
    pub status: i16,
    pub regions: Regions<'a>,
    pub due_by: DbTime,
    pub after_deadline: DbTime,
    pub after_order_id: &'a str,
    pub limit: i64,
}

/// The claim query, built once per backend (its select clause is typed per backend), with
/// an optional region filter. One shape for every batch: the first batch's cursor precedes
/// every order.
macro_rules! claim_query {
    ($claim:expr $(, $regions:expr)?) => {{
        use crate::schema::purchase_order::dsl;
        let claim: &Claim<'_> = $claim;
        purchase_order::table
            .filter(dsl::charging_mode.eq(claim.mode))
            .filter(dsl::status.eq(claim.status))
            .filter(dsl::deadline_time.le(claim.due_by))
            .filter(dsl::deadline_time.ge(claim.after_deadline))
            .filter(
                dsl::deadline_time
                    .gt(claim.after_deadline)
                    .or(dsl::order_id.gt(claim.after_order_id)),
            )
            $(.filter($regions))?
            .order((dsl::deadline_time.asc(), dsl::order_id.asc()))
            .limit(claim.limit)
            .select(OrderRow::as_select())
    }};
}

/// Runs `$run` on the claim query of `$claim`'s region scope, bound to `$query`: each scope
/// is a query of its own type, since diesel cannot lock a boxed query.
macro_rules! with_claim_query {
    ($claim:expr, |$query:ident| $run:expr) => {{
        let claim: &Claim<'_> = $claim;
        match &claim.regions {
            Regions::All => {
                let $query = claim_query!(claim);
                $run
            }
            Regions::Only(names) => {
                let $query = claim_query!(claim, purchase_order::region.eq_any(names));
                $run
            }
            Regions::Except(names) => {
                let $query = claim_query!(claim, purchase_order::region.ne_all(names));
                $run
            }
        }
    }};
}

/// Claims the orders for a renewal batch. MariaDB: `FOR UPDATE SKIP LOCKED`, so each
/// claimed order is held until commit and concurrent runs take disjoint batches instead
/// of waiting for each other. SQLite: a plain read; the `BEGIN IMMEDIATE` around it
/// already excludes every other writer.
pub(crate) fn claim(conn: &mut DbConnection, claim: &Claim<'_>) -> QueryResult<Vec<OrderRow>> {
    match conn {
        DbConnection::Mysql(inner) => {
            with_claim_query!(claim, |query| query.for_update().skip_locked().load(inner))
        }
        DbConnection::Sqlite(inner) => with_claim_query!(claim, |query| query.load(inner)),
    }
}

/// The orders a claim would take, read without locking any: the same selection and order.
pub(crate) fn peek(conn: &mut DbConnection, claim: &Claim<'_>) -> QueryResult<Vec<OrderRow>> {
    with_claim_query!(claim, |query| query.load(conn))
}

/// The claim as MariaDB receives it, for tests and logs.
#[cfg(test)]
pub(crate) fn claim_sql_mysql(claim: &Claim<'_>) -> String {
    with_claim_query!(claim, |query| {
        diesel::debug_query::<diesel::mysql::Mysql, _>(&query.for_update().skip_locked())
            .to_string()
    })
}

/// Locks and reads the projects' balances, in ACCOUNT_ID order so that two transactions
/// locking overlapping sets cannot deadlock on them. A project without a balance row is
/// absent. SQLite: a plain read under the write lock.
pub(crate) fn lock_balances(
    conn: &mut DbConnection,
    projects: &[&str],
) -> QueryResult<Vec<(String, i64)>> {
    macro_rules! balances {
        () => {
            balance::table
                .filter(balance::account_id.eq_any(projects))
                .order(balance::account_id.asc())
                .select((balance::account_id, balance::amount))
        };
    }
    match conn {
        DbConnection::Mysql(inner) => balances!().for_update().load(inner),
        DbConnection::Sqlite(inner) => balances!().load(inner),
    }
}

/// A multi-row `INSERT` of `rows` into `table`: diesel builds it for each backend but not
/// for the enum (its dialect has no common DEFAULT-keyword rule), so it runs on the inner
/// connection.
macro_rules! insert_batch {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConnection::Mysql(inner) => diesel::insert_into($table).values($rows).execute(inner),
            DbConnection::Sqlite(inner) => diesel::insert_into($table).values($rows).execute(inner),
        }
    };
}

/// Consumption rows in one statement.
pub(crate) fn insert_consumption(
    conn: &mut DbConnection,
    rows: &[NewConsumptionRow<'_>],
) -> QueryResult<usize> {
    insert_batch!(conn, consuming_history::table, rows)
}

/// Notification rows in one statement.
pub(crate) fn insert_notifications(
    conn: &mut DbConnection,
    rows: &[NewNotificationRow<'_>],
) -> QueryResult<usize> {
    insert_batch!(conn, notification::table, rows)
}

/// Webhook delivery rows in one statement.
pub(crate) fn insert_deliveries(
    conn: &mut DbConnection,
    rows: &[NewDeliveryRow<'_>],
) -> QueryResult<usize> {
    insert_batch!(conn, webhook_delivery::table, rows)
}

/// Orders per batched `UPDATE` on MariaDB: 17 placeholders each stays far below the
/// protocol's 65,535.
const ORDERS_PER_UPDATE: usize = 500;

/// Writes the renewed orders' new states, each guarded by its expected state, and returns
/// how many were written (fewer than asked means some guard failed).
///
/// MariaDB: one `UPDATE … SET col = CASE ORDER_ID WHEN ? THEN ? … END … WHERE ORDER_ID IN
/// (…) AND LAST_CONSUME_ID = CASE … AND STATUS = CASE …` per 500 orders, since a round trip
/// per order dominated a batch (see docs/benchmarks.md). Every value is a bound parameter;
/// the text holds only placeholders. SQLite is in-process: one guarded statement per order.
pub(crate) fn renew_orders(
    conn: &mut DbConnection,
    changes: &[RenewOrder<'_>],
) -> QueryResult<usize> {
    match conn {
        DbConnection::Mysql(inner) => changes
            .chunks(ORDERS_PER_UPDATE)
            .try_fold(0, |sum, chunk| Ok(sum + renew_orders_mysql(inner, chunk)?)),
        DbConnection::Sqlite(_) => changes.iter().try_fold(0, |sum, change| {
            Ok(sum + usize::from(order::renew(conn, change)?))
        }),
    }
}

fn case_arms(n: usize) -> String {
    format!("CASE ORDER_ID{} END", " WHEN ? THEN ?".repeat(n))
}

fn renew_orders_sql(changes: &[RenewOrder<'_>]) -> String {
    let n = changes.len();
    let ended = changes
        .iter()
        .filter(|c| c.status == OrderStatus::Ended.code())
        .count();
    let free_names = if ended == 0 {
        String::new()
    } else {
        format!(
            ", ACTIVE_RESOURCE_NAME = CASE ORDER_ID{} ELSE ACTIVE_RESOURCE_NAME END",
            " WHEN ? THEN NULL".repeat(ended)
        )
    };
    let arms = case_arms(n);
    format!(
        "UPDATE DF_PURCHASE_ORDER SET STATUS = {arms}, DEADLINE_TIME = {arms}, \
         END_TIME = {arms}, LAST_CONSUME_ID = {arms}, RENEW_RETRIES = {arms}, \
         LAST_WARNED_AT = {arms}{free_names} WHERE ORDER_ID IN ({}) \
         AND LAST_CONSUME_ID = {arms} AND STATUS = {arms}",
        vec!["?"; n].join(", ")
    )
}

fn renew_orders_mysql(
    conn: &mut MysqlConnection,
    changes: &[RenewOrder<'_>],
) -> QueryResult<usize> {
    use diesel::mysql::Mysql;
    use diesel::sql_types::{Integer, SmallInt, Text};

    let mut query = diesel::sql_query(renew_orders_sql(changes)).into_boxed::<Mysql>();
    macro_rules! arms {
        ($ty:ty, $field:ident) => {
            for change in changes {
                query = query
                    .bind::<Text, _>(change.order_id)
                    .bind::<$ty, _>(change.$field);
            }
        };
    }
    arms!(SmallInt, status);
    arms!(UtcDateTime, deadline_time);
    arms!(Nullable<UtcDateTime>, end_time);
    arms!(Integer, last_consume_id);
    arms!(Integer, renew_retries);
    arms!(Nullable<UtcDateTime>, last_warned_at);
    for change in changes
        .iter()
        .filter(|c| c.status == OrderStatus::Ended.code())
    {
        query = query.bind::<Text, _>(change.order_id);
    }
    for change in changes {
        query = query.bind::<Text, _>(change.order_id);
    }
    arms!(Integer, expected_last_consume_id);
    arms!(SmallInt, expected_status);
    query.execute(conn)
}

/// Takes each `(project, amount)` from its balance if the balance covers it; returns how
/// many were taken. MariaDB: one `UPDATE` per 500 projects, built like [`renew_orders`];
/// SQLite: one guarded statement per project.
pub(crate) fn debit_all(
    conn: &mut DbConnection,
    debits: &[(&str, i64)],
    at: DbTime,
) -> QueryResult<usize> {
    match conn {
        DbConnection::Mysql(inner) => debits
            .chunks(ORDERS_PER_UPDATE)
            .try_fold(0, |sum, chunk| Ok(sum + debit_all_mysql(inner, chunk, at)?)),
        DbConnection::Sqlite(_) => debits.iter().try_fold(0, |sum, &(project, amount)| {
            Ok(sum + usize::from(crate::rows::balance::debit(conn, project, amount, at)?))
        }),
    }
}

fn debit_all_mysql(
    conn: &mut MysqlConnection,
    debits: &[(&str, i64)],
    at: DbTime,
) -> QueryResult<usize> {
    use diesel::mysql::Mysql;
    use diesel::sql_types::Text;

    let n = debits.len();
    let arms = format!("CASE ACCOUNT_ID{} END", " WHEN ? THEN ?".repeat(n));
    let sql = format!(
        "UPDATE DF_BALANCE SET BALANCE = BALANCE - {arms}, UPDATE_TIME = ? \
         WHERE ACCOUNT_ID IN ({}) AND BALANCE >= {arms}",
        vec!["?"; n].join(", ")
    );
    let mut query = diesel::sql_query(sql).into_boxed::<Mysql>();
    for &(project, amount) in debits {
        query = query.bind::<Text, _>(project).bind::<BigInt, _>(amount);
    }
    query = query.bind::<UtcDateTime, _>(at);
    for &(project, _) in debits {
        query = query.bind::<Text, _>(project);
    }
    for &(project, amount) in debits {
        query = query.bind::<Text, _>(project).bind::<BigInt, _>(amount);
    }
    query.execute(conn)
}

/// The auto-increment id of the row the last `INSERT` on this connection created.
pub fn last_insert_id(conn: &mut DbConnection) -> diesel::QueryResult<i64> {
    match conn {
        // LAST_INSERT_ID() is BIGINT UNSIGNED; the ids are signed BIGINT columns.
        DbConnection::Mysql(inner) => {
            diesel::select(sql::<BigInt>("CAST(LAST_INSERT_ID() AS SIGNED)")).get_result(inner)
        }
        DbConnection::Sqlite(inner) => {
            diesel::select(sql::<BigInt>("last_insert_rowid()")).get_result(inner)
        }
    }
}

/// Applies the embedded migrations of the connection's backend.
///
/// MySQL: DDL is not transactional, so replicas starting together are kept apart with an
/// advisory lock held for the whole run. SQLite: the whole run is one `BEGIN IMMEDIATE`
/// transaction, which serialises processes sharing the file and rolls back a failed run.
pub fn run_migrations(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        DbConnection::Mysql(inner) => {
            acquire_migration_lock(inner)?;
            let outcome = inner
                .run_pending_migrations(MYSQL_MIGRATIONS)
                .map(|applied| log_applied(Backend::Mysql, applied.len()))
                .map_err(|e| StoreError::Migration(e.to_string()));
            let released = diesel::select(
                sql::<Nullable<BigInt>>("RELEASE_LOCK(")
                    .bind::<diesel::sql_types::Text, _>(MIGRATION_LOCK)
                    .sql(")"),
            )
            .get_result::<Option<i64>>(inner);
            outcome?;
            released.map_err(|e| StoreError::Migration(format!("RELEASE_LOCK failed: {e}")))?;
            Ok(())
        }
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
                .map_err(|e| StoreError::Migration(e.to_string()))?;
            // The enum is a migration connection too; this runs on the SQLite inside.
            finish_transaction(conn, |conn| {
                conn.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|applied| log_applied(Backend::Sqlite, applied.len()))
                    .map_err(|e| StoreError::Migration(e.to_string()))
            })
        }
    }
}

fn log_applied(backend: Backend, count: usize) {
    if count == 0 {
        log::info!("{backend} schema is up to date");
    } else {
        log::info!("applied {count} {backend} migration(s)");
    }
}

fn acquire_migration_lock(conn: &mut MysqlConnection) -> Result<(), StoreError> {
    let acquired = diesel::select(
        sql::<Nullable<BigInt>>("GET_LOCK(")
            .bind::<diesel::sql_types::Text, _>(MIGRATION_LOCK)
            .sql(", ")
            .bind::<BigInt, _>(MIGRATION_LOCK_WAIT_SECONDS)
            .sql(")"),
    )
    .get_result::<Option<i64>>(conn)
    .map_err(|e| StoreError::Migration(format!("GET_LOCK failed: {e}")))?;
    if acquired == Some(1) {
        Ok(())
    } else {
        Err(StoreError::Migration(format!(
            "another instance held the migration lock {MIGRATION_LOCK:?} for more than \
             {MIGRATION_LOCK_WAIT_SECONDS} s"
        )))
    }
}

/// Per-connection MySQL settings: a fixed strict SQL mode, so an over-long value or a bad
/// date fails instead of being silently truncated, whatever the server's default is, and
/// a server without InnoDB fails rather than quietly creating non-transactional tables;
/// and UTC as the session time zone, so that `NOW()`-style defaults and any implicit
/// conversion of a time never depend on the server's zone (diesel's connect sets UTC too,
/// but that is its detail, not a promise).
pub fn prepare_mysql(conn: &mut MysqlConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        "SET SESSION sql_mode = 'TRADITIONAL,NO_ENGINE_SUBSTITUTION', \
         SESSION time_zone = '+00:00'",
    )
}

/// Per-connection SQLite settings. `busy_timeout` comes first so that the statements after
/// it (and every later one) wait for a writer instead of failing at once.
pub fn prepare_sqlite(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
    )
}

/// Puts the SQLite file into WAL mode (persistent in the file; done once before the pool
/// starts), so readers never wait for the writer.
pub fn enable_wal(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("PRAGMA journal_mode = WAL;")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_mysql_claim_skips_rows_other_transactions_hold_and_follows_the_renewal_index() {
        let at = DbTime(
            chrono::DateTime::from_timestamp(1_800_000_000, 0)
                .unwrap()
                .naive_utc(),
        );
        let sql = claim_sql_mysql(&Claim {
            mode: 0,
            status: 5,
            regions: Regions::All,
            due_by: at,
            after_deadline: at,
            after_order_id: "o-1",
            limit: 500,
        });
        assert!(sql.contains("FOR UPDATE SKIP LOCKED"), "{sql}");
        assert!(
            sql.contains(
                "ORDER BY `DF_PURCHASE_ORDER`.`DEADLINE_TIME` ASC, \
                 `DF_PURCHASE_ORDER`.`ORDER_ID` ASC LIMIT ?"
            ),
            "{sql}"
        );
        assert!(
            sql.contains("`DF_PURCHASE_ORDER`.`CHARGING_MODE` = ?"),
            "{sql}"
        );
    }

    #[test]
    fn a_region_scope_filters_beside_the_renewal_index_and_keeps_the_lock() {
        let at = DbTime(
            chrono::DateTime::from_timestamp(1_800_000_000, 0)
                .unwrap()
                .naive_utc(),
        );
        let claim = |regions| Claim {
            mode: 0,
            status: 5,
            regions,
            due_by: at,
            after_deadline: at,
            after_order_id: "o-1",
            limit: 500,
        };
        let order_by = "ORDER BY `DF_PURCHASE_ORDER`.`DEADLINE_TIME` ASC, \
                        `DF_PURCHASE_ORDER`.`ORDER_ID` ASC LIMIT ?";
        let only = claim_sql_mysql(&claim(Regions::Only(vec!["r1", "r2"])));
        assert!(
            only.contains("`DF_PURCHASE_ORDER`.`REGION` IN (?, ?)"),
            "{only}"
        );
        let except = claim_sql_mysql(&claim(Regions::Except(vec!["r1"])));
        assert!(
            except.contains("`DF_PURCHASE_ORDER`.`REGION` NOT IN (?)"),
            "{except}"
        );
        for sql in [only, except] {
            assert!(sql.contains("FOR UPDATE SKIP LOCKED"), "{sql}");
            assert!(sql.contains(order_by), "{sql}");
        }
    }
}
