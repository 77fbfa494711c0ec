//! Turning a database URL into a pool of [`DbConnection`]s.
//!
//! diesel's derived `MultiConnection::establish` tries every backend in turn and reports
//! only "Invalid connection url for multiconnection", even when MySQL is merely down. This
//! manager picks the backend from the URL scheme first, so the operator sees the real
//! cause ("Can't connect to server…", "Unknown database…").

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::mysql::MysqlConnection;
use diesel::r2d2::{ManageConnection, Pool, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use crate::availability::Availability;
use crate::backend::{self, Backend, DbConnection, Timeouts};
use crate::error::StoreError;
use crate::telemetry::PoolEvents;

/// How long a caller waits for a free pooled connection before the store counts as
/// unavailable (a 503 rather than a hung request).
pub(crate) const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) type DbPool = Pool<Manager>;

/// Where connections go, parsed from the URL once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The URL as given (diesel parses it), plus a copy without the password for messages.
    Mysql { url: String, shown: String },
    /// A file path.
    Sqlite { path: String },
}

impl Target {
    /// `mysql://user[:password]@host[:port]/database`, `sqlite://relative/path.db` or
    /// `sqlite:///absolute/path.db`.
    pub(crate) fn parse(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("mysql://") {
            return Ok(Target::Mysql {
                url: url.to_owned(),
                shown: redact_password(url),
            });
        }
        match url.strip_prefix("sqlite://") {
            // An in-memory database would be a different, empty one per pooled connection.
            Some(path) if !path.is_empty() && !path.contains(":memory:") => Ok(Target::Sqlite {
                path: path.to_owned(),
            }),
            _ => Err(StoreError::UnsupportedUrl {
                url: redact_password(url),
            }),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Target::Mysql { .. } => Backend::Mysql,
            Target::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// The target as it may appear in logs and errors.
    pub(crate) fn shown(&self) -> String {
        match self {
            Target::Mysql { shown, .. } => shown.clone(),
            Target::Sqlite { path } => format!("sqlite://{path}"),
        }
    }
}

/// `mysql://user:secret@host/db` → `mysql://user:***@host/db`: errors and logs must not leak it.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// An r2d2 manager that opens the right kind of connection and prepares it.
#[derive(Debug)]
pub(crate) struct Manager {
    target: Target,
    /// The session limits of MySQL connections.
    timeouts: Timeouts,
    /// Told of every connect's outcome.
    availability: Arc<Availability>,
}

impl Manager {
    pub(crate) fn new(target: Target, timeouts: Timeouts, availability: Arc<Availability>) -> Self {
        Self {
            target,
            timeouts,
            availability,
        }
    }

    fn open(&self) -> Result<DbConnection, StoreError> {
        let failed = |message: String| StoreError::Connect {
            url: self.target.shown(),
            message,
        };
        match &self.target {
            Target::Mysql { url, .. } => {
                let mut conn =
                    MysqlConnection::establish(url).map_err(|e| failed(e.to_string()))?;
                backend::prepare_mysql(&mut conn, self.timeouts)
                    .map_err(|e| failed(e.to_string()))?;
                Ok(DbConnection::Mysql(conn))
            }
            Target::Sqlite { path } => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(|e| failed(e.to_string()))?;
                backend::prepare_sqlite(&mut conn).map_err(|e| failed(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        let opened = self.open();
        match &opened {
            Ok(_) => self.availability.restored(),
            Err(e) => self.availability.lost(&e.to_string()),
        }
        opened
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.ping().map_err(StoreError::Query)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Opens one connection to prove the database answers (so a bad URL fails at start-up with
/// the driver's own message), prepares a SQLite file, then starts the pool.
pub(crate) fn open_pool(
    target: Target,
    size: u32,
    timeouts: Timeouts,
    availability: Arc<Availability>,
) -> Result<DbPool, StoreError> {
    if let Target::Sqlite { path } = &target {
        create_parent_directory(path)?;
    }
    let manager = Manager::new(target, timeouts, availability);
    let mut first = manager.open()?;
    if let DbConnection::Sqlite(conn) = &mut first {
        backend::enable_wal(conn).map_err(|e| StoreError::Connect {
            url: manager.target.shown(),
            message: format!("cannot switch to WAL mode: {e}"),
        })?;
    }
    drop(first);
    // No ping on every checkout (`test_on_check_out` defaults to true): it doubled the
    // round trips of a one-statement read. A connection that died while pooled fails its
    // first statement instead, and `Database` drops it and runs the work again on a live
    // one where that is safe.
    Ok(Pool::builder()
        .max_size(size.max(1))
        .test_on_check_out(false)
        .connection_timeout(CHECKOUT_TIMEOUT)
        .event_handler(PoolEvents::of_pool(size.max(1)))
        .build_unchecked(manager))
}

fn create_parent_directory(path: &str) -> Result<(), StoreError> {
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDirectory {
                dir: dir.display().to_string(),
                source,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn sqlite_urls_keep_relative_and_absolute_paths() {
        assert_eq!(
            Target::parse("sqlite://data/su.db").unwrap(),
            Target::Sqlite {
                path: "data/su.db".into()
            }
        );
        assert_eq!(
            Target::parse("sqlite:///var/lib/su.db").unwrap(),
            Target::Sqlite {
                path: "/var/lib/su.db".into()
            }
        );
    }

    #[test]
    fn unknown_scheme_and_empty_sqlite_path_are_rejected_by_name() {
        for url in [
            "postgres://x@h/db",
            "sqlite://",
            "sqlite://:memory:",
            "data/su.db",
            "",
        ] {
            let error = Target::parse(url).unwrap_err();
            let text = error.to_string();
            assert!(text.contains("unsupported database url"), "{text}");
            assert!(
                text.contains("mysql://") && text.contains("sqlite://"),
                "{text}"
            );
        }
    }

    #[test]
    fn passwords_never_appear_in_messages() {
        let target = Target::parse("mysql://root:s3cret@db:3306/su").unwrap();
        assert_eq!(target.shown(), "mysql://root:***@db:3306/su");
        let error = Target::parse("postgres://u:s3cret@h/db").unwrap_err();
        assert!(!error.to_string().contains("s3cret"));
    }

    #[test]
    fn url_without_password_is_shown_as_is() {
        let target = Target::parse("mysql://root@127.0.0.1:3306/su").unwrap();
        assert_eq!(target.shown(), "mysql://root@127.0.0.1:3306/su");
        assert_eq!(target.backend(), Backend::Mysql);
    }
}
