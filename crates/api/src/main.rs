//! `serviceusage`: parse the command line, load the configuration, start logging, dispatch.

use std::process::ExitCode;

use api::cli::{Cli, Command};
use api::config::Settings;
use api::startup::{self, Application, StartupError};
use clap::Parser;

/// Exit status for a configuration that cannot be used.
const EXIT_BAD_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("serviceusage: {error}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let outcome = match cli.command() {
        Command::Serve => serve(settings),
        Command::Migrate => startup::migrate(&settings.database),
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
