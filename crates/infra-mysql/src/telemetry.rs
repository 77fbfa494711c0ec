//! The store's metrics, emitted through the `metrics` facade (the api installs the
//! recorder; without one they cost nothing):
//!
//! - what each change did, counted once its transaction committed, from the change itself:
//!   orders opened, ended and switched (its events), money charged and refunded (its
//!   consumption rows, in ten-thousandths of the currency unit, as `Money` counts);
//! - the pool: connections idle and in use, from r2d2's events; the wait for a connection
//!   (for one of the pool's slots, see `Database::blocking`) and the waits that timed out,
//!   where the store waits;
//! - resource task runs, where the runner records them.

use diesel::r2d2::event::{AcquireEvent, CheckinEvent, CheckoutEvent, ReleaseEvent};
use diesel::r2d2::HandleEvent;
use domain::change::Change;
use domain::consumption::Consumption;
use domain::notification::{Notification, NotificationKind};
use domain::renewal::RenewalDecision;

pub const ORDERS_CREATED: &str = "serviceusage_orders_created_total";
pub const ORDERS_ENDED: &str = "serviceusage_orders_ended_total";
pub const ORDERS_SWITCHED: &str = "serviceusage_orders_switched_total";
pub const MONEY_CHARGED: &str = "serviceusage_money_charged_ten_thousandths_total";
pub const MONEY_REFUNDED: &str = "serviceusage_money_refunded_ten_thousandths_total";
pub const DB_CONNECTIONS: &str = "serviceusage_db_pool_connections";
pub const DB_MAX_CONNECTIONS: &str = "serviceusage_db_pool_max_connections";
pub const DB_CHECKOUT_SECONDS: &str = "serviceusage_db_pool_checkout_wait_seconds";
pub const DB_CHECKOUT_TIMEOUTS: &str = "serviceusage_db_pool_checkout_timeouts_total";
pub const RESOURCE_TASKS: &str = "serviceusage_resource_tasks_total";

/// A change the store committed.
pub(crate) fn change_committed(change: &Change) {
    committed(change.rows(), change.events());
}

/// Renewal decisions the store committed (a decision it skipped carries nothing).
pub(crate) fn decisions_committed(decisions: &[RenewalDecision]) {
    for decision in decisions {
        committed(&decision.rows, &decision.events);
    }
}

fn committed(rows: &[Consumption], events: &[Notification]) {
    for row in rows {
        let labels = [
            ("region", row.region.as_str().to_owned()),
            ("kind", row.kind.label().to_owned()),
        ];
        let minor = row.amount.minor();
        if minor > 0 {
            metrics::counter!(MONEY_CHARGED, &labels).increment(minor.unsigned_abs());
        } else if minor < 0 {
            metrics::counter!(MONEY_REFUNDED, &labels).increment(minor.unsigned_abs());
        }
    }
    for event in events {
        let name = match event.kind {
            NotificationKind::OrderCreated => ORDERS_CREATED,
            NotificationKind::OrderEnded => ORDERS_ENDED,
            NotificationKind::OrderSwitched => ORDERS_SWITCHED,
            NotificationKind::OrderRenewed
            | NotificationKind::RenewalFailed
            | NotificationKind::OrderEnding
            | NotificationKind::PaymentOwed => continue,
        };
        metrics::counter!(name, "region" => event.region.as_str().to_owned()).increment(1);
    }
}

/// Database work waited `waited` for one of the pool's slots (see `Database::blocking`):
/// the wait for a connection, since a job holding a slot finds one in the pool.
pub(crate) fn slot_waited(waited: std::time::Duration) {
    metrics::histogram!(DB_CHECKOUT_SECONDS).record(waited.as_secs_f64());
}

/// Database work found no slot within `waited`, or no connection in the pool in time: one
/// request or job run failed for it (the pool's checkout polls in slices, whose own
/// timeouts are not counted).
pub(crate) fn connection_timed_out(waited: std::time::Duration) {
    metrics::counter!(DB_CHECKOUT_TIMEOUTS).increment(1);
    metrics::histogram!(DB_CHECKOUT_SECONDS).record(waited.as_secs_f64());
}

/// A resource task ran: `done`, or failed (it runs again after its back-off).
pub(crate) fn task_ran(done: bool) {
    let outcome = if done { "done" } else { "failed" };
    metrics::counter!(RESOURCE_TASKS, "outcome" => outcome).increment(1);
}

/// r2d2's events, as the pool's gauges: a connection is idle from its opening to its
/// checkout and from its checkin to the next, and in use in between.
#[derive(Debug)]
pub(crate) struct PoolEvents;

impl PoolEvents {
    /// The handler of a pool of `max` connections.
    pub(crate) fn of_pool(max: u32) -> Box<Self> {
        metrics::gauge!(DB_MAX_CONNECTIONS).set(f64::from(max));
        Box::new(PoolEvents)
    }
}

fn connections(state: &'static str, by: f64) {
    metrics::gauge!(DB_CONNECTIONS, "state" => state).increment(by);
}

impl HandleEvent for PoolEvents {
    fn handle_acquire(&self, _: AcquireEvent) {
        connections("idle", 1.0);
    }

    /// A connection dropped while idle: reaped, found broken at a checkout or a checkin.
    fn handle_release(&self, _: ReleaseEvent) {
        connections("idle", -1.0);
    }

    fn handle_checkout(&self, _: CheckoutEvent) {
        connections("idle", -1.0);
        connections("in_use", 1.0);
    }

    fn handle_checkin(&self, _: CheckinEvent) {
        connections("in_use", -1.0);
        connections("idle", 1.0);
    }
}

/// The help lines of the store's metrics, for the recorder the api installs.
pub fn describe_metrics() {
    metrics::describe_counter!(
        ORDERS_CREATED,
        "Orders opened (first charge taken), switch targets included, by region"
    );
    metrics::describe_counter!(
        ORDERS_ENDED,
        "Orders ended (cancelled, grace run out, opening declined, quota refused), by region"
    );
    metrics::describe_counter!(
        ORDERS_SWITCHED,
        "Orders ended by a switch to another plan, by region"
    );
    metrics::describe_counter!(
        MONEY_CHARGED,
        "Money charged (consumption rows written), in ten-thousandths, by region and kind"
    );
    metrics::describe_counter!(
        MONEY_REFUNDED,
        "Money refunded (negative consumption rows), in ten-thousandths, by region and kind"
    );
    metrics::describe_gauge!(
        DB_CONNECTIONS,
        "Open database connections of the pool, by state (idle, in_use)"
    );
    metrics::describe_gauge!(DB_MAX_CONNECTIONS, "The pool's configured size");
    metrics::describe_histogram!(
        DB_CHECKOUT_SECONDS,
        metrics::Unit::Seconds,
        "Wait for a pooled connection (its ping included); a timed-out wait counts its timeout"
    );
    metrics::describe_counter!(
        DB_CHECKOUT_TIMEOUTS,
        "Checkouts that found no connection within the pool's timeout (a 503)"
    );
    metrics::describe_counter!(
        RESOURCE_TASKS,
        "Resource task runs (releases, quota settings), by outcome (done, failed: retried)"
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::consumption::ConsumptionKind;
    use domain::ids::{OrderId, PlanId, ProjectId, Region};
    use domain::testing::{money, utc};
    use domain::Money;
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    fn row(region: &str, kind: ConsumptionKind, amount: Money) -> Consumption {
        Consumption {
            order_id: OrderId::parse("order-1").unwrap(),
            consume_id: 1,
            project: ProjectId::parse("demo").unwrap(),
            region: Region::parse(region).unwrap(),
            plan_id: PlanId::parse("cpu").unwrap(),
            amount,
            time: utc("2026-03-01T00:00:00Z"),
            covered_until: utc("2026-04-01T00:00:00Z"),
            kind,
        }
    }

    fn event(region: &str, kind: NotificationKind) -> Notification {
        Notification {
            kind,
            project: ProjectId::parse("demo").unwrap(),
            region: Region::parse(region).unwrap(),
            order_id: OrderId::parse("order-1").unwrap(),
            time: utc("2026-03-01T00:00:00Z"),
            amount: None,
            message: String::new(),
        }
    }

    /// What `work` emits, rendered by a recorder of its own.
    fn rendered(work: impl FnOnce()) -> String {
        let recorder = PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&recorder, work);
        recorder.handle().render()
    }

    #[test]
    fn rows_count_money_charged_and_refunded_in_ten_thousandths_by_region_and_kind() {
        let page = rendered(|| {
            committed(
                &[
                    row("north", ConsumptionKind::New, money("99")),
                    row("north", ConsumptionKind::Renew, money("99")),
                    row("north", ConsumptionKind::Renew, money("0.0001")),
                    row("south", ConsumptionKind::End, money("-12.5")),
                    row("south", ConsumptionKind::End, Money::ZERO),
                ],
                &[],
            );
        });
        let line = |name: &str, labels: &str| format!("{name}{{{labels}}} ");
        for (expected, value) in [
            (
                line(MONEY_CHARGED, r#"region="north",kind="new""#),
                "990000",
            ),
            (
                line(MONEY_CHARGED, r#"region="north",kind="renew""#),
                "990001",
            ),
            (
                line(MONEY_REFUNDED, r#"region="south",kind="end""#),
                "125000",
            ),
        ] {
            assert!(
                page.contains(&format!("{expected}{value}\n")),
                "{expected}: {page}"
            );
        }
        assert!(!page.contains(r#"region="south",kind="end"} 0"#), "{page}");
        assert!(!page.contains(&line(MONEY_CHARGED, r#"region="south",kind="end""#)));
    }

    #[test]
    fn events_count_orders_opened_ended_and_switched_by_region() {
        let page = rendered(|| {
            committed(
                &[],
                &[
                    event("north", NotificationKind::OrderCreated),
                    event("north", NotificationKind::OrderCreated),
                    event("north", NotificationKind::OrderEnded),
                    event("south", NotificationKind::OrderSwitched),
                    event("south", NotificationKind::OrderRenewed),
                    event("south", NotificationKind::PaymentOwed),
                ],
            );
        });
        assert!(
            page.contains(&format!("{ORDERS_CREATED}{{region=\"north\"}} 2\n")),
            "{page}"
        );
        assert!(
            page.contains(&format!("{ORDERS_ENDED}{{region=\"north\"}} 1\n")),
            "{page}"
        );
        assert!(
            page.contains(&format!("{ORDERS_SWITCHED}{{region=\"south\"}} 1\n")),
            "{page}"
        );
        assert!(
            !page.contains(&format!("{ORDERS_CREATED}{{region=\"south\"}}")),
            "{page}"
        );
    }
}
