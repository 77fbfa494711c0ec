//! A fresh database per test, on either backend, plus small fixture builders.
//!
//! SQLite: a temporary file, removed afterwards. MariaDB: a database `su_test_<uuid>`
//! created through the base URL `SERVICEUSAGE_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`) and dropped afterwards. When MariaDB is unreachable the
//! MySQL twin of a test is skipped with a note on stderr, unless
//! `SERVICEUSAGE_REQUIRE_MYSQL=1`, which turns the skip into a failure (CI).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::mysql::MysqlConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use domain::change::ChangeBuilder;
use domain::consumption::{Consumption, ConsumptionKind};
use domain::cycle::Cycle;
use domain::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};
use domain::ledger::NewRecharge;
use domain::order::{Order, OrderStatus, Terms};
use domain::page::PageRequest;
use domain::payment::{LedgerMove, MoneyKeeper, Payment};
use domain::plan::{ChargingMode, Plan};
use domain::policy::BillingPolicy;
use domain::ports::{ChangeStore, LedgerRepository, OrderFilter};
use domain::renewal::{PlanLookup, RenewalRun};
use domain::Money;
use infra_mysql::{ChangeWriter, Database, LedgerStore};

const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306";
const POOL_SIZE: u32 = 8;

/// Generates `sqlite_<name>` and `mysql_<name>` running the same body against a fresh,
/// migrated database bound to `$db` (a [`TestDb`]).
macro_rules! both_backends {
    ($name:ident, |$db:ident| $body:block) => {
        pastey::paste! {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn [<sqlite_ $name>]() {
                let $db = $crate::common::TestDb::sqlite();
                assert_eq!($db.db.backend(), infra_mysql::Backend::Sqlite);
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn [<mysql_ $name>]() {
                let Some($db) = $crate::common::TestDb::mysql(concat!("mysql_", stringify!($name))) else {
                    return;
                };
                assert_eq!($db.db.backend(), infra_mysql::Backend::Mysql);
                $body
            }
        }
    };
}
pub(crate) use both_backends;

/// Runs a statement on a connection of its own (outside the stores), of the test
/// database's kind: the query is built twice because each backend types it differently.
macro_rules! raw {
    ($test_db:expr, |$conn:ident| $statement:expr) => {
        match $test_db.sqlite_path() {
            None => {
                let $conn = &mut MysqlConnection::establish(&$test_db.url()).expect("raw mysql");
                $statement
            }
            Some(path) => {
                let $conn = &mut SqliteConnection::establish(path).expect("raw sqlite");
                // As the store's own connections do.
                diesel::connection::SimpleConnection::batch_execute(
                    $conn,
                    "PRAGMA foreign_keys = ON",
                )?;
                $statement
            }
        }
    };
}

/// One nullable time read by [`TestDb::time_in`].
#[derive(diesel::QueryableByName)]
struct TimeCell {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    time: Option<NaiveDateTime>,
}

/// A migrated database that disappears with the value.
pub struct TestDb {
    pub db: Database,
    /// Declared after `db` so the pool closes before the database is dropped.
    place: Place,
}

enum Place {
    Sqlite {
        path: String,
        _dir: tempfile::TempDir,
    },
    Mysql {
        server: String,
        name: String,
    },
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let db = Self::sqlite_empty();
        db.db.run_migrations().expect("migrate sqlite");
        db
    }

    fn sqlite_empty() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("serviceusage.db").display().to_string();
        let db = Database::connect(&format!("sqlite://{path}"), POOL_SIZE).expect("open sqlite");
        TestDb {
            db,
            place: Place::Sqlite { path, _dir: dir },
        }
    }

    /// `None` (after a note on stderr) when MariaDB is unreachable and not required.
    pub fn mysql(test_name: &str) -> Option<TestDb> {
        let server = mysql_server_url();
        let mut admin = match MysqlConnection::establish(&server) {
            Ok(conn) => conn,
            Err(e) => {
                if std::env::var("SERVICEUSAGE_REQUIRE_MYSQL").as_deref() == Ok("1") {
                    panic!(
                        "MariaDB is required (SERVICEUSAGE_REQUIRE_MYSQL=1) but {server} is \
                         unreachable: {e}"
                    );
                }
                skipped(test_name);
                return None;
            }
        };
        let db = Self::mysql_empty(server, &mut admin);
        db.db.run_migrations().expect("migrate mysql");
        Some(db)
    }

    fn mysql_empty(server: String, admin: &mut MysqlConnection) -> TestDb {
        let name = format!("su_test_{}", uuid::Uuid::new_v4().simple());
        // A generated identifier: identifiers cannot be bound parameters.
        diesel::sql_query(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .execute(admin)
        .expect("create test database");
        let place = Place::Mysql { server, name };
        let db = Database::connect(&place.url(), POOL_SIZE).expect("open mysql");
        TestDb { db, place }
    }

    /// Another fresh database on the same backend, with no migrations applied.
    pub fn empty_sibling(&self) -> TestDb {
        match &self.place {
            Place::Sqlite { .. } => Self::sqlite_empty(),
            Place::Mysql { server, .. } => {
                let mut admin = MysqlConnection::establish(server).expect("admin connection");
                Self::mysql_empty(server.clone(), &mut admin)
            }
        }
    }

    pub fn url(&self) -> String {
        self.place.url()
    }

    /// Applies the first `count` migrations only, with a connection of its own: to write
    /// rows as an older release of the service did, before running the rest.
    pub fn migrate_first(&self, count: usize) {
        const MYSQL: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");
        const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
        match self.sqlite_path() {
            None => {
                let conn = &mut MysqlConnection::establish(&self.url()).expect("raw mysql");
                for _ in 0..count {
                    conn.run_next_migration(MYSQL).expect("mysql migration");
                }
            }
            Some(path) => {
                let conn = &mut SqliteConnection::establish(path).expect("raw sqlite");
                // The pool's own connections may be opening the file meanwhile (r2d2 opens
                // them in the background): wait for their locks instead of failing.
                diesel::connection::SimpleConnection::batch_execute(
                    conn,
                    "PRAGMA busy_timeout = 5000",
                )
                .expect("busy timeout");
                for _ in 0..count {
                    conn.run_next_migration(SQLITE).expect("sqlite migration");
                }
            }
        }
    }

    pub fn ledger(&self) -> LedgerStore {
        LedgerStore::new(self.db.clone())
    }

    /// Inserts a consumption row with its own connection, past the stores: for writing
    /// what the stores never would.
    pub fn insert_history_row(
        &self,
        order_id: &str,
        consume_id: i32,
    ) -> diesel::QueryResult<usize> {
        use diesel::sql_types::{BigInt, Integer, SmallInt, Text, Timestamp};
        let at = t("2026-03-01T00:00:00Z").naive_utc();
        raw!(self, |conn| diesel::sql_query(
            "INSERT INTO DF_CONSUMING_HISTORY (ORDER_ID, CONSUME_ID, CONSUMING, \
             CONSUME_TIME, DEADLINE_TIME, ACCOUNT_ID, REGION, PLAN_ID, KIND) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind::<Text, _>(order_id)
        .bind::<Integer, _>(consume_id)
        .bind::<BigInt, _>(1_i64)
        .bind::<Timestamp, _>(at)
        .bind::<Timestamp, _>(at)
        .bind::<Text, _>("p1")
        .bind::<Text, _>("r1")
        .bind::<Text, _>("plan-m")
        .bind::<SmallInt, _>(1_i16)
        .execute(conn))
    }

    /// Overwrites an order's status code, as a foreign writer or a bad migration might.
    pub fn set_status_code(&self, order_id: &str, code: i16) -> diesel::QueryResult<usize> {
        use diesel::sql_types::{SmallInt, Text};
        raw!(self, |conn| diesel::sql_query(
            "UPDATE DF_PURCHASE_ORDER SET STATUS = ? WHERE ORDER_ID = ?"
        )
        .bind::<SmallInt, _>(code)
        .bind::<Text, _>(order_id)
        .execute(conn))
    }

    /// Runs a fixed statement with a connection of its own, past the stores.
    pub fn execute(&self, statement: &str) -> diesel::QueryResult<usize> {
        raw!(self, |conn| diesel::sql_query(statement).execute(conn))
    }

    /// The time in `column` of the row of `table` whose `ID` is `id`, read with a
    /// connection of its own, past the stores: for the columns no store reads back.
    pub fn time_in(
        &self,
        table: &str,
        column: &str,
        id: u64,
    ) -> diesel::QueryResult<Option<NaiveDateTime>> {
        use diesel::sql_types::BigInt;
        let id = i64::try_from(id).expect("queue id");
        // Fixed names from the test itself: identifiers cannot be bound parameters.
        let query = format!("SELECT {column} AS time FROM {table} WHERE ID = ?");
        raw!(self, |conn| diesel::sql_query(&query)
            .bind::<BigInt, _>(id)
            .get_result::<TimeCell>(conn)
            .map(|cell| cell.time))
    }

    /// Every row of every table, as far as a change writes them, read past the stores:
    /// what a test compares before and after a change that must write nothing.
    pub fn snapshot(&self) -> Snapshot {
        self.try_snapshot().expect("snapshot")
    }

    fn try_snapshot(&self) -> diesel::QueryResult<Snapshot> {
        let mut counts = BTreeMap::new();
        for table in TABLES {
            counts.insert(table, self.try_count(table)?);
        }
        let orders = raw!(self, |conn| diesel::sql_query(
            "SELECT ORDER_ID, VERSION, STATUS, LAST_CONSUME_ID, PAYMENT_SEQ, \
             ACTIVE_RESOURCE_NAME, ACTIVE_QUOTA FROM DF_PURCHASE_ORDER ORDER BY ORDER_ID"
        )
        .load::<OrderCells>(conn))?;
        let balances = raw!(self, |conn| diesel::sql_query(
            "SELECT ACCOUNT_ID, BALANCE FROM DF_BALANCE ORDER BY ACCOUNT_ID"
        )
        .load::<BalanceCells>(conn))?;
        let payments = raw!(self, |conn| diesel::sql_query(
            "SELECT ORDER_ID, SEQ, STATE, ATTEMPTS FROM DF_PAYMENT ORDER BY ORDER_ID, SEQ"
        )
        .load::<PaymentCells>(conn))?;
        let tasks = raw!(self, |conn| diesel::sql_query(
            "SELECT ID, ATTEMPTS, DONE_AT FROM DF_RESOURCE_TASK ORDER BY ID"
        )
        .load::<TaskCells>(conn))?;
        let totals = raw!(self, |conn| diesel::sql_query(
            "SELECT ACCOUNT_ID, LIST, STATUS, REGION, TOTAL FROM DF_LIST_TOTAL \
             ORDER BY ACCOUNT_ID, LIST, STATUS, REGION"
        )
        .load::<TotalCells>(conn))?;
        let resources = raw!(self, |conn| diesel::sql_query(
            "SELECT ORDER_ID, RELEASED_AT FROM DF_RESOURCE ORDER BY ORDER_ID"
        )
        .load::<ResourceCells>(conn))?;
        Ok(Snapshot {
            counts,
            rows: orders
                .iter()
                .map(|o| format!("{o:?}"))
                .chain(balances.iter().map(|b| format!("{b:?}")))
                .chain(payments.iter().map(|p| format!("{p:?}")))
                .chain(tasks.iter().map(|t| format!("{t:?}")))
                .chain(totals.iter().map(|t| format!("{t:?}")))
                .chain(resources.iter().map(|r| format!("{r:?}")))
                .collect(),
        })
    }

    /// The number of rows of `table`, read past the stores.
    pub fn count(&self, table: &str) -> i64 {
        self.try_count(table).expect("count")
    }

    fn try_count(&self, table: &str) -> diesel::QueryResult<i64> {
        // Fixed names: identifiers cannot be bound parameters.
        let query = format!("SELECT COUNT(*) AS n FROM {table}");
        raw!(self, |conn| diesel::sql_query(&query)
            .get_result::<Count>(conn)
            .map(|count| count.n))
    }

    fn sqlite_path(&self) -> Option<&str> {
        match &self.place {
            Place::Sqlite { path, .. } => Some(path),
            Place::Mysql { .. } => None,
        }
    }
}

/// The tables a change may write.
pub const TABLES: [&str; 11] = [
    "DF_PURCHASE_ORDER",
    "DF_CONSUMING_HISTORY",
    "DF_PAYMENT",
    "DF_BALANCE",
    "DF_RECHARGE",
    "DF_NOTIFICATION",
    "DF_WEBHOOK_DELIVERY",
    "DF_RESOURCE_TASK",
    "DF_IDEMPOTENCY_KEY",
    "DF_LIST_TOTAL",
    "DF_RESOURCE",
];

/// See [`TestDb::snapshot`].
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub counts: BTreeMap<&'static str, i64>,
    pub rows: Vec<String>,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[allow(dead_code)] // Read through Debug.
#[derive(Debug, diesel::QueryableByName)]
struct OrderCells {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "ORDER_ID")]
    order_id: String,
    #[diesel(sql_type = diesel::sql_types::Integer, column_name = "VERSION")]
    version: i32,
    #[diesel(sql_type = diesel::sql_types::SmallInt, column_name = "STATUS")]
    status: i16,
    #[diesel(sql_type = diesel::sql_types::Integer, column_name = "LAST_CONSUME_ID")]
    last_consume_id: i32,
    #[diesel(sql_type = diesel::sql_types::Integer, column_name = "PAYMENT_SEQ")]
    payment_seq: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>, column_name = "ACTIVE_RESOURCE_NAME")]
    active_resource_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>, column_name = "ACTIVE_QUOTA")]
    active_quota: Option<String>,
}

#[allow(dead_code)] // Read through Debug.
#[derive(Debug, diesel::QueryableByName)]
struct BalanceCells {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "ACCOUNT_ID")]
    account_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt, column_name = "BALANCE")]
    balance: i64,
}

#[allow(dead_code)] // Read through Debug.
#[derive(Debug, diesel::QueryableByName)]
struct PaymentCells {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "ORDER_ID")]
    order_id: String,
    #[diesel(sql_type = diesel::sql_types::Integer, column_name = "SEQ")]
    seq: i32,
    #[diesel(sql_type = diesel::sql_types::SmallInt, column_name = "STATE")]
    state: i16,
    #[diesel(sql_type = diesel::sql_types::Integer, column_name = "ATTEMPTS")]
    attempts: i32,
}

#[allow(dead_code)] // Read through Debug.
#[derive(Debug, diesel::QueryableByName)]
struct TaskCells {
    #[diesel(sql_type = diesel::sql_types::BigInt, column_name = "ID")]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Integer, column_name = "ATTEMPTS")]
    attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>, column_name = "DONE_AT")]
    done_at: Option<NaiveDateTime>,
}

#[allow(dead_code)] // Read through Debug.
#[derive(Debug, diesel::QueryableByName)]
struct TotalCells {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "ACCOUNT_ID")]
    account_id: String,
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "LIST")]
    list: String,
    #[diesel(sql_type = diesel::sql_types::SmallInt, column_name = "STATUS")]
    status: i16,
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "REGION")]
    region: String,
    #[diesel(sql_type = diesel::sql_types::BigInt, column_name = "TOTAL")]
    total: i64,
}

#[allow(dead_code)] // Read through Debug.
#[derive(Debug, diesel::QueryableByName)]
struct ResourceCells {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "ORDER_ID")]
    order_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>, column_name = "RELEASED_AT")]
    released_at: Option<NaiveDateTime>,
}

impl Place {
    fn url(&self) -> String {
        match self {
            Place::Sqlite { path, .. } => format!("sqlite://{path}"),
            Place::Mysql { server, name } => format!("{server}/{name}"),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Mysql { server, name } = self {
            match MysqlConnection::establish(server) {
                Ok(mut admin) => {
                    if let Err(e) = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
                        .execute(&mut admin)
                    {
                        eprintln!("could not drop test database {name}: {e}");
                    }
                }
                Err(e) => eprintln!("could not drop test database {name}: {e}"),
            }
        }
    }
}

/// Says on the real stderr (not the captured one, which a passing test's output never
/// leaves) that a MySQL test did not run.
pub fn skipped(test_name: &str) {
    use std::io::Write;
    // Nothing to do if stderr itself is gone.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED (MariaDB unreachable): {test_name}"
    );
}

/// The MariaDB server the MySQL tests use, without a database name.
pub fn mysql_server_url() -> String {
    std::env::var("SERVICEUSAGE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| DEFAULT_MYSQL_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

// ---- fixtures ----

pub fn t(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("fixture time")
        .with_timezone(&Utc)
}

pub fn money(minor: i64) -> Money {
    Money::from_minor(minor)
}

pub fn project(id: &str) -> ProjectId {
    ProjectId::parse(id).expect("project")
}

pub fn order_id(id: &str) -> OrderId {
    OrderId::parse(id).expect("order id")
}

pub fn region(name: &str) -> Region {
    Region::parse(name).expect("region")
}

/// The price of one unit of [`plan`] for one cycle.
pub const PRICE: i64 = 1_000;

/// The monthly prepaid volume plan `plan-m` of region `r1`, at [`PRICE`] a unit.
pub fn plan() -> Plan {
    Plan {
        id: PlanId::parse("plan-m").expect("plan"),
        plan_type: PlanType::parse("volume").expect("plan type"),
        region: region("r1"),
        mode: ChargingMode::Prepaid,
        price: money(PRICE),
        cycle: Cycle::Month,
        requires_resource_name: false,
        description: "a plan".into(),
    }
}

/// A consuming prepaid order of project `p1` in region `r1` on [`plan`], two units,
/// started with microseconds in its times, its first cycle paid (row #1, payment #1),
/// kept by the local ledger, never updated (version 0).
pub fn order(id: &str) -> Order {
    let start = t("2026-01-31T08:00:00.123456Z");
    Order {
        id: order_id(id),
        project: project("p1"),
        region: region("r1"),
        plan_id: PlanId::parse("plan-m").expect("plan"),
        plan_type: PlanType::parse("volume").expect("plan type"),
        mode: ChargingMode::Prepaid,
        quantities: Quantity::new(2).expect("quantity"),
        start_time: start,
        end_time: None,
        deadline_time: t("2026-02-28T08:00:00.123456Z"),
        status: OrderStatus::Consuming,
        creator: UserName::parse("alice@example.com").expect("user"),
        resource_name: None,
        last_consume_id: 1,
        renew_retries: 0,
        last_warned_at: None,
        terms: Terms {
            cycle: Cycle::Month,
            price: money(PRICE),
            keeper: MoneyKeeper::LocalLedger,
        },
        version: 0,
        payment_seq: 1,
        awaiting_payment: None,
        replaces: None,
        replaced_by: None,
    }
}

pub trait OrderExt {
    fn named(self, name: &str) -> Order;
    fn in_project(self, project: &str) -> Order;
    fn in_region(self, region: &str) -> Order;
    fn of_type(self, plan_type: &str) -> Order;
    fn started(self, at: &str) -> Order;
    fn kept_by(self, keeper: MoneyKeeper) -> Order;
    /// Nothing billed yet: no row, no payment.
    fn uncharged(self) -> Order;
    fn due_at(self, deadline: DateTime<Utc>) -> Order;
}

impl OrderExt for Order {
    fn named(mut self, name: &str) -> Order {
        self.resource_name = Some(ResourceName::parse(name).expect("resource name"));
        self
    }
    fn in_project(mut self, id: &str) -> Order {
        self.project = project(id);
        self
    }
    fn in_region(mut self, name: &str) -> Order {
        self.region = region(name);
        self
    }
    fn of_type(mut self, plan_type: &str) -> Order {
        self.plan_type = PlanType::parse(plan_type).expect("plan type");
        self
    }
    fn started(mut self, at: &str) -> Order {
        self.start_time = t(at);
        self
    }
    fn kept_by(mut self, keeper: MoneyKeeper) -> Order {
        self.terms.keeper = keeper;
        self
    }
    fn uncharged(mut self) -> Order {
        self.last_consume_id = 0;
        self.payment_seq = 0;
        self
    }
    fn due_at(mut self, deadline: DateTime<Utc>) -> Order {
        self.deadline_time = deadline;
        self
    }
}

/// Row #1 of `order`, charging `amount` for its first cycle.
pub fn first_charge(order: &Order, amount: i64) -> Consumption {
    Consumption {
        order_id: order.id.clone(),
        consume_id: 1,
        project: order.project.clone(),
        region: order.region.clone(),
        plan_id: order.plan_id.clone(),
        amount: money(amount),
        time: order.start_time,
        covered_until: order.deadline_time,
        kind: ConsumptionKind::New,
    }
}

/// The change that opens `order` (its row #1 and payment #1 already counted in it),
/// charging `amount` for its first cycle: the row, and for a positive amount its payment
/// and (local ledger) the debit the balance must cover.
pub fn opening(order: &Order, amount: i64) -> ChangeBuilder {
    let mut change = ChangeBuilder::new();
    opening_into(&mut change, order, amount);
    change
}

/// [`opening`], added to `change`.
pub fn opening_into(change: &mut ChangeBuilder, order: &Order, amount: i64) {
    change.insert(order.clone());
    let row = first_charge(order, amount);
    if amount > 0 {
        let payment = Payment::of_row(order, 1, &row, false, order.start_time).expect("payment");
        change.payment(payment);
        if order.terms.keeper == MoneyKeeper::LocalLedger {
            change.ledger(
                LedgerMove::covered(order.project.clone(), money(amount), Money::ZERO)
                    .expect("move"),
            );
        }
    }
    change.row(row);
}

/// The change that inserts `order` as it is (with no row: see [`OrderExt::uncharged`]).
pub fn inserting(order: &Order) -> ChangeBuilder {
    let mut change = ChangeBuilder::new();
    change.insert(order.clone());
    change
}

/// The change that ends `before` at `at`, refunding `refund` with its end row and that
/// row's credit; and the order as it leaves it.
pub fn closing(before: &Order, refund: i64, at: &str) -> (Order, ChangeBuilder) {
    let mut change = ChangeBuilder::new();
    let ended = closing_into(&mut change, before, refund, at);
    (ended, change)
}

/// [`closing`], added to `change`; returns the order as it leaves it.
pub fn closing_into(change: &mut ChangeBuilder, before: &Order, refund: i64, at: &str) -> Order {
    let at = t(at);
    let mut after = before.clone();
    after.end(at).expect("end");
    after.last_consume_id = before.last_consume_id + 1;
    let row = Consumption {
        order_id: before.id.clone(),
        consume_id: after.last_consume_id,
        project: before.project.clone(),
        region: before.region.clone(),
        plan_id: before.plan_id.clone(),
        amount: money(-refund),
        time: at,
        covered_until: before.deadline_time.max(at),
        kind: ConsumptionKind::End,
    };
    let payment = (refund > 0).then(|| {
        let id = after.next_payment_id().expect("payment id");
        Payment::of_row(&after, id.seq, &row, false, at).expect("payment")
    });
    change.update(before, after).expect("update");
    change.row(row);
    if let Some(payment) = payment {
        change.payment(payment);
        if before.terms.keeper == MoneyKeeper::LocalLedger {
            change.ledger(LedgerMove::unguarded(
                before.project.clone(),
                money(-refund),
            ));
        }
    }
    change.order(&before.id).expect("ended").clone()
}

pub fn writer(db: &TestDb) -> ChangeWriter {
    ChangeWriter::new(db.db.clone(), Vec::new())
}

/// Seals and commits `change` with a writer without webhooks.
pub async fn commit(db: &TestDb, change: ChangeBuilder) -> domain::Result<Vec<u64>> {
    writer(db).commit(change.seal()?).await
}

/// Opens `order` charging `amount` (see [`opening`]); panics if it fails.
pub async fn open(db: &TestDb, order: &Order, amount: i64) {
    commit(db, opening(order, amount)).await.expect("open");
}

/// Inserts `order` as it is; panics if it fails.
pub async fn insert(db: &TestDb, order: &Order) {
    commit(db, inserting(order)).await.expect("insert");
}

pub fn recharge_of(project_id: &str, amount: i64, at: &str) -> NewRecharge {
    NewRecharge {
        project: project(project_id),
        amount: money(amount),
        comment: Some("top-up ✓".to_owned()),
        operator: UserName::parse("admin").expect("operator"),
        time: t(at),
    }
}

/// Gives the project `amount` through a recharge.
pub async fn fund(db: &TestDb, project_id: &str, amount: i64) {
    db.ledger()
        .recharge(
            recharge_of(project_id, amount, "2026-01-01T00:00:00Z"),
            None,
        )
        .await
        .expect("fund");
}

pub async fn balance_of(db: &TestDb, project_id: &str) -> Money {
    db.ledger()
        .balance(&project(project_id))
        .await
        .expect("balance")
        .amount
}

pub fn consuming_in(project_id: &str) -> OrderFilter {
    OrderFilter::in_status(project(project_id), OrderStatus::Consuming)
}

pub fn page(page: u32, size: u32) -> PageRequest {
    PageRequest::parse(Some(&page.to_string()), Some(&size.to_string())).expect("page")
}

/// The renewal rules of a run at `now` with the default policy and [`plan`] in the catalog.
pub fn run_at(now: DateTime<Utc>) -> Arc<RenewalRun> {
    let mut plans = HashMap::new();
    plans.insert(plan().id, PlanLookup::Found(plan()));
    Arc::new(RenewalRun {
        now,
        policy: BillingPolicy::default(),
        plans,
    })
}

/// A clock stopped at one instant.
pub struct StoppedClock(pub DateTime<Utc>);

impl domain::ports::Clock for StoppedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
