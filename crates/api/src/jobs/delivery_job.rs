//! The server's delivery job: every few seconds, the payments due at the charge services
//! (see `UseCases::settle_due`), the resource tasks due (releases, quota settings: see
//! `UseCases::run_tasks`), and the forgetting of idempotency keys past their retention.
//! Everything it works on is in the database, so what a stopped or crashed server left
//! undone goes at the next tick of any server. Webhooks have a loop of their own
//! ([`super::webhook_job`]): a slow receiver must not hold back a credit or a release.

use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeDelta;
use domain::usecases::UseCases;

use super::periodic::{self, Periodic, RunningJob};
use crate::telemetry::Backlog;

/// Between two runs: a refund whose immediate delivery failed, a renewal's payment, or a
/// release just queued, waits at most this long.
pub const DELIVERY_INTERVAL: Duration = Duration::from_secs(5);

/// Longest a run may take before it is abandoned (see [`periodic`]): payments left
/// unsent and tasks not run stay due for the next one.
const RUN_LIMIT: Duration = Duration::from_secs(5 * 60);

/// The job, built with the server and started with it.
pub struct DeliveryJob {
    usecases: UseCases,
    interval: Duration,
    /// How long idempotency keys are kept.
    key_retention: Duration,
    /// Where the queues' depths are measured after each run (none in unit tests).
    backlog: Option<Backlog>,
}

impl DeliveryJob {
    pub fn new(usecases: UseCases, interval: Duration, key_retention: Duration) -> Self {
        Self {
            usecases,
            interval,
            key_retention,
            backlog: None,
        }
    }

    /// Measures the queues' depths after each run (see [`Backlog::measure_queues`]).
    pub fn with_backlog(mut self, backlog: Backlog) -> Self {
        self.backlog = Some(backlog);
        self
    }

    /// Starts the loop on the current actix runtime.
    pub fn spawn(self) -> RunningJob {
        log::info!(
            "delivery job: payments and resource tasks every {}s",
            self.interval.as_secs()
        );
        periodic::spawn("delivery", self.interval, RUN_LIMIT, self)
    }
}

#[async_trait(?Send)]
impl Periodic for DeliveryJob {
    async fn run_once(&self) {
        settle_payments(&self.usecases).await;
        run_tasks(&self.usecases).await;
        let kept = TimeDelta::from_std(self.key_retention).unwrap_or(TimeDelta::days(1));
        match self.usecases.forget_keys(kept).await {
            Ok(0) => {}
            Ok(n) => log::info!("idempotency keys: {n} past their retention forgotten"),
            Err(error) => log::warn!("idempotency keys not forgotten (next run): {error}"),
        }
        if let Some(backlog) = &self.backlog {
            backlog.measure_queues().await;
        }
    }
}

/// One round of the settler; each payment is logged by the use case.
pub async fn settle_payments(usecases: &UseCases) {
    match usecases.settle_due().await {
        Ok(tally) if tally.is_empty() => {}
        Ok(tally) => log::info!(
            "payments: {} taken, {} declined, {} owed, {} unknown, {} disputed, {} paused",
            tally.taken,
            tally.declined,
            tally.owed,
            tally.unknown,
            tally.disputed,
            tally.not_sent
        ),
        Err(error) => log::error!("settling payments failed (retried next run): {error}"),
    }
}

/// One round of resource tasks; each task is logged by the use case.
pub async fn run_tasks(usecases: &UseCases) {
    match usecases.run_tasks().await {
        Ok(tally) if tally.failed > 0 => log::warn!(
            "resource tasks: {} done, {} left for a later attempt",
            tally.done,
            tally.failed
        ),
        Ok(tally) if tally.done > 0 => log::info!("resource tasks: {} done", tally.done),
        Ok(_) => {}
        Err(error) => log::error!("resource tasks failed (retried next run): {error}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use chrono::{DateTime, TimeZone, Utc};
    use domain::ids::{PlanId, ProjectId, Quantity, Region};
    use domain::order::OrderStatus;
    use domain::policy::BillingPolicy;
    use domain::ports::MockClock;
    use domain::testing::{money, principal, ChargeAnswer, Harness, PlanBuilder};
    use domain::usecases::{CreateOrderOutcome, CreateOrderRequest};

    use super::*;
    use crate::config::{WebhookEndpoint, WebhookSettings};
    use crate::jobs::webhook_delivery::{WebhookDispatcher, WebhookOutbox, WebhookTransport};
    use crate::jobs::WebhookJob;
    use infra_mysql::WebhookDelivery;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    const DAY: Duration = Duration::from_secs(86_400);

    /// A harness whose region cn-north-1 a charge service keeps, selling one GPU plan, and
    /// the project `demo` funded there with 500.
    fn charged_demo() -> (Harness, ProjectId) {
        let plan = PlanBuilder::default().id("cpu").plan_type("gpu").build();
        let policy = BillingPolicy {
            charge_regions: vec![Region::parse("cn-north-1").unwrap()],
            ..BillingPolicy::default()
        };
        let harness = Harness::new(policy, vec![plan], now());
        let project = ProjectId::parse("demo").unwrap();
        harness.charging.fund(&project, money("500"));
        (harness, project)
    }

    /// An order of `project` left pending: the charge service times out before taking its
    /// payment, on the request's attempt and on the one made at once after it.
    async fn pending_order(harness: &Harness, project: ProjectId) -> domain::order::Order {
        harness
            .charging
            .script([ChargeAnswer::TimeOutBeforeTaking; 2]);
        let created = harness
            .usecases
            .create_order(
                &principal("alice"),
                CreateOrderRequest {
                    project,
                    plan_id: PlanId::parse("cpu").unwrap(),
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
        let CreateOrderOutcome::Created { order, .. } = created else {
            panic!("{created:?}");
        };
        assert_eq!(order.status, OrderStatus::Pending);
        order
    }

    #[actix_web::test]
    async fn a_run_settles_the_payments_a_request_left_pending() {
        let (harness, project) = charged_demo();
        let order = pending_order(&harness, project).await;
        harness.clock.advance(chrono::TimeDelta::minutes(1));
        DeliveryJob::new(harness.usecases.clone(), DELIVERY_INTERVAL, DAY)
            .run_once()
            .await;
        assert_eq!(
            harness.store.status_of(&order.id),
            Some(OrderStatus::Consuming)
        );
    }

    /// An outbox with one delivery due, forever.
    struct OneDue;

    #[async_trait]
    impl WebhookOutbox for OneDue {
        async fn due(&self, now: DateTime<Utc>, _: u32) -> domain::Result<Vec<WebhookDelivery>> {
            Ok(vec![WebhookDelivery {
                id: 1,
                endpoint: "hook".into(),
                notification_id: 1,
                notification: domain::notification::Notification {
                    kind: domain::notification::NotificationKind::OrderCreated,
                    project: ProjectId::parse("demo").unwrap(),
                    region: Region::parse("cn-north-1").unwrap(),
                    order_id: domain::ids::OrderId::parse("o1").unwrap(),
                    time: now,
                    amount: None,
                    message: "created".into(),
                },
                attempts: 0,
            }])
        }
        async fn delivered(&self, _: u64, _: DateTime<Utc>) -> domain::Result<()> {
            unreachable!("the receiver never answers")
        }
        async fn failed(&self, _: u64, _: Option<DateTime<Utc>>, _: String) -> domain::Result<()> {
            unreachable!("the receiver never answers")
        }
    }

    /// A receiver that never answers (as one slower than any timeout looks meanwhile).
    struct Silent;

    #[async_trait]
    impl WebhookTransport for Silent {
        async fn send(
            &self,
            _: &WebhookEndpoint,
            _: &[u8],
            _: DateTime<Utc>,
            _: u64,
        ) -> Result<(), String> {
            std::future::pending().await
        }
    }

    #[actix_web::test]
    async fn a_receiver_that_never_answers_does_not_delay_payments() {
        let (harness, project) = charged_demo();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        let webhooks = WebhookDispatcher::new(
            Arc::new(OneDue),
            Arc::new(Silent),
            &WebhookSettings {
                endpoints: vec![WebhookEndpoint {
                    name: "hook".into(),
                    url: "http://127.0.0.1:9/hook".into(),
                    secret: infra_http::Secret::new("s"),
                }],
                max_attempts: 20,
            },
            Arc::new(clock),
        );
        // Its first run is under way, and stays so, before the payment is left pending. It is
        // never stopped: stopping waits for the run in progress.
        let _webhooks = WebhookJob::new(webhooks, Duration::from_millis(10)).spawn();
        let running =
            DeliveryJob::new(harness.usecases.clone(), Duration::from_millis(10), DAY).spawn();
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        let order = pending_order(&harness, project).await;
        harness.clock.advance(chrono::TimeDelta::minutes(1));
        let mut status = None;
        for _ in 0..100 {
            status = harness.store.status_of(&order.id);
            if status == Some(OrderStatus::Consuming) {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        running.stop().await;
        assert_eq!(status, Some(OrderStatus::Consuming));
    }
}
