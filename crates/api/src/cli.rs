//! The command line: `serviceusage [serve]` runs the server, `serviceusage migrate`
//! applies migrations and exits.

use clap::{Parser, Subcommand};

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
}

impl Cli {
    pub fn command(&self) -> Command {
        self.command.unwrap_or(Command::Serve)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(args).map(|cli| cli.command())
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
}
