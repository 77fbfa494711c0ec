//! What the renewal benchmarks share: their settings, the release binary run from the
//! workspace root, a freshly migrated and seeded database per side, and the check that
//! every payment pays its row.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use blackbox_tests::db::{Db, MysqlServer};
use blackbox_tests::seed::{seed_due, DueOrders, Keeper, NewOrder};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The service's default `renewal.batch_size`.
pub const BATCH_SIZE: usize = 500;

/// What every benchmark run is given.
pub struct Bench {
    /// The release binary (`SERVICEUSAGE_BIN`, set by the Makefile).
    pub binary: PathBuf,
    pub server: MysqlServer,
    /// The due orders to seed: N (`SERVICEUSAGE_BENCH_ORDERS`, default 100000) prepaid
    /// orders of the demo plans, 100 per project, deadlines spread over the 20 days before
    /// the run's clock, so that each owes exactly one cycle.
    pub spec: DueOrders,
}

impl Bench {
    pub fn from_env(keeper: Keeper) -> Result<Self> {
        let binary = PathBuf::from(
            std::env::var_os("SERVICEUSAGE_BIN")
                .ok_or("set SERVICEUSAGE_BIN to the release binary")?,
        );
        let orders: usize = match std::env::var("SERVICEUSAGE_BENCH_ORDERS") {
            Ok(text) => text.parse()?,
            Err(_) => 100_000,
        };
        let now = NaiveDate::from_ymd_opt(2027, 3, 5)
            .and_then(|day| day.and_hms_opt(23, 30, 0))
            .ok_or("bad date")?;
        Ok(Self {
            binary,
            server: MysqlServer::from_env(),
            spec: DueOrders {
                orders,
                projects: (orders / 100).max(1),
                balance: 1_000_000_000_000,
                now,
                overdue_days: 20,
                seed: 1,
                keeper,
            },
        })
    }

    /// The binary, run from the workspace root (config/default.toml) on `url`.
    pub fn service(&self, url: &str) -> Command {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut command = Command::new(&self.binary);
        command
            .current_dir(root)
            .env("SERVICEUSAGE__DATABASE__URL", url)
            .env("RUST_LOG", "warn");
        command
    }

    /// `serviceusage renew --once` at the run's clock, with `config` (a path for
    /// `SERVICEUSAGE_CONFIG`) if any: its stdout and how long it took, process start
    /// included.
    pub fn renew_once(&self, url: &str, config: Option<&Path>) -> Result<(String, Duration)> {
        let mut renew = self.service(url);
        renew.args([
            "renew",
            "--once",
            "--allow-future-clock",
            "--now",
            &self.spec.now.and_utc().to_rfc3339(),
        ]);
        if let Some(config) = config {
            renew.env("SERVICEUSAGE_CONFIG", config);
        }
        let started = Instant::now();
        let stdout = run(renew)?;
        Ok((stdout, started.elapsed()))
    }

    /// A fresh migrated database with the due orders: its URL and the orders.
    pub fn prepare(&self, side: &str) -> Result<(String, Vec<NewOrder>)> {
        let url = self.server.create_database(&format!("su_bench_{side}"))?;
        let mut migrate = self.service(&url);
        migrate.arg("migrate");
        run(migrate)?;
        let started = Instant::now();
        let mut db = Db::connect(&url)?;
        let orders = seed_due(&mut db, &self.spec)?;
        println!(
            "{side}: seeded {} due orders in {:.1} s",
            orders.len(),
            started.elapsed().as_secs_f64()
        );
        Ok((url, orders))
    }

    /// The run's clock.
    pub fn now(&self) -> NaiveDateTime {
        self.spec.now
    }
}

/// Runs `command`; its stdout, or an error with everything it printed.
pub fn run(mut command: Command) -> Result<String> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The lines of a `renew --once` output worth showing: the run's and the payments' summary.
pub fn summary(stdout: &str) -> impl Iterator<Item = &str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("renewal done:") || l.starts_with("payments:"))
}

pub fn per_second(orders: usize, elapsed: Duration) -> f64 {
    orders as f64 / elapsed.as_secs_f64()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The `n` a `SELECT COUNT(*) AS n …` answers.
pub fn count(db: &mut Db, sql: &str) -> Result<i64> {
    let Db::Mysql(conn) = db else {
        return Err("the benchmarks run on MariaDB".into());
    };
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// Checks that every row that charges has exactly one settled payment of its amount, kept
/// by `keeper`, and that there is no other payment; returns how many payments there are.
pub fn check_payments(url: &str, keeper: Keeper, side: &str) -> Result<i64> {
    let mut db = Db::connect(url)?;
    let charging_rows = count(
        &mut db,
        "SELECT COUNT(*) AS n FROM DF_CONSUMING_HISTORY WHERE CONSUMING > 0",
    )?;
    let payments = count(&mut db, "SELECT COUNT(*) AS n FROM DF_PAYMENT")?;
    let paying = count(
        &mut db,
        &format!(
            "SELECT COUNT(*) AS n FROM DF_CONSUMING_HISTORY h JOIN DF_PAYMENT p \
             ON p.ORDER_ID = h.ORDER_ID AND p.CONSUME_ID = h.CONSUME_ID \
             WHERE p.AMOUNT = h.CONSUMING AND p.STATE = 1 AND p.DIRECTION = 0 \
             AND p.KEEPER = {}",
            keeper.code()
        ),
    )?;
    if paying != charging_rows || payments != charging_rows {
        return Err(format!(
            "{side}: {charging_rows} rows charge, {payments} payments, of which {paying} \
             settled and paying a row with its amount"
        )
        .into());
    }
    println!("{side}: each of the {payments} charges has its settled payment");
    Ok(payments)
}
