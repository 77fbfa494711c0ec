//! How far behind the work is, as gauges the server's jobs set from the database at the
//! end of each run — never when `/metrics` is scraped: the renewal job sets the renewal
//! lag (orders overdue, see `RenewalQueue::overdue_before`) from one bounded query; the
//! delivery job sets each queue's depth and the age of its oldest entry (open payments,
//! resource tasks, webhook deliveries). A read that fails leaves the gauges as they were
//! (logged); the next run tries again.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::policy::RenewalSettings;
use domain::ports::Clock;
use domain::renewal::RenewalQueue;
use infra_mysql::{Backlog as Queues, Depth, QueueStats};

pub const RENEWAL_OVERDUE: &str = "serviceusage_renewal_overdue_orders";
pub const PAYMENTS_OPEN: &str = "serviceusage_payments_open";
pub const PAYMENTS_OLDEST: &str = "serviceusage_payments_open_oldest_age_seconds";
pub const TASKS_QUEUED: &str = "serviceusage_resource_tasks_queued";
pub const TASKS_OLDEST: &str = "serviceusage_resource_tasks_queued_oldest_age_seconds";
pub const WEBHOOKS_PENDING: &str = "serviceusage_webhook_deliveries_pending";
pub const WEBHOOKS_OLDEST: &str = "serviceusage_webhook_deliveries_pending_oldest_age_seconds";

/// The most overdue orders counted: past it the gauge means "at least this many", and the
/// query reads no more of the index.
pub const OVERDUE_CAP: u32 = 10_000;

/// The jobs' view of the queues, and the clock ages are measured by.
#[derive(Clone)]
pub struct Backlog {
    stats: QueueStats,
    clock: Arc<dyn Clock>,
}

impl Backlog {
    pub fn new(stats: QueueStats, clock: Arc<dyn Clock>) -> Self {
        Self { stats, clock }
    }

    /// Sets the renewal lag: the orders overdue now under `settings`.
    pub async fn measure_renewals(&self, settings: &RenewalSettings) {
        let now = self.clock.now();
        let cutoffs = RenewalQueue::ALL
            .into_iter()
            .map(|queue| (queue, queue.overdue_before(now, settings)))
            .collect();
        match self.stats.overdue_orders(cutoffs, OVERDUE_CAP).await {
            Ok(count) => metrics::gauge!(RENEWAL_OVERDUE).set(count as f64),
            Err(error) => log::warn!("renewal lag not measured (next run): {error}"),
        }
    }

    /// Sets every queue's depth and oldest age.
    pub async fn measure_queues(&self) {
        match self.stats.backlog().await {
            Ok(queues) => show(&queues, self.clock.now()),
            Err(error) => log::warn!("queue depths not measured (next run): {error}"),
        }
    }
}

fn show(queues: &Queues, now: DateTime<Utc>) {
    for (state, direction, depth) in &queues.payments {
        let labels = [("state", state.label()), ("direction", direction.label())];
        metrics::gauge!(PAYMENTS_OPEN, &labels).set(depth.count as f64);
        metrics::gauge!(PAYMENTS_OLDEST, &labels).set(age(depth, now));
    }
    for (action, depth) in &queues.tasks {
        let labels = [("action", action.label())];
        metrics::gauge!(TASKS_QUEUED, &labels).set(depth.count as f64);
        metrics::gauge!(TASKS_OLDEST, &labels).set(age(depth, now));
    }
    metrics::gauge!(WEBHOOKS_PENDING).set(queues.webhooks.count as f64);
    metrics::gauge!(WEBHOOKS_OLDEST).set(age(&queues.webhooks, now));
}

/// Seconds since the oldest entry; 0 for an empty queue (and for one dated ahead).
fn age(depth: &Depth, now: DateTime<Utc>) -> f64 {
    depth.oldest.map_or(0.0, |oldest| {
        (now - oldest).num_milliseconds().max(0) as f64 / 1000.0
    })
}

pub(super) fn describe() {
    metrics::describe_gauge!(
        RENEWAL_OVERDUE,
        "Renewal lag: open orders due for longer than the renewal margin (or past their \
         grace period by more than it), as the renewal job last counted them (at most 10000)"
    );
    metrics::describe_gauge!(
        PAYMENTS_OPEN,
        "Payments the settler still sends to charge services, by state and direction"
    );
    metrics::describe_gauge!(
        PAYMENTS_OLDEST,
        metrics::Unit::Seconds,
        "Age of the oldest open payment, by state and direction (0: none)"
    );
    metrics::describe_gauge!(
        TASKS_QUEUED,
        "Resource tasks not done (releases, quota settings), by action"
    );
    metrics::describe_gauge!(
        TASKS_OLDEST,
        metrics::Unit::Seconds,
        "Age of the oldest resource task not done, by action (0: none)"
    );
    metrics::describe_gauge!(
        WEBHOOKS_PENDING,
        "Webhook deliveries neither delivered nor given up"
    );
    metrics::describe_gauge!(
        WEBHOOKS_OLDEST,
        metrics::Unit::Seconds,
        "Age of the event of the oldest pending webhook delivery (0: none)"
    );
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn an_age_is_seconds_since_the_oldest_and_zero_without_one() {
        let now = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(1);
        let depth = |oldest| Depth { count: 1, oldest };
        assert_eq!(age(&depth(None), now), 0.0);
        assert_eq!(
            age(&depth(Some(now - TimeDelta::milliseconds(90_500))), now),
            90.5
        );
        assert_eq!(age(&depth(Some(now + TimeDelta::seconds(5))), now), 0.0);
    }
}
