//! Natural-month cycles in UTC (the shipped `billing.time_zone`), written independently of
//! the service's own calendar so that seeded rows and expected charges are a second opinion.

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, Timelike};

/// The end of the `n`-th cycle of `months` months of an order started at `start`: the same
/// day of the month (clamped to the month's last day) and the same time of day, never
/// drifting (a Jan 31 start renews on Feb 28/29, then Mar 31).
pub fn cycle_end(start: NaiveDateTime, months: u32, n: u32) -> NaiveDateTime {
    // chrono's month addition clamps to the last day of the target month, from the anchor.
    start
        .checked_add_months(Months::new(months * n))
        .unwrap_or(NaiveDateTime::MAX)
}

/// How many cycle ends after the first lie at or before `due_by`: the renewals an order
/// started at `start` owes when renewed with enough balance up to `due_by`.
pub fn renewals_due(start: NaiveDateTime, months: u32, due_by: NaiveDateTime) -> u32 {
    let mut k = 1;
    while cycle_end(start, months, k) <= due_by {
        k += 1;
    }
    k - 1
}

/// The instant `days` days before now, to the second: a start for an order seeded in the
/// past. The service keeps times to the microsecond; a seeded time finer than that (the
/// clock's nanoseconds) would not be a cycle boundary once the service has written the
/// order's deadline back.
pub fn days_ago(days: i64) -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc() - chrono::TimeDelta::days(days);
    now.with_nanosecond(0).unwrap_or(now)
}

/// Midnight UTC of a date.
pub fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).unwrap_or(NaiveDateTime::MIN)
}

/// Whether `time` falls on the 29th, 30th or 31st, the days whose cycles clamp.
pub fn on_a_clamping_day(time: NaiveDateTime) -> bool {
    time.day() >= 29
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn a_jan_31_start_renews_on_feb_29_then_mar_31() {
        let start = at("2028-01-31 10:00:00");
        assert_eq!(cycle_end(start, 1, 1), at("2028-02-29 10:00:00"));
        assert_eq!(cycle_end(start, 1, 2), at("2028-03-31 10:00:00"));
    }

    #[test]
    fn a_year_started_on_feb_29_ends_on_feb_28() {
        assert_eq!(
            cycle_end(at("2028-02-29 00:00:00"), 12, 1),
            at("2029-02-28 00:00:00")
        );
    }

    #[test]
    fn renewals_due_counts_cycle_ends_after_the_first() {
        let start = at("2026-01-15 00:00:00");
        assert_eq!(renewals_due(start, 1, at("2026-02-14 00:00:00")), 0);
        assert_eq!(renewals_due(start, 1, at("2026-02-15 00:00:00")), 1);
        assert_eq!(renewals_due(start, 1, at("2026-04-20 00:00:00")), 3);
    }
}
