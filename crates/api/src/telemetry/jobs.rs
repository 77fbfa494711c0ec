//! What the server's background jobs report: renewal runs (their orders, cycles and
//! duration), counted from the use case's report when a run ends, and each webhook delivery
//! attempt, counted where its outcome is known. (The charge services' answers are counted
//! by infra-http's client, the resource tasks by infra-mysql's queue: requests settle and
//! run what they recorded too.) The one-shot commands (`renew --once` …)
//! print their reports instead: a process that ends serves no `/metrics`.

use std::time::Duration;

use domain::usecases::RenewalReport;

pub const RENEWAL_RUNS: &str = "serviceusage_renewal_runs_total";
pub const RENEWAL_RUN_SECONDS: &str = "serviceusage_renewal_run_duration_seconds";
pub const RENEWAL_ORDERS: &str = "serviceusage_renewal_orders_total";
pub const RENEWAL_CYCLES: &str = "serviceusage_renewal_cycles_total";
pub const RENEWAL_FAILED_QUEUES: &str = "serviceusage_renewal_failed_queues_total";
pub const WEBHOOK_DELIVERIES: &str = "serviceusage_webhook_deliveries_total";

/// One renewal run of the server's job, `elapsed` long.
pub fn renewal_run(report: &RenewalReport, elapsed: Duration) {
    metrics::counter!(RENEWAL_RUNS).increment(1);
    metrics::histogram!(RENEWAL_RUN_SECONDS).record(elapsed.as_secs_f64());
    let total = &report.total;
    for (outcome, count) in [
        ("renewed", total.renewed),
        ("awaiting_payment", total.awaiting),
        ("unpaid", total.unpaid),
        ("ended", total.ended),
        ("skipped", total.skipped),
        ("failed", total.failed),
    ] {
        metrics::counter!(RENEWAL_ORDERS, "outcome" => outcome).increment(count);
    }
    metrics::counter!(RENEWAL_CYCLES).increment(total.cycles);
    metrics::counter!(RENEWAL_FAILED_QUEUES).increment(report.failed_queues);
}

/// How one webhook delivery attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Failed; tried again later.
    Failed,
    /// Failed for the last time.
    GivenUp,
}

pub fn webhook_delivery(outcome: Delivery) {
    let outcome = match outcome {
        Delivery::Delivered => "delivered",
        Delivery::Failed => "failed",
        Delivery::GivenUp => "given_up",
    };
    metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(1);
}

pub(super) fn describe() {
    metrics::describe_counter!(RENEWAL_RUNS, "Renewal runs of the server's job");
    metrics::describe_histogram!(
        RENEWAL_RUN_SECONDS,
        metrics::Unit::Seconds,
        "How long each renewal run of the server's job took"
    );
    metrics::describe_counter!(
        RENEWAL_ORDERS,
        "Orders the server's renewal runs claimed, by what became of them"
    );
    metrics::describe_counter!(RENEWAL_CYCLES, "Cycles the server's renewal runs charged");
    metrics::describe_counter!(
        RENEWAL_FAILED_QUEUES,
        "Renewal queues a run abandoned because the store failed them"
    );
    metrics::describe_counter!(
        WEBHOOK_DELIVERIES,
        "Webhook delivery attempts, by outcome (failed: retried later; given_up: the last)"
    );
}

#[cfg(test)]
mod tests {
    use domain::usecases::RenewalTally;
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    #[test]
    fn a_run_counts_its_orders_by_outcome_its_cycles_and_its_duration() {
        let report = RenewalReport {
            batches: 2,
            total: RenewalTally {
                claimed: 12,
                renewed: 5,
                cycles: 7,
                awaiting: 1,
                unpaid: 2,
                ended: 1,
                skipped: 1,
                failed: 2,
                ..RenewalTally::default()
            },
            failed_queues: 1,
        };
        let recorder = PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&recorder, || {
            renewal_run(&report, Duration::from_millis(250));
            renewal_run(&RenewalReport::default(), Duration::from_millis(10));
        });
        let page = recorder.handle().render();
        for line in [
            "serviceusage_renewal_runs_total 2",
            "serviceusage_renewal_cycles_total 7",
            "serviceusage_renewal_failed_queues_total 1",
            r#"serviceusage_renewal_orders_total{outcome="renewed"} 5"#,
            r#"serviceusage_renewal_orders_total{outcome="awaiting_payment"} 1"#,
            r#"serviceusage_renewal_orders_total{outcome="unpaid"} 2"#,
            r#"serviceusage_renewal_orders_total{outcome="ended"} 1"#,
            r#"serviceusage_renewal_orders_total{outcome="skipped"} 1"#,
            r#"serviceusage_renewal_orders_total{outcome="failed"} 2"#,
            "serviceusage_renewal_run_duration_seconds_count 2",
            "serviceusage_renewal_run_duration_seconds_sum 0.26",
        ] {
            assert!(page.lines().any(|l| l == line), "{line} in:\n{page}");
        }
    }
}
