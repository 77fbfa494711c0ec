//! `serviceusage renew --once [--now <RFC3339>]`: one renewal run from the command line, for
//! cron jobs and tests. It migrates and wires exactly as the server does, prints a line per
//! committed batch and a summary, and returns; a run interrupted by a crash leaves only
//! whole batches behind, so running it again finishes the work.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use domain::ports::Clock;
use domain::usecases::{RenewalReport, UseCases};

use super::report::{batch_line, summary_line};
use crate::adapters::{FixedClock, SystemClock};
use crate::config::Settings;
use crate::startup::{self, StartupError};

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
    let usecases = UseCases::new(
        startup::ports(&settings, &database, clock)?,
        settings.billing,
    );
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
    let report = usecases.renew_due(&mut progress).await?;
    let _ = writeln!(out, "{}", summary_line(&report, started.elapsed()));
    let _ = out.flush();
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;
    use domain::ids::{OrderId, PlanId};
    use domain::order::{Order, OrderStatus};
    use domain::plan::ChargingMode;
    use domain::ports::{BatchOutcome, MockRenewalRepository};
    use domain::renewal::{RenewalCursor, RenewalDecision, RenewalOutcome};
    use domain::usecases::{BillingPolicy, RenewalTally};

    use super::*;
    use crate::test_support::{self, ports_with};

    fn order(id: &str) -> Order {
        test_support::order(id, "cn-north-1")
    }

    /// A store with due orders in the prepaid/consuming queue only, handed out as two
    /// batches (two unpaid orders, then one) and then an empty claim.
    fn store() -> MockRenewalRepository {
        let mut renewals = MockRenewalRepository::new();
        renewals.expect_due_plans().returning(|queue, _, _| {
            Ok(
                if queue.status == OrderStatus::Consuming && queue.mode == ChargingMode::Prepaid {
                    vec![PlanId::parse("cpu-m").unwrap()]
                } else {
                    Vec::new()
                },
            )
        });
        let mut left = vec![vec!["o3"], vec!["o1", "o2"]];
        renewals.expect_renew_batch().returning(move |_, _| {
            let ids = left.pop().unwrap_or_default();
            let decisions: Vec<_> = ids
                .iter()
                .map(|id| RenewalDecision {
                    before: order(id),
                    after: order(id),
                    rows: Vec::new(),
                    events: Vec::new(),
                    outcome: RenewalOutcome::Unpaid,
                })
                .collect();
            let next = ids.last().map(|id| RenewalCursor {
                deadline: order(id).deadline_time,
                order_id: OrderId::parse(id).unwrap(),
            });
            Ok(BatchOutcome { decisions, next })
        });
        renewals
    }

    #[tokio::test]
    async fn a_run_prints_a_line_per_batch_then_the_summary() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut ports = ports_with(store(), now);
        let mut plans = domain::ports::MockPlanCatalog::new();
        plans.expect_get().returning(|_| Ok(None));
        ports.plans = Arc::new(plans);
        let usecases = UseCases::new(ports, BillingPolicy::default());
        let mut out = Vec::new();
        let report = run(&usecases, &mut out).await.unwrap();
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
        assert_eq!(lines.len(), 3, "{out}");
        assert_eq!(
            lines[0],
            "batch 1 prepaid/consuming: 2 claimed, 0 renewed (0 cycles, 0.00 charged), 2 unpaid, \
             0 ended, 0 skipped"
        );
        assert!(
            lines[1].starts_with("batch 2 prepaid/consuming: 1 claimed"),
            "{out}"
        );
        assert!(
            lines[2].starts_with(
                "renewal done: 2 batches, 3 claimed, 0 renewed (0 cycles, 0.00 charged), \
                 3 unpaid, 0 ended, 0 skipped in "
            ),
            "{out}"
        );
        assert!(lines[2].ends_with(" orders/s)"), "{out}");
    }

    #[tokio::test]
    async fn a_store_failure_is_the_runs_error() {
        let mut renewals = MockRenewalRepository::new();
        renewals
            .expect_due_plans()
            .returning(|_, _, _| Err(domain::Error::Unavailable("connection refused".into())));
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let usecases = UseCases::new(ports_with(renewals, now), BillingPolicy::default());
        let mut out = Vec::new();
        let error = run(&usecases, &mut out).await.unwrap_err();
        assert!(matches!(
            error,
            RenewOnceError::Run(domain::Error::Unavailable(_))
        ));
        assert!(out.is_empty());
    }
}
