//! Pro-rata arithmetic, in one place for cancel, switch and postpaid settlement. Time is
//! measured in microseconds (what the store keeps) and money in minor units; every share is
//! rounded in the customer's favour: what is given back rounds up, what is charged rounds
//! down. Truncating time to whole seconds first would round a refund down before it is
//! rounded up.

use chrono::{DateTime, TimeDelta, Utc};

use crate::consumption::Consumption;
use crate::error::{Error, Result};
use crate::money::{Money, Rounding};

/// The part of `amount`, paid for `[from, until)`, that covers `[at, until)`: the unused
/// remainder at instant `at`, rounded up. Zero once `at` reaches `until`; the whole amount
/// when `at` is at or before `from`.
pub fn unused_share(
    amount: Money,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<Money> {
    if until <= from || at >= until {
        return Ok(Money::ZERO);
    }
    let whole = micros(until - from)?;
    let unused = micros(until - at.max(from))?;
    amount
        .pro_rata(unused, whole, Rounding::Up)
        .ok_or_else(|| Error::Internal(format!("pro-rata of {amount} overflowed")))
}

/// The part of `amount`, the price of `[from, until)`, that covers `[from, at)`: what was
/// used by instant `at`, rounded down.
pub fn used_share(
    amount: Money,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<Money> {
    if until <= from || at >= until {
        return Ok(amount);
    }
    let whole = micros(until - from)?;
    let used = micros(at.max(from) - from)?;
    amount
        .pro_rata(used, whole, Rounding::Down)
        .ok_or_else(|| Error::Internal(format!("pro-rata of {amount} overflowed")))
}

fn micros(span: TimeDelta) -> Result<i64> {
    span.num_microseconds()
        .ok_or_else(|| Error::Internal(format!("period of {span} is too long to prorate")))
}

/// What an order's charges still owe the customer at `at`: for every charge row whose
/// period has not run out, the unused share. A period already paid in advance counts in
/// full; end rows and refunds count for nothing.
pub fn unused_remainder(rows: &[Consumption], at: DateTime<Utc>) -> Result<Money> {
    rows.iter()
        .filter(|row| row.kind.is_charge() && row.amount.is_positive())
        .try_fold(Money::ZERO, |sum, row| {
            let share = unused_share(row.amount, row.time, row.covered_until, at)?;
            sum.checked_add(share)
                .ok_or_else(|| Error::Internal("refund overflowed".into()))
        })
}

/// The part of [`unused_remainder`] that pays periods not started by `at`: given back in
/// full even where the running period's remainder is not (a cycle charged early, in the
/// renewal margin, was never used).
pub fn unstarted_remainder(rows: &[Consumption], at: DateTime<Utc>) -> Result<Money> {
    rows.iter()
        .filter(|row| row.kind.is_charge() && row.amount.is_positive() && row.time >= at)
        .try_fold(Money::ZERO, |sum, row| {
            sum.checked_add(row.amount)
                .ok_or_else(|| Error::Internal("refund overflowed".into()))
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::Duration;
    use proptest::prelude::*;

    use super::*;
    use crate::consumption::ConsumptionKind;
    use crate::ids::{OrderId, PlanId, ProjectId, Region};

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    /// The original's example period: Jan 1 → Feb 1 2017, 31 days.
    fn jan() -> (DateTime<Utc>, DateTime<Utc>) {
        (utc("2017-01-01T00:00:00Z"), utc("2017-02-01T00:00:00Z"))
    }

    fn feb() -> (DateTime<Utc>, DateTime<Utc>) {
        (utc("2017-02-01T00:00:00Z"), utc("2017-03-01T00:00:00Z"))
    }

    fn jan_11_noon() -> DateTime<Utc> {
        utc("2017-01-11T12:00:00Z")
    }

    fn row(
        consume_id: u32,
        amount: &str,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
        kind: ConsumptionKind,
    ) -> Consumption {
        Consumption {
            order_id: OrderId::parse("o1").unwrap(),
            consume_id,
            project: ProjectId::parse("p1").unwrap(),
            region: Region::parse("r1").unwrap(),
            plan_id: PlanId::parse("plan1").unwrap(),
            amount: money(amount),
            time: from,
            covered_until: until,
            kind,
        }
    }

    #[test]
    fn unused_share_of_the_original_example_is_rounded_up_to_the_minor_unit() {
        // 100.00 × 20.5 days / 31 days = 66.12903225… → 66.1291 (the original gave 64.51).
        let (from, until) = jan();
        assert_eq!(
            unused_share(money("100"), from, until, jan_11_noon()),
            Ok(Money::from_minor(661_291))
        );
    }

    #[test]
    fn unused_share_counts_the_partial_second_for_the_customer() {
        // Half a second after noon leaves 20.5 days − 0.5 s unused: 661_290.13… minor units,
        // rounded up to 661_291. Truncating to 1_771_199 whole seconds first gave 661_290.
        let (from, until) = jan();
        let at = jan_11_noon() + Duration::milliseconds(500);
        assert_eq!(
            unused_share(money("100"), from, until, at),
            Ok(Money::from_minor(661_291))
        );
        let exact_micros = (until - at).num_microseconds().unwrap();
        let whole_micros = (until - from).num_microseconds().unwrap();
        assert_eq!(
            money("100").pro_rata(exact_micros, whole_micros, Rounding::Up),
            Some(Money::from_minor(661_291))
        );
    }

    #[test]
    fn unused_share_at_or_after_the_end_is_zero() {
        let (from, until) = jan();
        for at in [
            until,
            until + Duration::microseconds(1),
            until + Duration::days(90),
        ] {
            assert_eq!(
                unused_share(money("100"), from, until, at),
                Ok(Money::ZERO),
                "{at}"
            );
        }
    }

    #[test]
    fn unused_share_at_or_before_the_start_is_the_whole_amount() {
        let (from, until) = jan();
        for at in [
            from,
            from - Duration::microseconds(1),
            from - Duration::days(90),
        ] {
            assert_eq!(
                unused_share(money("100"), from, until, at),
                Ok(money("100")),
                "{at}"
            );
        }
    }

    #[test]
    fn unused_share_one_microsecond_before_the_end_rounds_up_to_one_minor_unit() {
        let (from, until) = jan();
        let at = until - Duration::microseconds(1);
        assert_eq!(
            unused_share(money("100"), from, until, at),
            Ok(Money::from_minor(1))
        );
    }

    #[test]
    fn unused_share_of_an_empty_or_inverted_period_is_zero() {
        let (from, until) = jan();
        assert_eq!(
            unused_share(money("100"), from, from, from),
            Ok(Money::ZERO)
        );
        assert_eq!(
            unused_share(money("100"), until, from, from),
            Ok(Money::ZERO)
        );
    }

    #[test]
    fn used_share_of_the_original_example_is_rounded_down_to_the_minor_unit() {
        // 100.00 × 10.5 days / 31 days = 33.87096774… → 33.8709.
        let (from, until) = jan();
        assert_eq!(
            used_share(money("100"), from, until, jan_11_noon()),
            Ok(Money::from_minor(338_709))
        );
    }

    #[test]
    fn used_share_before_the_start_is_zero_and_after_the_end_is_everything() {
        let (from, until) = jan();
        assert_eq!(
            used_share(money("100"), from, until, from - Duration::days(1)),
            Ok(Money::ZERO)
        );
        assert_eq!(used_share(money("100"), from, until, from), Ok(Money::ZERO));
        assert_eq!(
            used_share(money("100"), from, until, until),
            Ok(money("100"))
        );
        assert_eq!(
            used_share(money("100"), from, until, until + Duration::days(1)),
            Ok(money("100"))
        );
    }

    #[test]
    fn used_share_one_microsecond_after_the_start_rounds_down_to_nothing() {
        let (from, until) = jan();
        assert_eq!(
            used_share(money("100"), from, until, from + Duration::microseconds(1)),
            Ok(Money::ZERO)
        );
    }

    #[test]
    fn used_share_of_an_empty_period_is_the_whole_amount() {
        let (from, _) = jan();
        assert_eq!(used_share(money("100"), from, from, from), Ok(money("100")));
    }

    #[test]
    fn unused_remainder_of_one_running_period_is_its_unused_share() {
        let rows = [row(1, "100", jan(), ConsumptionKind::New)];
        assert_eq!(
            unused_remainder(&rows, jan_11_noon()),
            Ok(Money::from_minor(661_291))
        );
    }

    #[test]
    fn unused_remainder_counts_a_period_paid_in_advance_in_full() {
        let rows = [
            row(1, "100", jan(), ConsumptionKind::New),
            row(2, "100", feb(), ConsumptionKind::Renew),
        ];
        assert_eq!(
            unused_remainder(&rows, jan_11_noon()),
            Ok(Money::from_minor(661_291 + 1_000_000))
        );
    }

    #[test]
    fn unused_remainder_ignores_periods_that_ran_out() {
        let rows = [
            row(1, "100", jan(), ConsumptionKind::New),
            row(2, "80", feb(), ConsumptionKind::Renew),
        ];
        let mid_feb = utc("2017-02-15T00:00:00Z");
        // 80 × 14 days / 28 days = 40 exactly.
        assert_eq!(unused_remainder(&rows, mid_feb), Ok(money("40")));
    }

    #[test]
    fn unused_remainder_ignores_end_rows() {
        let rows = [
            row(1, "100", jan(), ConsumptionKind::Switch),
            row(2, "5", jan(), ConsumptionKind::End),
        ];
        assert_eq!(
            unused_remainder(&rows, jan_11_noon()),
            Ok(Money::from_minor(661_291))
        );
    }

    #[test]
    fn unused_remainder_ignores_refunds_and_free_periods() {
        let rows = [
            row(1, "0", jan(), ConsumptionKind::New),
            row(2, "-30", feb(), ConsumptionKind::Renew),
        ];
        assert_eq!(unused_remainder(&rows, jan_11_noon()), Ok(Money::ZERO));
    }

    #[test]
    fn unused_remainder_of_no_rows_is_zero() {
        assert_eq!(unused_remainder(&[], jan_11_noon()), Ok(Money::ZERO));
    }

    #[test]
    fn unstarted_remainder_gives_back_only_periods_not_begun() {
        let rows = [
            row(1, "100", jan(), ConsumptionKind::New),
            row(2, "80", feb(), ConsumptionKind::Renew),
            row(3, "5", feb(), ConsumptionKind::End),
        ];
        assert_eq!(unstarted_remainder(&rows, jan_11_noon()), Ok(money("80")));
        assert_eq!(unstarted_remainder(&rows, feb().0), Ok(money("80")));
        let mid_feb = utc("2017-02-15T00:00:00Z");
        assert_eq!(unstarted_remainder(&rows, mid_feb), Ok(Money::ZERO));
    }

    #[test]
    fn unused_remainder_that_overflows_is_an_internal_error() {
        let mut huge = row(1, "0", feb(), ConsumptionKind::New);
        huge.amount = Money::MAX;
        let rows = [huge.clone(), huge];
        assert!(matches!(
            unused_remainder(&rows, jan_11_noon()),
            Err(Error::Internal(_))
        ));
    }

    proptest! {
        #[test]
        fn used_and_unused_shares_add_up_to_the_amount(
            minor in 0i64..=1_000_000_000_000,
            length in 1i64..=400 * 86_400 * 1_000_000,
            offset in any::<i64>(),
        ) {
            let (from, _) = jan();
            let until = from + Duration::microseconds(length);
            let at = from + Duration::microseconds(offset.rem_euclid(length + 2) - 1);
            let amount = Money::from_minor(minor);
            let used = used_share(amount, from, until, at).unwrap();
            let unused = unused_share(amount, from, until, at).unwrap();
            prop_assert_eq!(used.checked_add(unused), Some(amount));
            prop_assert!(!used.is_negative() && !unused.is_negative());
        }
    }
}
