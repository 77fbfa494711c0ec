//! The command line: `serviceusage [serve]` runs the server, `serviceusage migrate`
//! applies migrations and exits, `serviceusage renew --once [--now <RFC3339>]` runs one
//! renewal run and exits, `serviceusage deliver --once` delivers what is due once and exits.

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Renew every due order once and exit (for cron jobs and tests).
    Renew(RenewArgs),
    /// Deliver the due credits and webhooks once and exit (for cron jobs and tests).
    Deliver(DeliverArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Args)]
pub struct DeliverArgs {
    /// Run once and exit. Required: the repeating loop is the server's job.
    #[arg(long, required = true)]
    pub once: bool,
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
        self.command.unwrap_or(Command::Serve)
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
            Command::Deliver(DeliverArgs { once: true })
        );
        let error = parse(&["serviceusage", "deliver"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument);
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
