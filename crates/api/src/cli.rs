//! The command line: `serviceusage [serve]` runs the server, `serviceusage migrate`
//! applies migrations and exits, `serviceusage renew --once [--now <RFC3339>]` runs one
//! renewal run and exits, `serviceusage deliver --once` delivers what is due once and exits,
//! `serviceusage reconcile [--project P]` proves the books and exits non-zero if they do
//! not add up.

use chrono::{DateTime, Utc};
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
    /// Deliver as if it were this instant (what is due by then goes; answers are recorded
    /// at it), an RFC 3339 time with an offset (default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Args)]
pub struct RenewArgs {
    /// Run once and exit. Required: the repeating loop is the server's job.
    #[arg(long, required = true)]
    pub once: bool,
    /// Renew as if it were this instant, an RFC 3339 time with an offset such as
    /// 2027-01-31T00:00:00Z (default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
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
                now: None
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
            Ok(Command::Deliver(DeliverArgs { now: Some(_), .. }))
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
                now: None
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
                renew(&["--once", "--now", text]).unwrap().now,
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
}
