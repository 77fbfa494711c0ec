//! The handle the service holds: a connection pool, migrations, and the one way to run
//! diesel work — on a blocking thread, never on the async executor.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::availability::Availability;
use crate::backend::transaction::{self, Start};
use crate::backend::{self, Backend, DbConnection, Isolation, Timeouts};
use crate::connection::{open_pool, DbPool, Target, CHECKOUT_TIMEOUT};
use crate::error::{RepoError, StoreError};
use crate::telemetry;

/// How many times a write transaction runs before contention counts as unavailability.
const WRITE_ATTEMPTS: u32 = 4;
/// Pause before the first retry; doubles each time. Short: the competitor has usually
/// committed by then, and the caller is waiting on an HTTP request.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
/// A checkout waits in slices this long, so that it gives up as soon as a connect fails.
const CHECKOUT_SLICE: Duration = Duration::from_millis(100);

/// A pool of connections to MySQL/MariaDB or a SQLite file. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: DbPool,
    backend: Backend,
    timeouts: Timeouts,
    availability: Arc<Availability>,
    /// SQLite only: the turn to write. SQLite lets one writer in at a time, and one that
    /// finds the file locked sleeps in its busy handler and polls, so under load a
    /// transaction waited far longer than its turn (create p99 0.5–0.85 s against a p50 of
    /// 11–14 ms at 16 connections), and the write-ahead log, never checkpointed to its
    /// start, grew past a gigabyte in a minute. Waiting here instead, first come first
    /// served (tokio's mutex is fair) and without holding a connection or a blocking
    /// thread: p99 70 ms at 16 connections, the log a few megabytes. The busy handler is
    /// left to other processes sharing the file.
    writers: Option<Arc<tokio::sync::Mutex<()>>>,
    /// One permit per pooled connection: work waits for one here, in the async caller,
    /// before it takes a blocking thread (see [`Database::blocking`]).
    slots: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .field("pool", &self.pool.state())
            .finish()
    }
}

impl Database {
    /// `"sqlite://relative/or/absolute.db"` (`sqlite:///abs/path` too) or
    /// `"mysql://user[:pw]@host[:port]/db"`. Creates the SQLite file's parent directory and
    /// opens one connection first, so an unreachable or misnamed database fails here with
    /// the driver's message rather than at the first request. MySQL connections get the
    /// default [`Timeouts`].
    pub fn connect(url: &str, pool_size: u32) -> Result<Database, StoreError> {
        Self::connect_with(url, pool_size, Timeouts::default())
    }

    /// [`Database::connect`] with MySQL session limits other than the defaults.
    pub fn connect_with(
        url: &str,
        pool_size: u32,
        timeouts: Timeouts,
    ) -> Result<Database, StoreError> {
        let target = Target::parse(url)?;
        let backend = target.backend();
        let availability = Arc::new(Availability::new());
        let pool = open_pool(target, pool_size, timeouts, availability.clone())?;
        let writers = (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())));
        let slots = Arc::new(tokio::sync::Semaphore::new(pool.max_size() as usize));
        Ok(Database {
            pool,
            backend,
            timeouts,
            availability,
            writers,
            slots,
        })
    }

    /// Applies the embedded migrations that are not applied yet. Idempotent; replicas
    /// starting together wait for each other (MySQL advisory lock, SQLite write lock).
    /// Blocking: call it at start-up, before serving.
    pub fn run_migrations(&self) -> Result<(), StoreError> {
        let mut conn = self.checkout()?;
        backend::run_migrations(&mut conn, self.timeouts)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pooled connection, waiting at most the checkout timeout; at once an error while
    /// the database is known to be down (see [`crate::availability`]).
    fn checkout(
        &self,
    ) -> Result<diesel::r2d2::PooledConnection<crate::connection::Manager>, StoreError> {
        if self.availability.is_down() && !self.availability.may_probe() {
            return Err(StoreError::Down);
        }
        let deadline = Instant::now() + CHECKOUT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.pool.get_timeout(left.min(CHECKOUT_SLICE)) {
                Ok(conn) => return Ok(conn),
                Err(_) if self.availability.is_down() => return Err(StoreError::Down),
                Err(e) if left <= CHECKOUT_SLICE => {
                    telemetry::connection_timed_out(CHECKOUT_TIMEOUT);
                    return Err(StoreError::Pool(e.to_string()));
                }
                Err(_) => {}
            }
        }
    }

    /// A pooled connection that answered a ping: what a retry after a lost connection
    /// needs, since the pool hands out idle connections unchecked (a server restart leaves
    /// every idle one dead). Each dead one is dropped; past the pool's size, the pool has
    /// replaced them all.
    fn checkout_live(
        &self,
    ) -> Result<diesel::r2d2::PooledConnection<crate::connection::Manager>, StoreError> {
        use diesel::r2d2::R2D2Connection;
        let mut tries = self.pool.max_size().saturating_add(1);
        loop {
            let mut conn = self.checkout()?;
            match conn.ping() {
                Ok(()) => return Ok(conn),
                Err(e) if tries > 1 => {
                    log::warn!("dropping a dead pooled database connection: {e}");
                    transaction::forget(&mut conn);
                    tries -= 1;
                }
                Err(e) => return Err(StoreError::Query(e)),
            }
        }
    }

    /// Runs `work` on a pooled connection; if the connection turns out to be lost (it
    /// died while pooled: a server restart, an idle timeout), it is dropped and `work` runs
    /// once more on a live one. For reads only: they can run twice.
    fn read_retrying<T>(
        &self,
        work: impl Fn(&mut DbConnection) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let mut conn = self.checkout()?;
        match work(&mut conn) {
            Err(e) if e.is_lost() => {
                transaction::forget(&mut conn);
                drop(conn);
                log::warn!("database connection lost, reading again on a live one: {e:?}");
                let mut conn = self.checkout_live()?;
                let outcome = work(&mut conn);
                forget_if_lost(&mut conn, outcome)
            }
            outcome => outcome,
        }
    }

    /// Runs read-only work on a pooled connection on a blocking thread, outside any
    /// transaction: one round trip per statement, each statement seeing its own snapshot.
    /// For work that is one statement, or whose statements need not agree (see
    /// [`Database::snapshot`] for those that must).
    pub(crate) async fn read<T, F>(&self, work: F) -> domain::Result<T>
    where
        F: Fn(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        self.blocking(move || db.read_retrying(&work)).await
    }

    /// Runs read-only work in one read-only transaction, so that its statements see one
    /// snapshot (the books a reconciliation adds up).
    /// Costs two round trips more than [`Database::read`].
    pub(crate) async fn snapshot<T, F>(&self, work: F) -> domain::Result<T>
    where
        F: Fn(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        self.blocking(move || {
            db.read_retrying(|conn| {
                transaction::begin(conn, Start::Snapshot)?;
                transaction::finish(conn, &work)
            })
        })
        .await
    }

    /// Runs `work` as one write transaction on a blocking thread. If it loses to a
    /// concurrent transaction (deadlock, lock wait timeout, SQLite busy) it runs again from
    /// the start, a few times, before the store counts as unavailable. `work` must therefore
    /// be repeatable: it gets everything it writes from its captured inputs.
    ///
    /// A connection found lost at the transaction's start (it died while pooled) is dropped
    /// and the transaction starts once more on a live one: nothing of it reached the
    /// server. A connection lost later is never retried here: a commit whose outcome is
    /// unknown is the caller's (`Unavailable`) to find out.
    pub(crate) async fn write<T, F>(&self, work: F) -> domain::Result<T>
    where
        F: Fn(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        self.write_at(Isolation::Default, work).await
    }

    /// [`Database::write`] at a chosen isolation level.
    pub(crate) async fn write_at<T, F>(&self, isolation: Isolation, work: F) -> domain::Result<T>
    where
        F: Fn(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        let turn = match &self.writers {
            Some(writers) => Some(Arc::clone(writers).lock_owned().await),
            None => None,
        };
        let db = self.clone();
        self.blocking(move || {
            let _turn = turn;
            let mut backoff = FIRST_BACKOFF;
            let mut attempt = 1;
            let mut live = false;
            loop {
                let mut conn = if live {
                    db.checkout_live()?
                } else {
                    db.checkout()?
                };
                if let Err(e) = transaction::begin(&mut conn, Start::Write(isolation)) {
                    let e = RepoError::from(e);
                    if e.is_lost() {
                        transaction::forget(&mut conn);
                        if !live {
                            log::warn!("database connection lost, starting the transaction again on a live one: {e:?}");
                            live = true;
                            continue;
                        }
                    }
                    return Err(e);
                }
                match transaction::finish(&mut conn, &work) {
                    Err(e) if e.is_contention() && attempt < WRITE_ATTEMPTS => {
                        log::warn!("transaction attempt {attempt} lost to a concurrent one, retrying: {e:?}");
                        drop(conn);
                        std::thread::sleep(backoff);
                        backoff *= 2;
                        attempt += 1;
                    }
                    outcome => return forget_if_lost(&mut conn, outcome),
                }
            }
        })
        .await
    }

    /// Runs `job` on a blocking thread under the request id of the caller, so that its log
    /// lines (and the debug line saying how long it took, pool wait included) carry it.
    ///
    /// At most one job per pooled connection runs at a time; the others wait for a slot
    /// here, as futures, up to the pool's checkout timeout. Without that, every request
    /// beyond the pool's size took a blocking thread of its own only to wait in the pool:
    /// under 64 connections the service ran dozens of such threads, each with its stack and
    /// allocator cache, and woke them all in turn.
    async fn blocking<T, F>(&self, job: F) -> domain::Result<T>
    where
        F: FnOnce() -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        let asked = Instant::now();
        let slot =
            match tokio::time::timeout(CHECKOUT_TIMEOUT, Arc::clone(&self.slots).acquire_owned())
                .await
            {
                Ok(Ok(slot)) => slot,
                Ok(Err(closed)) => return Err(StoreError::Pool(closed.to_string()).into()),
                Err(_) => {
                    telemetry::connection_timed_out(asked.elapsed());
                    return Err(StoreError::Pool(format!(
                        "no database connection free within {CHECKOUT_TIMEOUT:?}"
                    ))
                    .into());
                }
            };
        telemetry::slot_waited(asked.elapsed());
        let request = domain::log_context::current();
        let job = move || {
            let _slot = slot;
            domain::log_context::scope(request, || {
                let started = std::time::Instant::now();
                let outcome = job();
                log::debug!("database work done in {:?}", started.elapsed());
                outcome
            })
        };
        match tokio::task::spawn_blocking(job).await {
            Ok(outcome) => outcome.map_err(domain::Error::from),
            Err(join) => Err(StoreError::Task(join.to_string()).into()),
        }
    }
}

/// Leaves a connection whose server connection was lost out of the pool.
fn forget_if_lost<T>(
    conn: &mut DbConnection,
    outcome: Result<T, RepoError>,
) -> Result<T, RepoError> {
    if matches!(&outcome, Err(e) if e.is_lost()) {
        transaction::forget(conn);
    }
    outcome
}

#[cfg(test)]
mod round_trips;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    use super::*;

    fn deadlock() -> RepoError {
        DieselError::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            Box::new("Deadlock found when trying to get lock".to_owned()),
        )
        .into()
    }

    fn sqlite() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::connect(&url, 1).unwrap();
        (dir, db)
    }

    /// Threads of this process named `name` (Linux: a thread's name is its `comm`).
    fn threads_named(name: &str) -> usize {
        std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .filter_map(|task| task.ok())
                    .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
                    .filter(|comm| comm.trim_end() == name)
                    .count()
            })
            .unwrap_or_default()
    }

    #[test]
    fn work_beyond_the_pool_waits_for_a_slot_without_a_thread() {
        const NAME: &str = "db-slot-test";
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name(NAME)
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::connect(&url, 2).unwrap();
        let peak = runtime.block_on(async {
            let mut jobs = tokio::task::JoinSet::new();
            for _ in 0..16 {
                let db = db.clone();
                jobs.spawn(async move {
                    db.read(|_conn| {
                        std::thread::sleep(Duration::from_millis(20));
                        Ok(())
                    })
                    .await
                });
            }
            let mut peak = 0;
            while !jobs.is_empty() {
                peak = peak.max(threads_named(NAME));
                tokio::select! {
                    done = jobs.join_next() => done.unwrap().unwrap().unwrap(),
                    () = tokio::time::sleep(Duration::from_millis(2)) => {}
                }
            }
            peak
        });
        // A slot is handed over while its thread is still on its way back to idle, so a
        // thread or two more than the pool may run for a moment; not one per read.
        assert!(
            (1..=4).contains(&peak),
            "16 reads on a pool of 2 ran on {peak} blocking threads"
        );
    }

    #[tokio::test]
    async fn a_transaction_lost_to_contention_runs_again() {
        let (_dir, db) = sqlite();
        let attempts = Arc::new(AtomicU32::new(0));
        let seen = attempts.clone();
        let outcome = db
            .write(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(deadlock()),
                _ => Ok(7),
            })
            .await;
        assert_eq!(outcome, Ok(7));
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn contention_that_persists_makes_the_store_unavailable() {
        let (_dir, db) = sqlite();
        let attempts = Arc::new(AtomicU32::new(0));
        let seen = attempts.clone();
        let outcome: domain::Result<()> = db
            .write(move |_| {
                seen.fetch_add(1, Ordering::SeqCst);
                Err(deadlock())
            })
            .await;
        assert!(
            matches!(outcome, Err(domain::Error::Unavailable(_))),
            "{outcome:?}"
        );
        assert_eq!(attempts.load(Ordering::SeqCst), WRITE_ATTEMPTS);
    }

    #[tokio::test]
    async fn work_on_a_blocking_thread_runs_under_the_callers_request_id() {
        use domain::log_context::{self, Scoped};
        let (_dir, db) = sqlite();
        let seen = Scoped::new(
            Arc::from("req-7"),
            Box::pin(db.read(|_| Ok(log_context::current()))),
        )
        .await;
        assert_eq!(seen, Ok(Some(Arc::from("req-7"))));
        let unscoped = db.read(|_| Ok(log_context::current())).await;
        assert_eq!(
            unscoped,
            Ok(None),
            "no id leaks to work that runs under none"
        );
    }

    /// The test server's URL, without a database and without a trailing slash.
    pub(super) fn mysql_server() -> String {
        std::env::var("SERVICEUSAGE_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
            .trim_end_matches('/')
            .to_owned()
    }

    /// A MariaDB pool on the test server, or `None` (after a note on the real stderr) when
    /// none answers and `SERVICEUSAGE_REQUIRE_MYSQL` is not `1`.
    pub(super) fn mysql() -> Option<Database> {
        use std::io::Write;
        match Database::connect(&mysql_server(), 1) {
            Ok(db) => Some(db),
            Err(e) if std::env::var("SERVICEUSAGE_REQUIRE_MYSQL").as_deref() == Ok("1") => {
                panic!("MariaDB is required (SERVICEUSAGE_REQUIRE_MYSQL=1): {e}")
            }
            Err(_) => {
                let _ = writeln!(std::io::stderr(), "SKIPPED (MariaDB unreachable): mysql_*");
                None
            }
        }
    }

    fn session_zone(conn: &mut diesel::mysql::MysqlConnection) -> String {
        use diesel::dsl::sql;
        use diesel::sql_types::Text;
        use diesel::RunQueryDsl;
        diesel::select(sql::<Text>("@@session.time_zone"))
            .get_result(conn)
            .unwrap()
    }

    #[test]
    fn mysql_pooled_connections_run_in_utc_whatever_the_session_had() {
        use diesel::connection::SimpleConnection;

        let Some(db) = mysql() else {
            return;
        };
        let mut conn = db.checkout().unwrap();
        let DbConnection::Mysql(inner) = &mut *conn else {
            panic!("not a MariaDB connection");
        };
        assert_eq!(session_zone(inner), "+00:00");
        // diesel's connect happens to set UTC as well; the preparation must not rely on it.
        inner.batch_execute("SET time_zone = '+08:00'").unwrap();
        backend::prepare_mysql(inner, Timeouts::default()).unwrap();
        assert_eq!(session_zone(inner), "+00:00");
    }

    /// A snapshot and a write at the default level (REPEATABLE READ) see one snapshot: a row
    /// another connection commits between their two reads is not in the second. A READ
    /// COMMITTED write (every change) sees it.
    #[tokio::test]
    async fn mysql_snapshots_and_default_writes_do_not_see_what_commits_meanwhile() {
        use diesel::dsl::sql;
        use diesel::mysql::MysqlConnection;
        use diesel::sql_types::{BigInt, Integer};
        use diesel::{Connection, RunQueryDsl};

        if mysql().is_none() {
            return;
        }
        let server = mysql_server();
        let name = format!("su_test_{}", uuid::Uuid::new_v4().simple());
        let url = format!("{server}/{name}");
        let mut admin = MysqlConnection::establish(&server).unwrap();
        // A generated identifier: identifiers cannot be bound parameters.
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        diesel::sql_query(format!(
            "CREATE TABLE {name}.probe (id INT PRIMARY KEY) ENGINE = InnoDB"
        ))
        .execute(&mut admin)
        .unwrap();
        let db = Database::connect(&url, 1).unwrap();
        let next = Arc::new(AtomicU32::new(0));
        let reads_twice = move |conn: &mut DbConnection| {
            let count = |conn: &mut DbConnection| {
                diesel::select(sql::<BigInt>("(SELECT COUNT(*) FROM probe)")).get_result(conn)
            };
            let before: i64 = count(conn)?;
            let mut other = MysqlConnection::establish(&url).unwrap();
            diesel::sql_query("INSERT INTO probe (id) VALUES (?)")
                .bind::<Integer, _>(i32::try_from(next.fetch_add(1, Ordering::SeqCst)).unwrap())
                .execute(&mut other)
                .unwrap();
            let after: i64 = count(conn)?;
            Ok(after - before)
        };
        assert_eq!(db.snapshot(reads_twice.clone()).await, Ok(0), "snapshot");
        assert_eq!(
            db.write_at(Isolation::Default, reads_twice.clone()).await,
            Ok(0),
            "default level"
        );
        assert_eq!(
            db.write_at(Isolation::ReadCommitted, reads_twice).await,
            Ok(1),
            "read committed"
        );
        diesel::sql_query(format!("DROP DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
    }

    #[tokio::test]
    async fn business_outcomes_are_not_retried() {
        let (_dir, db) = sqlite();
        let attempts = Arc::new(AtomicU32::new(0));
        let seen = attempts.clone();
        let outcome: domain::Result<()> = db
            .write(move |_| {
                seen.fetch_add(1, Ordering::SeqCst);
                Err(RepoError::Domain(domain::Error::Conflict("moved".into())))
            })
            .await;
        assert_eq!(outcome, Err(domain::Error::Conflict("moved".into())));
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }
}
