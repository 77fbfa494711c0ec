//! The one place that knows there are two databases. Everything else talks to
//! [`DbConnection`] through diesel's backend-neutral query builder; what cannot be said
//! neutrally (write-transaction start and isolation, last insert id, migration locking,
//! the renewal claim's row locks, the time columns' SQL type in [`time`]) is matched per
//! variant here, so a third backend or a dialect change touches this file only.

use diesel::connection::{AnsiTransactionManager, SimpleConnection};
use diesel::dsl::sql;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use diesel::sqlite::SqliteConnection;

use diesel::migration::MigrationSource;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::StoreError;
use crate::rows::balance::Movement;
use crate::rows::consumption::NewConsumptionRow;
use crate::rows::list_total::{Key, TotalRow};
use crate::rows::notification::NewNotificationRow;
use crate::rows::order::{self, OrderRow, OrderUpdate};
use crate::rows::payment::NewPaymentRow;
use crate::rows::webhook_delivery::NewDeliveryRow;
use crate::schema::{
    balance, consuming_history, list_total, notification, payment, purchase_order, webhook_delivery,
};

mod cached;
mod direct;
mod session;
mod time;
pub(crate) mod transaction;

pub(crate) use cached::execute as execute_cached;
use cached::execute_mysql;
pub(crate) use direct::load_direct;

pub use session::{prepare_mysql, Timeouts};
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

/// Whether a claim or a read of balances locks what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Locking {
    /// MariaDB row locks (`FOR UPDATE [SKIP LOCKED]`): they only save work, the guards
    /// decide.
    Rows,
    /// Plain reads, for databases that ignore `SKIP LOCKED` (TiDB) or whose locks are not
    /// certified across nodes (Galera): correctness then rests on the guards alone.
    None,
}

/// One renewal claim: the queue's orders due by `due_by` that no payment or switch holds,
/// strictly after the cursor in (deadline, order id) order, at most `limit`.
#[derive(Debug)]
pub(crate) struct Claim<'a> {
    pub mode: i16,
    pub status: i16,
    pub due_by: DbTime,
    pub after_deadline: DbTime,
    pub after_order_id: &'a str,
    pub limit: i64,
    pub locking: Locking,
}

/// The claim query, built once per backend (its select clause is typed per backend). One
/// shape for every batch: the first batch's cursor precedes every order. The first four
/// conditions are the renewal index's range; the held-order ones filter beside it.
macro_rules! claim_query {
    ($claim:expr) => {{
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
            .filter(dsl::awaiting_payment.is_null())
            .filter(dsl::replaced_by.is_null())
            .order((dsl::deadline_time.asc(), dsl::order_id.asc()))
            .limit(claim.limit)
            .select((dsl::order_id, dsl::deadline_time))
    }};
}

/// Claims the orders for a renewal batch: their ids and deadlines, in claim order, which
/// is all the cursor needs (the rows are read next, and one that cannot be read is then
/// reported alone). MariaDB: `FOR UPDATE SKIP LOCKED`, so each claimed order is held until
/// commit and concurrent runs take disjoint batches instead of waiting for each other;
/// without locking, a plain read. SQLite: a plain read; the `BEGIN IMMEDIATE` around it
/// already excludes every other writer.
pub(crate) fn claim(
    conn: &mut DbConnection,
    claim: &Claim<'_>,
) -> QueryResult<Vec<(String, DbTime)>> {
    match (conn, claim.locking) {
        (DbConnection::Mysql(inner), Locking::Rows) => {
            claim_query!(claim).for_update().skip_locked().load(inner)
        }
        (DbConnection::Mysql(inner), Locking::None) => claim_query!(claim).load(inner),
        (DbConnection::Sqlite(inner), _) => claim_query!(claim).load(inner),
    }
}

/// The claim as MariaDB receives it, for tests and logs.
#[cfg(test)]
pub(crate) fn claim_sql_mysql(claim: &Claim<'_>) -> String {
    diesel::debug_query::<diesel::mysql::Mysql, _>(&claim_query!(claim).for_update().skip_locked())
        .to_string()
}

/// Reads one order for a manual renewal, locking it (MariaDB `FOR UPDATE`: a request
/// waits for a run holding the order rather than skipping it) unless `locking` says not.
pub(crate) fn claim_one(
    conn: &mut DbConnection,
    order_id: &str,
    locking: Locking,
) -> QueryResult<Option<OrderRow>> {
    macro_rules! one {
        () => {
            purchase_order::table
                .filter(purchase_order::order_id.eq(order_id))
                .select(OrderRow::as_select())
        };
    }
    match (conn, locking) {
        (DbConnection::Mysql(inner), Locking::Rows) => one!().for_update().first(inner).optional(),
        (DbConnection::Mysql(inner), Locking::None) => one!().first(inner).optional(),
        (DbConnection::Sqlite(inner), _) => one!().first(inner).optional(),
    }
}

/// Reads the projects' balances, in ACCOUNT_ID order, locking them on MariaDB with
/// [`Locking::Rows`] (in that order, so that two transactions locking overlapping sets
/// cannot deadlock on them). A project without a balance row is absent.
pub(crate) fn read_balances(
    conn: &mut DbConnection,
    projects: &[&str],
    locking: Locking,
) -> QueryResult<Vec<(String, i64)>> {
    macro_rules! balances {
        () => {
            balance::table
                .filter(balance::account_id.eq_any(projects))
                .order(balance::account_id.asc())
                .select((balance::account_id, balance::amount))
        };
    }
    if projects.is_empty() {
        return Ok(Vec::new());
    }
    match (conn, locking) {
        (DbConnection::Mysql(inner), Locking::Rows) => balances!().for_update().load(inner),
        (DbConnection::Mysql(inner), Locking::None) => balances!().load(inner),
        (DbConnection::Sqlite(inner), _) => balances!().load(inner),
    }
}

/// A multi-row `INSERT` of `rows` into `table`: diesel builds it for each backend but not
/// for the enum (its dialect has no common DEFAULT-keyword rule), so it runs on the inner
/// connection. One row (what a request's change has) goes as a single-row insert prepared
/// once per connection (see [`execute_cached`]); the text of a multi-row one grows with its rows.
macro_rules! insert_batch {
    ($conn:expr, $table:expr, $rows:expr) => {
        match ($conn, $rows) {
            (conn, [row]) => execute_cached(conn, diesel::insert_into($table).values(row)),
            (DbConnection::Mysql(inner), rows) => {
                diesel::insert_into($table).values(rows).execute(inner)
            }
            (DbConnection::Sqlite(inner), rows) => {
                diesel::insert_into($table).values(rows).execute(inner)
            }
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

/// Payment rows in one statement.
pub(crate) fn insert_payments(
    conn: &mut DbConnection,
    rows: &[NewPaymentRow<'_>],
) -> QueryResult<usize> {
    insert_batch!(conn, payment::table, rows)
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

/// Whether many guarded updates are cheaper as one statement: on MariaDB a round trip per
/// order dominated a renewal batch (see docs/benchmarks.md); SQLite is in-process, and one
/// cached statement per row is as fast.
pub(crate) fn batches_updates(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Mysql(_))
}

/// Orders per batched `UPDATE` on MariaDB: 15 placeholders each stays far below the
/// protocol's 65,535.
const ORDERS_PER_UPDATE: usize = 500;

/// Writes the orders' new states, each guarded by its expected version, and returns how
/// many were written (fewer than asked means some guard failed).
///
/// MariaDB: per 500 orders, one `UPDATE DF_PURCHASE_ORDER o JOIN (SELECT ? AS ORDER_ID, ?
/// AS EXPECTED_VERSION, ? AS STATUS, … UNION ALL SELECT ?, ?, ? …) v ON o.ORDER_ID =
/// v.ORDER_ID AND o.VERSION = v.EXPECTED_VERSION SET o.STATUS = v.STATUS, …`: the new
/// states as a derived table joined on the unique order id, which costs a quarter of the
/// `CASE ORDER_ID WHEN … END` per column it replaced (each of 13 columns scanned 500 arms
/// per row). Every value is a bound parameter; the text holds only placeholders. SQLite:
/// one guarded statement per order.
pub(crate) fn update_orders(
    conn: &mut DbConnection,
    updates: &[OrderUpdate<'_>],
) -> QueryResult<usize> {
    match conn {
        DbConnection::Mysql(inner) => updates
            .chunks(ORDERS_PER_UPDATE)
            .try_fold(0, |sum, chunk| Ok(sum + update_orders_mysql(inner, chunk)?)),
        DbConnection::Sqlite(_) => updates.iter().try_fold(0, |sum, update| {
            Ok(sum + usize::from(order::update(conn, update)?))
        }),
    }
}

fn case_arms(key: &str, n: usize) -> String {
    format!("CASE {key}{} END", " WHEN ? THEN ?".repeat(n))
}

/// The columns of [`crate::rows::order::OrderState`], in the order they are bound.
const ORDER_STATE_COLUMNS: [&str; 13] = [
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

fn update_orders_sql(n: usize) -> String {
    let first = std::iter::once("? AS ORDER_ID, ? AS EXPECTED_VERSION".to_owned())
        .chain(
            ORDER_STATE_COLUMNS
                .iter()
                .map(|column| format!("? AS {column}")),
        )
        .collect::<Vec<_>>()
        .join(", ");
    let other = vec!["?"; ORDER_STATE_COLUMNS.len() + 2].join(", ");
    let rows = std::iter::once(format!("SELECT {first}"))
        .chain((1..n).map(|_| format!("SELECT {other}")))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let set = ORDER_STATE_COLUMNS
        .iter()
        .map(|column| format!("o.{column} = v.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "UPDATE DF_PURCHASE_ORDER o JOIN ({rows}) v \
         ON o.ORDER_ID = v.ORDER_ID AND o.VERSION = v.EXPECTED_VERSION SET {set}"
    )
}

fn update_orders_mysql(
    conn: &mut MysqlConnection,
    updates: &[OrderUpdate<'_>],
) -> QueryResult<usize> {
    use diesel::mysql::Mysql;
    use diesel::sql_types::{Integer, SmallInt, Text};

    let mut query = diesel::sql_query(update_orders_sql(updates.len())).into_boxed::<Mysql>();
    for update in updates {
        let state = &update.state;
        query = query
            .bind::<Text, _>(update.order_id)
            .bind::<Integer, _>(update.expected_version)
            .bind::<SmallInt, _>(state.status)
            .bind::<Nullable<UtcDateTime>, _>(state.end_time)
            .bind::<UtcDateTime, _>(state.deadline_time)
            .bind::<Integer, _>(state.last_consume_id)
            .bind::<Integer, _>(state.renew_retries)
            .bind::<Nullable<UtcDateTime>, _>(state.last_warned_at)
            .bind::<BigInt, _>(state.price)
            .bind::<Integer, _>(state.version)
            .bind::<Integer, _>(state.payment_seq)
            .bind::<Nullable<Integer>, _>(state.awaiting_payment)
            .bind::<Nullable<Text>, _>(state.replaced_by)
            .bind::<Nullable<Text>, _>(state.active_resource_name)
            .bind::<Nullable<Text>, _>(state.active_quota);
    }
    query.execute(conn)
}

/// Applies guarded movements of distinct projects that each take money (amount > 0,
/// `requires` set) and returns how many were applied (fewer than asked means some guard
/// failed). MariaDB: one `UPDATE` per 500 projects, built like [`update_orders`]; SQLite:
/// one guarded statement per project. None creates a missing balance row: the caller
/// applies a refused movement alone to learn why.
pub(crate) fn take_all(
    conn: &mut DbConnection,
    movements: &[Movement<'_>],
    at: DbTime,
) -> QueryResult<usize> {
    match conn {
        DbConnection::Mysql(inner) => movements
            .chunks(ORDERS_PER_UPDATE)
            .try_fold(0, |sum, chunk| Ok(sum + take_all_mysql(inner, chunk, at)?)),
        DbConnection::Sqlite(_) => movements.iter().try_fold(0, |sum, movement| {
            let moved = crate::rows::balance::shift(conn, *movement, at)?;
            Ok(sum + usize::from(moved))
        }),
    }
}

fn take_all_mysql(
    conn: &mut MysqlConnection,
    movements: &[Movement<'_>],
    at: DbTime,
) -> QueryResult<usize> {
    use diesel::mysql::Mysql;
    use diesel::sql_types::Text;

    let n = movements.len();
    let arms = case_arms("ACCOUNT_ID", n);
    let sql = format!(
        "UPDATE DF_BALANCE SET BALANCE = BALANCE - {arms}, UPDATE_TIME = ? \
         WHERE ACCOUNT_ID IN ({}) AND BALANCE >= {arms}",
        vec!["?"; n].join(", ")
    );
    let mut query = diesel::sql_query(sql).into_boxed::<Mysql>();
    for movement in movements {
        query = query
            .bind::<Text, _>(movement.project)
            .bind::<BigInt, _>(movement.amount);
    }
    query = query.bind::<UtcDateTime, _>(at);
    for movement in movements {
        query = query.bind::<Text, _>(movement.project);
    }
    for movement in movements {
        query = query
            .bind::<Text, _>(movement.project)
            .bind::<BigInt, _>(movement.floor());
    }
    query.execute(conn)
}

/// Totals per upsert that are prepared once per connection (a request's change moves two
/// to four); a renewal batch's longer ones are prepared each time, so the cache stays small.
const CACHED_TOTALS: usize = 8;

/// Adds each delta to its total, creating the totals missing: MySQL in one `INSERT … ON
/// DUPLICATE KEY UPDATE TOTAL = TOTAL + VALUES(TOTAL)`, which locks the rows in the order
/// given; SQLite with one `INSERT … ON CONFLICT … DO UPDATE SET TOTAL = TOTAL +
/// excluded.TOTAL` per total.
pub(crate) fn add_totals(conn: &mut DbConnection, deltas: &[(Key<'_>, i64)]) -> QueryResult<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Mysql(inner) => {
            use diesel::mysql::Mysql;
            use diesel::sql_types::{SmallInt, Text};
            let sql = format!(
                "INSERT INTO DF_LIST_TOTAL \
                 (ACCOUNT_ID, LIST, STATUS, REGION, PLAN_TYPE, ORDER_TYPE, TOTAL) VALUES {} \
                 ON DUPLICATE KEY UPDATE TOTAL = TOTAL + VALUES(TOTAL)",
                vec!["(?, ?, ?, ?, ?, ?, ?)"; deltas.len()].join(", ")
            );
            let mut query = diesel::sql_query(sql).into_boxed::<Mysql>();
            for (key, delta) in deltas {
                query = query
                    .bind::<Text, _>(key.account_id)
                    .bind::<Text, _>(key.list)
                    .bind::<SmallInt, _>(key.status)
                    .bind::<Text, _>(key.region)
                    .bind::<Text, _>(key.plan_type)
                    .bind::<SmallInt, _>(key.order_type)
                    .bind::<BigInt, _>(*delta);
            }
            if deltas.len() <= CACHED_TOTALS {
                execute_mysql(inner, &query)?;
            } else {
                query.execute(inner)?;
            }
        }
        DbConnection::Sqlite(inner) => {
            // diesel upserts one row at a time on SQLite; in process, that costs nothing.
            use diesel::upsert::excluded;
            for (key, delta) in deltas {
                diesel::insert_into(list_total::table)
                    .values(&TotalRow {
                        key: *key,
                        total: *delta,
                    })
                    .on_conflict((
                        list_total::account_id,
                        list_total::list,
                        list_total::status,
                        list_total::region,
                        list_total::plan_type,
                        list_total::order_type,
                    ))
                    .do_update()
                    .set(list_total::total.eq(list_total::total + excluded(list_total::total)))
                    .execute(inner)?;
            }
        }
    }
    Ok(())
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
/// advisory lock held for the whole run, which runs without the connection's `timeouts`
/// (a schema change may take minutes) and puts them back after. SQLite: the whole run is
/// one `BEGIN IMMEDIATE` transaction, which serialises processes sharing the file and rolls
/// back a failed run.
pub fn run_migrations(conn: &mut DbConnection, timeouts: Timeouts) -> Result<(), StoreError> {
    match conn {
        DbConnection::Mysql(inner) => session::unlimited(inner, timeouts, migrate_mysql),
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
                .map_err(|e| StoreError::Migration(e.to_string()))?;
            // The enum is a migration connection too; this runs on the SQLite inside.
            transaction::finish(conn, |conn| {
                conn.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|applied| log_applied(Backend::Sqlite, applied.len()))
                    .map_err(|e| StoreError::Migration(e.to_string()))
            })
        }
    }
}

/// The versions of the migrations embedded for the connection's backend, which a current
/// schema has all applied.
pub(crate) fn embedded_migrations(conn: &DbConnection) -> Result<Vec<String>, StoreError> {
    let listed = match conn {
        DbConnection::Mysql(_) => {
            MigrationSource::<diesel::mysql::Mysql>::migrations(&MYSQL_MIGRATIONS)
                .map(|all| all.iter().map(|m| m.name().version().to_string()).collect())
        }
        DbConnection::Sqlite(_) => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map(|all| all.iter().map(|m| m.name().version().to_string()).collect())
        }
    };
    listed.map_err(|e| StoreError::Migration(e.to_string()))
}

fn migrate_mysql(conn: &mut MysqlConnection) -> Result<(), StoreError> {
    acquire_migration_lock(conn)?;
    let outcome = conn
        .run_pending_migrations(MYSQL_MIGRATIONS)
        .map(|applied| log_applied(Backend::Mysql, applied.len()))
        .map_err(|e| StoreError::Migration(e.to_string()));
    let released = diesel::select(
        sql::<Nullable<BigInt>>("RELEASE_LOCK(")
            .bind::<diesel::sql_types::Text, _>(MIGRATION_LOCK)
            .sql(")"),
    )
    .get_result::<Option<i64>>(conn);
    outcome?;
    released.map_err(|e| StoreError::Migration(format!("RELEASE_LOCK failed: {e}")))?;
    Ok(())
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

    fn at() -> DbTime {
        DbTime(
            chrono::DateTime::from_timestamp(1_800_000_000, 0)
                .unwrap()
                .naive_utc(),
        )
    }

    #[test]
    fn the_mysql_claim_skips_rows_other_transactions_hold_and_follows_the_renewal_index() {
        let sql = claim_sql_mysql(&Claim {
            mode: 0,
            status: 5,
            due_by: at(),
            after_deadline: at(),
            after_order_id: "o-1",
            limit: 500,
            locking: Locking::Rows,
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
    fn the_claim_leaves_orders_a_payment_or_a_switch_holds() {
        let sql = claim_sql_mysql(&Claim {
            mode: 0,
            status: 5,
            due_by: at(),
            after_deadline: at(),
            after_order_id: "",
            limit: 10,
            locking: Locking::Rows,
        });
        assert!(
            sql.contains("`DF_PURCHASE_ORDER`.`AWAITING_PAYMENT` IS NULL"),
            "{sql}"
        );
        assert!(
            sql.contains("`DF_PURCHASE_ORDER`.`REPLACED_BY` IS NULL"),
            "{sql}"
        );
    }

    #[test]
    fn a_batched_order_update_binds_every_value_and_guards_every_version() {
        let sql = update_orders_sql(3);
        assert!(
            sql.starts_with(
                "UPDATE DF_PURCHASE_ORDER o JOIN (SELECT ? AS ORDER_ID, ? AS EXPECTED_VERSION, "
            ),
            "{sql}"
        );
        assert!(
            sql.contains(") v ON o.ORDER_ID = v.ORDER_ID AND o.VERSION = v.EXPECTED_VERSION SET "),
            "{sql}"
        );
        assert_eq!(sql.matches(" UNION ALL SELECT ").count(), 2);
        assert_eq!(
            sql.matches('?').count(),
            3 * (ORDER_STATE_COLUMNS.len() + 2)
        );
        for column in ORDER_STATE_COLUMNS {
            assert!(sql.contains(&format!("? AS {column}")), "{column}: {sql}");
            assert!(
                sql.contains(&format!("o.{column} = v.{column}")),
                "{column}: {sql}"
            );
        }
        assert!(!sql.contains('\''), "no literal values: {sql}");
    }
}
