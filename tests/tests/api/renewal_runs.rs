//! Running `serviceusage migrate` and `serviceusage renew --once --now …` as processes, for
//! the renewal tests (the server's own renewal job is switched off where they start one).

use std::process::{Child, Command, Output, Stdio};

use chrono::NaiveDateTime;

use crate::helpers::{command, run_to_end};

/// `--now` as the CLI takes it (RFC 3339, UTC).
pub fn rfc3339(now: NaiveDateTime) -> String {
    now.and_utc().to_rfc3339()
}

/// Applies the migrations to a fresh database, so that the seeder finds the tables.
pub fn migrate(database_url: &str) {
    let mut migrate = command(database_url);
    migrate.arg("migrate");
    let output = run_to_end(migrate);
    assert!(output.status.success(), "migrate failed: {output:?}");
}

/// `serviceusage renew --once --now <now>`, not started yet; the tests' days lie ahead.
pub fn renew_command(database_url: &str, now: NaiveDateTime) -> Command {
    let mut renew = command(database_url);
    renew.args([
        "renew",
        "--once",
        "--allow-future-clock",
        "--now",
        &rfc3339(now),
    ]);
    renew
}

/// Runs one renewal to the end and insists on exit 0; returns its stdout.
#[track_caller]
pub fn renew_once(database_url: &str, now: NaiveDateTime) -> String {
    let output: Output = run_to_end(renew_command(database_url, now));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "renew --once --now {} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        rfc3339(now),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A renewal run started in the background with its stdout piped (progress lines).
pub fn spawn_renew(database_url: &str, now: NaiveDateTime) -> Child {
    renew_command(database_url, now)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serviceusage renew")
}

/// The `renewal done:` summary line of a run's output.
pub fn summary(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|line| line.starts_with("renewal done:"))
        .unwrap_or_else(|| panic!("no `renewal done:` line in:\n{stdout}"))
}
