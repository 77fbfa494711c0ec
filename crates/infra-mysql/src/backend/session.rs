//! What every MySQL/MariaDB connection sets for its session: a strict SQL mode, UTC, and
//! limits on how long one statement may run and wait for a row lock. Without the limits a
//! statement stuck behind a lock (MariaDB waits 50 s by default, and a retried transaction
//! four times that) or a runaway query holds a request, a pooled connection and possibly a
//! job run for as long as the server lets it; with them it fails, the caller answers 503,
//! and the connection goes back to the pool.
//!
//! The statement limit has a different name, unit and reach per server: MariaDB's
//! `max_statement_time` (seconds, fractional) cuts every statement, MySQL's
//! `max_execution_time` (milliseconds) read-only `SELECT`s only. The server is asked which
//! it is once per connection. Migrations lift both limits: a schema change on a large table
//! may rightly take minutes, and waits up to a minute for another replica's migration lock.

use std::time::Duration;

use diesel::dsl::sql;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};

/// Per-statement limits of every pooled MySQL/MariaDB connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest a statement may run (MariaDB: every statement; MySQL: `SELECT`s);
    /// zero: no limit.
    pub statement: Duration,
    /// Longest a statement waits for a row lock before it fails (`innodb_lock_wait_timeout`:
    /// whole seconds, at least one).
    pub lock_wait: Duration,
}

impl Default for Timeouts {
    /// 30 s covers the longest statement of a renewal batch of the largest size (10,000
    /// orders, written 500 to a statement) many times over; 5 s of waiting for a lock is
    /// far beyond any transaction of the service holding one, so a longer wait means
    /// something is stuck.
    fn default() -> Self {
        Self {
            statement: Duration::from_secs(30),
            lock_wait: Duration::from_secs(5),
        }
    }
}

/// The SQL mode and time zone of every connection: an over-long value or a bad date fails
/// instead of being truncated whatever the server's default, a server without InnoDB fails
/// rather than quietly creating non-transactional tables, and `NOW()`-style defaults and
/// implicit time conversions never depend on the server's zone (diesel's connect sets UTC
/// too, but that is its detail, not a promise).
const MODE_AND_ZONE: &str =
    "SET SESSION sql_mode = 'TRADITIONAL,NO_ENGINE_SUBSTITUTION', SESSION time_zone = '+00:00'";

/// Prepares a new connection: mode, zone and `timeouts`, in one statement.
pub fn prepare_mysql(conn: &mut MysqlConnection, timeouts: Timeouts) -> QueryResult<()> {
    let lock_wait = i64::try_from(timeouts.lock_wait.as_secs().max(1)).unwrap_or(i64::MAX);
    match Server::of(conn)? {
        Server::MariaDb => diesel::sql_query(format!(
            "{MODE_AND_ZONE}, SESSION max_statement_time = ?, SESSION innodb_lock_wait_timeout = ?"
        ))
        .bind::<Double, _>(timeouts.statement.as_secs_f64())
        .bind::<BigInt, _>(lock_wait)
        .execute(conn),
        Server::Mysql => diesel::sql_query(format!(
            "{MODE_AND_ZONE}, SESSION max_execution_time = ?, SESSION innodb_lock_wait_timeout = ?"
        ))
        .bind::<BigInt, _>(i64::try_from(timeouts.statement.as_millis()).unwrap_or(i64::MAX))
        .bind::<BigInt, _>(lock_wait)
        .execute(conn),
    }
    .map(drop)
}

/// Runs `work` with the statement and lock-wait limits at the server's own defaults, then
/// puts `timeouts` back (whatever `work` gave: the connection returns to the pool).
pub fn unlimited<T, E>(
    conn: &mut MysqlConnection,
    timeouts: Timeouts,
    work: impl FnOnce(&mut MysqlConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let lift = match Server::of(conn)? {
        Server::MariaDb => {
            "SET SESSION max_statement_time = DEFAULT, SESSION innodb_lock_wait_timeout = DEFAULT"
        }
        Server::Mysql => {
            "SET SESSION max_execution_time = DEFAULT, SESSION innodb_lock_wait_timeout = DEFAULT"
        }
    };
    diesel::sql_query(lift).execute(conn)?;
    let outcome = work(conn);
    prepare_mysql(conn, timeouts)?;
    outcome
}

/// Which of the two servers a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Server {
    MariaDb,
    Mysql,
}

impl Server {
    fn of(conn: &mut MysqlConnection) -> QueryResult<Self> {
        let version: String = diesel::select(sql::<Text>("VERSION()")).get_result(conn)?;
        Ok(if version.contains("MariaDB") {
            Server::MariaDb
        } else {
            Server::Mysql
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io::Write;
    use std::time::Instant;

    use super::*;

    /// A prepared connection to the test server with `timeouts`, or `None` (after a note on
    /// the real stderr) when none answers and `SERVICEUSAGE_REQUIRE_MYSQL` is not `1`.
    fn mysql(timeouts: Timeouts) -> Option<MysqlConnection> {
        let server = std::env::var("SERVICEUSAGE_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
        match MysqlConnection::establish(server.trim_end_matches('/')) {
            Ok(mut conn) => {
                prepare_mysql(&mut conn, timeouts).unwrap();
                Some(conn)
            }
            Err(e) if std::env::var("SERVICEUSAGE_REQUIRE_MYSQL").as_deref() == Ok("1") => {
                panic!("MariaDB is required (SERVICEUSAGE_REQUIRE_MYSQL=1): {e}")
            }
            Err(_) => {
                let _ = writeln!(std::io::stderr(), "SKIPPED (MariaDB unreachable): mysql_*");
                None
            }
        }
    }

    const SHORT: Timeouts = Timeouts {
        statement: Duration::from_millis(500),
        lock_wait: Duration::from_secs(2),
    };

    fn sleep(conn: &mut MysqlConnection, seconds: f64) -> QueryResult<usize> {
        diesel::sql_query("SELECT SLEEP(?)")
            .bind::<Double, _>(seconds)
            .execute(conn)
    }

    fn lock_wait(conn: &mut MysqlConnection) -> i64 {
        diesel::select(sql::<BigInt>("@@session.innodb_lock_wait_timeout"))
            .get_result(conn)
            .unwrap()
    }

    #[test]
    fn mysql_a_statement_running_past_the_statement_timeout_is_cut_off() {
        let Some(mut conn) = mysql(SHORT) else {
            return;
        };
        let started = Instant::now();
        let error = sleep(&mut conn, 5.0).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "{error}");
        assert_eq!(
            crate::error::classify(&error),
            crate::error::Failure::TimedOut,
            "{error}"
        );
        assert_eq!(lock_wait(&mut conn), 2);
        // The connection is still good.
        sleep(&mut conn, 0.01).unwrap();
    }

    #[test]
    fn mysql_unlimited_work_runs_past_the_limits_which_come_back_after() {
        let Some(mut conn) = mysql(SHORT) else {
            return;
        };
        let waited = unlimited(&mut conn, SHORT, |conn| {
            let lifted = lock_wait(conn);
            sleep(conn, 1.0).map(|_| lifted)
        })
        .unwrap();
        assert!(waited > 2, "the server's own lock wait, not ours: {waited}");
        assert_eq!(lock_wait(&mut conn), 2);
        assert!(sleep(&mut conn, 5.0).is_err());
    }
}
