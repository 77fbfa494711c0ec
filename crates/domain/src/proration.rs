//! Pro-rata arithmetic, in one place for cancel, switch and postpaid settlement. Time is
//! measured in whole seconds and money in minor units; every share is rounded in the
//! customer's favour: what is given back rounds up, what is charged rounds down.

use chrono::{DateTime, Utc};

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
    let whole = (until - from).num_seconds();
    if whole <= 0 || at >= until {
        return Ok(Money::ZERO);
    }
    let unused = (until - at.max(from)).num_seconds();
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
    let whole = (until - from).num_seconds();
    if whole <= 0 || at >= until {
        return Ok(amount);
    }
    let used = (at - from).num_seconds().max(0);
    amount
        .pro_rata(used, whole, Rounding::Down)
        .ok_or_else(|| Error::Internal(format!("pro-rata of {amount} overflowed")))
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
