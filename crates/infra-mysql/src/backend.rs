//! The one place that knows there are two databases. Everything else talks to
//! [`DbConnection`] through diesel's backend-neutral query builder; what cannot be said
//! neutrally (write-transaction start, last insert id, migration locking) is matched per
//! variant here, so a third backend or a dialect change touches this file only.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::dsl::sql;
use diesel::mysql::MysqlConnection;
use diesel::sql_types::{BigInt, Nullable};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::StoreError;

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

/// Runs `work` in a transaction that is ready to write from its first statement.
///
/// On SQLite a plain `BEGIN` takes the write lock only at the first write, and a reader that
/// then wants to write fails with "database is locked" regardless of `busy_timeout`;
/// `BEGIN IMMEDIATE` takes it up front, so concurrent writers queue instead. The begin goes
/// through the inner connection's transaction manager, so nested transactions inside
/// `work` still become savepoints and commit/rollback go through the enum as usual.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Mysql(_) => conn.transaction(work),
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
/// a server without InnoDB fails rather than quietly creating non-transactional tables.
pub fn prepare_mysql(conn: &mut MysqlConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("SET SESSION sql_mode = 'TRADITIONAL,NO_ENGINE_SUBSTITUTION'")
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
