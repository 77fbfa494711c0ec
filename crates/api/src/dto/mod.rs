//! Request and response bodies. Requests arrive as loose types (mostly `Option<String>`)
//! and become domain requests through `TryFrom`, so every parameter error is reported by
//! the domain parser that owns the rule; responses are built from domain entities.

pub mod balances;
pub mod json;
pub mod list;
pub mod notifications;
pub mod orders;
pub mod plans;
pub mod usages;
pub mod webhook_event;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::ApiError;

/// RFC 3339 in UTC with microseconds and `Z`: "2026-11-23T11:28:07.123456Z".
pub fn rfc3339(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A required parameter: absent is reported like empty ("project can't be blank").
pub fn required<T>(
    value: Option<&str>,
    parse: fn(&str) -> domain::Result<T>,
) -> Result<T, ApiError> {
    Ok(parse(value.unwrap_or_default())?)
}

/// An optional filter: absent and empty (`?region=`) both mean "no filter".
pub fn optional<T>(
    value: Option<&str>,
    parse: fn(&str) -> domain::Result<T>,
) -> Result<Option<T>, ApiError> {
    match value {
        None | Some("") => Ok(None),
        Some(text) => Ok(Some(parse(text)?)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;
    use domain::ids::{ProjectId, Region};

    use super::*;

    #[test]
    fn times_are_utc_with_microseconds_and_z() {
        let time = Utc.with_ymd_and_hms(2026, 11, 23, 11, 28, 7).unwrap()
            + chrono::Duration::microseconds(123_456);
        assert_eq!(rfc3339(&time), "2026-11-23T11:28:07.123456Z");
    }

    #[test]
    fn a_missing_required_parameter_is_blank() {
        let error = required(None, ProjectId::parse).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid parameters: project can't be blank"
        );
    }

    #[test]
    fn an_empty_optional_filter_is_no_filter() {
        assert_eq!(optional(Some(""), Region::parse).unwrap(), None);
        assert_eq!(optional(None, Region::parse).unwrap(), None);
        assert!(optional(Some("cn north"), Region::parse).is_err());
    }
}
