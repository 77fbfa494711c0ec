//! `--now` of `renew --once` and `deliver --once`: a time more than a day after the system
//! clock moves money early for good, so it is refused unless `--allow-future-clock` says
//! it is meant.

use chrono::{Duration, Utc};

use crate::helpers::{command, run_to_end, SqliteDir};

fn run(
    subcommand: &str,
    now: chrono::DateTime<Utc>,
    allow: bool,
) -> (SqliteDir, std::process::Output) {
    let dir = SqliteDir::new();
    let mut run = command(&dir.url());
    run.args([subcommand, "--once", "--now", &now.to_rfc3339()]);
    if allow {
        run.arg("--allow-future-clock");
    }
    let output = run_to_end(run);
    (dir, output)
}

#[test]
fn renew_and_deliver_refuse_a_now_more_than_a_day_ahead_and_say_why() {
    for subcommand in ["renew", "deliver"] {
        let (dir, output) = run(subcommand, Utc::now() + Duration::days(30), false);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{subcommand}: {stderr}");
        assert!(
            stderr.contains("after the system clock") && stderr.contains("--allow-future-clock"),
            "{subcommand}: {stderr}"
        );
        assert!(
            !dir.path().exists(),
            "{subcommand}: a refused run must not open the database"
        );
    }
}

#[test]
fn allow_future_clock_runs_at_the_future_time() {
    for subcommand in ["renew", "deliver"] {
        let (_dir, output) = run(subcommand, Utc::now() + Duration::days(30), true);
        assert!(output.status.success(), "{subcommand}: {output:?}");
    }
}

#[test]
fn a_now_less_than_a_day_ahead_or_in_the_past_needs_no_flag() {
    for now in [
        Utc::now() + Duration::hours(23),
        Utc::now() - Duration::days(400),
    ] {
        let (_dir, output) = run("renew", now, false);
        assert!(output.status.success(), "{now}: {output:?}");
    }
}
