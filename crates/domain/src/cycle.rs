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

    /// The name catalogs and the API use, the inverse of [`Cycle::parse`].
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
    /// A calendar in `tz`; [`BusinessCalendar::from_name`] takes the configuration's spelling.
    pub fn new(tz: Tz) -> Self {
        Self { tz }
    }

    /// A calendar for an IANA time-zone name such as "Asia/Shanghai" or "UTC".
    pub fn from_name(name: &str) -> Result<Self> {
        name.parse::<Tz>()
            .map(Self::new)
            .map_err(|_| Error::invalid(format!("unknown time zone: {name}")))
    }

    /// The zone cycle boundaries are taken in, for adapters that show local dates.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The end of the `n`-th cycle of an order that started at `start` (`n = 0` is the start
    /// itself). `None` only past the year 262143.
    pub fn cycle_end(&self, start: DateTime<Utc>, cycle: Cycle, n: u32) -> Option<DateTime<Utc>> {
        // Not recomputed from the wall clock: a start inside a DST overlap would resolve to
        // the overlap's earlier instant, before the start itself.
        if n == 0 {
            return Some(start);
        }
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
            LocalResult::None => self.resolve_in_gap(local),
        }
    }

    /// Reads a wall-clock time that a forward jump skipped with the offset in force before
    /// the jump, which lands it as far past the gap's end as it was past the gap's start.
    /// Gaps are not always one hour (30 minutes on Lord Howe Island, 2 hours at Troll,
    /// a whole day in Samoa in 2011), so the last valid time before it is searched for.
    fn resolve_in_gap(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        const STEP_MINUTES: i64 = 30;
        const LONGEST_GAP_MINUTES: i64 = 48 * 60;
        let mut probe = local;
        for _ in 0..LONGEST_GAP_MINUTES / STEP_MINUTES {
            probe = probe.checked_sub_signed(Duration::minutes(STEP_MINUTES))?;
            if let Some(before) = self.tz.from_local_datetime(&probe).latest() {
                let resolved = before.checked_add_signed(local - probe)?;
                return Some(resolved.with_timezone(&Utc));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::Timelike;

    use super::*;

    fn calendar(zone: &str) -> BusinessCalendar {
        BusinessCalendar::from_name(zone).unwrap()
    }

    /// The UTC instant of a wall-clock time "YYYY-MM-DD HH:MM:SS" in the calendar's zone.
    fn at(cal: &BusinessCalendar, wall: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(wall, "%Y-%m-%d %H:%M:%S").unwrap();
        cal.time_zone()
            .from_local_datetime(&naive)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    /// The wall-clock time of an instant in the calendar's zone, as "YYYY-MM-DD HH:MM:SS".
    fn wall(cal: &BusinessCalendar, instant: DateTime<Utc>) -> String {
        instant
            .with_timezone(&cal.time_zone())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// The wall-clock times of cycle ends 1..=count of an order started at `start_wall`.
    fn ends(zone: &str, start_wall: &str, cycle: Cycle, count: u32) -> Vec<String> {
        let cal = calendar(zone);
        let start = at(&cal, start_wall);
        (1..=count)
            .map(|n| wall(&cal, cal.cycle_end(start, cycle, n).unwrap()))
            .collect()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn month_started_on_the_31st_clamps_to_short_months_without_drift() {
        assert_eq!(
            ends("Asia/Shanghai", "2017-01-31 10:00:00", Cycle::Month, 4),
            [
                "2017-02-28 10:00:00",
                "2017-03-31 10:00:00",
                "2017-04-30 10:00:00",
                "2017-05-31 10:00:00",
            ]
        );
    }

    #[test]
    fn month_started_on_jan_31_lands_on_feb_29_in_a_leap_year() {
        assert_eq!(
            ends("Asia/Shanghai", "2016-01-31 10:00:00", Cycle::Month, 2),
            ["2016-02-29 10:00:00", "2016-03-31 10:00:00"]
        );
    }

    #[test]
    fn month_started_on_the_30th_returns_to_the_30th_after_february() {
        assert_eq!(
            ends("Asia/Shanghai", "2017-01-30 08:00:00", Cycle::Month, 2),
            ["2017-02-28 08:00:00", "2017-03-30 08:00:00"]
        );
    }

    #[test]
    fn month_started_on_dec_31_rolls_into_the_next_year() {
        assert_eq!(
            ends("Asia/Shanghai", "2016-12-31 23:59:59", Cycle::Month, 2),
            ["2017-01-31 23:59:59", "2017-02-28 23:59:59"]
        );
    }

    #[test]
    fn month_keeps_the_start_time_of_day_to_the_nanosecond() {
        let cal = BusinessCalendar::default();
        let start = utc("2017-03-15T14:05:09.123456789Z");
        assert_eq!(
            cal.cycle_end(start, Cycle::Month, 1),
            Some(utc("2017-04-15T14:05:09.123456789Z"))
        );
    }

    #[test]
    fn year_started_on_feb_29_clamps_to_feb_28_until_the_next_leap_year() {
        assert_eq!(
            ends("UTC", "2016-02-29 12:00:00", Cycle::Year, 4),
            [
                "2017-02-28 12:00:00",
                "2018-02-28 12:00:00",
                "2019-02-28 12:00:00",
                "2020-02-29 12:00:00",
            ]
        );
    }

    #[test]
    fn year_is_twelve_natural_months() {
        let cal = calendar("Asia/Shanghai");
        let start = at(&cal, "2017-01-31 10:00:00");
        for n in 0..30 {
            assert_eq!(
                cal.cycle_end(start, Cycle::Year, n),
                cal.cycle_end(start, Cycle::Month, n * 12)
            );
        }
    }

    #[test]
    fn cycle_zero_ends_at_the_start() {
        let cal = calendar("Asia/Shanghai");
        let start = utc("2017-01-31T16:30:00.5Z");
        assert_eq!(cal.cycle_end(start, Cycle::Month, 0), Some(start));
        assert_eq!(cal.cycle_end(start, Cycle::Year, 0), Some(start));
    }

    #[test]
    fn cycle_zero_of_a_start_in_the_second_half_of_a_dst_overlap_is_the_start() {
        // 02:30 happens twice in Berlin on 2023-10-29; 01:30Z is the second (CET) one.
        let cal = calendar("Europe/Berlin");
        let start = utc("2023-10-29T01:30:00Z");
        assert_eq!(cal.cycle_end(start, Cycle::Month, 0), Some(start));
    }

    #[test]
    fn anchor_day_is_taken_in_the_business_time_zone() {
        // 16:30Z on Jan 31 is 00:30 on Feb 1 in Shanghai: the order anchors on the 1st.
        let cal = calendar("Asia/Shanghai");
        let start = utc("2017-01-31T16:30:00Z");
        let walls: Vec<String> = (1..=3)
            .map(|n| wall(&cal, cal.cycle_end(start, Cycle::Month, n).unwrap()))
            .collect();
        assert_eq!(
            walls,
            [
                "2017-03-01 00:30:00",
                "2017-04-01 00:30:00",
                "2017-05-01 00:30:00"
            ]
        );
        assert_eq!(
            cal.cycle_end(start, Cycle::Month, 1),
            Some(utc("2017-02-28T16:30:00Z"))
        );
    }

    #[test]
    fn the_same_instant_can_anchor_on_different_days_in_different_zones() {
        // 16:30Z on Jan 30 is Jan 31 00:30 in Shanghai (anchor 31) but Jan 30 in UTC.
        let start = utc("2017-01-30T16:30:00Z");
        let in_utc = BusinessCalendar::default().cycle_end(start, Cycle::Month, 1);
        let in_shanghai = calendar("Asia/Shanghai").cycle_end(start, Cycle::Month, 1);
        assert_eq!(in_utc, Some(utc("2017-02-28T16:30:00Z")));
        assert_eq!(in_shanghai, Some(utc("2017-02-27T16:30:00Z")));
    }

    #[test]
    fn wall_clock_time_is_kept_across_a_dst_change() {
        assert_eq!(
            ends("Europe/Berlin", "2023-02-15 10:00:00", Cycle::Month, 2),
            ["2023-03-15 10:00:00", "2023-04-15 10:00:00"]
        );
        let cal = calendar("Europe/Berlin");
        let start = at(&cal, "2023-02-15 10:00:00");
        assert_eq!(start.hour(), 9);
        assert_eq!(cal.cycle_end(start, Cycle::Month, 2).unwrap().hour(), 8);
    }

    #[test]
    fn wall_time_skipped_by_a_one_hour_dst_gap_moves_forward_by_the_gap() {
        // Berlin jumps from 02:00 to 03:00 on 2023-03-26.
        assert_eq!(
            ends("Europe/Berlin", "2023-01-26 02:30:00", Cycle::Month, 2)[1],
            "2023-03-26 03:30:00"
        );
    }

    #[test]
    fn wall_time_skipped_by_a_half_hour_dst_gap_moves_forward_by_half_an_hour() {
        // Lord Howe Island jumps from 02:00 to 02:30 on 2023-10-01.
        assert_eq!(
            ends(
                "Australia/Lord_Howe",
                "2023-08-01 02:10:00",
                Cycle::Month,
                2
            )[1],
            "2023-10-01 02:40:00"
        );
    }

    #[test]
    fn wall_time_skipped_by_a_two_hour_dst_gap_still_has_a_cycle_end() {
        // Troll station jumps from 01:00 to 03:00 on 2023-03-26.
        assert_eq!(
            ends("Antarctica/Troll", "2023-01-26 01:30:00", Cycle::Month, 2)[1],
            "2023-03-26 03:30:00"
        );
    }

    #[test]
    fn a_day_skipped_by_the_calendar_moves_the_end_forward_by_a_day() {
        // Samoa skipped 2011-12-30 when it crossed the date line.
        assert_eq!(
            ends("Pacific/Apia", "2011-11-30 12:00:00", Cycle::Month, 1),
            ["2011-12-31 12:00:00"]
        );
    }

    #[test]
    fn wall_time_repeated_by_a_dst_overlap_takes_the_earlier_instant() {
        // 02:30 happens twice in Berlin on 2023-10-29: first at 00:30Z (CEST).
        let cal = calendar("Europe/Berlin");
        let start = at(&cal, "2023-08-29 02:30:00");
        assert_eq!(
            cal.cycle_end(start, Cycle::Month, 2),
            Some(utc("2023-10-29T00:30:00Z"))
        );
    }

    #[test]
    fn cycle_end_is_none_only_past_the_calendar_range() {
        let cal = BusinessCalendar::default();
        let start = utc("2017-01-31T10:00:00Z");
        assert!(cal.cycle_end(start, Cycle::Month, 1_000_000).is_some());
        assert_eq!(cal.cycle_end(start, Cycle::Year, u32::MAX), None);
        assert_eq!(cal.cycle_end(start, Cycle::Month, u32::MAX), None);
    }

    #[test]
    fn days_in_month_matches_the_gregorian_rule_from_2000_to_2099() {
        for year in 2000..=2099 {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let expected = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            for (month, days) in (1..=12).zip(expected) {
                assert_eq!(days_in_month(year, month), days, "{year}-{month}");
            }
        }
    }

    #[test]
    fn days_in_month_knows_century_leap_years() {
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2400, 2), 29);
    }

    #[test]
    fn cycle_parses_short_and_long_names_in_any_case() {
        let cases = [
            ("m", Cycle::Month),
            ("month", Cycle::Month),
            ("M", Cycle::Month),
            ("Month", Cycle::Month),
            (" month ", Cycle::Month),
            ("y", Cycle::Year),
            ("year", Cycle::Year),
            ("YEAR", Cycle::Year),
        ];
        for (text, cycle) in cases {
            assert_eq!(Cycle::parse(text), Ok(cycle), "{text:?}");
        }
    }

    #[test]
    fn cycle_rejects_other_names_as_invalid_parameters() {
        for text in ["", " ", "d", "day", "months", "yearly", "1m", "mon"] {
            assert!(
                matches!(Cycle::parse(text), Err(Error::InvalidParameter(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn cycle_name_round_trips_through_parse_and_serde() {
        for cycle in [Cycle::Month, Cycle::Year] {
            assert_eq!(Cycle::parse(cycle.as_str()), Ok(cycle));
            let json = serde_json::to_string(&cycle).unwrap();
            assert_eq!(json, format!("\"{}\"", cycle.as_str()));
            assert_eq!(serde_json::from_str::<Cycle>(&json).unwrap(), cycle);
        }
    }

    #[test]
    fn calendar_defaults_to_utc_and_accepts_iana_names() {
        assert_eq!(BusinessCalendar::default().time_zone(), Tz::UTC);
        assert_eq!(calendar("Asia/Shanghai").time_zone(), Tz::Asia__Shanghai);
    }

    #[test]
    fn calendar_rejects_unknown_time_zones() {
        for name in ["", "Mars/Olympus", "asia shanghai"] {
            assert!(
                matches!(
                    BusinessCalendar::from_name(name),
                    Err(Error::InvalidParameter(_))
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn next_cycle_end_before_the_first_end_is_the_first_end() {
        let cal = BusinessCalendar::default();
        let start = utc("2017-01-31T10:00:00Z");
        let first = utc("2017-02-28T10:00:00Z");
        for after in [
            start - Duration::days(400),
            start,
            first - Duration::microseconds(1),
        ] {
            assert_eq!(
                cal.next_cycle_end(start, Cycle::Month, after),
                Some(first),
                "{after}"
            );
        }
    }

    #[test]
    fn next_cycle_end_is_strictly_after_the_instant() {
        let cal = BusinessCalendar::default();
        let start = utc("2017-01-31T10:00:00Z");
        assert_eq!(
            cal.next_cycle_end(start, Cycle::Month, utc("2017-02-28T10:00:00Z")),
            Some(utc("2017-03-31T10:00:00Z"))
        );
    }

    #[test]
    fn next_cycle_end_far_ahead_stays_on_the_anchor() {
        let cal = BusinessCalendar::default();
        let start = utc("2017-01-31T10:00:00Z");
        assert_eq!(
            cal.next_cycle_end(start, Cycle::Month, utc("2067-02-01T00:00:00Z")),
            Some(utc("2067-02-28T10:00:00Z"))
        );
        assert_eq!(
            cal.next_cycle_end(start, Cycle::Year, utc("2067-02-01T00:00:00Z")),
            Some(utc("2068-01-31T10:00:00Z"))
        );
    }

    #[test]
    fn next_cycle_end_within_the_start_month_of_a_later_year_is_that_months_end() {
        let cal = BusinessCalendar::default();
        let start = utc("2016-02-29T12:00:00Z");
        assert_eq!(
            cal.next_cycle_end(start, Cycle::Year, utc("2019-02-28T11:59:59Z")),
            Some(utc("2019-02-28T12:00:00Z"))
        );
        assert_eq!(
            cal.next_cycle_end(start, Cycle::Year, utc("2019-02-28T12:00:00Z")),
            Some(utc("2020-02-29T12:00:00Z"))
        );
    }
}
