//! The server's renewal job: one renewal run at start, then one every
//! `renewal.interval_seconds`, never two at once in one process. Other processes (replicas,
//! a `serviceusage renew --once` from cron) may run at the same time; the store's claim
//! (`FOR UPDATE SKIP LOCKED` plus a compare-and-set on each order) keeps them from charging
//! a cycle twice.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::usecases::UseCases;

use super::periodic::{self, Periodic, RunningJob};
use super::report::{batch_line, summary_line};
use crate::config::RenewalJobSettings;
use crate::telemetry::{self, Backlog};

/// Longest a run may take before it is abandoned (see [`periodic`]). A million due orders
/// take about three minutes; a run cut short leaves whole batches, and the next one
/// carries on from what is still due.
const RUN_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The job, built with the server and started with it.
pub struct RenewalJob {
    usecases: UseCases,
    settings: RenewalJobSettings,
    /// Where the renewal lag is measured after each run (none in unit tests).
    backlog: Option<Backlog>,
}

impl RenewalJob {
    pub fn new(usecases: UseCases, settings: RenewalJobSettings) -> Self {
        Self {
            usecases,
            settings,
            backlog: None,
        }
    }

    /// Measures the renewal lag after each run (see [`Backlog::measure_renewals`]).
    pub fn with_backlog(mut self, backlog: Backlog) -> Self {
        self.backlog = Some(backlog);
        self
    }

    /// Starts the loop on the current actix runtime; `None` when `renewal.enabled` is false.
    /// Stopped, a run in progress may finish its batches; one abandoned rolls its open
    /// batch back for the next run to redo (only the notifications of a batch committed
    /// in that instant could be lost).
    pub fn spawn(self) -> Option<RunningJob> {
        if !self.settings.enabled {
            log::info!("renewal job disabled (renewal.enabled = false)");
            return None;
        }
        log::info!(
            "renewal job: first run now, then every {}s",
            self.settings.interval.as_secs()
        );
        Some(periodic::spawn(
            "renewal",
            self.settings.interval,
            RUN_LIMIT,
            self,
        ))
    }
}

#[async_trait(?Send)]
impl Periodic for RenewalJob {
    async fn run_once(&self) {
        run_once(&self.usecases).await;
        if let Some(backlog) = &self.backlog {
            backlog
                .measure_renewals(&self.usecases.policy().renewal)
                .await;
        }
    }
}

/// One run: the summary at info when it did something, an error logged and never raised,
/// so a database outage costs one run, not the server.
async fn run_once(usecases: &UseCases) {
    let started = Instant::now();
    let mut progress =
        |queue, number, tally: &_| log::debug!("{}", batch_line(queue, number, tally));
    match usecases.renew_due(&mut progress).await {
        Ok(report) => {
            telemetry::jobs::renewal_run(&report, started.elapsed());
            if report.total.claimed > 0 {
                log::info!("{}", summary_line(&report, started.elapsed()));
            } else {
                log::debug!("renewal: nothing due");
            }
        }
        Err(error) => log::error!("renewal run failed (retried next interval): {error}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use domain::policy::BillingPolicy;
    use domain::ports::MockRenewalRepository;

    use super::*;
    use crate::test_support::ports_with;

    fn settings(enabled: bool) -> RenewalJobSettings {
        RenewalJobSettings {
            enabled,
            interval: Duration::from_millis(10),
        }
    }

    /// Use cases whose store counts `due_plans` calls (once per queue per run) and fails
    /// them when `fail` is set.
    fn counting(calls: Arc<AtomicUsize>, fail: bool) -> UseCases {
        let mut renewals = MockRenewalRepository::new();
        renewals.expect_due_plans().returning(move |_, _| {
            calls.fetch_add(1, Ordering::SeqCst);
            if fail {
                Err(domain::Error::Unavailable("connection refused".into()))
            } else {
                Ok(Vec::new())
            }
        });
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        UseCases::new(
            ports_with(renewals, now),
            BillingPolicy::default(),
            domain::usecases::SettlerSettings::default(),
        )
    }

    #[actix_web::test]
    async fn a_disabled_job_never_starts() {
        let calls = Arc::new(AtomicUsize::new(0));
        let job = RenewalJob::new(counting(calls.clone(), false), settings(false));
        assert!(job.spawn().is_none());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[actix_web::test]
    async fn the_job_runs_at_start_and_again_every_interval_until_stopped() {
        let calls = Arc::new(AtomicUsize::new(0));
        let running = RenewalJob::new(counting(calls.clone(), false), settings(true))
            .spawn()
            .unwrap();
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        running.stop().await;
        let runs = calls.load(Ordering::SeqCst) / 4;
        assert!(runs >= 2, "{runs} runs");
        let after_stop = calls.load(Ordering::SeqCst);
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(calls.load(Ordering::SeqCst), after_stop);
    }

    #[actix_web::test]
    async fn a_failing_run_does_not_end_the_job() {
        let calls = Arc::new(AtomicUsize::new(0));
        let running = RenewalJob::new(counting(calls.clone(), true), settings(true))
            .spawn()
            .unwrap();
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        running.stop().await;
        // A failed run stops at its first queue, so each run asks once.
        assert!(calls.load(Ordering::SeqCst) >= 2);
    }
}
