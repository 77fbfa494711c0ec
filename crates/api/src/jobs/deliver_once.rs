//! `serviceusage deliver --once`: one run of the delivery job from the command line — the
//! due payments to the charge services, the due resource tasks, the due webhooks to their
//! receivers — wired exactly as the server is, printing what it did.

use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::ports::Clock;

use super::webhook_delivery::WebhookTally;
use crate::adapters::{FixedClock, SystemClock};
use crate::config::Settings;
use crate::startup::{self, StartupError};

/// Why a run from the command line failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliverOnceError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("delivery failed: {0}")]
    Run(#[from] domain::Error),
}

/// Runs once at `now` (the system clock when `None`), printing one line per queue to stdout.
pub async fn deliver_once(
    settings: Settings,
    now: Option<DateTime<Utc>>,
) -> Result<(), DeliverOnceError> {
    // Connecting and migrating block, but nothing else runs on this thread yet.
    let database = startup::connect(&settings.database)?;
    let clock: Arc<dyn Clock> = match now {
        Some(now) => Arc::new(FixedClock::new(now)),
        None => Arc::new(SystemClock),
    };
    let usecases = startup::usecases(
        &settings,
        startup::ports(&settings, &database, clock.clone())?,
    );
    let webhooks = startup::webhooks(&settings, &database, clock)?;
    let payments = usecases.settle_due().await?;
    let tasks = usecases.run_tasks().await?;
    let webhooks = match webhooks {
        Some(dispatcher) => Some(dispatcher.deliver_due().await?),
        None => None,
    };
    let mut out = std::io::stdout().lock();
    // A closed stdout loses the lines, not the deliveries.
    let _ = writeln!(out, "{}", super::report::payments_line(&payments));
    let _ = writeln!(out, "{}", super::report::tasks_line(&tasks));
    let _ = writeln!(out, "{}", webhook_line(webhooks));
    let _ = out.flush();
    Ok(())
}

fn webhook_line(tally: Option<WebhookTally>) -> String {
    match tally {
        Some(t) => format!(
            "webhooks: {} delivered, {} to retry, {} given up",
            t.delivered, t.retried, t.given_up
        ),
        None => "webhooks: none configured".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_line_counts_each_outcome_or_says_there_are_none() {
        let tally = WebhookTally {
            delivered: 3,
            retried: 1,
            given_up: 0,
        };
        assert_eq!(
            webhook_line(Some(tally)),
            "webhooks: 3 delivered, 1 to retry, 0 given up"
        );
        assert_eq!(webhook_line(None), "webhooks: none configured");
    }
}
