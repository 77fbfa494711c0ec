//! `Money` is an amount in ten-thousandths of the currency unit, as the original schema
//! stored it ("scaled by 10000"). Integers only: a float never touches an amount, so sums
//! are exact to the last unit and parsing/formatting round-trips.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of minor units in one currency unit.
pub const SCALE: i64 = 10_000;
const DECIMALS: usize = 4;

/// An exact amount of money, possibly negative (refunds are negative consumption).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// Why a decimal string is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    #[error("amount {0:?} is not a decimal number")]
    Malformed(String),
    #[error("amount {0:?} has more than 4 decimals")]
    TooPrecise(String),
    #[error("amount {0:?} is too large")]
    Overflow(String),
}

/// Which way a pro-rata share is rounded when it does not fall on a whole minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Towards negative infinity: used for what the customer pays.
    Down,
    /// Towards positive infinity: used for what the customer gets back.
    Up,
}

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);
    /// The largest representable amount.
    pub const MAX: Money = Money(i64::MAX);

    /// An amount from minor units (ten-thousandths).
    pub const fn from_minor(units: i64) -> Self {
        Money(units)
    }

    /// An amount of whole currency units, `None` on overflow.
    pub fn from_units(units: i64) -> Option<Self> {
        units.checked_mul(SCALE).map(Money)
    }

    /// The amount in minor units, as stored in the database.
    pub const fn minor(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The amount times a whole count (a price times a quantity).
    pub fn checked_mul(self, factor: u32) -> Option<Money> {
        self.0.checked_mul(i64::from(factor)).map(Money)
    }

    pub fn checked_neg(self) -> Option<Money> {
        self.0.checked_neg().map(Money)
    }

    /// `self × part / whole`, rounded as asked. The product is taken in 128 bits, so only a
    /// result that does not fit an amount fails. `None` also when `whole` is not positive
    /// or `part` is negative.
    pub fn pro_rata(self, part: i64, whole: i64, rounding: Rounding) -> Option<Money> {
        if whole <= 0 || part < 0 {
            return None;
        }
        let product = i128::from(self.0) * i128::from(part);
        let whole = i128::from(whole);
        let quotient = product.div_euclid(whole);
        let exact = product.rem_euclid(whole) == 0;
        let rounded = match rounding {
            Rounding::Down => quotient,
            Rounding::Up if exact => quotient,
            Rounding::Up => quotient + 1,
        };
        i64::try_from(rounded).ok().map(Money)
    }
}

impl fmt::Display for Money {
    /// At least two decimals, at most four, no trailing zeros past the second:
    /// 125000 → "12.50", 123456 → "12.3456", -5 → "-0.0005".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = SCALE.unsigned_abs();
        let whole = abs / scale;
        let mut frac = format!("{:04}", abs % scale);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        write!(f, "{sign}{whole}.{frac}")
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Accepts `-?digits(.digits{1,4})?`: "12", "12.5", "-0.0001". No exponent, no sign
    /// other than a leading minus, no spaces, no thousands separators.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        let malformed = || MoneyError::Malformed(text.to_owned());
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, frac) = match unsigned.split_once('.') {
            Some((w, f)) => (w, f),
            None => (unsigned, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) {
            return Err(malformed());
        }
        if unsigned.contains('.') && frac.is_empty() {
            return Err(malformed());
        }
        if frac.len() > DECIMALS {
            return Err(MoneyError::TooPrecise(text.to_owned()));
        }
        let overflow = || MoneyError::Overflow(text.to_owned());
        let whole: i64 = whole.parse().map_err(|_| overflow())?;
        let frac_units: i64 = if frac.is_empty() {
            0
        } else {
            let padded = format!("{frac:0<4}");
            padded.parse().map_err(|_| malformed())?
        };
        let magnitude = whole
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(frac_units))
            .ok_or_else(overflow)?;
        Ok(Money(if negative { -magnitude } else { magnitude }))
    }
}

impl Serialize for Money {
    /// Amounts travel as decimal strings, never JSON numbers, so no client parses them
    /// into a float by accident.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
