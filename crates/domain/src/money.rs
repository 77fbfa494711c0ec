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
    /// Nothing to parse: an empty field is not zero.
    #[error("amount is empty")]
    Empty,
    /// Not `-?digits(.digits)?`: exponents, spaces, `+` and separators are refused, not
    /// guessed.
    #[error("amount {0:?} is not a decimal number")]
    Malformed(String),
    /// Finer than a ten-thousandth: refused rather than rounded, so no amount changes silently.
    #[error("amount {0:?} has more than 4 decimals")]
    TooPrecise(String),
    /// Beyond what an `i64` of ten-thousandths holds.
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

    /// Exactly zero; with integer units there is no remainder to hide.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Below zero: a refund in a consumption row, arrears in a balance.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Above zero: a charge in a consumption row, money held in a balance.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// The sum, or `None` on overflow: amounts never wrap or saturate.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// The difference, or `None` on overflow: amounts never wrap or saturate.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The amount times a whole count (a price times a quantity).
    pub fn checked_mul(self, factor: u32) -> Option<Money> {
        self.0.checked_mul(i64::from(factor)).map(Money)
    }

    /// The opposite amount (a charge's refund), or `None` for the one amount that has none.
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
        // Summed in 128 bits and negated before narrowing: the most negative amount has no
        // positive counterpart, yet it formats and so must parse back.
        let magnitude = i128::from(whole) * i128::from(SCALE) + i128::from(frac_units);
        let signed = if negative { -magnitude } else { magnitude };
        i64::try_from(signed).map(Money).map_err(|_| overflow())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use proptest::prelude::*;

    use super::*;

    fn parse(text: &str) -> Result<Money, MoneyError> {
        text.parse()
    }

    fn money(text: &str) -> Money {
        parse(text).unwrap()
    }

    #[test]
    fn parses_decimal_strings_into_ten_thousandths() {
        let cases = [
            ("12.5", 125_000),
            ("12.50", 125_000),
            ("12", 120_000),
            ("0", 0),
            ("-0", 0),
            ("0.0001", 1),
            ("-0.0001", -1),
            ("-3.25", -32_500),
            ("12.3456", 123_456),
            ("007.5", 75_000),
            ("922337203685477.5807", i64::MAX),
            ("-922337203685477.5807", -i64::MAX),
            ("-922337203685477.5808", i64::MIN),
        ];
        for (text, minor) in cases {
            assert_eq!(parse(text), Ok(Money::from_minor(minor)), "{text}");
        }
    }

    #[test]
    fn formats_with_two_to_four_decimals() {
        let cases = [
            (125_000, "12.50"),
            (120_000, "12.00"),
            (0, "0.00"),
            (1, "0.0001"),
            (10, "0.001"),
            (-5, "-0.0005"),
            (-32_500, "-3.25"),
            (123_456, "12.3456"),
            (123_450, "12.345"),
            (i64::MAX, "922337203685477.5807"),
            (i64::MIN, "-922337203685477.5808"),
        ];
        for (minor, text) in cases {
            assert_eq!(Money::from_minor(minor).to_string(), text, "{minor}");
        }
    }

    #[test]
    fn format_then_parse_round_trips_documented_examples() {
        for text in ["12.50", "0.0001", "-3.25", "12.00", "922337203685477.5807"] {
            assert_eq!(money(text).to_string(), text);
        }
    }

    #[test]
    fn rejects_amounts_beyond_i64_as_overflow() {
        for text in [
            "922337203685477.5808",
            "-922337203685477.5809",
            "922337203685478",
            "99999999999999999999",
            "-99999999999999999999.9999",
        ] {
            assert!(
                matches!(parse(text), Err(MoneyError::Overflow(_))),
                "{text}: {:?}",
                parse(text)
            );
        }
    }

    #[test]
    fn rejects_more_than_four_decimals() {
        for text in ["0.00001", "12.34567", "-1.00000"] {
            assert_eq!(
                parse(text),
                Err(MoneyError::TooPrecise(text.into())),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_the_empty_string_as_empty() {
        assert_eq!(parse(""), Err(MoneyError::Empty));
    }

    #[test]
    fn rejects_malformed_numbers() {
        let cases = [
            "-", "1.", ".5", "-.5", "1e3", " 1", "1 ", "+1", "1,000", "1.000,5", "NaN", "inf",
            "--1", "1-", "1..2", "1.2.3", "0x10", "１", "12.5a", ".",
        ];
        for text in cases {
            assert_eq!(
                parse(text),
                Err(MoneyError::Malformed(text.into())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn addition_and_subtraction_fail_on_overflow_instead_of_wrapping() {
        let one = Money::from_minor(1);
        assert_eq!(Money::MAX.checked_add(one), None);
        assert_eq!(Money::from_minor(i64::MIN).checked_sub(one), None);
        assert_eq!(
            money("12.50").checked_add(money("0.75")),
            Some(money("13.25"))
        );
        assert_eq!(
            money("12.50").checked_sub(money("20")),
            Some(money("-7.50"))
        );
    }

    #[test]
    fn multiplying_by_a_quantity_fails_on_overflow() {
        assert_eq!(money("99").checked_mul(3), Some(money("297")));
        assert_eq!(money("99").checked_mul(0), Some(Money::ZERO));
        assert_eq!(Money::MAX.checked_mul(2), None);
        assert_eq!(Money::from_minor(i64::MAX / 2 + 1).checked_mul(2), None);
    }

    #[test]
    fn negating_the_most_negative_amount_fails() {
        assert_eq!(money("3.25").checked_neg(), Some(money("-3.25")));
        assert_eq!(Money::from_minor(i64::MIN).checked_neg(), None);
    }

    #[test]
    fn from_units_scales_by_ten_thousand_and_checks_overflow() {
        assert_eq!(Money::from_units(12), Some(Money::from_minor(120_000)));
        assert_eq!(Money::from_units(i64::MAX / SCALE + 1), None);
    }

    #[test]
    fn sign_predicates_follow_the_amount() {
        assert!(Money::ZERO.is_zero() && !Money::ZERO.is_positive() && !Money::ZERO.is_negative());
        assert!(money("0.0001").is_positive());
        assert!(money("-0.0001").is_negative());
    }

    #[test]
    fn pro_rata_exact_share_is_the_same_both_ways() {
        let hundred = money("100");
        for rounding in [Rounding::Up, Rounding::Down] {
            assert_eq!(hundred.pro_rata(1, 4, rounding), Some(money("25")));
        }
    }

    #[test]
    fn pro_rata_inexact_share_rounds_as_asked() {
        let hundred = money("100");
        assert_eq!(
            hundred.pro_rata(1, 3, Rounding::Down),
            Some(Money::from_minor(333_333))
        );
        assert_eq!(
            hundred.pro_rata(1, 3, Rounding::Up),
            Some(Money::from_minor(333_334))
        );
    }

    #[test]
    fn pro_rata_of_a_negative_amount_rounds_towards_the_named_infinity() {
        let minus_hundred = money("-100");
        assert_eq!(
            minus_hundred.pro_rata(1, 3, Rounding::Down),
            Some(Money::from_minor(-333_334))
        );
        assert_eq!(
            minus_hundred.pro_rata(1, 3, Rounding::Up),
            Some(Money::from_minor(-333_333))
        );
    }

    #[test]
    fn pro_rata_of_zero_part_or_zero_amount_is_zero() {
        for rounding in [Rounding::Up, Rounding::Down] {
            assert_eq!(money("100").pro_rata(0, 31, rounding), Some(Money::ZERO));
            assert_eq!(Money::ZERO.pro_rata(7, 31, rounding), Some(Money::ZERO));
        }
    }

    #[test]
    fn pro_rata_takes_the_product_in_128_bits() {
        // MAX × (MAX − 1) overflows i64, but the share itself fits.
        let part = i64::MAX - 1;
        assert_eq!(
            Money::MAX.pro_rata(part, i64::MAX, Rounding::Down),
            Some(Money::from_minor(i64::MAX - 1))
        );
        assert_eq!(
            Money::MAX.pro_rata(part, i64::MAX, Rounding::Up),
            Some(Money::from_minor(i64::MAX - 1))
        );
        assert_eq!(
            Money::from_minor(i64::MIN).pro_rata(i64::MAX, i64::MAX, Rounding::Up),
            Some(Money::from_minor(i64::MIN))
        );
    }

    #[test]
    fn pro_rata_fails_when_the_share_does_not_fit() {
        assert_eq!(Money::MAX.pro_rata(2, 1, Rounding::Down), None);
        // MAX × 3/2 rounded up is past MAX by more than the rounding step.
        assert_eq!(Money::MAX.pro_rata(3, 2, Rounding::Up), None);
    }

    #[test]
    fn pro_rata_rejects_a_non_positive_whole_or_negative_part() {
        let hundred = money("100");
        assert_eq!(hundred.pro_rata(1, 0, Rounding::Up), None);
        assert_eq!(hundred.pro_rata(1, -3, Rounding::Up), None);
        assert_eq!(hundred.pro_rata(-1, 3, Rounding::Down), None);
    }

    #[test]
    fn serializes_as_a_json_string() {
        assert_eq!(serde_json::to_string(&money("12.5")).unwrap(), r#""12.50""#);
        assert_eq!(
            serde_json::to_string(&money("-0.0005")).unwrap(),
            r#""-0.0005""#
        );
    }

    #[test]
    fn deserializes_from_a_json_string() {
        let parsed: Money = serde_json::from_str(r#""12.5""#).unwrap();
        assert_eq!(parsed, Money::from_minor(125_000));
    }

    #[test]
    fn deserializing_rejects_json_numbers() {
        for json in ["12.5", "12", "-1"] {
            assert!(serde_json::from_str::<Money>(json).is_err(), "{json}");
        }
    }

    #[test]
    fn deserializing_rejects_malformed_strings_with_the_parse_error() {
        let err = serde_json::from_str::<Money>(r#""1e3""#).unwrap_err();
        assert!(err.to_string().contains("not a decimal number"), "{err}");
        assert!(serde_json::from_str::<Money>(r#""1.00001""#).is_err());
    }

    proptest! {
        #[test]
        fn parsing_the_formatted_amount_gives_it_back(minor in any::<i64>()) {
            let amount = Money::from_minor(minor);
            prop_assert_eq!(amount.to_string().parse::<Money>(), Ok(amount));
        }

        #[test]
        fn serde_round_trips_every_amount(minor in any::<i64>()) {
            let amount = Money::from_minor(minor);
            let json = serde_json::to_string(&amount).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), amount);
        }
    }
}
