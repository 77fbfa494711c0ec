//! `serviceusage reconcile [--project P] [--pending-minutes N]`: proves the books from the
//! command line (see `domain::reconcile`), wired exactly as the server is. Prints each
//! mismatch as it is found and a summary; a mismatch makes the command fail, so CI and
//! cron can alert on it.

use std::io::Write;
use std::sync::Arc;

use chrono::TimeDelta;
use domain::ports::Clock;
use domain::usecases::{ReconcileReport, ReconcileSettings, UseCases};

use crate::adapters::SystemClock;
use crate::cli::ReconcileArgs;
use crate::config::Settings;
use crate::startup::{self, StartupError};

/// Why reconciling failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileOnceError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("reconcile failed: {0}")]
    Run(#[from] domain::Error),
    #[error("{0} mismatch(es) found")]
    Mismatches(usize),
}

/// Reconciles what `args` asks, printing to stdout.
pub async fn reconcile_once(
    settings: Settings,
    args: ReconcileArgs,
) -> Result<(), ReconcileOnceError> {
    // Connecting and migrating block, but nothing else runs on this thread yet.
    let database = startup::connect(&settings.database)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let usecases = startup::usecases(&settings, startup::ports(&settings, &database, clock)?);
    let reconcile = ReconcileSettings {
        project: args.project,
        pending_limit: args
            .pending_minutes
            .map_or(settings.payments.pending_alert, |m| {
                TimeDelta::minutes(i64::from(m))
            }),
    };
    let report = run(&usecases, &reconcile, &mut std::io::stdout()).await?;
    match report.mismatches.len() {
        0 => Ok(()),
        n => Err(ReconcileOnceError::Mismatches(n)),
    }
}

async fn run<W: Write + Send>(
    usecases: &UseCases,
    settings: &ReconcileSettings,
    out: &mut W,
) -> Result<ReconcileReport, ReconcileOnceError> {
    let report = usecases
        .reconcile(settings, &mut |project, mismatch| {
            let _ = writeln!(out, "project {project}: {mismatch}");
        })
        .await?;
    let _ = writeln!(
        out,
        "reconcile: {} project(s), {} mismatch(es)",
        report.projects,
        report.mismatches.len()
    );
    let _ = out.flush();
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::{TimeZone, Utc};
    use domain::ids::ProjectId;
    use domain::policy::BillingPolicy;
    use domain::testing::{money, principal, Harness};

    use super::*;

    fn settings() -> ReconcileSettings {
        ReconcileSettings {
            project: None,
            pending_limit: TimeDelta::hours(1),
        }
    }

    #[tokio::test]
    async fn books_that_add_up_print_only_the_summary() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let harness = Harness::new(BillingPolicy::default(), Vec::new(), now);
        let project = ProjectId::parse("demo").unwrap();
        harness
            .usecases
            .recharge(&principal("admin"), project, money("10"), None, None)
            .await
            .unwrap();
        let mut out = Vec::new();
        let report = run(&harness.usecases, &settings(), &mut out).await.unwrap();
        assert!(report.mismatches.is_empty());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "reconcile: 1 project(s), 0 mismatch(es)\n"
        );
    }

    #[tokio::test]
    async fn a_balance_changed_behind_the_services_back_is_printed_as_a_mismatch() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let harness = Harness::new(BillingPolicy::default(), Vec::new(), now);
        let project = ProjectId::parse("demo").unwrap();
        harness
            .usecases
            .recharge(
                &principal("admin"),
                project.clone(),
                money("10"),
                None,
                None,
            )
            .await
            .unwrap();
        harness.store.tamper_with_balance(&project, money("12"));
        let mut out = Vec::new();
        let report = run(&harness.usecases, &settings(), &mut out).await.unwrap();
        assert_eq!(report.mismatches.len(), 1);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with(
                "project demo: balance is 12.00, but recharges and ledger payments make 10.00\n"
            ),
            "{out}"
        );
        assert!(
            out.ends_with("reconcile: 1 project(s), 1 mismatch(es)\n"),
            "{out}"
        );
    }
}
