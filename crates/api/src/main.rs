//! `serviceusage`: parse the command line, start logging (`RUST_LOG`, else `LOG_LEVEL`; in the
//! format `LOG_FORMAT` or `[log] format` names), load the configuration, dispatch.

use std::process::ExitCode;

use api::cli::{Cli, Command, DeliverArgs, ReconcileArgs, RenewArgs};
use api::config::{self, Settings};
use api::jobs::{
    deliver_once, reconcile_once, renew_once, DeliverOnceError, ReconcileOnceError, RenewOnceError,
};
use api::logging;
use api::startup::{self, Application, StartupError};
use clap::Parser;

/// Exit status for a configuration that cannot be used (clap uses it for usage errors too).
const EXIT_BAD_CONFIG: u8 = 2;
/// Exit status for arguments refused after parsing, as clap's own usage errors.
const EXIT_BAD_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = cli.command().check_clock(chrono::Utc::now()) {
        eprintln!("serviceusage: {error}");
        return ExitCode::from(EXIT_BAD_USAGE);
    }
    let filter = match config::env::log_filter(&config::env::process_env) {
        Ok(filter) => filter,
        Err(error) => {
            eprintln!("serviceusage: {error}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let format = match config::log_format() {
        Ok(format) => format,
        Err(error) => {
            eprintln!("serviceusage: {error}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    logging::init(&filter, format);
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("serviceusage: {error}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let outcome = match cli.command() {
        Command::Serve => serve(settings).map_err(|e| e.to_string()),
        Command::Migrate => startup::migrate(&settings.database).map_err(|e| e.to_string()),
        Command::Renew(args) => renew(settings, args).map_err(|e| e.to_string()),
        Command::Deliver(args) => deliver(settings, args).map_err(|e| e.to_string()),
        Command::Reconcile(args) => reconcile(settings, args).map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("serviceusage: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> Result<(), StartupError> {
    actix_web::rt::System::new().block_on(async {
        Application::build(settings)
            .await?
            .run_until_stopped()
            .await
    })
}

fn renew(settings: Settings, args: RenewArgs) -> Result<(), RenewOnceError> {
    actix_web::rt::System::new()
        .block_on(renew_once(settings, args.clock.now))
        .map(drop)
}

fn deliver(settings: Settings, args: DeliverArgs) -> Result<(), DeliverOnceError> {
    actix_web::rt::System::new().block_on(deliver_once(settings, args.clock.now))
}

fn reconcile(settings: Settings, args: ReconcileArgs) -> Result<(), ReconcileOnceError> {
    actix_web::rt::System::new().block_on(reconcile_once(settings, args))
}
