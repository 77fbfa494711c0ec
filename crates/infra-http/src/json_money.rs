//! Money as the platform's JSON carries it: a JSON number (the plan service's prices, the
//! charge service's amounts). A number read through `f64` is already rounded (`0.1` is not
//! `0.1`), so both directions go through the number's literal text instead: prices are
//! read from their `RawValue` and converted digit by digit, amounts are written from
//! `Money`'s decimal string. Whatever is not exactly a `Money` is refused, never rounded.

use domain::money::Money;
use serde_json::value::RawValue;

/// Why a price is not a usable amount.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PriceError {
    #[error("price {0} is not a decimal number")]
    NotANumber(String),
    #[error("price {0} is negative")]
    Negative(String),
    #[error("price {0} has more than 4 decimals")]
    TooPrecise(String),
    #[error("price {0} is out of range")]
    OutOfRange(String),
}

/// Exponents beyond this cannot name a price that fits `Money` (at most 19 digits), so
/// they are refused before any digits are shifted.
const EXPONENT_MAX: i64 = 40;

/// Longest piece of a bad literal quoted in an error.
const QUOTE_MAX: usize = 40;

/// A non-negative price from a JSON number (`12.5`, `1e2`) or a JSON string holding one
/// (`"12.5"`). Exact: `1.00001` is refused, not rounded; trailing zeros past the fourth
/// decimal (`1.50000`) are accepted, since the value is still exact.
pub(crate) fn price(raw: &RawValue) -> Result<Money, PriceError> {
    let literal = raw.get().trim();
    let text = if literal.starts_with('"') {
        serde_json::from_str::<String>(literal)
            .map_err(|_| PriceError::NotANumber(quote(literal)))?
    } else {
        literal.to_owned()
    };
    decimal(&text)
}

/// An amount as a JSON number with its exact decimals and no trailing zeros: 12.5, 100,
/// 0.0001.
pub(crate) fn amount(money: Money) -> Result<Box<RawValue>, serde_json::Error> {
    let text = money.to_string();
    let number = match text.split_once('.') {
        Some((whole, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                whole.to_owned()
            } else {
                format!("{whole}.{frac}")
            }
        }
        None => text,
    };
    RawValue::from_string(number)
}

/// `digits(.digits)?([eE][+-]?digits)?`, optionally with a leading minus (only `-0` and
/// friends pass), shifted into a plain decimal and parsed by `Money`.
fn decimal(text: &str) -> Result<Money, PriceError> {
    let not_a_number = || PriceError::NotANumber(quote(text));
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (whole, frac) = match mantissa.split_once('.') {
        Some((w, f)) if !f.is_empty() => (w, f),
        Some(_) => return Err(not_a_number()),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(frac) {
        return Err(not_a_number());
    }
    let exponent: i64 = match exponent {
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return Err(not_a_number());
            }
            e.parse().unwrap_or(i64::MAX)
        }
        None => 0,
    };
    let digits = format!("{whole}{frac}");
    let is_zero = digits.bytes().all(|b| b == b'0');
    if is_zero {
        return Ok(Money::ZERO);
    }
    if negative {
        return Err(PriceError::Negative(quote(text)));
    }
    if exponent.abs() > EXPONENT_MAX {
        return Err(PriceError::OutOfRange(quote(text)));
    }
    // The decimal point sits after `point` digits of `digits` (before them if negative).
    let point =
        i64::try_from(whole.len()).map_err(|_| PriceError::OutOfRange(quote(text)))? + exponent;
    let (int_part, frac_part) = if point <= 0 {
        let zeros = usize::try_from(-point).unwrap_or_default();
        ("0".to_owned(), format!("{}{digits}", "0".repeat(zeros)))
    } else {
        let point = usize::try_from(point).unwrap_or_default();
        if point >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point - digits.len())),
                String::new(),
            )
        } else {
            (digits[..point].to_owned(), digits[point..].to_owned())
        }
    };
    let frac_part = frac_part.trim_end_matches('0');
    if frac_part.len() > 4 {
        return Err(PriceError::TooPrecise(quote(text)));
    }
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let plain = if frac_part.is_empty() {
        int_part.to_owned()
    } else {
        format!("{int_part}.{frac_part}")
    };
    plain
        .parse()
        .map_err(|_| PriceError::OutOfRange(quote(text)))
}

fn quote(text: &str) -> String {
    let cut: String = text.chars().take(QUOTE_MAX).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn parse(json: &str) -> Result<Money, PriceError> {
        let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
        price(&raw)
    }

    fn minor(json: &str) -> i64 {
        parse(json)
            .unwrap_or_else(|e| panic!("{json}: {e}"))
            .minor()
    }

    #[test]
    fn json_numbers_convert_exactly() {
        let cases = [
            ("12.5", 125_000),
            ("0", 0),
            ("0.0001", 1),
            ("99999999.9999", 999_999_999_999),
            ("12", 120_000),
            ("0.1", 1_000),
            ("1.50000", 15_000),
            ("-0", 0),
            ("-0.0", 0),
            ("922337203685477.5807", i64::MAX),
        ];
        for (json, expected) in cases {
            assert_eq!(minor(json), expected, "{json}");
        }
    }

    #[test]
    fn exponent_forms_convert_when_exact() {
        let cases = [
            ("1e2", 1_000_000),
            ("1E2", 1_000_000),
            ("1e+2", 1_000_000),
            ("1.5e-3", 15),
            ("1e-4", 1),
            ("12345e-4", 12_345),
            ("0.00125e1", 125),
            ("0e999", 0),
        ];
        for (json, expected) in cases {
            assert_eq!(minor(json), expected, "{json}");
        }
    }

    #[test]
    fn strings_holding_numbers_convert_too() {
        assert_eq!(minor(r#""12.5""#), 125_000);
        assert_eq!(minor(r#""1e2""#), 1_000_000);
    }

    #[test]
    fn more_than_four_decimals_is_refused() {
        for json in ["1.00001", "0.00001", "1e-5", "12.34567", r#""0.12345""#] {
            assert!(
                matches!(parse(json), Err(PriceError::TooPrecise(_))),
                "{json}: {:?}",
                parse(json)
            );
        }
    }

    #[test]
    fn negative_prices_are_refused() {
        for json in ["-1", "-0.0001", "-1e2", r#""-3""#] {
            assert!(
                matches!(parse(json), Err(PriceError::Negative(_))),
                "{json}: {:?}",
                parse(json)
            );
        }
    }

    #[test]
    fn non_numbers_are_refused() {
        let cases = [
            r#""NaN""#,
            r#""nan""#,
            r#""inf""#,
            r#""Infinity""#,
            r#""-Infinity""#,
            r#""""#,
            r#"" 12""#,
            r#""1.""#,
            r#""1e""#,
            r#""1e+""#,
            r#""0x10""#,
            r#""12,5""#,
            "true",
            "null",
            "{}",
            "[1]",
        ];
        for json in cases {
            assert!(
                matches!(parse(json), Err(PriceError::NotANumber(_))),
                "{json}: {:?}",
                parse(json)
            );
        }
    }

    #[test]
    fn prices_beyond_money_are_out_of_range() {
        for json in [
            "1e41",
            "922337203685477.5808",
            "1e20",
            "99999999999999999999",
        ] {
            assert!(
                matches!(parse(json), Err(PriceError::OutOfRange(_))),
                "{json}: {:?}",
                parse(json)
            );
        }
    }

    #[test]
    fn amounts_are_written_as_exact_json_numbers() {
        let cases = [
            (125_000, "12.5"),
            (1_000_000, "100"),
            (1, "0.0001"),
            (123_456, "12.3456"),
            (999_999_999_999, "99999999.9999"),
        ];
        for (minor, json) in cases {
            assert_eq!(amount(Money::from_minor(minor)).unwrap().get(), json);
        }
    }

    #[test]
    fn written_amounts_read_back_unchanged() {
        for minor in [1, 10, 125_000, 999_999_999_999, i64::MAX] {
            let raw = amount(Money::from_minor(minor)).unwrap();
            assert_eq!(price(&raw).unwrap().minor(), minor);
        }
    }

    #[test]
    fn long_literals_are_quoted_short() {
        let long = format!("\"{}\"", "x".repeat(100));
        let shown = parse(&long).unwrap_err().to_string();
        assert!(shown.len() < 80, "{shown}");
    }
}
