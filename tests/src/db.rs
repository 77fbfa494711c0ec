//! A direct connection to the service's database, bypassing the service: SQLite
//! (`sqlite://path`) or MariaDB (`mysql://…`), the same URLs the service takes.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::{Connection, ConnectionError, MysqlConnection, RunQueryDsl, SqliteConnection};

/// What can go wrong while seeding or checking.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        source: ConnectionError,
    },
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("{0} is neither a sqlite:// nor a mysql:// URL")]
    Url(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// One connection, on either backend.
pub enum Db {
    Mysql(MysqlConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the inner connection, whichever backend it is.
macro_rules! on_backend {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Mysql($c) => $body,
            $crate::db::Db::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;

impl Db {
    pub fn connect(url: &str) -> Result<Self> {
        let connect_error = |source| Error::Connect {
            url: url.to_owned(),
            source,
        };
        if url.starts_with("mysql://") {
            let mut conn = MysqlConnection::establish(url).map_err(connect_error)?;
            // The seeder's own transactions do not need REPEATABLE READ's gap locks.
            diesel::sql_query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                .execute(&mut conn)?;
            Ok(Db::Mysql(conn))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            let mut conn = SqliteConnection::establish(path).map_err(connect_error)?;
            // The service may hold the write lock for a moment: wait instead of failing.
            diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut conn)?;
            Ok(Db::Sqlite(conn))
        } else {
            Err(Error::Url(url.to_owned()))
        }
    }

    /// Runs one statement as written, e.g. a test corrupting a row on purpose; returns the
    /// number of rows it changed. Never with text from outside the test.
    pub fn execute(&mut self, sql: &str) -> Result<usize> {
        Ok(on_backend!(&mut *self, |c| diesel::sql_query(sql).execute(c))?)
    }

    /// Runs `work` in one transaction, through diesel's transaction manager so that what
    /// diesel nests inside (SQLite's emulated multi-row INSERT) becomes a savepoint.
    pub fn transaction<T>(&mut self, work: impl FnOnce(&mut Db) -> Result<T>) -> Result<T> {
        match self {
            Db::Mysql(c) => AnsiTransactionManager::begin_transaction(c)?,
            // The write lock up front, as the service takes it (no upgrade deadlock).
            Db::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        }
        match work(self) {
            Ok(value) => {
                on_backend!(&mut *self, |c| AnsiTransactionManager::commit_transaction(
                    c
                ))?;
                Ok(value)
            }
            Err(error) => {
                let _ = on_backend!(
                    &mut *self,
                    |c| AnsiTransactionManager::rollback_transaction(c)
                );
                Err(error)
            }
        }
    }
}

/// A MariaDB server on which to create throw-away databases.
#[derive(Clone, Debug)]
pub struct MysqlServer {
    pub base_url: String,
}

impl MysqlServer {
    /// `SERVICEUSAGE_TEST_MYSQL_URL`, else root on 127.0.0.1:3306 (as `make test` uses).
    pub fn from_env() -> Self {
        let url = std::env::var("SERVICEUSAGE_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        Self {
            base_url: url.trim_end_matches('/').to_owned(),
        }
    }

    /// Creates a database named `prefix` + a random suffix and returns its URL.
    pub fn create_database(&self, prefix: &str) -> Result<String> {
        let mut conn =
            MysqlConnection::establish(&self.base_url).map_err(|source| Error::Connect {
                url: self.base_url.clone(),
                source,
            })?;
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{prefix}_{}", &suffix[..12]);
        // A database name cannot be a bound parameter; this one is generated right here.
        diesel::sql_query(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .execute(&mut conn)?;
        Ok(format!("{}/{name}", self.base_url))
    }

    /// Drops the database of a URL made by [`MysqlServer::create_database`].
    pub fn drop_database(&self, url: &str) -> Result<()> {
        let Some(name) = url
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        else {
            return Err(Error::Url(url.to_owned()));
        };
        let mut conn =
            MysqlConnection::establish(&self.base_url).map_err(|source| Error::Connect {
                url: self.base_url.clone(),
                source,
            })?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS `{name}`")).execute(&mut conn)?;
        Ok(())
    }
}
