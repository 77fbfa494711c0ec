//! `serviceusage renew --once [--now <RFC3339>]`: one renewal run from the command line, for
//! cron jobs and tests. It migrates and wires exactly as the server does, prints a line per
//! committed batch and a summary, sends the payments due at the charge services and runs
//! the resource tasks due (what the server's delivery job would do next), and returns. Where
//! a charge service keeps the money a run records one cycle's payment per order, so the
//! command runs again while the payments it sent were taken, to catch up every missed
//! cycle as one ledger run does. A run interrupted by a crash leaves only whole batches
//! behind, so running it again finishes the work.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use domain::ports::Clock;
use domain::usecases::{RenewalReport, SettleTally, UseCases};

use super::report::{batch_line, payments_line, summary_line, tasks_line};
use crate::adapters::{FixedClock, SystemClock};
use crate::config::Settings;
use crate::startup::{self, StartupError};

/// Rounds of renewing and settling: a charge-service order catches up one cycle per
/// round, so this bounds a catch-up at more than eight years of monthly cycles.
const MAX_ROUNDS: usize = 100;

/// Why a run from the command line failed.
#[derive(Debug, thiserror::Error)]
pub enum RenewOnceError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("renewal run failed: {0}")]
    Run(#[from] domain::Error),
}

/// Runs once at `now` (the system clock when `None`), printing to stdout.
pub async fn renew_once(
    settings: Settings,
    now: Option<DateTime<Utc>>,
) -> Result<RenewalReport, RenewOnceError> {
    // Connecting and migrating block, but nothing else runs on this thread yet.
    let database = startup::connect(&settings.database)?;
    let clock: Arc<dyn Clock> = match now {
        Some(now) => Arc::new(FixedClock::new(now)),
        None => Arc::new(SystemClock),
    };
    let usecases = startup::usecases(&settings, startup::ports(&settings, &database, clock)?);
    run(&usecases, &mut std::io::stdout()).await
}

/// The run itself, printing to `out`. A closed stdout does not stop a run that moves money:
/// the lines are lost, the work is not.
async fn run<W: Write + Send>(
    usecases: &UseCases,
    out: &mut W,
) -> Result<RenewalReport, RenewOnceError> {
    let started = Instant::now();
    let mut progress = |queue, number, tally: &_| {
        let _ = writeln!(out, "{}", batch_line(queue, number, tally));
    };
    let mut report = RenewalReport::default();
    let mut payments = SettleTally::default();
    for _ in 0..MAX_ROUNDS {
        let round = usecases.renew_due(&mut progress).await?;
        report.absorb(&round);
        let settled = usecases.settle_due().await?;
        payments.absorb(&settled);
        if round.total.awaiting == 0 || settled.taken == 0 {
            break;
        }
    }
    let _ = writeln!(out, "{}", summary_line(&report, started.elapsed()));
    let _ = writeln!(out, "{}", payments_line(&payments));
    let tasks = usecases.run_tasks().await?;
    let _ = writeln!(out, "{}", tasks_line(&tasks));
    let _ = out.flush();
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;
    use domain::ids::{PlanId, ProjectId, Quantity};
    use domain::policy::{BillingPolicy, RenewalSettings};
    use domain::testing::{money, principal, Fault, Harness, PlanBuilder};
    use domain::usecases::{CreateOrderRequest, RenewalTally};

    use super::*;

    /// Three orders of 100.00 due on Apr 1 2026, a balance for none of them, batches of two.
    async fn three_unpaid_orders() -> Harness {
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let policy = BillingPolicy {
            renewal: RenewalSettings {
                batch_size: 2,
                ..RenewalSettings::default()
            },
            ..BillingPolicy::default()
        };
        let plan = PlanBuilder::default().id("gpu").plan_type("gpu").build();
        let harness = Harness::new(policy, vec![plan], start);
        let project = ProjectId::parse("demo").unwrap();
        harness.store.fund(&project, money("300"));
        for _ in 0..3 {
            harness
                .usecases
                .create_order(
                    &principal("alice"),
                    CreateOrderRequest {
                        project: project.clone(),
                        plan_id: PlanId::parse("gpu").unwrap(),
                        quantities: Quantity::ONE,
                        region: None,
                        resource_name: None,
                        replaces: None,
                        dry_run: false,
                        idempotency: None,
                    },
                )
                .await
                .unwrap();
        }
        harness
            .clock
            .set(Utc.with_ymd_and_hms(2026, 3, 28, 0, 0, 0).unwrap());
        harness
    }

    #[tokio::test]
    async fn a_run_prints_a_line_per_batch_the_summary_and_what_was_settled() {
        let harness = three_unpaid_orders().await;
        let mut out = Vec::new();
        let report = run(&harness.usecases, &mut out).await.unwrap();
        assert_eq!(report.batches, 2);
        assert_eq!(
            report.total,
            RenewalTally {
                claimed: 3,
                unpaid: 3,
                ..RenewalTally::default()
            }
        );
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert_eq!(
            lines[0],
            "batch 1 prepaid/consuming: 2 claimed, 0 renewed (0 cycles, 0.00 charged), 2 unpaid, \
             0 ended, 0 skipped, 0 awaiting payment, 0 failed"
        );
        assert!(
            lines[1].starts_with("batch 2 prepaid/consuming: 1 claimed"),
            "{out}"
        );
        assert!(
            lines[2].starts_with(
                "renewal done: 2 batches, 3 claimed, 0 renewed (0 cycles, 0.00 charged), \
                 3 unpaid, 0 ended, 0 skipped"
            ),
            "{out}"
        );
        assert!(lines[2].ends_with(" orders/s)"), "{out}");
        assert!(lines[3].starts_with("payments: 0 taken"), "{out}");
        assert!(lines[4].starts_with("resource tasks: 0 done"), "{out}");
    }

    #[tokio::test]
    async fn a_queue_the_store_fails_is_reported_and_the_run_goes_on() {
        let harness = three_unpaid_orders().await;
        harness
            .faults
            .inject(Fault::Fail(domain::Error::Unavailable(
                "connection refused".into(),
            )));
        let mut out = Vec::new();
        let report = run(&harness.usecases, &mut out).await.unwrap();
        assert_eq!(report.failed_queues, 1);
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("1 queue(s) failed"), "{out}");
    }
}
