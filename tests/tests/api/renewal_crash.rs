//! MariaDB itself killed with SIGKILL in the middle of a renewal run, then restarted: the
//! run must fail (not hang), InnoDB's crash recovery must leave only whole batches, and the
//! next run must finish the work with every due cycle charged exactly once.
//!
//! Killing the server breaks every other test using it at the time, so this test is
//! `#[ignore]`d and refuses to run unless `SERVICEUSAGE_TEST_KILL_MARIADB=1`: run it alone
//! with `make test-crash`, on a machine whose MariaDB may be killed (a developer's own or
//! CI's). It restarts MariaDB the way `.ci/run` starts it, even when it fails half-way.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Lines};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use blackbox_tests::db::Db;
use blackbox_tests::invariants;
use blackbox_tests::seed::{seed_due, DueOrders, Keeper};
use chrono::NaiveDateTime;
use diesel::{Connection, MysqlConnection, RunQueryDsl};

use crate::helpers::MysqlDatabase;
use crate::renewal_concurrency::{assert_each_cycle_charged_once, now, renewed_so_far};
use crate::renewal_runs::{migrate, renew_once, spawn_renew, summary};

/// The opt-in: without it the test would take down a server other tests may be using.
const KILL_SWITCH: &str = "SERVICEUSAGE_TEST_KILL_MARIADB";
/// How long the killed database may take to make the run fail, and to come back.
const PATIENCE: Duration = Duration::from_secs(60);
const MARIADBD: &str = "/usr/sbin/mariadbd";
const ADDRESS: &str = "127.0.0.1:3306";

/// Starts MariaDB as `.ci/run` does (a no-op if it runs) and waits until it answers a query.
fn start_mariadb(base_url: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new("start-stop-daemon")
        .args(["--start", "--oknodo", "--background", "--exec", MARIADBD])
        .status()
        .expect("run start-stop-daemon");
    assert!(status.success(), "start-stop-daemon failed: {status}");
    let mut last_error = String::from("nothing listens yet");
    while started.elapsed() < PATIENCE {
        if TcpStream::connect_timeout(&ADDRESS.parse().unwrap(), Duration::from_secs(1)).is_ok() {
            let answer = MysqlConnection::establish(base_url)
                .map_err(|error| error.to_string())
                .and_then(|mut conn| {
                    diesel::sql_query("SELECT 1")
                        .execute(&mut conn)
                        .map_err(|error| error.to_string())
                });
            match answer {
                Ok(_) => return started.elapsed(),
                Err(error) => last_error = error,
            }
        }
        thread::sleep(Duration::from_millis(200));
    }
    panic!("MariaDB did not answer within {PATIENCE:?} of its restart: {last_error}");
}

/// Restarts MariaDB when dropped, so that a failing assertion between the kill and the
/// restart does not leave the machine without its database.
struct RestartOnDrop {
    base_url: String,
    armed: bool,
}

impl Drop for RestartOnDrop {
    fn drop(&mut self) {
        if self.armed {
            start_mariadb(&self.base_url);
        }
    }
}

/// SIGKILL to every `mariadbd`: no shutdown, no flush beyond what InnoDB already logged.
fn kill_mariadb() -> String {
    let output = Command::new("pidof")
        .arg("mariadbd")
        .output()
        .expect("run pidof");
    let pids = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(!pids.is_empty(), "no mariadbd process to kill");
    let status = Command::new("kill")
        .arg("-9")
        .args(pids.split_whitespace())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -9 {pids} failed: {status}");
    pids
}

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
    let test =
        "renewal_crash::mysql_crash_mariadb_killed_mid_renewal_run_loses_and_doubles_nothing";
    assert!(
        std::env::var(KILL_SWITCH).as_deref() == Ok("1"),
        "{test} kills and restarts the MariaDB at {ADDRESS}, breaking anything else using it; \
         set {KILL_SWITCH}=1 to allow it (`make test-crash` does)"
    );
    let base_url = std::env::var("SERVICEUSAGE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
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
    let mut guard = RestartOnDrop {
        base_url: base_url.clone(),
        armed: true,
    };
    let killed_at = Instant::now();
    let pids = kill_mariadb();
    let stdout = drain(lines);
    let stderr = drain(BufReader::new(run.stderr.take().unwrap()).lines());
    let status = wait_or_kill(&mut run);
    let failed_after = killed_at.elapsed();
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    let batches = 1 + stdout.iter().filter(|l| l.starts_with("batch ")).count();
    eprintln!("{test}: killed mariadbd {pids} after `{first}`");
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

    guard.armed = false;
    let recovered = start_mariadb(&base_url);
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
    assert_each_cycle_charged_once(&database, &orders);
}
