//! Store failures, and the single place where a database error is classified: what is a
//! duplicate key, what is worth retrying, what means the store is away. Diesel exposes no
//! error numbers for MariaDB's 1205 or SQLite's busy state, so those go by message here
//! and nowhere else.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database url {url:?}: expected mysql://user[:password]@host[:port]/database or sqlite://path")]
    UnsupportedUrl { url: String },
    #[error("cannot create the directory {dir} for the SQLite database: {source}")]
    CreateDirectory {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("no database connection available: {0}")]
    Pool(String),
    /// The last connect failed: checkouts fail at once until one succeeds (see
    /// `availability`).
    #[error("the database is down: no connection could be opened; retried in the background")]
    Down,
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Query(#[from] DieselError),
    #[error("database task failed: {0}")]
    Task(String),
}

/// What a failed statement means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A unique key refused the row.
    Duplicate,
    /// Lost to a concurrent transaction (deadlock, SQLite busy): running the whole
    /// transaction again may succeed.
    Contention,
    /// Cut off by the session's limits (a lock waited for longer than
    /// `innodb_lock_wait_timeout`, a statement ran longer than its time): the caller has
    /// waited that long already, so it is not run again.
    TimedOut,
    /// The connection or the server went away.
    Lost,
    /// Anything else: a bug or a schema mismatch.
    Other,
}

pub(crate) fn classify(error: &DieselError) -> Failure {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Failure::Duplicate,
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            Failure::Contention
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => Failure::Lost,
        DieselError::DatabaseError(_, info) => classify_message(info.message()),
        // The commit failed and the rollback after it too: the connection is unusable and
        // whether the commit landed is unknown, as when the server dies mid-commit (MariaDB
        // killed: "Server has gone away" twice). The caller's retry finds out.
        DieselError::RollbackErrorOnCommit { .. } | DieselError::BrokenTransactionManager => {
            Failure::Lost
        }
        _ => Failure::Other,
    }
}

fn classify_message(message: &str) -> Failure {
    const CONTENTION: [&str; 3] = [
        "deadlock found",
        "database is locked",
        "database table is locked",
    ];
    // MariaDB 1205 and 1969, MySQL 1205 and 3024.
    const TIMED_OUT: [&str; 3] = [
        "lock wait timeout exceeded",
        "max_statement_time exceeded",
        "maximum statement execution time exceeded",
    ];
    const LOST: [&str; 4] = [
        "server has gone away",
        "lost connection",
        "can't connect",
        "connection was killed",
    ];
    let message = message.to_ascii_lowercase();
    if CONTENTION.iter().any(|m| message.contains(m)) {
        Failure::Contention
    } else if TIMED_OUT.iter().any(|m| message.contains(m)) {
        Failure::TimedOut
    } else if LOST.iter().any(|m| message.contains(m)) {
        Failure::Lost
    } else {
        Failure::Other
    }
}

/// Whether a unique-key violation named this key (MySQL names the key, SQLite lists the
/// key's columns; both mention the distinguishing column or key name).
pub(crate) fn violates_key(error: &DieselError, marker: &str) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.message().contains(marker)
        }
        _ => false,
    }
}

/// The failure of one unit of work: either a business outcome decided inside the
/// transaction (which rolls it back) or a store failure.
#[derive(Debug)]
pub(crate) enum RepoError {
    Domain(domain::Error),
    Store(StoreError),
}

impl RepoError {
    /// Whether running the whole transaction again may succeed.
    pub(crate) fn is_contention(&self) -> bool {
        matches!(self, RepoError::Store(StoreError::Query(e)) if classify(e) == Failure::Contention)
    }

    /// Whether the connection to the server was lost: the connection is useless, and
    /// whether a commit sent on it landed is unknown.
    pub(crate) fn is_lost(&self) -> bool {
        matches!(self, RepoError::Store(StoreError::Query(e)) if classify(e) == Failure::Lost)
    }

    /// Whether the failure is the store's rather than the work's: contention, a lost
    /// connection or an exhausted pool. Such a failure ends the whole transaction (a
    /// deadlock has already rolled it back), so nothing inside it may carry on.
    pub(crate) fn is_unavailable(&self) -> bool {
        match self {
            RepoError::Store(StoreError::Query(e)) => matches!(
                classify(e),
                Failure::Contention | Failure::TimedOut | Failure::Lost
            ),
            RepoError::Store(
                StoreError::Connect { .. } | StoreError::Pool(_) | StoreError::Down,
            ) => true,
            RepoError::Store(_) | RepoError::Domain(_) => false,
        }
    }
}

impl From<DieselError> for RepoError {
    fn from(error: DieselError) -> Self {
        RepoError::Store(StoreError::Query(error))
    }
}

impl From<StoreError> for RepoError {
    fn from(error: StoreError) -> Self {
        RepoError::Store(error)
    }
}

impl From<domain::Error> for RepoError {
    fn from(error: domain::Error) -> Self {
        RepoError::Domain(error)
    }
}

impl From<RepoError> for domain::Error {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Domain(e) => e,
            RepoError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for domain::Error {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Connect { .. } | StoreError::Pool(_) | StoreError::Down => {
                domain::Error::Unavailable(error.to_string())
            }
            StoreError::Query(e) => match classify(e) {
                Failure::Contention | Failure::TimedOut | Failure::Lost => {
                    domain::Error::Unavailable(error.to_string())
                }
                Failure::Duplicate | Failure::Other => domain::Error::Internal(error.to_string()),
            },
            StoreError::UnsupportedUrl { .. }
            | StoreError::CreateDirectory { .. }
            | StoreError::Migration(_)
            | StoreError::Task(_) => domain::Error::Internal(error.to_string()),
        }
    }
}

/// A row that does not convert into its entity: the data broke an invariant.
pub(crate) fn corrupt(table: &str, key: &str, detail: impl std::fmt::Display) -> domain::Error {
    domain::Error::Internal(format!("{table} row {key}: {detail}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn db_error(kind: DatabaseErrorKind, message: &'static str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn unique_violation_is_a_duplicate() {
        let e = db_error(
            DatabaseErrorKind::UniqueViolation,
            "Duplicate entry 'x' for key 'K'",
        );
        assert_eq!(classify(&e), Failure::Duplicate);
        assert!(violates_key(&e, "'K'"));
        assert!(!violates_key(&e, "OTHER"));
    }

    #[test]
    fn deadlock_and_sqlite_busy_are_contention() {
        let cases = [
            db_error(
                DatabaseErrorKind::SerializationFailure,
                "Deadlock found when trying to get lock",
            ),
            db_error(DatabaseErrorKind::Unknown, "database is locked"),
        ];
        for e in cases {
            assert_eq!(classify(&e), Failure::Contention, "{e}");
            let domain: domain::Error = RepoError::from(e).into();
            assert!(
                matches!(domain, domain::Error::Unavailable(_)),
                "{domain:?}"
            );
        }
    }

    #[test]
    fn lock_wait_and_statement_timeouts_are_unavailable_and_not_retried() {
        let cases = [
            db_error(
                DatabaseErrorKind::Unknown,
                "Lock wait timeout exceeded; try restarting transaction",
            ),
            db_error(
                DatabaseErrorKind::Unknown,
                "Query execution was interrupted (max_statement_time exceeded)",
            ),
            db_error(
                DatabaseErrorKind::Unknown,
                "Query execution was interrupted, maximum statement execution time exceeded",
            ),
        ];
        for e in cases {
            assert_eq!(classify(&e), Failure::TimedOut, "{e}");
            let repo = RepoError::from(e);
            assert!(!repo.is_contention() && repo.is_unavailable());
            let domain: domain::Error = repo.into();
            assert!(
                matches!(domain, domain::Error::Unavailable(_)),
                "{domain:?}"
            );
        }
    }

    #[test]
    fn lost_connection_is_unavailable() {
        let e = db_error(DatabaseErrorKind::Unknown, "MySQL server has gone away");
        assert_eq!(classify(&e), Failure::Lost);
        let domain: domain::Error = RepoError::from(e).into();
        assert!(matches!(domain, domain::Error::Unavailable(_)));
    }

    #[test]
    fn a_commit_and_its_rollback_failing_is_a_lost_connection_not_an_internal_error() {
        let gone = || Box::new(db_error(DatabaseErrorKind::Unknown, "Server has gone away"));
        let e = DieselError::RollbackErrorOnCommit {
            rollback_error: gone(),
            commit_error: gone(),
        };
        assert_eq!(classify(&e), Failure::Lost);
        let domain: domain::Error = RepoError::from(e).into();
        assert!(
            matches!(domain, domain::Error::Unavailable(_)),
            "{domain:?}"
        );
    }

    #[test]
    fn pool_timeout_is_unavailable() {
        let domain: domain::Error = StoreError::Pool("timed out".into()).into();
        assert!(matches!(domain, domain::Error::Unavailable(_)));
    }

    #[test]
    fn other_database_errors_are_internal() {
        let e = db_error(DatabaseErrorKind::Unknown, "no such table: DF_BALANCE");
        assert_eq!(classify(&e), Failure::Other);
        let domain: domain::Error = RepoError::from(e).into();
        assert!(matches!(domain, domain::Error::Internal(_)));
    }

    #[test]
    fn business_outcomes_pass_through_unchanged() {
        let outcome = domain::Error::Conflict("order o1 is already ended".into());
        let domain: domain::Error = RepoError::Domain(outcome.clone()).into();
        assert_eq!(domain, outcome);
    }
}
