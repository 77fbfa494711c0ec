//! `make bench-renewal`: how fast `serviceusage renew --once` renews due orders the local
//! ledger keeps, on MariaDB, next to the ceiling of the same SQL without the service.
//!
//! Both sides get a fresh database with the same N due prepaid orders (seeded directly:
//! demo plans, 100 orders per project, deadlines spread over the 20 days before the run's
//! clock, so that each owes exactly one cycle). The service side runs the release binary;
//! the ceiling side runs, in transactions of the service's batch size, the statements the
//! service's store runs per batch (see `renewal/ceiling.rs`). Both are then checked
//! against the ledger's invariants, and every charge against its settled payment.
//!
//! Environment: `SERVICEUSAGE_BIN` (the release binary, set by the Makefile),
//! `SERVICEUSAGE_BENCH_ORDERS` (N, default 100000), `SERVICEUSAGE_TEST_MYSQL_URL`.

#[path = "renewal/ceiling.rs"]
mod ceiling;
#[path = "renewal/common.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use blackbox_tests::db::Db;
use blackbox_tests::invariants;
use blackbox_tests::seed::Keeper;
use chrono::NaiveDateTime;
use common::{check_payments, per_second, summary, Bench, Result, BATCH_SIZE};

fn check(url: &str, now: NaiveDateTime, side: &str) -> Result<()> {
    let mut db = Db::connect(url)?;
    let report = invariants::check(&mut db, now, &BTreeMap::new())?;
    if !report.violations.is_empty() {
        return Err(format!(
            "{side}: invariants violated: {:?}",
            &report.violations[..5.min(report.violations.len())]
        )
        .into());
    }
    println!("{side}: invariants hold ({} rows)", report.rows);
    check_payments(url, Keeper::LocalLedger, side)?;
    Ok(())
}

fn main() -> Result<()> {
    let bench = Bench::from_env(Keeper::LocalLedger)?;
    let orders = bench.spec.orders;
    println!(
        "renewal benchmark (local ledger): {orders} due orders, batch {BATCH_SIZE}, MariaDB at {}",
        bench.server.base_url
    );

    let (service_url, _) = bench.prepare("service")?;
    let (stdout, service_time) = bench.renew_once(&service_url, None)?;
    for line in summary(&stdout) {
        println!("service: {line}");
    }
    check(&service_url, bench.now(), "service")?;
    bench.server.drop_database(&service_url)?;

    let (ceiling_url, _) = bench.prepare("ceiling")?;
    let started = Instant::now();
    let renewed = ceiling::renew_all(&ceiling_url, bench.now(), BATCH_SIZE)?;
    let ceiling_time = started.elapsed();
    check(&ceiling_url, bench.now(), "ceiling")?;
    bench.server.drop_database(&ceiling_url)?;

    let service_rate = per_second(orders, service_time);
    let ceiling_rate = per_second(renewed, ceiling_time);
    println!();
    println!(
        "service `renew --once`:             {orders} orders in {:>6.2} s = {service_rate:>6.0} orders/s",
        service_time.as_secs_f64()
    );
    println!(
        "raw-SQL ceiling (same statements):  {renewed} orders in {:>6.2} s = {ceiling_rate:>6.0} orders/s",
        ceiling_time.as_secs_f64()
    );
    println!(
        "service / ceiling:                  {:.0} %",
        100.0 * service_rate / ceiling_rate
    );
    Ok(())
}
