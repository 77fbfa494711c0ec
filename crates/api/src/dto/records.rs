//! Consumption records (51idc): the query strings and the record JSON.

use std::collections::HashMap;

use domain::account::{AccountSelection, AccountView};
use domain::consumption::Consumption;
use domain::filter::{SearchWord, TimeRange};
use domain::ids::{PlanId, ProjectId, Region};
use domain::order::Order;
use domain::order_type::OrderType;
use domain::page::PageRequest;
use domain::ports::OrderFilter;
use domain::record::ConsumptionRecord;
use domain::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::account::AccountJson;
use super::labels;
use super::list::page_or_window;
use super::orders::{pay_way, resource_type, ListedOrderJson};
use super::{optional, required, rfc3339};
use crate::error::ApiError;

/// `GET /records` query string: 51idc's filters of the consumption records. Records are of
/// orders in every state; every filter given must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListRecordsQuery {
    /// The project whose records to list.
    #[param(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "demo")]
    pub project: Option<String>,
    /// Only records of orders created at or after this time (RFC 3339).
    #[param(value_type = String, format = DateTime, required = false, example = "2026-12-01T00:00:00Z")]
    pub start_time: Option<String>,
    /// Only records of orders created before this time (RFC 3339); not before `start_time`.
    #[param(value_type = String, format = DateTime, required = false, example = "2027-01-01T00:00:00Z")]
    pub end_time: Option<String>,
    /// Only orders whose id, resource name or plan id starts with this (as the order list).
    #[param(value_type = String, required = false, min_length = 1, max_length = 64, example = "pg-")]
    pub search_word: Option<String>,
    /// Only orders of plans of this type.
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9]{1,16}$", example = "volume")]
    pub resource_type: Option<String>,
    #[param(schema_with = labels::order_type, required = false)]
    pub order_type: Option<String>,
    #[param(schema_with = labels::account_selection, required = false)]
    pub account_type: Option<String>,
    /// 51idc's data center: only orders of this region.
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,32}$", example = "cn-north-1")]
    pub datacenter: Option<String>,
    /// Which page, from 1 (not with `offset`/`limit`).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 4_294_967_295_i64)]
    pub page: Option<String>,
    /// Records per page, 1 to 100; 30 when absent (not with `offset`/`limit`).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 100)]
    pub size: Option<String>,
    /// Records to skip; 0 when absent (not with `page`/`size`).
    #[param(value_type = i64, required = false, minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub offset: Option<String>,
    /// Records to return, 1 to 1,000; 10 when absent and `offset` is given.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

impl TryFrom<ListRecordsQuery> for (OrderFilter, AccountSelection, PageRequest) {
    type Error = ApiError;

    fn try_from(query: ListRecordsQuery) -> Result<Self, ApiError> {
        let filter = OrderFilter {
            project: required(query.project.as_deref(), ProjectId::parse)?,
            status: None,
            region: optional(query.datacenter.as_deref(), datacenter)?,
            plan_type: optional(query.resource_type.as_deref(), resource_type)?,
            order_type: optional(query.order_type.as_deref(), OrderType::parse)?,
            created: TimeRange::parse(query.start_time.as_deref(), query.end_time.as_deref())?,
            search: optional(query.search_word.as_deref(), SearchWord::parse)?,
        };
        let accounts = AccountSelection::parse(query.account_type.as_deref())?;
        let page = page_or_window(
            query.page.as_deref(),
            query.size.as_deref(),
            query.offset.as_deref(),
            query.limit.as_deref(),
        )?;
        Ok((filter, accounts, page))
    }
}

/// A `datacenter` filter: a region, named as such in the error.
fn datacenter(text: &str) -> domain::Result<Region> {
    Region::parse(text).map_err(|_| {
        domain::Error::invalid(format!(
            "datacenter must be a region: 1 to 32 of A-Z a-z 0-9 - _ (got {text:?})"
        ))
    })
}

/// One row of a record (51idc's `price_details`): a charge or a refund of the order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceDetailJson {
    /// The order's name and why the row was written.
    #[schema(example = "10 GiB persistent volume, per month: renew")]
    pub record_title: String,
    /// `<order id>-<sequence number>`: the row's key.
    #[schema(example = "443553e7c0a94d0f9d1c2f1b0e6a7d55-2")]
    pub record_id: String,
    /// `new`, `renew`, `switch` or `end`.
    #[schema(schema_with = labels::usage_kind)]
    pub kind: &'static str,
    #[schema(example = "volume")]
    pub resource_type: String,
    /// When the paid period starts (charges) or when the order ended (end rows).
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub consume_time: String,
    #[schema(example = "443553e7c0a94d0f9d1c2f1b0e6a7d55")]
    pub order_number: String,
    #[schema(schema_with = labels::order_type)]
    pub order_type: &'static str,
    /// `PREPAY` or `POSTPAY`.
    #[schema(schema_with = labels::pay_way)]
    pub consume_way: &'static str,
    /// 51idc's data center: the order's region.
    #[schema(example = "cn-north-1")]
    pub datacenter: String,
    /// Positive: taken from the balance; negative: given back.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "12.50")]
    pub consume_price: Money,
    #[serde(flatten)]
    pub account: AccountJson,
}

impl PriceDetailJson {
    fn new(order: &Order, name: &str, row: &Consumption, view: &AccountView) -> Self {
        Self {
            record_title: format!("{name}: {}", row.kind.label()),
            record_id: format!("{}-{}", row.order_id, row.consume_id),
            kind: row.kind.label(),
            resource_type: order.plan_type.to_string(),
            consume_time: rfc3339(&row.time),
            order_number: order.id.to_string(),
            order_type: order.order_type().label(),
            consume_way: pay_way(order.mode),
            datacenter: row.region.to_string(),
            consume_price: row.amount,
            account: AccountJson::new(view, &order.project),
        }
    }
}

/// A consumption record: the order as a list shows it, and its rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordJson {
    #[serde(flatten)]
    pub order: ListedOrderJson,
    /// 51idc's data center: the order's region.
    #[schema(example = "cn-north-1")]
    pub datacenter: String,
    /// What the order was charged and refunded, row by row, oldest first.
    #[serde(rename = "priceDetails")]
    pub price_details: Vec<PriceDetailJson>,
}

impl RecordJson {
    /// The record, its order named from `descriptions` (plan id → description) and
    /// labelled from `view`.
    pub fn new(
        record: &ConsumptionRecord,
        descriptions: &HashMap<PlanId, String>,
        view: &AccountView,
    ) -> Self {
        let order = ListedOrderJson::new(&record.order, descriptions, view);
        let price_details = record
            .rows
            .iter()
            .map(|row| PriceDetailJson::new(&record.order, &order.order_name, row, view))
            .collect();
        Self {
            datacenter: record.order.region.to_string(),
            order,
            price_details,
        }
    }
}
