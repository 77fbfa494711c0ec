//! Starting and ending transactions in as few round trips as the backend allows.
//!
//! diesel's transaction manager sends `BEGIN`, `COMMIT` and `ROLLBACK` through
//! `batch_execute`, which on MySQL wraps each in two more commands (multi-statements on,
//! then off): six round trips per transaction before its own work, more than the work of a
//! short one. On MySQL they go instead as statements diesel prepares once per connection
//! and caches, one `COM_STMT_EXECUTE` each, and diesel's manager is told the depth, so a
//! nested transaction inside still becomes a savepoint and a pool still sees a connection
//! left inside a transaction as broken. SQLite is in-process: diesel's own manager is kept.

use diesel::connection::{
    AnsiTransactionManager, TransactionDepthChange, TransactionManager, TransactionManagerStatus,
};
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::Error as DieselError;

use super::{DbConnection, Isolation};

/// How a transaction starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// Reads that must see one snapshot (MySQL: read-only, at the session's REPEATABLE
    /// READ; SQLite: a deferred transaction, which takes no write lock).
    Snapshot,
    /// Writes at the given isolation. On SQLite `BEGIN IMMEDIATE`: a plain `BEGIN` takes
    /// the write lock only at the first write, and a reader that then wants to write fails
    /// with "database is locked" regardless of `busy_timeout`; taking it up front makes
    /// concurrent writers queue instead.
    Write(Isolation),
}

/// A fixed statement as a diesel query with a static id, so that diesel prepares it once
/// per connection and caches it.
macro_rules! fixed_statement {
    ($(#[$doc:meta])* $name:ident = $sql:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, QueryId)]
        struct $name;

        impl QueryFragment<Mysql> for $name {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }

        impl RunQueryDsl<MysqlConnection> for $name {}
    };
}

fixed_statement!(Begin = "BEGIN");
fixed_statement!(
    /// Without SESSION it applies to the next transaction only.
    NextReadCommitted = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"
);
fixed_statement!(BeginReadOnly = "START TRANSACTION READ ONLY");
fixed_statement!(Commit = "COMMIT");
fixed_statement!(Rollback = "ROLLBACK");

type MysqlManager = AnsiTransactionManager;

fn mysql_status(conn: &mut MysqlConnection) -> &mut TransactionManagerStatus {
    <MysqlManager as TransactionManager<MysqlConnection>>::transaction_manager_status_mut(conn)
}

fn change_depth(conn: &mut MysqlConnection, change: TransactionDepthChange) -> QueryResult<()> {
    mysql_status(conn)
        .transaction_state()?
        .change_transaction_depth(change)
}

/// Begins a top-level transaction.
///
/// Errors: `AlreadyInTransaction`, or what the database answered (a connection lost while
/// pooled fails here, before anything of the transaction was sent).
pub(crate) fn begin(conn: &mut DbConnection, start: Start) -> QueryResult<()> {
    match conn {
        DbConnection::Mysql(inner) => {
            if mysql_status(inner).transaction_depth()?.is_some() {
                return Err(DieselError::AlreadyInTransaction);
            }
            match start {
                Start::Snapshot => BeginReadOnly.execute(inner).map(drop)?,
                Start::Write(Isolation::Default) => Begin.execute(inner).map(drop)?,
                Start::Write(Isolation::ReadCommitted) => {
                    NextReadCommitted.execute(inner)?;
                    Begin.execute(inner).map(drop)?;
                }
            }
            change_depth(inner, TransactionDepthChange::IncreaseDepth)
        }
        DbConnection::Sqlite(inner) => {
            let sql = match start {
                Start::Snapshot => "BEGIN",
                Start::Write(_) => "BEGIN IMMEDIATE",
            };
            AnsiTransactionManager::begin_transaction_sql(inner, sql)
        }
    }
}

/// Runs `work` in the transaction [`begin`] started, then commits it, or rolls it back if
/// `work` failed, as diesel's `TransactionManager::transaction` does after its own `BEGIN`.
/// A commit that fails is rolled back; if that fails too, the connection is left broken
/// (the pool drops it) and the error is `RollbackErrorOnCommit`: whether the commit landed
/// is unknown.
pub(crate) fn finish<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DieselError>,
{
    match work(conn) {
        Ok(value) => {
            commit(conn)?;
            Ok(value)
        }
        Err(failure) => match rollback(conn) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(failure),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

fn commit(conn: &mut DbConnection) -> QueryResult<()> {
    let DbConnection::Mysql(inner) = conn else {
        return <DbConnection as Connection>::TransactionManager::commit_transaction(conn);
    };
    top_level(inner)?;
    match Commit.execute(inner) {
        Ok(_) => change_depth(inner, TransactionDepthChange::DecreaseDepth),
        Err(commit_error) => match rollback_mysql(inner) {
            Ok(()) => Err(commit_error),
            Err(rollback_error) => {
                mysql_status(inner).set_in_error();
                Err(DieselError::RollbackErrorOnCommit {
                    rollback_error: Box::new(rollback_error),
                    commit_error: Box::new(commit_error),
                })
            }
        },
    }
}

fn rollback(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Mysql(inner) => {
            top_level(inner)?;
            rollback_mysql(inner)
        }
        DbConnection::Sqlite(_) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
        }
    }
}

/// A rollback that fails leaves the connection broken: the server may still hold the
/// transaction open, so the pool must not hand the connection out again.
fn rollback_mysql(inner: &mut MysqlConnection) -> QueryResult<()> {
    match Rollback.execute(inner) {
        Ok(_) => change_depth(inner, TransactionDepthChange::DecreaseDepth),
        Err(e) => {
            mysql_status(inner).set_in_error();
            Err(e)
        }
    }
}

/// Only the transaction [`begin`] started is ended here; a savepoint left open inside
/// `work` is a bug, which leaves the connection broken rather than committing around it.
fn top_level(inner: &mut MysqlConnection) -> QueryResult<()> {
    match mysql_status(inner).transaction_depth()? {
        Some(depth) if depth.get() == 1 => Ok(()),
        Some(_) => {
            mysql_status(inner).set_in_error();
            Err(DieselError::BrokenTransactionManager)
        }
        None => Err(DieselError::NotInTransaction),
    }
}

/// Marks the connection unusable, so the pool drops it instead of handing it out again
/// (its server connection was lost).
pub(crate) fn forget(conn: &mut DbConnection) {
    <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .set_in_error();
}
