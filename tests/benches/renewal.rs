//! `make bench-renewal`: how fast `serviceusage renew --once` renews due orders on MariaDB,
//! next to the ceiling of the same SQL without the service.
//!
//! Both sides get a fresh database with the same N due prepaid orders (seeded directly:
//! demo plans, 1 per 100 orders per project, deadlines spread over the 20 days before the
//! run's clock, so that each owes exactly one cycle). The service side runs the release
//! binary; the ceiling side runs, in transactions of the service's batch size, the
//! statements the service runs: the SKIP LOCKED claim, the balance lock, one multi-row
//! history INSERT, one guarded `CASE` UPDATE for the batch's orders and one for its
//! debits. That batched side is the ceiling. A third side writes one UPDATE per order and
//! per project, for reference: it shows what a round trip per order costs. All are then
//! checked against the ledger invariants.
//!
//! Environment: `SERVICEUSAGE_BIN` (the release binary, set by the Makefile),
//! `SERVICEUSAGE_BENCH_ORDERS` (N, default 100000), `SERVICEUSAGE_TEST_MYSQL_URL`.

#[path = "renewal/ceiling.rs"]
mod ceiling;

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use blackbox_tests::db::{Db, MysqlServer};
use blackbox_tests::invariants;
use blackbox_tests::seed::{seed_due, DueOrders};
use ceiling::Writes;
use chrono::{NaiveDate, NaiveDateTime};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The service's default `renewal.batch_size`.
const BATCH_SIZE: usize = 500;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The binary, run from the workspace root (config/default.toml) on `url`.
fn service(binary: &Path, url: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(workspace_root())
        .env("SERVICEUSAGE__DATABASE__URL", url)
        .env("RUST_LOG", "warn");
    command
}

fn run(mut command: Command) -> Result<String> {
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

/// A fresh migrated database with the due orders; returns its URL.
fn prepare(server: &MysqlServer, binary: &Path, spec: &DueOrders, side: &str) -> Result<String> {
    let url = server.create_database(&format!("su_bench_{side}"))?;
    let mut migrate = service(binary, &url);
    migrate.arg("migrate");
    run(migrate)?;
    let started = Instant::now();
    let mut db = Db::connect(&url)?;
    seed_due(&mut db, spec)?;
    println!(
        "{side}: seeded {} due orders in {:.1} s",
        spec.orders,
        started.elapsed().as_secs_f64()
    );
    Ok(url)
}

fn check(url: &str, now: NaiveDateTime, side: &str) -> Result<()> {
    let mut db = Db::connect(url)?;
    let report = invariants::check(&mut db, now, &BTreeMap::new())?;
    if report.violations.is_empty() {
        println!("{side}: invariants hold ({} rows)", report.rows);
        Ok(())
    } else {
        Err(format!(
            "{side}: invariants violated: {:?}",
            &report.violations[..5.min(report.violations.len())]
        )
        .into())
    }
}

fn per_second(orders: usize, elapsed: Duration) -> f64 {
    orders as f64 / elapsed.as_secs_f64()
}

fn main() -> Result<()> {
    let binary = PathBuf::from(
        std::env::var_os("SERVICEUSAGE_BIN").ok_or("set SERVICEUSAGE_BIN to the release binary")?,
    );
    let orders: usize = match std::env::var("SERVICEUSAGE_BENCH_ORDERS") {
        Ok(text) => text.parse()?,
        Err(_) => 100_000,
    };
    let now = NaiveDate::from_ymd_opt(2027, 3, 5)
        .and_then(|day| day.and_hms_opt(23, 30, 0))
        .ok_or("bad date")?;
    let spec = DueOrders {
        orders,
        projects: (orders / 100).max(1),
        balance: 1_000_000_000_000,
        now,
        overdue_days: 20,
        seed: 1,
    };
    let server = MysqlServer::from_env();
    println!(
        "renewal benchmark: {orders} due orders, batch {BATCH_SIZE}, MariaDB at {}",
        server.base_url
    );

    let service_url = prepare(&server, &binary, &spec, "service")?;
    let mut renew = service(&binary, &service_url);
    renew.args(["renew", "--once", "--now", &now.and_utc().to_rfc3339()]);
    let started = Instant::now();
    let stdout = run(renew)?;
    let service_time = started.elapsed();
    if let Some(summary) = stdout.lines().find(|l| l.starts_with("renewal done:")) {
        println!("service: {summary}");
    }
    check(&service_url, now, "service")?;

    let per_order = ceiling(&server, &binary, &spec, Writes::PerOrder)?;
    let batched = ceiling(&server, &binary, &spec, Writes::Batched)?;

    let service_rate = per_second(orders, service_time);
    println!();
    println!(
        "service `renew --once`:               {orders} orders in {:>6.2} s = {service_rate:>6.0} orders/s",
        service_time.as_secs_f64()
    );
    for (name, (renewed, time)) in [
        ("raw SQL ceiling (same statements):   ", batched),
        ("raw SQL, one UPDATE per order:       ", per_order),
    ] {
        println!(
            "{name}{renewed} orders in {:>6.2} s = {:>6.0} orders/s",
            time.as_secs_f64(),
            per_second(renewed, time)
        );
    }
    println!(
        "service / ceiling:                    {:.0} %",
        100.0 * service_rate / per_second(batched.0, batched.1)
    );

    server.drop_database(&service_url)?;
    Ok(())
}

/// One ceiling run on its own freshly seeded database: orders renewed and time taken.
fn ceiling(
    server: &MysqlServer,
    binary: &Path,
    spec: &DueOrders,
    writes: Writes,
) -> Result<(usize, Duration)> {
    let side = match writes {
        Writes::PerOrder => "ceiling",
        Writes::Batched => "batched",
    };
    let url = prepare(server, binary, spec, side)?;
    let started = Instant::now();
    let renewed = ceiling::renew_all(&url, spec.now, BATCH_SIZE, writes)?;
    let time = started.elapsed();
    check(&url, spec.now, side)?;
    server.drop_database(&url)?;
    Ok((renewed, time))
}
