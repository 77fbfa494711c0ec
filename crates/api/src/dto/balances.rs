//! Balances and recharges: the recharge body, query strings and JSON.

use domain::filter::TimeRange;
use domain::ids::ProjectId;
use domain::ledger::{Account, Recharge};
use domain::page::PageRequest;
use domain::ports::RechargeFilter;
use domain::Money;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::list::page_or_window;
use super::{required, rfc3339, Field};
use crate::error::ApiError;

/// `POST /balances/{project}/recharges` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"amount": "100.00", "comment": "invoice 42"}))]
pub struct RechargeBody {
    /// A decimal string such as "100.00", more than 0 and at most 1000000000, with at most
    /// 4 decimals; a JSON number is refused (floats lose cents).
    #[serde(default, deserialize_with = "amount_text")]
    #[schema(value_type = String, required = true, pattern = "^(0*[1-9][0-9]{0,8}(\\.[0-9]{1,4})?|0*1000000000(\\.0{1,4})?|0+\\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$", example = "100.00")]
    pub amount: Option<String>,
    /// At most 256 characters; a blank one is no comment.
    #[serde(default)]
    #[schema(value_type = String, required = false, max_length = 256, example = "invoice 42")]
    pub comment: Field<String>,
}

fn amount_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Ok(Some(text)),
        serde_json::Value::Null => Ok(None),
        other => Err(D::Error::custom(format!(
            "amounts are decimal strings such as \"100.00\", not {}",
            match other {
                serde_json::Value::Number(_) => "numbers",
                _ => "this JSON type",
            }
        ))),
    }
}

/// Everything a recharge request carries.
#[derive(Debug, Default)]
pub struct RechargeInput {
    pub project: String,
    pub body: RechargeBody,
}

/// A parsed recharge request: the domain checks range and comment length.
#[derive(Debug, PartialEq, Eq)]
pub struct RechargeRequest {
    pub project: ProjectId,
    pub amount: Money,
    pub comment: Option<String>,
}

impl TryFrom<RechargeInput> for RechargeRequest {
    type Error = ApiError;

    fn try_from(input: RechargeInput) -> Result<Self, ApiError> {
        let project = ProjectId::parse(&input.project)?;
        let text = input.body.amount.unwrap_or_default();
        if text.is_empty() {
            return Err(ApiError::invalid("amount can't be blank"));
        }
        let amount = text
            .parse::<Money>()
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        let comment = input
            .body
            .comment
            .given("comment")?
            .filter(|c| !c.trim().is_empty());
        Ok(RechargeRequest {
            project,
            amount,
            comment,
        })
    }
}

/// `GET /balances/{project}/recharges` query string: seed 000's `page`/`size`, and 51idc's
/// recharge record (`start_time`, `end_time`, `offset`, `limit`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RechargesQuery {
    /// Only recharges recorded at or after this time (RFC 3339).
    #[param(value_type = String, format = DateTime, required = false, example = "2026-12-01T00:00:00Z")]
    pub start_time: Option<String>,
    /// Only recharges recorded before this time (RFC 3339); not before `start_time`. With
    /// a time range the total is counted up to 1,000 (`totalExact`).
    #[param(value_type = String, format = DateTime, required = false, example = "2027-01-01T00:00:00Z")]
    pub end_time: Option<String>,
    /// Which page, from 1 (not with `offset`/`limit`).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 4_294_967_295_i64)]
    pub page: Option<String>,
    /// Rows per page, 1 to 100; 30 when absent (not with `offset`/`limit`).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 100)]
    pub size: Option<String>,
    /// Rows to skip; 0 when absent (not with `page`/`size`).
    #[param(value_type = i64, required = false, minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub offset: Option<String>,
    /// Rows to return, 1 to 1,000; 10 when absent and `offset` is given (not with
    /// `page`/`size`).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

impl RechargesQuery {
    /// The filter of `project`'s recharges and the rows asked for.
    pub fn parse(&self, project: ProjectId) -> Result<(RechargeFilter, PageRequest), ApiError> {
        let filter = RechargeFilter {
            project,
            created: TimeRange::parse(self.start_time.as_deref(), self.end_time.as_deref())?,
        };
        let page = page_or_window(
            self.page.as_deref(),
            self.size.as_deref(),
            self.offset.as_deref(),
            self.limit.as_deref(),
        )?;
        Ok((filter, page))
    }
}

/// A path `{project}`.
pub fn project_of(path: &str) -> Result<ProjectId, ApiError> {
    required(Some(path), ProjectId::parse)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceJson {
    #[schema(example = "demo")]
    pub project: String,
    /// The local ledger's balance; negative when the project is in arrears.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub balance: Money,
    /// Everything the project owes: its arrears in the ledger and the payments charge
    /// services declined for usage already consumed. A recharge pays the ledger's first.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub owed: Money,
    /// How far postpaid usage may take the balance below zero.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub credit_limit: Money,
    /// Absent for a project that never had money.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub updated_at: Option<String>,
}

impl From<&Account> for BalanceJson {
    fn from(account: &Account) -> Self {
        let balance = &account.balance;
        Self {
            project: balance.project.to_string(),
            balance: balance.amount,
            owed: account.owed,
            credit_limit: account.credit_limit,
            updated_at: balance.updated_at.as_ref().map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RechargeJson {
    pub id: i64,
    #[schema(example = "demo")]
    pub project: String,
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub amount: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The admin who recorded it.
    #[schema(example = "admin")]
    pub operator: String,
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub time: String,
}

impl From<&Recharge> for RechargeJson {
    fn from(recharge: &Recharge) -> Self {
        Self {
            id: recharge.id,
            project: recharge.project.to_string(),
            amount: recharge.amount,
            comment: recharge.comment.clone(),
            operator: recharge.operator.to_string(),
            time: rfc3339(&recharge.time),
        }
    }
}

/// A recorded recharge and the balance after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RechargedJson {
    pub recharge: RechargeJson,
    pub balance: BalanceJson,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::{TimeZone, Utc};
    use domain::ids::UserName;
    use serde_json::json;

    use super::*;
    use crate::dto::json::from_value;

    fn recharge(body: serde_json::Value) -> Result<RechargeRequest, ApiError> {
        let body: RechargeBody = from_value(body)?;
        RechargeRequest::try_from(RechargeInput {
            project: "demo".into(),
            body,
        })
    }

    #[test]
    fn a_string_amount_is_parsed_exactly() {
        let request = recharge(json!({"amount": "100.25", "comment": "top-up"})).unwrap();
        assert_eq!(request.amount, Money::from_minor(1_002_500));
        assert_eq!(request.comment.as_deref(), Some("top-up"));
    }

    #[test]
    fn a_json_number_amount_is_bad_json_saying_amounts_are_strings() {
        let error = recharge(json!({"amount": 100.25})).unwrap_err();
        assert!(matches!(error, ApiError::BadJson(_)));
        assert!(
            error
                .to_string()
                .contains("amount: amounts are decimal strings"),
            "{error}"
        );
    }

    #[test]
    fn malformed_or_too_precise_or_missing_amounts_are_invalid_parameters() {
        for body in [
            json!({"amount": "1.00001"}),
            json!({"amount": "ten"}),
            json!({}),
            json!({"amount": ""}),
        ] {
            let error = recharge(body.clone()).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid parameters:"),
                "{body}: {error}"
            );
        }
    }

    #[test]
    fn a_blank_comment_is_no_comment() {
        assert_eq!(
            recharge(json!({"amount": "1", "comment": "  "}))
                .unwrap()
                .comment,
            None
        );
    }

    #[test]
    fn balance_json_omits_update_time_until_funded_and_shows_what_is_owed() {
        let account = Account {
            balance: domain::ledger::Balance {
                project: ProjectId::parse("demo").unwrap(),
                amount: Money::from_minor(-400_000),
                updated_at: None,
            },
            owed: Money::from_minor(400_000),
            credit_limit: Money::ZERO,
        };
        assert_eq!(
            serde_json::to_value(BalanceJson::from(&account)).unwrap(),
            json!({"project": "demo", "balance": "-40.00", "owed": "40.00", "creditLimit": "0.00"})
        );
    }

    #[test]
    fn recharge_json_has_the_contract_keys() {
        let recharge = Recharge {
            id: 7,
            project: ProjectId::parse("demo").unwrap(),
            amount: Money::from_minor(1_000_000),
            comment: None,
            operator: UserName::parse("admin").unwrap(),
            time: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(RechargeJson::from(&recharge)).unwrap(),
            json!({"id": 7, "project": "demo", "amount": "100.00", "operator": "admin",
                   "time": "2026-03-01T08:00:00.000000Z"})
        );
    }
}
