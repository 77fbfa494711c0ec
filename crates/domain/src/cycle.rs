//! Billing-cycle math. A cycle ends on the order's anchor day (the start day in the business
//! time zone), clamped to the last day of a shorter month, at the start's time of day:
//! started Jan 31 → Feb 28/29 → Mar 31 → Apr 30. Every boundary is computed from the start,
//! never from the previous boundary, so clamping cannot drift the anchor.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How long one billing cycle lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cycle {
    /// A natural month.
    Month,
    /// A natural year (twelve natural months).
    Year,
}

impl Cycle {
    /// Parses "month"/"m" and "year"/"y", case-insensitively, as plan catalogs spell them.
    pub fn parse(text: &str) -> Result<Cycle> {
        match text.trim().to_ascii_lowercase().as_str() {
            "m" | "month" => Ok(Cycle::Month),
            "y" | "year" => Ok(Cycle::Year),
            other => Err(Error::invalid(format!("unknown plan cycle: {other}"))),
        }
    }

    fn months(self) -> u32 {
        match self {
            Cycle::Month => 1,
            Cycle::Year => 12,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cycle::Month => "month",
            Cycle::Year => "year",
        }
    }
}

/// Number of days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|first| first.pred_opt())
        .map_or(31, |last| last.day())
}

/// The business calendar: cycle boundaries are taken in one configured time zone, while
/// every instant in and out is UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: Tz,
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        Self { tz: Tz::UTC }
    }
}

impl BusinessCalendar {
    pub fn new(tz: Tz) -> Self {
        Self { tz }
    }

    /// A calendar for an IANA time-zone name such as "Asia/Shanghai" or "UTC".
    pub fn from_name(name: &str) -> Result<Self> {
        name.parse::<Tz>()
            .map(Self::new)
            .map_err(|_| Error::invalid(format!("unknown time zone: {name}")))
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The end of the `n`-th cycle of an order that started at `start` (`n = 0` is the start
    /// itself). `None` only past the year 262143.
    pub fn cycle_end(&self, start: DateTime<Utc>, cycle: Cycle, n: u32) -> Option<DateTime<Utc>> {
        let local = start.with_timezone(&self.tz).naive_local();
        let months = i64::from(n).checked_mul(i64::from(cycle.months()))?;
        let month_index = i64::from(local.year()) * 12 + i64::from(local.month0()) + months;
        let year = i32::try_from(month_index.div_euclid(12)).ok()?;
        let month = u32::try_from(month_index.rem_euclid(12)).ok()? + 1;
        let day = local.day().min(days_in_month(year, month));
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        self.resolve_local(date.and_time(local.time()))
    }

    /// The first cycle end of an order started at `start` that lies strictly after `after`.
    pub fn next_cycle_end(
        &self,
        start: DateTime<Utc>,
        cycle: Cycle,
        after: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let from = start.with_timezone(&self.tz).naive_local();
        let to = after.with_timezone(&self.tz).naive_local();
        let month_gap = (i64::from(to.year()) - i64::from(from.year())) * 12
            + i64::from(to.month0())
            - i64::from(from.month0());
        let estimate = (month_gap / i64::from(cycle.months()) - 1).max(1);
        let mut n = u32::try_from(estimate).ok()?;
        loop {
            let end = self.cycle_end(start, cycle, n)?;
            if end > after {
                return Some(end);
            }
            n = n.checked_add(1)?;
        }
    }

    /// Resolves a wall-clock time in the business zone. In a DST overlap the earlier instant
    /// wins; a time inside a DST gap moves forward by the gap (as clocks do).
    fn resolve_local(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(earliest, _) => Some(earliest.with_timezone(&Utc)),
            LocalResult::None => {
                let shifted = local.checked_add_signed(Duration::hours(1))?;
                self.tz
                    .from_local_datetime(&shifted)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            }
        }
    }
}
