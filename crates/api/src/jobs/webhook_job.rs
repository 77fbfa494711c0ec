//! The server's webhook job: every few seconds, the due deliveries of the webhook outbox
//! (see [`WebhookDispatcher`]). A loop of its own, beside the delivery job's: a receiver
//! that answers slowly, or not at all until the timeout, holds back only other webhooks,
//! never a credit, a payment or a release.

use std::time::Duration;

use async_trait::async_trait;

use super::periodic::{self, Periodic, RunningJob};
use super::webhook_delivery::WebhookDispatcher;

/// Between two runs: a notification just committed waits at most this long.
pub const WEBHOOK_INTERVAL: Duration = Duration::from_secs(5);

/// Longest a run may take before it is abandoned (see [`periodic`]): a run of receivers
/// that each take the whole platform timeout could otherwise last hours; what it did not
/// deliver stays due.
const RUN_LIMIT: Duration = Duration::from_secs(5 * 60);

/// The job, built with the server when a webhook is configured and started with it.
pub struct WebhookJob {
    dispatcher: WebhookDispatcher,
    interval: Duration,
}

impl WebhookJob {
    pub fn new(dispatcher: WebhookDispatcher, interval: Duration) -> Self {
        Self {
            dispatcher,
            interval,
        }
    }

    /// Starts the loop on the current actix runtime.
    pub fn spawn(self) -> RunningJob {
        log::info!(
            "webhook job: due deliveries every {}s",
            self.interval.as_secs()
        );
        periodic::spawn("webhook", self.interval, RUN_LIMIT, self)
    }
}

#[async_trait(?Send)]
impl Periodic for WebhookJob {
    async fn run_once(&self) {
        deliver_webhooks(&self.dispatcher).await;
    }
}

/// One delivery of due webhooks.
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
    use domain::ports::MockClock;
    use infra_mysql::WebhookDelivery;

    use super::*;
    use crate::config::{WebhookEndpoint, WebhookSettings};
    use crate::jobs::webhook_delivery::{WebhookOutbox, WebhookTransport};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    /// An outbox that cannot be read, counting how often it is asked.
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
    async fn the_job_runs_at_start_and_every_interval_despite_failures_until_stopped() {
        let queries = Arc::new(AtomicUsize::new(0));
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        let dispatcher = WebhookDispatcher::new(
            Arc::new(CountingOutbox(queries.clone())),
            Arc::new(NoTransport),
            &WebhookSettings {
                endpoints: Vec::new(),
                max_attempts: 20,
            },
            Arc::new(clock),
        );
        let running = WebhookJob::new(dispatcher, Duration::from_millis(10)).spawn();
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        running.stop().await;
        let runs = queries.load(Ordering::SeqCst);
        assert!(runs >= 2, "{runs} runs");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(queries.load(Ordering::SeqCst), runs);
    }
}
