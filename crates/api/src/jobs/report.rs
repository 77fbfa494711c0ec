//! How a renewal run reports: one line per committed batch and a closing summary. The
//! command line prints these lines and the server's job logs them, so an operator reads the
//! same words in both places.

use std::time::Duration;

use domain::renewal::RenewalQueue;
use domain::usecases::{RenewalReport, RenewalTally, SettleTally, TaskTally};

use crate::dto::plans::mode_label;

/// `batch 3 prepaid/consuming: 500 claimed, 498 renewed (512 cycles, 50688.00 charged), 2
/// unpaid, 0 ended, 0 skipped`.
pub fn batch_line(queue: RenewalQueue, number: u64, tally: &RenewalTally) -> String {
    format!(
        "batch {number} {}/{}: {}",
        mode_label(queue.mode),
        queue.status.label(),
        counts(tally)
    )
}

/// `renewal done: 2 batches, 700 claimed, 698 renewed (712 cycles, 70488.00 charged), 2
/// unpaid, 0 ended, 0 skipped in 0.41s (1707 orders/s)`.
pub fn summary_line(report: &RenewalReport, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    // Claimed orders, not renewed ones: the rate says how fast the engine works through
    // its queues, whatever the balances allowed.
    let rate = if seconds > 0.0 {
        report.total.claimed as f64 / seconds
    } else {
        0.0
    };
    let failed_queues = match report.failed_queues {
        0 => String::new(),
        n => format!(", {n} queue(s) failed"),
    };
    format!(
        "renewal done: {} {}, {}{failed_queues} in {seconds:.2}s ({rate:.0} orders/s)",
        report.batches,
        if report.batches == 1 {
            "batch"
        } else {
            "batches"
        },
        counts(&report.total)
    )
}

/// `payments: 12 taken, 1 declined, 0 owed, 2 unknown, 0 disputed, 0 paused`.
pub fn payments_line(tally: &SettleTally) -> String {
    format!(
        "payments: {} taken, {} declined, {} owed, {} unknown, {} disputed, {} paused",
        tally.taken, tally.declined, tally.owed, tally.unknown, tally.disputed, tally.not_sent
    )
}

/// `resource tasks: 3 done, 1 left for a later attempt`.
pub fn tasks_line(tally: &TaskTally) -> String {
    format!(
        "resource tasks: {} done, {} left for a later attempt",
        tally.done, tally.failed
    )
}

fn counts(tally: &RenewalTally) -> String {
    format!(
        "{} claimed, {} renewed ({} cycles, {} charged), {} unpaid, {} ended, {} skipped, \
         {} awaiting payment, {} failed",
        tally.claimed,
        tally.renewed,
        tally.cycles,
        tally.charged,
        tally.unpaid,
        tally.ended,
        tally.skipped,
        tally.awaiting,
        tally.failed
    )
}

#[cfg(test)]
mod tests {
    use domain::order::OrderStatus;
    use domain::plan::ChargingMode;
    use domain::Money;

    use super::*;

    fn tally() -> RenewalTally {
        RenewalTally {
            claimed: 500,
            renewed: 498,
            cycles: 512,
            charged: Money::from_minor(506_880_000),
            unpaid: 2,
            ended: 0,
            skipped: 0,
            awaiting: 3,
            failed: 1,
        }
    }

    #[test]
    fn a_batch_line_names_its_number_queue_and_counts() {
        let queue = RenewalQueue {
            mode: ChargingMode::Prepaid,
            status: OrderStatus::Consuming,
        };
        assert_eq!(
            batch_line(queue, 3, &tally()),
            "batch 3 prepaid/consuming: 500 claimed, 498 renewed (512 cycles, 50688.00 charged), \
             2 unpaid, 0 ended, 0 skipped, 3 awaiting payment, 1 failed"
        );
    }

    #[test]
    fn a_postpaid_ending_batch_names_its_queue() {
        let queue = RenewalQueue {
            mode: ChargingMode::Postpaid,
            status: OrderStatus::Ending,
        };
        let line = batch_line(queue, 1, &RenewalTally::default());
        assert_eq!(
            line,
            "batch 1 postpaid/ending: 0 claimed, 0 renewed (0 cycles, 0.00 charged), 0 unpaid, \
             0 ended, 0 skipped, 0 awaiting payment, 0 failed"
        );
    }

    #[test]
    fn the_summary_gives_totals_elapsed_time_and_rate() {
        let report = RenewalReport {
            batches: 2,
            total: tally(),
            failed_queues: 0,
        };
        assert_eq!(
            summary_line(&report, Duration::from_millis(250)),
            "renewal done: 2 batches, 500 claimed, 498 renewed (512 cycles, 50688.00 charged), \
             2 unpaid, 0 ended, 0 skipped, 3 awaiting payment, 1 failed in 0.25s (2000 orders/s)"
        );
        let failed = RenewalReport {
            failed_queues: 2,
            ..report
        };
        assert!(summary_line(&failed, Duration::from_millis(250))
            .contains("1 failed, 2 queue(s) failed in"));
    }

    #[test]
    fn an_empty_run_reports_zero_without_dividing_by_zero() {
        assert_eq!(
            summary_line(&RenewalReport::default(), Duration::ZERO),
            "renewal done: 0 batches, 0 claimed, 0 renewed (0 cycles, 0.00 charged), 0 unpaid, \
             0 ended, 0 skipped, 0 awaiting payment, 0 failed in 0.00s (0 orders/s)"
        );
    }

    #[test]
    fn one_batch_is_singular() {
        let report = RenewalReport {
            batches: 1,
            total: tally(),
            failed_queues: 0,
        };
        assert!(summary_line(&report, Duration::from_secs(1)).starts_with("renewal done: 1 batch,"));
    }
}
