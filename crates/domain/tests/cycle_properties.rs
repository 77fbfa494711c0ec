//! Properties of the billing-cycle math over random starts (1970–2200, any time of day),
//! cycle counts up to 600 and several business time zones: periods are contiguous and never
//! overlap, and clamping a short month never drifts the anchor day.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use domain::cycle::{days_in_month, BusinessCalendar, Cycle};
use proptest::prelude::*;

const MAX_N: u32 = 600;

/// 1970-01-01T00:00:00Z to 2200-12-31T23:59:59Z, in seconds.
const FIRST_SECOND: i64 = 0;
const LAST_SECOND: i64 = 7_289_654_399;

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (FIRST_SECOND..=LAST_SECOND, 0u32..1_000_000)
        .prop_map(|(secs, micros)| DateTime::from_timestamp(secs, micros * 1_000).unwrap())
}

fn cycle() -> impl Strategy<Value = Cycle> {
    prop_oneof![Just(Cycle::Month), Just(Cycle::Year)]
}

/// UTC, a zone without DST since 1992 and a zone with DST twice a year.
fn any_zone() -> impl Strategy<Value = Tz> {
    prop_oneof![
        Just(Tz::UTC),
        Just(Tz::Asia__Shanghai),
        Just(Tz::Europe__Berlin)
    ]
}

/// Zones whose clocks never jumped in the generated range.
fn zone_without_dst() -> impl Strategy<Value = Tz> {
    prop_oneof![
        Just(Tz::UTC),
        Just(Tz::Asia__Kolkata),
        Just(Tz::Asia__Tokyo)
    ]
}

fn months(cycle: Cycle) -> i64 {
    match cycle {
        Cycle::Month => 1,
        Cycle::Year => 12,
    }
}

fn local(tz: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&tz).naive_local()
}

fn month_index(wall: NaiveDateTime) -> i64 {
    i64::from(wall.year()) * 12 + i64::from(wall.month0())
}

/// end(0) ..= end(n) of one order.
fn ends(cal: &BusinessCalendar, start: DateTime<Utc>, cycle: Cycle, n: u32) -> Vec<DateTime<Utc>> {
    (0..=n)
        .map(|k| cal.cycle_end(start, cycle, k).unwrap())
        .collect()
}

proptest! {
    #[test]
    fn the_zeroth_cycle_end_is_the_start(
        start in instant(), cycle in cycle(), tz in any_zone(),
    ) {
        let cal = BusinessCalendar::new(tz);
        prop_assert_eq!(cal.cycle_end(start, cycle, 0), Some(start));
    }

    #[test]
    fn cycle_ends_strictly_increase_so_periods_are_contiguous_and_disjoint(
        start in instant(), cycle in cycle(), tz in any_zone(), n in 1..=MAX_N,
    ) {
        let cal = BusinessCalendar::new(tz);
        let ends = ends(&cal, start, cycle, n);
        for (k, pair) in ends.windows(2).enumerate() {
            prop_assert!(pair[0] < pair[1], "end({k}) = {} !< end({}) = {}", pair[0], k + 1, pair[1]);
        }
    }

    #[test]
    fn a_period_lasts_one_natural_month_or_year(
        start in instant(), cycle in cycle(), tz in any_zone(), n in 1..=MAX_N,
    ) {
        let cal = BusinessCalendar::new(tz);
        let previous = cal.cycle_end(start, cycle, n - 1).unwrap();
        let end = cal.cycle_end(start, cycle, n).unwrap();
        // A DST change (one hour) plus a wall time moved out of a DST gap (one hour).
        let slack = Duration::hours(2);
        let (shortest, longest) = match cycle {
            Cycle::Month => (Duration::days(28), Duration::days(31)),
            Cycle::Year => (Duration::days(365), Duration::days(366)),
        };
        let length = end - previous;
        prop_assert!(length >= shortest - slack && length <= longest + slack, "{length}");
    }

    #[test]
    fn cycle_end_lands_n_cycles_after_the_start_month(
        start in instant(), cycle in cycle(), tz in any_zone(), n in 0..=MAX_N,
    ) {
        let cal = BusinessCalendar::new(tz);
        let end = cal.cycle_end(start, cycle, n).unwrap();
        prop_assert_eq!(
            month_index(local(tz, end)),
            month_index(local(tz, start)) + i64::from(n) * months(cycle)
        );
    }

    #[test]
    fn cycle_end_falls_on_the_anchor_day_clamped_to_the_month(
        start in instant(), cycle in cycle(), tz in any_zone(), n in 0..=MAX_N,
    ) {
        let cal = BusinessCalendar::new(tz);
        let anchor = local(tz, start).day();
        let end = local(tz, cal.cycle_end(start, cycle, n).unwrap());
        prop_assert_eq!(end.day(), anchor.min(days_in_month(end.year(), end.month())));
    }

    #[test]
    fn cycle_end_keeps_the_start_time_of_day_in_zones_without_dst(
        start in instant(), cycle in cycle(), tz in zone_without_dst(), n in 0..=MAX_N,
    ) {
        let cal = BusinessCalendar::new(tz);
        let end = cal.cycle_end(start, cycle, n).unwrap();
        prop_assert_eq!(local(tz, end).time(), local(tz, start).time());
    }

    #[test]
    fn cycle_end_keeps_the_start_wall_time_whenever_that_time_exists(
        start in instant(), cycle in cycle(), tz in any_zone(), n in 0..=MAX_N,
    ) {
        let cal = BusinessCalendar::new(tz);
        let end = local(tz, cal.cycle_end(start, cycle, n).unwrap());
        let wanted = end.date().and_time(local(tz, start).time());
        if tz.from_local_datetime(&wanted).earliest().is_some() {
            prop_assert_eq!(end, wanted);
        } else {
            prop_assert!(end > wanted && end - wanted <= Duration::hours(2), "{wanted} → {end}");
        }
    }

    #[test]
    fn next_cycle_end_after_a_cycle_end_is_the_following_one(
        start in instant(), cycle in cycle(), tz in any_zone(), k in 0..MAX_N,
    ) {
        let cal = BusinessCalendar::new(tz);
        let end_k = cal.cycle_end(start, cycle, k).unwrap();
        prop_assert_eq!(
            cal.next_cycle_end(start, cycle, end_k),
            cal.cycle_end(start, cycle, k + 1)
        );
    }

    #[test]
    fn next_cycle_end_just_before_a_cycle_end_is_that_one(
        start in instant(), cycle in cycle(), tz in any_zone(), k in 1..=MAX_N,
    ) {
        let cal = BusinessCalendar::new(tz);
        let end_k = cal.cycle_end(start, cycle, k).unwrap();
        prop_assert_eq!(
            cal.next_cycle_end(start, cycle, end_k - Duration::microseconds(1)),
            Some(end_k)
        );
    }

    #[test]
    fn next_cycle_end_inside_a_period_is_the_end_of_that_period(
        start in instant(), cycle in cycle(), tz in any_zone(), k in 1..=MAX_N,
        offset in any::<i64>(),
    ) {
        let cal = BusinessCalendar::new(tz);
        let from = cal.cycle_end(start, cycle, k - 1).unwrap();
        let until = cal.cycle_end(start, cycle, k).unwrap();
        let length = (until - from).num_microseconds().unwrap();
        let inside = from + Duration::microseconds(offset.rem_euclid(length));
        prop_assert_eq!(cal.next_cycle_end(start, cycle, inside), Some(until));
    }
}
