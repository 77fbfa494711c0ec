//! Renewal runs racing each other and dying mid-run, on MariaDB, over thousands of due
//! orders seeded straight into the database: every due cycle is charged exactly once
//! (rows per order = the rows the calendar says it owes) and the ledger balances.
//!
//! MariaDB itself killed mid-run is `crash::mariadb_killed_renewing`, run on demand by
//! `make test-crash`: it would break every other test sharing the server.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::time::Instant;

use blackbox_tests::db::Db;
use blackbox_tests::inspect::rows_per_order;
use blackbox_tests::invariants;
use blackbox_tests::seed::{seed_due, DueOrders, Keeper, NewOrder};
use chrono::{NaiveDate, NaiveDateTime};

use crate::helpers::{assert_reconciled, command, MysqlDatabase};
use crate::renewal_runs::{migrate, renew_once, spawn_renew, summary};

/// The runs' clock: a Friday night after a month end, so that orders anchored on the
/// 29th–31st are among the due ones.
pub(crate) fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2027, 3, 5)
        .and_then(|day| day.and_hms_opt(23, 30, 0))
        .unwrap()
}

/// A fresh migrated database with `orders` due orders in 100 well-funded projects, some
/// owing two cycles (deadlines up to 45 days back).
fn seeded(test_name: &str, orders: usize) -> Option<(MysqlDatabase, Vec<NewOrder>)> {
    let database = MysqlDatabase::create(test_name)?;
    migrate(&database.url());
    let started = Instant::now();
    let mut db = Db::connect(&database.url()).unwrap();
    let seeded = seed_due(
        &mut db,
        &DueOrders {
            orders,
            projects: 100,
            balance: 1_000_000_000_000,
            now: now(),
            overdue_days: 45,
            seed: 3,
            keeper: Keeper::LocalLedger,
        },
    )
    .unwrap();
    eprintln!(
        "{test_name}: seeded {orders} due orders in {:?}",
        started.elapsed()
    );
    Some((database, seeded))
}

/// Every order has exactly the rows its cycles call for, the invariants hold, and
/// `serviceusage reconcile` finds every payment paying its row.
pub(crate) fn assert_each_cycle_charged_once(database: &MysqlDatabase, orders: &[NewOrder]) {
    let mut db = Db::connect(&database.url()).unwrap();
    let counts = rows_per_order(&mut db).unwrap();
    let wrong: Vec<String> = orders
        .iter()
        .filter_map(|order| {
            let want = order.rows_after_renewal_at(now());
            let have = counts.get(&order.order_id).copied().unwrap_or(0);
            (have != want).then(|| format!("{}: {have} rows, {want} expected", order.order_id))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} orders charged wrongly, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    let renewals: u32 = orders
        .iter()
        .map(|order| order.rows_after_renewal_at(now()) - 1)
        .sum();
    assert!(
        renewals as usize > orders.len(),
        "some orders must owe two cycles"
    );
    invariants::check(&mut db, now(), &BTreeMap::new())
        .unwrap()
        .assert_holds();
    assert_reconciled(command(&database.url()));
}

#[test]
fn mysql_two_concurrent_renewal_runs_charge_each_cycle_once() {
    let test = "renewal_concurrency::mysql_two_concurrent_renewal_runs_charge_each_cycle_once";
    let Some((database, orders)) = seeded(test, 10_000) else {
        return;
    };
    let started = Instant::now();
    let runs = [
        spawn_renew(&database.url(), now()),
        spawn_renew(&database.url(), now()),
    ];
    for run in runs {
        let output = run.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "a concurrent run failed: {output:?}"
        );
        eprintln!("{test}: {}", summary(&stdout));
    }
    eprintln!("{test}: both runs done in {:?}", started.elapsed());
    assert_each_cycle_charged_once(&database, &orders);
}

#[test]
fn mysql_a_renewal_run_killed_mid_run_is_completed_by_the_next_run() {
    let test =
        "renewal_concurrency::mysql_a_renewal_run_killed_mid_run_is_completed_by_the_next_run";
    let Some((database, orders)) = seeded(test, 20_000) else {
        return;
    };
    let mut run = spawn_renew(&database.url(), now());
    let mut lines = BufReader::new(run.stdout.take().unwrap()).lines();
    let first = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.starts_with("batch "))
        .expect("a progress line before the run ends");
    // SIGKILL: no destructor, no rollback from the process; MariaDB drops the connection.
    // The pipe stays open until then, so the run dies of the kill, not of a closed stdout.
    run.kill().unwrap();
    let status = run.wait().unwrap();
    drop(lines);
    eprintln!("{test}: killed ({status}) after `{first}`");

    let renewed = renewed_so_far(&database, &orders);
    assert!(
        renewed < orders.len(),
        "the run finished before it was killed; the test proves nothing"
    );
    eprintln!(
        "{test}: {renewed} of {} orders renewed at the kill",
        orders.len()
    );
    // At the kill: no charge without its row, no order advanced without its charge. Due
    // orders are still consuming, so the deadline rule is not checked yet.
    let mut db = Db::connect(&database.url()).unwrap();
    invariants::check(&mut db, NaiveDateTime::MIN, &BTreeMap::new())
        .unwrap()
        .assert_holds();

    let started = Instant::now();
    let stdout = renew_once(&database.url(), now());
    eprintln!(
        "{test}: re-run in {:?}: {}",
        started.elapsed(),
        summary(&stdout)
    );
    assert_each_cycle_charged_once(&database, &orders);
}

/// How many of `orders` have more than their opening row: renewed at least once.
pub(crate) fn renewed_so_far(database: &MysqlDatabase, orders: &[NewOrder]) -> usize {
    let mut db = Db::connect(&database.url()).unwrap();
    let counts = rows_per_order(&mut db).unwrap();
    orders
        .iter()
        .filter(|order| counts.get(&order.order_id).copied().unwrap_or(0) > 1)
        .count()
}
