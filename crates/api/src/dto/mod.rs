//! Request and response bodies. Requests arrive as loose types (mostly `Option<String>`)
//! and become domain requests through `TryFrom`, so every parameter error is reported by
//! the domain parser that owns the rule; responses are built from domain entities.

pub mod account;
pub mod balances;
pub mod enumerations;
pub mod index;
pub mod json;
pub mod list;
pub mod notifications;
pub mod orders;
pub mod plans;
pub mod records;
pub mod usages;
pub mod webhook_event;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;

/// The schemas of the string labels DTOs carry as `&'static str`, for
/// `#[schema(schema_with = …)]`: each lists what the code can produce or accept.
pub mod labels {
    use domain::account::AccountType;
    use domain::consumption::ConsumptionKind;
    use domain::notification::NotificationKind;
    use domain::order::OrderStatus;
    use domain::order_type::OrderType;
    use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

    /// A string that is one of `values`.
    pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values))
            .build()
    }

    pub fn order_status() -> Object {
        one_of(OrderStatus::ALL.map(OrderStatus::label))
    }

    pub fn order_type() -> Object {
        one_of(OrderType::ALL.map(OrderType::label))
    }

    pub fn account_type() -> Object {
        one_of(AccountType::ALL.map(AccountType::label))
    }

    /// The `account_type` filter of a list: whose rows it reads.
    pub fn account_selection() -> Object {
        let mut schema = one_of(
            AccountType::ALL
                .map(AccountType::label)
                .into_iter()
                .chain(["all"]),
        );
        schema.description = Some(
            "Whose rows: `admin` the main account's, `sub` its sub-accounts', `all` both. \
             Absent: the project's own. A sub-account's list never holds its main account's \
             or its siblings' rows."
                .into(),
        );
        schema
    }

    pub fn pay_way() -> Object {
        one_of(["PREPAY", "POSTPAY"])
    }

    pub fn charging_mode() -> Object {
        one_of(["prepaid", "postpaid"])
    }

    pub fn cycle() -> Object {
        one_of(["month", "year"])
    }

    pub fn money_keeper() -> Object {
        one_of(["ledger", "charge-service"])
    }

    pub fn renewal() -> Object {
        one_of(["renewed", "pending", "unpaid", "ended", "not_due"])
    }

    pub fn notification_kind() -> Object {
        one_of(NotificationKind::ALL.map(NotificationKind::label))
    }

    pub fn usage_kind() -> Object {
        one_of(ConsumptionKind::ALL.map(ConsumptionKind::label))
    }

    pub fn action() -> Object {
        one_of(["cancel", "renew"])
    }
}

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

/// An optional parameter: absent means none, but a present one must be valid, empty
/// included (`?region=` is 400 / 3307 naming `region`, not "no filter").
pub fn optional<T>(
    value: Option<&str>,
    parse: fn(&str) -> domain::Result<T>,
) -> Result<Option<T>, ApiError> {
    value.map(parse).transpose().map_err(ApiError::from)
}

/// An optional body field that tells `null` from absent (`#[serde(default)]` makes absent
/// [`Field::Absent`]). `null` is refused like an empty value rather than taken for "not
/// given", so `"quantities": null` cannot silently become the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Given(T),
}

impl<T> Field<T> {
    /// The value, `None` when absent; `null` is 400 / 3307 naming `name`.
    pub fn given(self, name: &str) -> Result<Option<T>, ApiError> {
        match self {
            Field::Absent => Ok(None),
            Field::Null => Err(ApiError::invalid(format!("{name} can't be null"))),
            Field::Given(value) => Ok(Some(value)),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Field::Null,
            Some(value) => Field::Given(value),
        })
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
    fn an_absent_optional_parameter_is_none_and_an_empty_one_is_invalid() {
        assert_eq!(optional(None, Region::parse).unwrap(), None);
        assert_eq!(
            optional(Some(""), Region::parse).unwrap_err().to_string(),
            "invalid parameters: region can't be blank"
        );
        assert!(optional(Some("cn north"), Region::parse).is_err());
        assert_eq!(
            optional(Some("cn-north-1"), Region::parse).unwrap(),
            Some(Region::parse("cn-north-1").unwrap())
        );
    }

    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(default)]
        quantities: Field<i64>,
    }

    fn quantities(json: serde_json::Value) -> Result<Option<i64>, ApiError> {
        serde_json::from_value::<Body>(json)
            .unwrap()
            .quantities
            .given("quantities")
    }

    #[test]
    fn a_field_tells_null_from_absent() {
        assert_eq!(quantities(serde_json::json!({})).unwrap(), None);
        assert_eq!(
            quantities(serde_json::json!({"quantities": 2})).unwrap(),
            Some(2)
        );
        assert_eq!(
            quantities(serde_json::json!({"quantities": null}))
                .unwrap_err()
                .to_string(),
            "invalid parameters: quantities can't be null"
        );
    }
}
