//! Amounts as the platform's services exchange them: JSON numbers (`12.5`), kept by the
//! fakes as exact ten-thousandths like the service's `Money`.

use serde_json::Value;

/// A decimal text (`"12.5"`) as a JSON number.
pub fn number(text: &str) -> Value {
    let value: Value = serde_json::from_str(text).unwrap();
    assert!(value.is_number(), "{text} is not a number");
    value
}

/// Ten-thousandths as an exact JSON number without trailing zeros (`12.5`, `5`), as the
/// fakes answer amounts.
pub fn json_amount(minor: i64) -> Value {
    let text = decimal(minor);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    number(text)
}

/// A JSON number as ten-thousandths; `None` for anything else, a negative amount or more
/// than four decimals (which `Money` cannot have come from).
pub fn minor_of(value: &Value) -> Option<i64> {
    let Value::Number(number) = value else {
        return None;
    };
    let text = number.to_string();
    if text.contains(['e', 'E', '-']) {
        return None;
    }
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if frac.len() > 4 {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<4}").parse().ok()?;
    whole.checked_mul(10_000)?.checked_add(frac)
}

/// Ten-thousandths as a decimal text, for messages and the fakes' replies.
pub fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    format!("{sign}{}.{:04}", minor / 10_000, minor % 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_convert_exactly() {
        assert_eq!(minor_of(&number("12.5")), Some(125_000));
        assert_eq!(minor_of(&number("20")), Some(200_000));
        assert_eq!(minor_of(&number("0.0001")), Some(1));
        assert_eq!(minor_of(&number("1.00001")), None);
        assert_eq!(minor_of(&number("-1")), None);
        assert_eq!(decimal(125_000), "12.5000");
        assert_eq!(decimal(-1), "-0.0001");
        assert_eq!(json_amount(125_000).to_string(), "12.5");
        assert_eq!(json_amount(50_000).to_string(), "5");
        assert_eq!(json_amount(1).to_string(), "0.0001");
    }
}
