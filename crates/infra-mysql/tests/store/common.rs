//! A fresh database per test, on either backend, plus small fixture builders.
//!
//! SQLite: a temporary file, removed afterwards. MariaDB: a database `su_test_<uuid>`
//! created through the base URL `SERVICEUSAGE_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`) and dropped afterwards. When MariaDB is unreachable the
//! MySQL twin of a test is skipped with a note on stderr, unless
//! `SERVICEUSAGE_REQUIRE_MYSQL=1`, which turns the skip into a failure (CI).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::mysql::MysqlConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};

use domain::consumption::{Consumption, ConsumptionKind};
use domain::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};
use domain::ledger::NewRecharge;
use domain::order::{Order, OrderStatus};
use domain::page::PageRequest;
use domain::payment::{MoneyKeeper, Payment, PaymentDirection, PaymentReason};
use domain::plan::ChargingMode;
use domain::ports::{LedgerRepository, OrderClosing, OrderFilter, OrderOpening};
use domain::Money;
use infra_mysql::{Database, LedgerStore};

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

    fn sqlite_path(&self) -> Option<&str> {
        match &self.place {
            Place::Sqlite { path, .. } => Some(path),
            Place::Mysql { .. } => None,
        }
    }
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

/// A consuming prepaid order of project `p1` in region `r1`, started with microseconds
/// in its times, its first row charged (`last_consume_id` 1).
pub fn order(id: &str) -> Order {
    let start = t("2026-01-31T08:00:00.123456Z");
    Order {
        id: order_id(id),
        project: project("p1"),
        region: Region::parse("r1").expect("region"),
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
    }
}

pub trait OrderExt {
    fn named(self, name: &str) -> Order;
    fn in_project(self, project: &str) -> Order;
    fn in_region(self, region: &str) -> Order;
    fn of_type(self, plan_type: &str) -> Order;
    fn started(self, at: &str) -> Order;
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
    fn in_region(mut self, region: &str) -> Order {
        self.region = Region::parse(region).expect("region");
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

/// Opening `order` with a first charge of `amount`.
pub fn opening(order: &Order, amount: i64) -> OrderOpening {
    OrderOpening {
        order: order.clone(),
        first_charge: Some(first_charge(order, amount)),
        keeper: MoneyKeeper::Store,
    }
}

/// Ending `order` (whose last row is `order.last_consume_id`) at `at`, refunding `refund`.
pub fn closing(order: &Order, refund: i64, at: &str) -> OrderClosing {
    let at = t(at);
    OrderClosing {
        order_id: order.id.clone(),
        expected_last_consume_id: order.last_consume_id,
        end_time: at,
        settlement: Vec::new(),
        end_row: Consumption {
            order_id: order.id.clone(),
            consume_id: order.last_consume_id + 1,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount: money(-refund),
            time: at,
            covered_until: order.deadline_time,
            kind: ConsumptionKind::End,
        },
        keeper: MoneyKeeper::Store,
        credit: None,
    }
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
        .recharge(recharge_of(project_id, amount, "2026-01-01T00:00:00Z"))
        .await
        .expect("fund");
}

/// Opening `order` with nothing charged up front (postpaid): no row, `last_consume_id` 0.
pub fn opening_uncharged(order: &Order) -> OrderOpening {
    let mut order = order.clone();
    order.last_consume_id = 0;
    OrderOpening {
        order,
        first_charge: None,
        keeper: MoneyKeeper::Store,
    }
}

pub fn consuming_in(project_id: &str) -> OrderFilter {
    OrderFilter {
        project: project(project_id),
        status: OrderStatus::Consuming,
        region: None,
    }
}

pub fn page(page: u32, size: u32) -> PageRequest {
    PageRequest::parse(Some(&page.to_string()), Some(&size.to_string())).expect("page")
}

/// `opening` with a charge service keeping the money: the caller took the charge already.
pub fn by_charge_service(mut opening: OrderOpening) -> OrderOpening {
    opening.keeper = MoneyKeeper::ChargeService;
    opening
}

/// The credit a charge-service closing queues for its end row's refund (`None` for zero).
pub fn refund_credit(closing: &OrderClosing) -> Option<Payment> {
    let row = &closing.end_row;
    let amount = row.amount.checked_neg().expect("refund");
    amount.is_positive().then(|| Payment {
        project: row.project.clone(),
        region: row.region.clone(),
        amount,
        direction: PaymentDirection::Credit,
        reason: PaymentReason {
            order: row.order_id.clone(),
            consume_id: row.consume_id,
        },
    })
}

/// `closing` with a charge service keeping the money: the refund is queued as a credit.
pub fn closed_by_charge_service(mut closing: OrderClosing) -> OrderClosing {
    closing.keeper = MoneyKeeper::ChargeService;
    closing.credit = refund_credit(&closing);
    closing
}

/// A clock stopped at one instant.
pub struct StoppedClock(pub DateTime<Utc>);

impl domain::ports::Clock for StoppedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
