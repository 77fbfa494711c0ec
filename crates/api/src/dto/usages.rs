//! Consumption history: the query string and the row JSON.

use domain::account::{AccountSelection, AccountView};
use domain::consumption::Consumption;
use domain::ids::{OrderId, ProjectId, Region};
use domain::page::PageRequest;
use domain::ports::UsageFilter;
use domain::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::account::AccountJson;
use super::labels;
use super::list::page_request;
use super::{optional, required, rfc3339};
use crate::error::ApiError;

/// `GET /usages` query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsagesQuery {
    /// The project whose rows to list.
    #[param(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "demo")]
    pub project: Option<String>,
    /// Only this order's rows.
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub order: Option<String>,
    /// Only this region's rows.
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub region: Option<String>,
    #[param(schema_with = labels::account_selection, required = false)]
    pub account_type: Option<String>,
    /// Which page, from 1.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 4_294_967_295_i64)]
    pub page: Option<String>,
    /// Rows per page, 1 to 100; 30 when absent.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 100)]
    pub size: Option<String>,
}

impl TryFrom<ListUsagesQuery> for (UsageFilter, AccountSelection, PageRequest) {
    type Error = ApiError;

    fn try_from(query: ListUsagesQuery) -> Result<Self, ApiError> {
        let filter = UsageFilter {
            project: required(query.project.as_deref(), ProjectId::parse)?,
            order: optional(query.order.as_deref(), OrderId::parse)?,
            region: optional(query.region.as_deref(), Region::parse)?,
        };
        Ok((
            filter,
            AccountSelection::parse(query.account_type.as_deref())?,
            page_request(query.page.as_deref(), query.size.as_deref())?,
        ))
    }
}

/// One consumption row: a charge (positive `money`) or a refund (negative).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageJson {
    pub order_id: String,
    /// The row's number within its order: 1, 2, 3 …
    pub consume_id: u32,
    pub project: String,
    pub region: String,
    /// The start of the paid period (the end instant for `end` rows).
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub time: String,
    /// Until when the row's money covers the order.
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub deadline_time: String,
    /// Positive for a charge, negative for a refund.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub money: Money,
    pub plan_id: String,
    /// `new`, `renew`, `switch` or `end`.
    #[schema(schema_with = labels::usage_kind)]
    pub kind: &'static str,
    #[serde(flatten)]
    pub account: AccountJson,
}

impl UsageJson {
    /// The row, labelled from `view`.
    pub fn new(row: &Consumption, view: &AccountView) -> Self {
        Self {
            order_id: row.order_id.to_string(),
            consume_id: row.consume_id,
            project: row.project.to_string(),
            region: row.region.to_string(),
            time: rfc3339(&row.time),
            deadline_time: rfc3339(&row.covered_until),
            money: row.amount,
            plan_id: row.plan_id.to_string(),
            kind: row.kind.label(),
            account: AccountJson::new(view, &row.project),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::{TimeZone, Utc};
    use domain::account::AccountType;
    use domain::consumption::ConsumptionKind;
    use domain::ids::PlanId;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_refund_row_shows_negative_money_and_its_kind() {
        let row = Consumption {
            order_id: OrderId::parse("o1").unwrap(),
            consume_id: 2,
            project: ProjectId::parse("demo").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            plan_id: PlanId::parse("cpu-m").unwrap(),
            amount: Money::from_minor(-495_000),
            time: Utc.with_ymd_and_hms(2026, 1, 16, 0, 0, 0).unwrap(),
            covered_until: Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
            kind: ConsumptionKind::End,
        };
        let view = AccountView {
            project: ProjectId::parse("main").unwrap(),
            account_type: AccountType::Main,
        };
        assert_eq!(
            serde_json::to_value(UsageJson::new(&row, &view)).unwrap(),
            json!({
                "orderId": "o1", "consumeId": 2, "project": "demo", "region": "cn-north-1",
                "time": "2026-01-16T00:00:00.000000Z", "deadlineTime": "2026-02-01T00:00:00.000000Z",
                "money": "-49.50", "planId": "cpu-m", "kind": "end",
                "accountType": "sub", "isSelf": false
            })
        );
    }

    #[test]
    fn the_query_needs_a_project_and_checks_the_order_id() {
        let error =
            <(UsageFilter, AccountSelection, PageRequest)>::try_from(ListUsagesQuery::default())
                .unwrap_err();
        assert!(error.to_string().contains("project can't be blank"));
        let query = ListUsagesQuery {
            project: Some("demo".into()),
            order: Some("a b".into()),
            ..Default::default()
        };
        let error = <(UsageFilter, AccountSelection, PageRequest)>::try_from(query).unwrap_err();
        assert!(error.to_string().contains("orderId"), "{error}");
    }
}
