//! The command line: `serviceusage [serve]` runs the server, `serviceusage migrate`
//! applies migrations and exits, `serviceusage renew --once [--now <RFC3339>]` runs one
//! renewal run and exits, `serviceusage deliver --once` delivers what is due once and exits,
//! `serviceusage reconcile [--project P]` proves the books and exits non-zero if they do
//! not add up.
//!
//! `--now` fakes the clock of a run. A run at a future time moves real money early: it
//! charges cycles before they are due and ends orders whose grace has not run out, and
//! nothing undoes that when the real clock catches up. So a `--now` more than
//! [`FUTURE_CLOCK_TOLERANCE`] after the system clock is refused unless
//! `--allow-future-clock` says it is meant (tests, rehearsals on a copy of the data).

use chrono::{DateTime, TimeDelta, Utc};
use clap::{Args, Parser, Subcommand};
use domain::ids::ProjectId;

#[derive(Debug, Parser)]
#[command(
    name = "serviceusage",
    version,
    about = "Billing service: orders, usages, balances"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Debug, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Renew every due order once and exit (for cron jobs and tests).
    Renew(RenewArgs),
    /// Send the due payments, run the due resource tasks and deliver the due webhooks once,
    /// and exit (for cron jobs and tests).
    Deliver(DeliverArgs),
    /// Prove the books: every project's balance is its recharges less its ledger payments,
    /// every payment pays its row, nothing waits too long. Exits 1 on any mismatch.
    Reconcile(ReconcileArgs),
}

#[derive(Clone, Debug, PartialEq, Eq, Args)]
pub struct ReconcileArgs {
    /// Only this project (default: every project).
    #[arg(long, value_parser = parse_project)]
    pub project: Option<ProjectId>,
    /// Report payments pending longer than this many minutes (default:
    /// `payments.pending_alert_minutes`).
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub pending_minutes: Option<u32>,
}

fn parse_project(text: &str) -> Result<ProjectId, String> {
    ProjectId::parse(text).map_err(|e| e.to_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Args)]
pub struct DeliverArgs {
    /// Run once and exit. Required: the repeating loop is the server's job.
    #[arg(long, required = true)]
    pub once: bool,
    #[command(flatten)]
    pub clock: ClockArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Args)]
pub struct RenewArgs {
    /// Run once and exit. Required: the repeating loop is the server's job.
    #[arg(long, required = true)]
    pub once: bool,
    #[command(flatten)]
    pub clock: ClockArgs,
}

/// The clock of a one-shot run: the system's, or the one `--now` fakes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Args)]
pub struct ClockArgs {
    /// Run as if it were this instant (what is due by then is done; what is written is
    /// dated at it), an RFC 3339 time with an offset such as 2027-01-31T00:00:00Z
    /// (default: the system clock).
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
    /// Accept a --now more than a day after the system clock. Such a run charges cycles
    /// before they are due and ends orders early, for good: for tests and for rehearsals
    /// on a copy of the data.
    #[arg(long)]
    pub allow_future_clock: bool,
}

/// How far `--now` may run ahead of the system clock without `--allow-future-clock`: clocks
/// of two machines and a time zone written wrong stay within it; a day's renewal does not.
pub const FUTURE_CLOCK_TOLERANCE: TimeDelta = TimeDelta::days(1);

/// A `--now` too far ahead of the system clock, not allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--now {requested} is more than a day after the system clock ({system}): a run at a \
     future time charges cycles before they are due and ends orders early, and that is not \
     undone when the clock catches up; add --allow-future-clock if that is what you want \
     (tests, rehearsals on a copy of the data)"
)]
pub struct FutureClock {
    pub requested: DateTime<Utc>,
    pub system: DateTime<Utc>,
}

impl ClockArgs {
    /// The instant the run should take as now (`None`: the system clock), or why not,
    /// given what the system clock says.
    pub fn fake_now(&self, system: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, FutureClock> {
        match self.now {
            Some(requested)
                if !self.allow_future_clock && requested > system + FUTURE_CLOCK_TOLERANCE =>
            {
                Err(FutureClock { requested, system })
            }
            now => Ok(now),
        }
    }
}

/// An RFC 3339 instant, offset required; anything else is refused rather than guessed.
fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("{e}: expected an RFC 3339 time with an offset, such as 2027-01-31T00:00:00Z")
        })
}

impl Cli {
    pub fn command(&self) -> Command {
        self.command.clone().unwrap_or(Command::Serve)
    }
}

impl Command {
    /// The command's faked clock checked against the system's; commands without one pass.
    pub fn check_clock(&self, system: DateTime<Utc>) -> Result<(), FutureClock> {
        match self {
            Command::Renew(RenewArgs { clock, .. })
            | Command::Deliver(DeliverArgs { clock, .. }) => clock.fake_now(system).map(drop),
            Command::Serve | Command::Migrate | Command::Reconcile(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;
    use clap::error::ErrorKind;

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(args).map(|cli| cli.command())
    }

    fn renew(args: &[&str]) -> Result<RenewArgs, clap::Error> {
        let mut all = vec!["serviceusage", "renew"];
        all.extend_from_slice(args);
        match parse(&all)? {
            Command::Renew(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn no_subcommand_serves() {
        assert_eq!(parse(&["serviceusage"]).unwrap(), Command::Serve);
    }

    #[test]
    fn serve_and_migrate_are_subcommands() {
        assert_eq!(parse(&["serviceusage", "serve"]).unwrap(), Command::Serve);
        assert_eq!(
            parse(&["serviceusage", "migrate"]).unwrap(),
            Command::Migrate
        );
    }

    #[test]
    fn an_unknown_subcommand_is_an_error() {
        assert!(parse(&["serviceusage", "explode"]).is_err());
    }

    #[test]
    fn deliver_needs_once() {
        assert_eq!(
            parse(&["serviceusage", "deliver", "--once"]).unwrap(),
            Command::Deliver(DeliverArgs {
                once: true,
                clock: ClockArgs::default()
            })
        );
        assert!(matches!(
            parse(&[
                "serviceusage",
                "deliver",
                "--once",
                "--now",
                "2027-01-31T00:00:00Z"
            ]),
            Ok(Command::Deliver(DeliverArgs {
                clock: ClockArgs { now: Some(_), .. },
                ..
            }))
        ));
        let error = parse(&["serviceusage", "deliver"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn reconcile_takes_an_optional_project_and_pending_threshold() {
        assert_eq!(
            parse(&["serviceusage", "reconcile"]).unwrap(),
            Command::Reconcile(ReconcileArgs {
                project: None,
                pending_minutes: None
            })
        );
        assert_eq!(
            parse(&[
                "serviceusage",
                "reconcile",
                "--project",
                "demo",
                "--pending-minutes",
                "5"
            ])
            .unwrap(),
            Command::Reconcile(ReconcileArgs {
                project: Some(ProjectId::parse("demo").unwrap()),
                pending_minutes: Some(5)
            })
        );
        for bad in [
            vec!["serviceusage", "reconcile", "--project", "bad id"],
            vec!["serviceusage", "reconcile", "--pending-minutes", "0"],
        ] {
            assert_eq!(parse(&bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn renew_once_without_now_uses_the_clock() {
        assert_eq!(
            renew(&["--once"]).unwrap(),
            RenewArgs {
                once: true,
                clock: ClockArgs::default()
            }
        );
    }

    #[test]
    fn renew_without_once_is_a_usage_error() {
        let error = renew(&[]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument);
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("--once"), "{error}");
        assert!(renew(&["--now", "2027-01-31T00:00:00Z"]).is_err());
    }

    #[test]
    fn now_accepts_rfc3339_with_any_offset_and_fraction() {
        let cases = [
            (
                "2027-01-31T00:00:00Z",
                Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap(),
            ),
            (
                "2027-01-31T08:00:00+08:00",
                Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap(),
            ),
            (
                "2024-02-29t12:30:00.5-01:00",
                Utc.with_ymd_and_hms(2024, 2, 29, 13, 30, 0).unwrap()
                    + chrono::Duration::milliseconds(500),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                renew(&["--once", "--now", text]).unwrap().clock.now,
                Some(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn now_refuses_anything_but_rfc3339() {
        for text in [
            "2027-01-31",
            "2027-01-31T00:00:00",
            "2027-01-31 00:00:00",
            "2027-02-30T00:00:00Z",
            "1700000000",
            "tomorrow",
            "",
        ] {
            let error = renew(&["--once", "--now", text]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{text}");
            assert_eq!(error.exit_code(), 2, "{text}");
            assert!(error.to_string().contains("RFC 3339"), "{text}: {error}");
        }
    }

    fn system() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
    }

    fn clock(now: Option<DateTime<Utc>>, allow_future_clock: bool) -> ClockArgs {
        ClockArgs {
            now,
            allow_future_clock,
        }
    }

    #[test]
    fn a_now_up_to_a_day_ahead_or_in_the_past_is_taken_as_is() {
        for now in [
            system() + FUTURE_CLOCK_TOLERANCE,
            system() + TimeDelta::hours(1),
            system(),
            Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        ] {
            assert_eq!(clock(Some(now), false).fake_now(system()), Ok(Some(now)));
        }
        assert_eq!(clock(None, false).fake_now(system()), Ok(None));
    }

    #[test]
    fn a_now_more_than_a_day_ahead_is_refused_saying_why_and_how_to_insist() {
        let requested = system() + FUTURE_CLOCK_TOLERANCE + TimeDelta::seconds(1);
        let error = clock(Some(requested), false)
            .fake_now(system())
            .unwrap_err();
        assert_eq!(
            error,
            FutureClock {
                requested,
                system: system()
            }
        );
        let message = error.to_string();
        for words in [
            "2026-12-07 12:00:01",
            "system clock (2026-12-06 12:00:00",
            "charges cycles before they are due",
            "--allow-future-clock",
        ] {
            assert!(message.contains(words), "{words}: {message}");
        }
    }

    #[test]
    fn allow_future_clock_takes_any_now() {
        let far = Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(clock(Some(far), true).fake_now(system()), Ok(Some(far)));
    }

    #[test]
    fn renew_and_deliver_check_their_clock_and_the_other_commands_have_none() {
        let ahead = |command: &str, allow: bool| {
            let mut args = vec![
                "serviceusage",
                command,
                "--once",
                "--now",
                "2030-01-01T00:00:00Z",
            ];
            if allow {
                args.push("--allow-future-clock");
            }
            parse(&args).unwrap().check_clock(system())
        };
        for command in ["renew", "deliver"] {
            assert!(ahead(command, false).is_err(), "{command}");
            assert_eq!(ahead(command, true), Ok(()), "{command}");
        }
        for args in [
            vec!["serviceusage"],
            vec!["serviceusage", "migrate"],
            vec!["serviceusage", "reconcile"],
        ] {
            assert_eq!(parse(&args).unwrap().check_clock(system()), Ok(()));
        }
    }
}
