//! Killing the MariaDB the tests share with SIGKILL, and starting it again exactly as
//! `.ci/run` does. Killing the server breaks every other test using it at the time, so the
//! tests doing it are `#[ignore]`d and refuse to run unless `SERVICEUSAGE_TEST_KILL_MARIADB=1`:
//! `make test-crash` runs them one at a time, alone, on a machine whose MariaDB may be
//! killed (a developer's own, or CI's).

use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use diesel::{Connection, MysqlConnection, RunQueryDsl};

/// The opt-in: without it a test would take down a server other tests may be using.
const KILL_SWITCH: &str = "SERVICEUSAGE_TEST_KILL_MARIADB";
/// How long MariaDB may take to answer again after its restart (crash recovery included).
pub const PATIENCE: Duration = Duration::from_secs(60);
const MARIADBD: &str = "/usr/sbin/mariadbd";
const ADDRESS: &str = "127.0.0.1:3306";

/// The server's URL without a database (`SERVICEUSAGE_TEST_MYSQL_URL`, as `make test`
/// sets it).
pub fn base_url() -> String {
    std::env::var("SERVICEUSAGE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
        .trim_end_matches('/')
        .to_owned()
}

/// Panics unless the kill switch is on: `test` would break anything else using MariaDB.
#[track_caller]
pub fn require_kill_switch(test: &str) {
    assert!(
        std::env::var(KILL_SWITCH).as_deref() == Ok("1"),
        "{test} kills and restarts the MariaDB at {ADDRESS}, breaking anything else using it; \
         set {KILL_SWITCH}=1 to allow it (`make test-crash` does)"
    );
}

/// Starts MariaDB as `.ci/run` does (a no-op if it runs) and waits until it answers a
/// query; how long that took.
pub fn start_mariadb() -> Duration {
    let started = Instant::now();
    // As `.ci/run`: the socket directory may be gone after a reboot.
    let _ = std::fs::create_dir_all("/run/mysqld");
    let _ = Command::new("chown")
        .args(["mysql:mysql", "/run/mysqld"])
        .status();
    let status = Command::new("start-stop-daemon")
        .args(["--start", "--oknodo", "--background", "--exec", MARIADBD])
        .status()
        .expect("run start-stop-daemon");
    assert!(status.success(), "start-stop-daemon failed: {status}");
    let base_url = base_url();
    let mut last_error = String::from("nothing listens yet");
    while started.elapsed() < PATIENCE {
        if TcpStream::connect_timeout(&ADDRESS.parse().unwrap(), Duration::from_secs(1)).is_ok() {
            let answer = MysqlConnection::establish(&base_url)
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

/// Killed MariaDB: restarts it when dropped, so that a failing assertion between the kill
/// and the restart does not leave the machine without its database.
#[must_use = "MariaDB stays down until this is restarted or dropped"]
pub struct Killed {
    /// The pids killed.
    pub pids: String,
    at: Instant,
    restarted: bool,
}

impl Killed {
    /// Since the kill.
    pub fn elapsed(&self) -> Duration {
        self.at.elapsed()
    }

    /// Starts MariaDB again (see [`start_mariadb`]); how long it took to answer.
    pub fn restart(mut self) -> Duration {
        self.restarted = true;
        start_mariadb()
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if !self.restarted {
            start_mariadb();
        }
    }
}

/// SIGKILL to every `mariadbd`: no shutdown, no flush beyond what InnoDB already logged.
pub fn kill_mariadb() -> Killed {
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
    // Gone (or a zombie, whose executable link is gone too) before anything restarts it:
    // `start-stop-daemon --oknodo` would take a dying server for a running one.
    let deadline = Instant::now() + PATIENCE;
    for pid in pids.split_whitespace() {
        while std::fs::read_link(format!("/proc/{pid}/exe")).is_ok() {
            assert!(Instant::now() < deadline, "mariadbd {pid} outlived kill -9");
            thread::sleep(Duration::from_millis(20));
        }
    }
    Killed {
        pids,
        at: Instant::now(),
        restarted: false,
    }
}
