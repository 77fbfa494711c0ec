//! The server's delivery job: every few seconds, the credits queued for the charge service
//! (see `UseCases::deliver_credits`), the platform releases queued for retry (see
//! `UseCases::retry_releases`) and the webhook outbox. All three queues are in the
//! database, so what a stopped or crashed server left undone goes at the next tick of any
//! server.

use std::time::Duration;

use async_trait::async_trait;
use domain::usecases::UseCases;

use super::periodic::{self, Periodic, RunningJob};
use super::webhook_delivery::WebhookDispatcher;

/// Between two runs: a refund queued by a cancel whose immediate delivery failed, or a
/// notification just committed, waits at most this long.
pub const DELIVERY_INTERVAL: Duration = Duration::from_secs(5);

/// The job, built with the server and started with it.
pub struct DeliveryJob {
    usecases: UseCases,
    /// `None` when no webhook is configured: the outbox then holds nothing.
    webhooks: Option<WebhookDispatcher>,
    interval: Duration,
}

impl DeliveryJob {
    pub fn new(
        usecases: UseCases,
        webhooks: Option<WebhookDispatcher>,
        interval: Duration,
    ) -> Self {
        Self {
            usecases,
            webhooks,
            interval,
        }
    }

    /// Starts the loop on the current actix runtime.
    pub fn spawn(self) -> RunningJob {
        log::info!(
            "delivery job: credits, releases{} every {}s",
            if self.webhooks.is_some() {
                " and webhooks"
            } else {
                ""
            },
            self.interval.as_secs()
        );
        periodic::spawn("delivery", self.interval, self)
    }
}

#[async_trait(?Send)]
impl Periodic for DeliveryJob {
    async fn run_once(&self) {
        deliver_credits(&self.usecases).await;
        retry_releases(&self.usecases).await;
        if let Some(webhooks) = &self.webhooks {
            deliver_webhooks(webhooks).await;
        }
    }
}

/// One delivery of due credits; each credit is logged by the use case.
pub async fn deliver_credits(usecases: &UseCases) {
    match usecases.deliver_credits().await {
        Ok(tally) if tally.failed > 0 => log::warn!(
            "credits: {} delivered, {} left for a later attempt",
            tally.delivered,
            tally.failed
        ),
        Ok(tally) if tally.delivered > 0 => log::info!("credits: {} delivered", tally.delivered),
        Ok(_) => {}
        Err(error) => log::error!("credit delivery failed (retried next run): {error}"),
    }
}

/// One retry of due platform releases; each release is logged by the use case.
pub async fn retry_releases(usecases: &UseCases) {
    match usecases.retry_releases().await {
        Ok(tally) if tally.failed > 0 => log::warn!(
            "releases: {} released, {} left for a later attempt",
            tally.released,
            tally.failed
        ),
        Ok(tally) if tally.released > 0 => log::info!("releases: {} released", tally.released),
        Ok(_) => {}
        Err(error) => log::error!("release retry failed (retried next run): {error}"),
    }
}

/// One delivery of due webhooks; each failure is logged by the dispatcher.
pub async fn deliver_webhooks(webhooks: &WebhookDispatcher) {
    match webhooks.deliver_due().await {
        Ok(tally) if tally.delivered + tally.retried + tally.given_up > 0 => log::info!(
            "webhooks: {} delivered, {} to retry, {} given up",
            tally.delivered,
            tally.retried,
            tally.given_up
        ),
        Ok(_) => {}
        Err(error) => log::error!("webhook delivery failed (retried next run): {error}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use chrono::{DateTime, TimeZone, Utc};
    use domain::ports::{MockClock, MockReleaseQueue, MockRenewalRepository};
    use domain::usecases::BillingPolicy;

    use super::*;
    use crate::config::{WebhookEndpoint, WebhookSettings};
    use crate::jobs::webhook_delivery::{WebhookOutbox, WebhookTransport};
    use crate::test_support::{ports_with, MockPorts};
    use infra_mysql::WebhookDelivery;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    /// An empty outbox counting how often it is asked.
    struct CountingOutbox(Arc<AtomicUsize>);

    #[async_trait]
    impl WebhookOutbox for CountingOutbox {
        async fn due(&self, _: DateTime<Utc>, _: u32) -> domain::Result<Vec<WebhookDelivery>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(domain::Error::Unavailable("lost connection".into()))
        }
        async fn delivered(&self, _: u64, _: DateTime<Utc>) -> domain::Result<()> {
            unreachable!("nothing is due")
        }
        async fn failed(&self, _: u64, _: Option<DateTime<Utc>>, _: String) -> domain::Result<()> {
            unreachable!("nothing is due")
        }
    }

    struct NoTransport;

    #[async_trait]
    impl WebhookTransport for NoTransport {
        async fn send(
            &self,
            _: &WebhookEndpoint,
            _: &[u8],
            _: DateTime<Utc>,
            _: u64,
        ) -> Result<(), String> {
            unreachable!("nothing is due")
        }
    }

    #[actix_web::test]
    async fn a_run_retries_the_due_releases_too() {
        let mut releases = MockReleaseQueue::new();
        releases
            .expect_pending()
            .withf(|at, _| *at == now())
            .times(1)
            .returning(|_, _| Ok(Vec::new()));
        let mut mocks = MockPorts {
            releases: Some(releases),
            ..MockPorts::default()
        };
        mocks.clock.expect_now().return_const(now());
        let usecases = UseCases::new(mocks.into_ports(), BillingPolicy::default());
        DeliveryJob::new(usecases, None, DELIVERY_INTERVAL)
            .run_once()
            .await;
    }

    #[actix_web::test]
    async fn the_job_runs_at_start_and_every_interval_despite_failures_until_stopped() {
        let queries = Arc::new(AtomicUsize::new(0));
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        let webhooks = WebhookDispatcher::new(
            Arc::new(CountingOutbox(queries.clone())),
            Arc::new(NoTransport),
            &WebhookSettings {
                endpoints: Vec::new(),
                max_attempts: 20,
            },
            Arc::new(clock),
        );
        let usecases = UseCases::new(
            ports_with(MockRenewalRepository::new(), now()),
            BillingPolicy::default(),
        );
        let running = DeliveryJob::new(usecases, Some(webhooks), Duration::from_millis(10)).spawn();
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        running.stop().await;
        let runs = queries.load(Ordering::SeqCst);
        assert!(runs >= 2, "{runs} runs");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(queries.load(Ordering::SeqCst), runs);
    }
}
