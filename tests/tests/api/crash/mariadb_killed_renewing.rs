//! MariaDB itself killed with SIGKILL in the middle of a renewal run, then restarted: the
//! run must fail (not hang), InnoDB's crash recovery must leave only whole batches, and the
//! next run must finish the work with every due cycle charged exactly once and
//! `serviceusage reconcile` finding the books in order. Run alone by `make test-crash` (see
//! [`super::mariadb`]).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ExitStatus};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use blackbox_tests::db::Db;
use blackbox_tests::invariants;
use blackbox_tests::seed::{seed_due, DueOrders, Keeper};
use chrono::NaiveDateTime;

use super::mariadb::{kill_mariadb, require_kill_switch, PATIENCE};
use crate::helpers::MysqlDatabase;
use crate::renewal_concurrency::{assert_each_cycle_charged_once, now, renewed_so_far};
use crate::renewal_runs::{migrate, renew_once, spawn_renew, summary};

/// The rest of a pipe's lines, read on a thread so that the run never blocks on a full pipe.
fn drain<R: BufRead + Send + 'static>(lines: Lines<R>) -> JoinHandle<Vec<String>> {
    thread::spawn(move || lines.map_while(Result::ok).collect())
}

/// The run's exit status; SIGKILLs it and fails the test if it outlives [`PATIENCE`].
fn wait_or_kill(run: &mut Child) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = run.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > PATIENCE {
            let _ = run.kill();
            let _ = run.wait();
            panic!("the renewal run hung for {PATIENCE:?} after MariaDB was killed");
        }
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "kills MariaDB: run alone with `make test-crash`"]
fn mysql_crash_mariadb_killed_mid_renewal_run_loses_and_doubles_nothing() {
    let test = "crash::mariadb_killed_renewing::mysql_crash_mariadb_killed_mid_renewal_run_loses_and_doubles_nothing";
    require_kill_switch(test);
    let database = MysqlDatabase::create(test).expect("MariaDB must be reachable to be killed");
    migrate(&database.url());
    let mut db = Db::connect(&database.url()).unwrap();
    let orders = seed_due(
        &mut db,
        &DueOrders {
            orders: 20_000,
            projects: 100,
            balance: 1_000_000_000_000,
            now: now(),
            overdue_days: 45,
            seed: 3,
            keeper: Keeper::LocalLedger,
        },
    )
    .unwrap();
    drop(db);

    let mut run = spawn_renew(&database.url(), now());
    let mut lines = BufReader::new(run.stdout.take().unwrap()).lines();
    let first = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.starts_with("batch "))
        .expect("a progress line before the run ends");
    let killed = kill_mariadb();
    let stdout = drain(lines);
    let stderr = drain(BufReader::new(run.stderr.take().unwrap()).lines());
    let status = wait_or_kill(&mut run);
    let failed_after = killed.elapsed();
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    let batches = 1 + stdout.iter().filter(|l| l.starts_with("batch ")).count();
    eprintln!("{test}: killed mariadbd {} after `{first}`", killed.pids);
    // The pool logs every failed reconnect; the run's own verdict is its last line.
    let error = stderr.last().map_or("", String::as_str);
    eprintln!(
        "{test}: the run exited {status} {failed_after:?} after the kill, having reported \
         {batches} batches: {error}"
    );
    assert!(
        !status.success(),
        "the run succeeded although its database died:\n{}",
        stdout.join("\n")
    );

    let recovered = killed.restart();
    eprintln!("{test}: MariaDB answered {recovered:?} after its restart");

    let renewed = renewed_so_far(&database, &orders);
    eprintln!(
        "{test}: {renewed} of {} orders renewed after recovery",
        orders.len()
    );
    assert!(
        renewed > 0 && renewed < orders.len(),
        "{renewed} of {} orders renewed at the kill: the kill did not land mid-run",
        orders.len()
    );
    // After recovery: no charge without its row, no order advanced without its charge.
    // Due orders are still consuming, so the deadline rule is not checked yet.
    let mut db = Db::connect(&database.url()).unwrap();
    invariants::check(&mut db, NaiveDateTime::MIN, &BTreeMap::new())
        .unwrap()
        .assert_holds();
    drop(db);

    let started = Instant::now();
    let stdout = renew_once(&database.url(), now());
    eprintln!(
        "{test}: re-run in {:?}: {}",
        started.elapsed(),
        summary(&stdout)
    );
    // Every cycle charged once, and reconcile clean.
    assert_each_cycle_charged_once(&database, &orders);
}
