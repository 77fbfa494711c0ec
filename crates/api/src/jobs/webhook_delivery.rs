//! Webhook delivery from the outbox: every due delivery is POSTed (signed) to its receiver,
//! then marked delivered, or failed with its next attempt (see [`super::backoff`]), or given
//! up after `webhook_delivery.max_attempts` with an error in the log. At least once: a
//! process that dies between the POST and the mark sends it again, with the same
//! `X-Serviceusage-Delivery` id for the receiver to drop the repeat.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::Clock;
use infra_http::WebhookSender;
use infra_mysql::{WebhookDelivery, WebhookOutboxStore};

use super::backoff::next_attempt;
use crate::config::{WebhookEndpoint, WebhookSettings};
use crate::dto::webhook_event::WebhookEventJson;
use crate::telemetry::jobs::{self as telemetry, Delivery};

/// Deliveries read per query; a run reads again while they come full.
const BATCH: u32 = 100;
/// Most batches per run, so a backlog cannot keep one run (and a server stop) waiting.
const MAX_BATCHES: u32 = 10;

/// The outbox as the job uses it (infra-mysql's `WebhookOutboxStore`; a fake in tests).
#[async_trait]
pub trait WebhookOutbox: Send + Sync {
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> domain::Result<Vec<WebhookDelivery>>;
    async fn delivered(&self, id: u64, at: DateTime<Utc>) -> domain::Result<()>;
    /// `next`: when to try again; `None`: given up.
    async fn failed(
        &self,
        id: u64,
        next: Option<DateTime<Utc>>,
        error: String,
    ) -> domain::Result<()>;
}

/// One signed POST (infra-http's `WebhookSender`; a fake in tests). The error says why,
/// for the outbox and the log.
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        body: &[u8],
        now: DateTime<Utc>,
        delivery: u64,
    ) -> Result<(), String>;
}

#[async_trait]
impl WebhookOutbox for WebhookOutboxStore {
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> domain::Result<Vec<WebhookDelivery>> {
        WebhookOutboxStore::due(self, now, limit).await
    }

    async fn delivered(&self, id: u64, at: DateTime<Utc>) -> domain::Result<()> {
        WebhookOutboxStore::delivered(self, id, at).await
    }

    async fn failed(
        &self,
        id: u64,
        next: Option<DateTime<Utc>>,
        error: String,
    ) -> domain::Result<()> {
        WebhookOutboxStore::failed(self, id, next, error).await
    }
}

#[async_trait]
impl WebhookTransport for WebhookSender {
    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        body: &[u8],
        now: DateTime<Utc>,
        delivery: u64,
    ) -> Result<(), String> {
        self.send_delivery(
            &endpoint.url,
            &endpoint.secret,
            body,
            now,
            &delivery.to_string(),
        )
        .await
        .map_err(|e| e.to_string())
    }
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookTally {
    pub delivered: u64,
    /// Failed, to be tried again.
    pub retried: u64,
    pub given_up: u64,
}

/// Delivers what the outbox holds to the configured receivers.
pub struct WebhookDispatcher {
    outbox: Arc<dyn WebhookOutbox>,
    transport: Arc<dyn WebhookTransport>,
    endpoints: HashMap<String, WebhookEndpoint>,
    max_attempts: u32,
    clock: Arc<dyn Clock>,
}

impl WebhookDispatcher {
    pub fn new(
        outbox: Arc<dyn WebhookOutbox>,
        transport: Arc<dyn WebhookTransport>,
        settings: &WebhookSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            outbox,
            transport,
            endpoints: settings
                .endpoints
                .iter()
                .map(|e| (e.name.clone(), e.clone()))
                .collect(),
            max_attempts: settings.max_attempts,
            clock,
        }
    }

    /// Every due delivery (up to `MAX_BATCHES` batches). A failed POST is the delivery's
    /// and is recorded; a failing outbox ends the run with its error.
    pub async fn deliver_due(&self) -> domain::Result<WebhookTally> {
        let mut tally = WebhookTally::default();
        for _ in 0..MAX_BATCHES {
            let due = self.outbox.due(self.clock.now(), BATCH).await?;
            let full = due.len() >= BATCH as usize;
            for delivery in due {
                self.deliver(delivery, &mut tally).await?;
            }
            if !full {
                break;
            }
        }
        Ok(tally)
    }

    async fn deliver(
        &self,
        delivery: WebhookDelivery,
        tally: &mut WebhookTally,
    ) -> domain::Result<()> {
        let outcome = self.post(&delivery).await;
        let now = self.clock.now();
        let error = match outcome {
            Ok(()) => {
                log::debug!(
                    "webhook {}: delivery {} of notification {} delivered",
                    delivery.endpoint,
                    delivery.id,
                    delivery.notification_id
                );
                tally.delivered += 1;
                telemetry::webhook_delivery(Delivery::Delivered);
                return self.outbox.delivered(delivery.id, now).await;
            }
            Err(error) => error,
        };
        let failures = delivery.attempts.saturating_add(1);
        let next = next_attempt(now, failures, self.max_attempts);
        match next {
            Some(next) => {
                log::warn!(
                    "webhook {}: delivery {} of notification {} failed (attempt {failures} of \
                     {}), next at {next}: {error}",
                    delivery.endpoint,
                    delivery.id,
                    delivery.notification_id,
                    self.max_attempts
                );
                tally.retried += 1;
                telemetry::webhook_delivery(Delivery::Failed);
            }
            None => {
                log::error!(
                    "webhook {}: delivery {} of notification {} given up after {failures} \
                     attempts: {error}",
                    delivery.endpoint,
                    delivery.id,
                    delivery.notification_id
                );
                tally.given_up += 1;
                telemetry::webhook_delivery(Delivery::GivenUp);
            }
        }
        self.outbox.failed(delivery.id, next, error).await
    }

    /// A delivery for an endpoint no longer configured fails like an unreachable one: if the
    /// endpoint comes back before its attempts run out, it is still delivered.
    async fn post(&self, delivery: &WebhookDelivery) -> Result<(), String> {
        let endpoint = self
            .endpoints
            .get(&delivery.endpoint)
            .ok_or_else(|| format!("webhook {} is not configured", delivery.endpoint))?;
        let body = serde_json::to_vec(&WebhookEventJson::new(
            delivery.notification_id,
            &delivery.notification,
        ))
        .map_err(|e| format!("cannot encode the event: {e}"))?;
        self.transport
            .send(endpoint, &body, self.clock.now(), delivery.id)
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Mutex;

    use chrono::{TimeDelta, TimeZone};
    use domain::ids::{OrderId, ProjectId, Region};
    use domain::notification::{Notification, NotificationKind};
    use domain::ports::MockClock;
    use infra_http::Secret;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    fn delivery(id: u64, endpoint: &str, attempts: u32) -> WebhookDelivery {
        WebhookDelivery {
            id,
            endpoint: endpoint.into(),
            notification_id: 1000 + id,
            notification: Notification {
                kind: NotificationKind::OrderRenewed,
                project: ProjectId::parse("demo").unwrap(),
                region: Region::parse("cn-north-1").unwrap(),
                order_id: OrderId::parse("o1").unwrap(),
                time: now(),
                amount: None,
                message: "renewed".into(),
            },
            attempts,
        }
    }

    type Failed = (u64, Option<DateTime<Utc>>, String);

    /// An outbox handing out `batches` in order, recording what it is told.
    #[derive(Default)]
    struct FakeOutbox {
        batches: Mutex<Vec<Vec<WebhookDelivery>>>,
        unavailable: bool,
        queries: Mutex<u32>,
        delivered: Mutex<Vec<u64>>,
        failed: Mutex<Vec<Failed>>,
    }

    #[async_trait]
    impl WebhookOutbox for FakeOutbox {
        async fn due(&self, at: DateTime<Utc>, limit: u32) -> domain::Result<Vec<WebhookDelivery>> {
            assert_eq!((at, limit), (now(), BATCH));
            *self.queries.lock().unwrap() += 1;
            if self.unavailable {
                return Err(domain::Error::Unavailable("lost connection".into()));
            }
            let mut batches = self.batches.lock().unwrap();
            Ok(if batches.is_empty() {
                Vec::new()
            } else {
                batches.remove(0)
            })
        }

        async fn delivered(&self, id: u64, at: DateTime<Utc>) -> domain::Result<()> {
            assert_eq!(at, now());
            self.delivered.lock().unwrap().push(id);
            Ok(())
        }

        async fn failed(
            &self,
            id: u64,
            next: Option<DateTime<Utc>>,
            error: String,
        ) -> domain::Result<()> {
            self.failed.lock().unwrap().push((id, next, error));
            Ok(())
        }
    }

    /// A transport that answers 503 for the `down` endpoint and records every POST.
    #[derive(Default)]
    struct FakeTransport {
        sent: Mutex<Vec<(String, serde_json::Value, u64)>>,
    }

    #[async_trait]
    impl WebhookTransport for FakeTransport {
        async fn send(
            &self,
            endpoint: &WebhookEndpoint,
            body: &[u8],
            at: DateTime<Utc>,
            delivery: u64,
        ) -> Result<(), String> {
            assert_eq!(at, now());
            let body = serde_json::from_slice(body).unwrap();
            self.sent
                .lock()
                .unwrap()
                .push((endpoint.url.clone(), body, delivery));
            if endpoint.name == "down" {
                Err("HTTP 503".into())
            } else {
                Ok(())
            }
        }
    }

    fn settings(max_attempts: u32) -> WebhookSettings {
        let endpoint = |name: &str| WebhookEndpoint {
            name: name.into(),
            url: format!("https://{name}.example.com/hook"),
            secret: Secret::new("s"),
        };
        WebhookSettings {
            endpoints: vec![endpoint("up"), endpoint("down")],
            max_attempts,
        }
    }

    fn dispatcher(
        outbox: Arc<FakeOutbox>,
        transport: Arc<FakeTransport>,
        max_attempts: u32,
    ) -> WebhookDispatcher {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        WebhookDispatcher::new(outbox, transport, &settings(max_attempts), Arc::new(clock))
    }

    fn outbox(batches: Vec<Vec<WebhookDelivery>>) -> Arc<FakeOutbox> {
        Arc::new(FakeOutbox {
            batches: Mutex::new(batches),
            ..FakeOutbox::default()
        })
    }

    #[tokio::test]
    async fn a_delivery_is_posted_with_the_event_and_its_id_then_marked_delivered() {
        let (outbox, transport) = (outbox(vec![vec![delivery(7, "up", 0)]]), Arc::default());
        let tally = dispatcher(outbox.clone(), Arc::clone(&transport), 20)
            .deliver_due()
            .await
            .unwrap();
        assert_eq!(
            tally,
            WebhookTally {
                delivered: 1,
                ..WebhookTally::default()
            }
        );
        assert_eq!(*outbox.delivered.lock().unwrap(), [7]);
        let sent = transport.sent.lock().unwrap();
        let (url, body, id) = &sent[0];
        assert_eq!(url, "https://up.example.com/hook");
        assert_eq!(*id, 7);
        assert_eq!(body["id"], 1007);
        assert_eq!(body["kind"], "order_renewed");
        assert_eq!(body["orderId"], "o1");
    }

    #[tokio::test]
    async fn a_failed_post_is_retried_after_the_back_off_of_its_attempt() {
        let outbox = outbox(vec![vec![delivery(1, "down", 0), delivery(2, "down", 3)]]);
        let tally = dispatcher(outbox.clone(), Arc::default(), 20)
            .deliver_due()
            .await
            .unwrap();
        assert_eq!(tally.retried, 2);
        assert_eq!(
            *outbox.failed.lock().unwrap(),
            [
                (
                    1,
                    Some(now() + TimeDelta::seconds(5)),
                    "HTTP 503".to_owned()
                ),
                (
                    2,
                    Some(now() + TimeDelta::seconds(40)),
                    "HTTP 503".to_owned()
                ),
            ]
        );
        assert!(outbox.delivered.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_last_allowed_attempt_failing_gives_the_delivery_up() {
        let outbox = outbox(vec![vec![delivery(1, "down", 4)]]);
        let tally = dispatcher(outbox.clone(), Arc::default(), 5)
            .deliver_due()
            .await
            .unwrap();
        assert_eq!(tally.given_up, 1);
        assert_eq!(
            *outbox.failed.lock().unwrap(),
            [(1, None, "HTTP 503".to_owned())]
        );
    }

    #[tokio::test]
    async fn each_attempt_is_counted_by_its_outcome() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        // The test's runtime runs on this thread only: what the run emits reaches it.
        let _local = metrics::set_default_local_recorder(&recorder);
        let outbox = outbox(vec![vec![
            delivery(1, "up", 0),
            delivery(2, "down", 0),
            delivery(3, "down", 1),
            delivery(4, "down", 4),
        ]]);
        dispatcher(outbox, Arc::default(), 5)
            .deliver_due()
            .await
            .unwrap();
        let page = recorder.handle().render();
        for (outcome, count) in [("delivered", 1), ("failed", 2), ("given_up", 1)] {
            let line =
                format!("serviceusage_webhook_deliveries_total{{outcome=\"{outcome}\"}} {count}\n");
            assert!(page.contains(&line), "{line} in:\n{page}");
        }
    }

    #[tokio::test]
    async fn a_delivery_to_an_unconfigured_endpoint_fails_without_a_post() {
        let (outbox, transport) = (outbox(vec![vec![delivery(1, "gone", 0)]]), Arc::default());
        dispatcher(outbox.clone(), Arc::clone(&transport), 20)
            .deliver_due()
            .await
            .unwrap();
        assert!(transport.sent.lock().unwrap().is_empty());
        let failed = outbox.failed.lock().unwrap();
        assert_eq!(failed[0].1, Some(now() + TimeDelta::seconds(5)));
        assert!(failed[0].2.contains("gone"), "{}", failed[0].2);
    }

    #[tokio::test]
    async fn full_batches_are_followed_by_another_query_until_a_short_one() {
        let full: Vec<_> = (1..=u64::from(BATCH))
            .map(|id| delivery(id, "up", 0))
            .collect();
        let outbox = outbox(vec![
            full,
            vec![delivery(500, "up", 0)],
            vec![delivery(501, "up", 0)],
        ]);
        let tally = dispatcher(outbox.clone(), Arc::default(), 20)
            .deliver_due()
            .await
            .unwrap();
        assert_eq!(tally.delivered, u64::from(BATCH) + 1);
        assert_eq!(*outbox.queries.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn a_failing_outbox_is_the_runs_error() {
        let outbox = Arc::new(FakeOutbox {
            unavailable: true,
            ..FakeOutbox::default()
        });
        let result = dispatcher(outbox, Arc::default(), 20).deliver_due().await;
        assert!(matches!(result, Err(domain::Error::Unavailable(_))));
    }
}
