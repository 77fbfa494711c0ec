//! Orders: the create and cancel bodies, the query strings, and the order JSON.

use std::collections::HashMap;

use domain::account::{AccountSelection, AccountView};
use domain::filter::{SearchWord, TimeRange};
use domain::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName};
use domain::order::{Order, OrderStatus};
use domain::order_type::OrderType;
use domain::page::PageRequest;
use domain::plan::ChargingMode;
use domain::ports::OrderFilter;
use domain::renewal::RenewalOutcome;
use domain::usecases::{CancelOrderRequest, CreateOrderRequest, OrderAction, Quote, RenewOutcome};
use domain::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::account::AccountJson;
use super::labels;
use super::list::page_or_window;
use super::plans::mode_label;
use super::{optional, required, rfc3339, Field};
use crate::error::ApiError;

/// `POST /orders` body. Every field is optional here so that a missing one is reported by
/// its domain parser as a 3307 naming it; a wrong JSON type is a 3302. The schema states
/// what the parsers accept.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"project": "demo", "planId": "volume-10g-monthly", "quantities": 2,
    "region": "cn-north-1", "parameters": {"resourceName": "pg-data"}}))]
pub struct CreateOrderBody {
    /// The project that pays.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "demo")]
    pub project: Option<String>,
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$",
        example = "volume-10g-monthly")]
    pub plan_id: Option<String>,
    /// Units to buy; 1 when absent.
    #[serde(default)]
    #[schema(value_type = i64, required = false, minimum = 1, maximum = 10000, example = 1)]
    pub quantities: Field<i64>,
    /// If given, it must be the plan's region.
    #[serde(default)]
    #[schema(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,32}$",
        example = "cn-north-1")]
    pub region: Field<String>,
    #[serde(default)]
    #[schema(value_type = OrderParameters, required = false)]
    pub parameters: Field<OrderParameters>,
    /// The open order this one replaces (a plan switch).
    #[serde(default)]
    #[schema(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub replaces: Field<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderParameters {
    /// A DNS label: required by plans with `requiresResourceName`, refused by the others.
    #[serde(default)]
    #[schema(value_type = String, required = false, pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", example = "pg-data")]
    pub resource_name: Field<String>,
}

/// `POST /orders` query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateOrderQuery {
    #[param(schema_with = drytry, required = false)]
    pub drytry: Option<String>,
}

fn drytry() -> utoipa::openapi::schema::Object {
    let mut schema = labels::one_of(["0", "1", "true", "false"]);
    schema.description = Some(
        "`1` or `true`: answer the quote and write nothing; `0`, `false` or absent: order.".into(),
    );
    schema
}

/// Everything a create request carries.
#[derive(Debug, Default)]
pub struct CreateOrderInput {
    pub body: CreateOrderBody,
    pub query: CreateOrderQuery,
}

/// `drytry`: `1`/`true` quote only, absent or `0`/`false` create; anything else, empty
/// included, is refused (a bare `?drytry=` must not create and charge a real order).
fn dry_run(value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(_) => Err(ApiError::invalid("drytry must be 0, 1, true or false")),
    }
}

impl TryFrom<CreateOrderInput> for CreateOrderRequest {
    type Error = ApiError;

    fn try_from(input: CreateOrderInput) -> Result<Self, ApiError> {
        let body = input.body;
        let resource_name = match body.parameters.given("parameters")? {
            Some(parameters) => parameters.resource_name.given("parameters.resourceName")?,
            None => None,
        };
        let region = body.region.given("region")?;
        let replaces = body.replaces.given("replaces")?;
        Ok(CreateOrderRequest {
            project: required(body.project.as_deref(), ProjectId::parse)?,
            plan_id: required(body.plan_id.as_deref(), PlanId::parse)?,
            quantities: body
                .quantities
                .given("quantities")?
                .map_or(Ok(Quantity::ONE), Quantity::new)?,
            region: optional(region.as_deref(), Region::parse)?,
            resource_name: optional(resource_name.as_deref(), ResourceName::parse)?,
            replaces: optional(replaces.as_deref(), OrderId::parse)?,
            dry_run: dry_run(input.query.drytry.as_deref())?,
            idempotency: None,
        })
    }
}

/// `PUT /orders/{orderId}` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"action": "cancel", "project": "demo"}))]
pub struct OrderActionBody {
    /// `cancel` ends the order now; `renew` renews what is due now.
    #[schema(schema_with = labels::action, required = true)]
    pub action: Option<String>,
    /// The order's project.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "demo")]
    pub project: Option<String>,
}

/// Everything a modify request carries.
#[derive(Debug, Default)]
pub struct OrderActionInput {
    pub order_id: String,
    pub body: OrderActionBody,
}

impl TryFrom<OrderActionInput> for (OrderAction, CancelOrderRequest) {
    type Error = ApiError;

    fn try_from(input: OrderActionInput) -> Result<Self, ApiError> {
        let order_id = OrderId::parse(&input.order_id)?;
        let project = required(input.body.project.as_deref(), ProjectId::parse)?;
        let action = OrderAction::parse(input.body.action.as_deref().unwrap_or_default())?;
        Ok((
            action,
            CancelOrderRequest {
                project,
                order_id,
                idempotency: None,
            },
        ))
    }
}

/// `GET /orders/{orderId}` query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetOrderQuery {
    /// The order's project.
    #[param(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "demo")]
    pub project: Option<String>,
}

/// `GET /orders` query string: seed 000's `status`, `region`, `page` and `size`, and 51idc's
/// filters and `offset`/`limit`. Every filter given must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrdersQuery {
    /// The project whose orders to list.
    #[param(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "demo")]
    pub project: Option<String>,
    #[param(schema_with = status_filter, required = false)]
    pub status: Option<String>,
    /// 51idc's name of `status` (give one of the two).
    #[param(schema_with = order_state_filter, required = false)]
    pub order_state: Option<String>,
    /// Only orders of this region.
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub region: Option<String>,
    /// Only orders of plans of this type (`GET /resource-types` lists them).
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9]{1,16}$", example = "volume")]
    pub resource_type: Option<String>,
    #[param(schema_with = order_type_filter, required = false)]
    pub order_type: Option<String>,
    #[param(schema_with = labels::account_selection, required = false)]
    pub account_type: Option<String>,
    /// Only orders created at or after this time (RFC 3339).
    #[param(value_type = String, format = DateTime, required = false, example = "2026-12-01T00:00:00Z")]
    pub start_time: Option<String>,
    /// Only orders created before this time (RFC 3339); not before `start_time`.
    #[param(value_type = String, format = DateTime, required = false, example = "2026-12-08T00:00:00Z")]
    pub end_time: Option<String>,
    /// Only orders whose id, resource name or plan id starts with this (case-sensitive,
    /// every character literal; surrounding spaces dropped). The total is then counted
    /// up to 1,000 (`totalExact`).
    #[param(value_type = String, required = false, min_length = 1, max_length = 64, example = "pg-")]
    pub search_word: Option<String>,
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

fn status_filter() -> utoipa::openapi::schema::Object {
    let mut schema = labels::one_of(
        OrderStatus::ALL
            .map(OrderStatus::label)
            .into_iter()
            .chain([ALL_STATES]),
    );
    schema.description = Some(
        "Only orders in this status; `all` for every status. `consuming` when neither this \
         nor `order_state` is given."
            .into(),
    );
    schema.default = Some(OrderStatus::Consuming.label().into());
    schema
}

fn order_state_filter() -> utoipa::openapi::schema::Object {
    let mut schema = status_filter();
    schema.description = Some("51idc's name of `status`; give one of the two.".into());
    schema
}

fn order_type_filter() -> utoipa::openapi::schema::Object {
    let mut schema = labels::order_type();
    schema.description =
        Some("Only orders bought new, or only those opened by a plan switch.".into());
    schema
}

/// The `status` (or `order_state`) that lists every status.
const ALL_STATES: &str = "all";

/// `status` or its alias `order_state`: one status, every status (`all`), or consuming
/// when neither is given. Both at once is refused even when they agree, so that a client
/// that sends two filters for one thing hears of it.
fn state_filter(
    status: Option<&str>,
    order_state: Option<&str>,
) -> Result<Option<OrderStatus>, ApiError> {
    let (name, value) = match (status, order_state) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "status and order_state are the same filter: give one of them",
            ))
        }
        (Some(value), None) => ("status", value),
        (None, Some(value)) => ("order_state", value),
        (None, None) => return Ok(Some(OrderStatus::Consuming)),
    };
    if value == ALL_STATES {
        return Ok(None);
    }
    OrderStatus::parse(value).map(Some).map_err(|_| {
        ApiError::invalid(format!(
            "{name} must be one of pending, consuming, ending, ended, all (got {value:?})"
        ))
    })
}

/// A `resource_type` filter: a plan type, named as such in the error.
pub fn resource_type(text: &str) -> domain::Result<PlanType> {
    PlanType::parse(text).map_err(|_| {
        domain::Error::invalid(format!(
            "resource_type must be a plan type: 1 to 16 letters and digits (got {text:?})"
        ))
    })
}

impl TryFrom<ListOrdersQuery> for (OrderFilter, AccountSelection, PageRequest) {
    type Error = ApiError;

    fn try_from(query: ListOrdersQuery) -> Result<Self, ApiError> {
        let filter = OrderFilter {
            project: required(query.project.as_deref(), ProjectId::parse)?,
            status: state_filter(query.status.as_deref(), query.order_state.as_deref())?,
            region: optional(query.region.as_deref(), Region::parse)?,
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

/// An order as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderJson {
    #[schema(example = "443553e7c0a94d0f9d1c2f1b0e6a7d55")]
    pub order_id: String,
    #[schema(example = "demo")]
    pub project: String,
    #[schema(example = "cn-north-1")]
    pub region: String,
    #[schema(minimum = 1, maximum = 10000, example = 2)]
    pub quantities: u32,
    #[schema(example = "volume-10g-monthly")]
    pub plan_id: String,
    /// `prepaid` or `postpaid`, fixed when the order opened.
    #[schema(schema_with = labels::charging_mode)]
    pub charging_mode: &'static str,
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub start_time: String,
    /// Only once the order has ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub end_time: Option<String>,
    /// Paid until (prepaid) or next settlement (postpaid).
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub deadline_time: String,
    #[schema(schema_with = labels::order_status)]
    pub status: &'static str,
    #[schema(example = "demo")]
    pub creator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "pg-data")]
    pub resource_name: Option<String>,
    /// Renewal attempts the balance could not cover since the last successful charge.
    pub renew_retries: u32,
    /// The order's own terms, fixed when it opened (its price follows the catalog at each
    /// renewal): `month` or `year`.
    #[schema(schema_with = labels::cycle)]
    pub cycle: &'static str,
    /// The price of one cycle of one unit.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub unit_price: Money,
    /// Who keeps its money: `ledger` or `charge-service`.
    #[schema(schema_with = labels::money_keeper)]
    pub money_keeper: &'static str,
    /// Whether a payment (a pending order's first cycle, a renewal) is being settled with
    /// the charge service: the order cannot be cancelled or switched meanwhile.
    pub awaiting_payment: bool,
    /// 51idc's order number: the order id.
    #[schema(example = "443553e7c0a94d0f9d1c2f1b0e6a7d55")]
    pub order_number: String,
    /// 51idc's resource type: the plan's type.
    #[schema(example = "volume")]
    pub resource_type: String,
    /// `new`, or `switch` when the order replaced another.
    #[schema(schema_with = labels::order_type)]
    pub order_type: &'static str,
    /// 51idc's pay way: `PREPAY` (each cycle paid when it starts) or `POSTPAY`.
    #[schema(schema_with = labels::pay_way)]
    pub pay_way: &'static str,
    /// 51idc's product name: the plan id.
    #[schema(example = "volume-10g-monthly")]
    pub product_name: String,
    /// 51idc's creation time: when the order opened (`startTime`).
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub create_time: String,
    /// The price of one cycle of all its units (`unitPrice` × `quantities`). Absent only
    /// where that product does not fit an amount, which no order that opened has: its
    /// cycles are charged at that price.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "198.00")]
    pub price: Option<Money>,
}

impl From<&Order> for OrderJson {
    fn from(order: &Order) -> Self {
        Self {
            order_id: order.id.to_string(),
            project: order.project.to_string(),
            region: order.region.to_string(),
            quantities: order.quantities.get(),
            plan_id: order.plan_id.to_string(),
            charging_mode: mode_label(order.mode),
            start_time: rfc3339(&order.start_time),
            end_time: order.end_time.as_ref().map(rfc3339),
            deadline_time: rfc3339(&order.deadline_time),
            status: order.status.label(),
            creator: order.creator.to_string(),
            resource_name: order.resource_name.as_ref().map(ToString::to_string),
            renew_retries: order.renew_retries,
            cycle: order.terms.cycle.as_str(),
            unit_price: order.terms.price,
            money_keeper: order.terms.keeper.label(),
            awaiting_payment: order.is_held(),
            order_number: order.id.to_string(),
            resource_type: order.plan_type.to_string(),
            order_type: order.order_type().label(),
            pay_way: pay_way(order.mode),
            product_name: order.plan_id.to_string(),
            create_time: rfc3339(&order.start_time),
            price: order.terms.cycle_price(order.quantities).ok(),
        }
    }
}

/// 51idc's pay way of a charging mode.
pub fn pay_way(mode: ChargingMode) -> &'static str {
    match mode {
        ChargingMode::Prepaid => "PREPAY",
        ChargingMode::Postpaid => "POSTPAY",
    }
}

/// An order as a list shows it: with its name, the plan's description in the catalog
/// (51idc's order name; the plan id when the catalog has no such plan or cannot be read).
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedOrderJson {
    #[serde(flatten)]
    pub order: OrderJson,
    #[serde(rename = "orderName")]
    #[schema(example = "10 GiB volume, monthly")]
    pub order_name: String,
    #[serde(flatten)]
    pub account: AccountJson,
}

impl ListedOrderJson {
    /// The order, named from `descriptions` (plan id → description), labelled from `view`.
    pub fn new(order: &Order, descriptions: &HashMap<PlanId, String>, view: &AccountView) -> Self {
        Self {
            order: OrderJson::from(order),
            order_name: descriptions
                .get(&order.plan_id)
                .cloned()
                .unwrap_or_else(|| order.plan_id.to_string()),
            account: AccountJson::new(view, &order.project),
        }
    }
}

/// What a manual renewal did: the order as it is now, the outcome, and what it charged.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenewedOrderJson {
    #[serde(flatten)]
    pub order: OrderJson,
    /// `renewed`, `pending` (a charge service's answer is awaited), `unpaid`, `ended` or
    /// `not_due`.
    #[schema(schema_with = labels::renewal)]
    pub renewal: &'static str,
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub charged: Money,
}

impl From<&RenewOutcome> for RenewedOrderJson {
    fn from(outcome: &RenewOutcome) -> Self {
        Self {
            order: OrderJson::from(&outcome.order),
            renewal: match outcome.outcome {
                RenewalOutcome::Renewed => "renewed",
                RenewalOutcome::AwaitingPayment => "pending",
                RenewalOutcome::Unpaid => "unpaid",
                RenewalOutcome::Ended => "ended",
                RenewalOutcome::NotDue | RenewalOutcome::Skipped(_) => "not_due",
            },
            charged: outcome.charged,
        }
    }
}

/// A created order and the net amount its balance paid. After a plan switch, `replaces`
/// names the ended order and `replaced` shows it as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOrderJson {
    #[serde(flatten)]
    pub order: OrderJson,
    /// `charge + settlement − refund`; negative when the balance gained.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub money: Money,
    /// The new order's upfront charge.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub charge: Money,
    /// The replaced order's unused remainder, given back.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub refund: Money,
    /// The replaced order's unpaid (postpaid) usage, charged.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub settlement: Money,
    /// After a switch: the ended order's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// After a switch: the ended order as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<OrderJson>,
}

impl CreatedOrderJson {
    /// A plain create: the net is the whole charge.
    pub fn new(order: &Order, charged: Money, replaced: Option<&Order>) -> Self {
        Self {
            order: OrderJson::from(order),
            money: charged,
            charge: charged,
            refund: Money::ZERO,
            settlement: Money::ZERO,
            replaces: replaced.map(|old| old.id.to_string()),
            replaced: replaced.map(OrderJson::from),
        }
    }
}

/// A cancelled order, what went back to the balance, and what its unpaid (postpaid) usage
/// up to the cancel cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelledOrderJson {
    #[serde(flatten)]
    pub order: OrderJson,
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub refunded: Money,
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub settled: Money,
}

/// What `PUT /orders/{orderId}` answers: a cancel or a renewal.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ModifiedOrderJson {
    Cancelled(CancelledOrderJson),
    Renewed(RenewedOrderJson),
}

/// What a create would charge: the net, its parts, and the new order's first period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteJson {
    /// `charge + settlement − refund`; negative when the balance would gain.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub money: Money,
    /// The new order's upfront charge.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub charge: Money,
    /// The replaced order's unused remainder, given back.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub refund: Money,
    /// The replaced order's unpaid usage (postpaid), charged.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub settlement: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    pub project: String,
    pub plan_id: String,
    pub region: String,
    #[schema(minimum = 1, maximum = 10000)]
    pub quantities: u32,
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub start_time: String,
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub deadline_time: String,
}

impl From<&Quote> for QuoteJson {
    fn from(quote: &Quote) -> Self {
        Self {
            money: quote.money,
            charge: quote.charge,
            refund: quote.refund,
            settlement: quote.settlement,
            replaces: quote.replaces.as_ref().map(ToString::to_string),
            project: quote.project.to_string(),
            plan_id: quote.plan.id.to_string(),
            region: quote.plan.region.to_string(),
            quantities: quote.quantities.get(),
            start_time: rfc3339(&quote.start_time),
            deadline_time: rfc3339(&quote.deadline_time),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::{TimeZone, Utc};
    use domain::account::AccountType;
    use domain::cycle::Cycle;
    use domain::ids::{PlanType, UserName};
    use domain::plan::{ChargingMode, Plan};
    use serde_json::json;

    use super::*;

    fn body(json: serde_json::Value) -> CreateOrderBody {
        serde_json::from_value(json).unwrap()
    }

    fn create(
        json: serde_json::Value,
        drytry: Option<&str>,
    ) -> Result<CreateOrderRequest, ApiError> {
        CreateOrderRequest::try_from(CreateOrderInput {
            body: body(json),
            query: CreateOrderQuery {
                drytry: drytry.map(str::to_owned),
            },
        })
    }

    fn message(result: Result<impl std::fmt::Debug, ApiError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn a_full_create_body_becomes_a_request() {
        let request = create(
            json!({"project": "demo", "planId": "vol-m", "quantities": 3, "region": "cn-north-1",
                   "parameters": {"resourceName": "data-1"}}),
            Some("1"),
        )
        .unwrap();
        assert_eq!(request.project.as_str(), "demo");
        assert_eq!(request.plan_id.as_str(), "vol-m");
        assert_eq!(request.quantities.get(), 3);
        assert_eq!(request.region.unwrap().as_str(), "cn-north-1");
        assert_eq!(request.resource_name.unwrap().as_str(), "data-1");
        assert!(request.dry_run);
    }

    #[test]
    fn quantities_default_to_one_and_drytry_to_false() {
        let request = create(json!({"project": "demo", "planId": "p"}), None).unwrap();
        assert_eq!(request.quantities, Quantity::ONE);
        assert!(!request.dry_run);
        assert_eq!(request.region, None);
        assert_eq!(request.resource_name, None);
    }

    #[test]
    fn drytry_accepts_0_1_true_false_only() {
        let base = || json!({"project": "demo", "planId": "p"});
        for (value, expected) in [("0", false), ("false", false), ("1", true), ("true", true)] {
            assert_eq!(
                create(base(), Some(value)).unwrap().dry_run,
                expected,
                "{value}"
            );
        }
        for value in ["yes", "2", "TRUE "] {
            assert!(
                message(create(base(), Some(value))).contains("drytry"),
                "{value}"
            );
        }
    }

    #[test]
    fn a_missing_project_or_plan_is_blank() {
        assert_eq!(
            message(create(json!({"planId": "p"}), None)),
            "invalid parameters: project can't be blank"
        );
        assert_eq!(
            message(create(json!({"project": "demo"}), None)),
            "invalid parameters: planId can't be blank"
        );
    }

    #[test]
    fn out_of_range_quantities_are_invalid() {
        for q in [-1, 0, 10_001, i64::MAX] {
            let error = message(create(
                json!({"project": "demo", "planId": "p", "quantities": q}),
                None,
            ));
            assert!(error.contains("quantities"), "{q}: {error}");
        }
    }

    #[test]
    fn ids_with_spaces_or_too_long_are_invalid() {
        let long = "a".repeat(10_000);
        for project in ["de mo", long.as_str()] {
            let error = message(create(json!({"project": project, "planId": "p"}), None));
            assert!(error.starts_with("invalid parameters: project"), "{error}");
        }
    }

    #[test]
    fn an_invalid_resource_name_is_invalid() {
        let error = message(create(
            json!({"project": "demo", "planId": "p", "parameters": {"resourceName": "Bad_Name"}}),
            None,
        ));
        assert!(error.contains("resourceName"), "{error}");
    }

    #[test]
    fn an_action_body_needs_a_known_action_and_a_project() {
        let input = |action: Option<&str>, project: Option<&str>| OrderActionInput {
            order_id: "o1".into(),
            body: OrderActionBody {
                action: action.map(str::to_owned),
                project: project.map(str::to_owned),
            },
        };
        let (action, request) =
            <(OrderAction, CancelOrderRequest)>::try_from(input(Some("cancel"), Some("demo")))
                .unwrap();
        assert_eq!(action, OrderAction::Cancel);
        assert_eq!(request.order_id.as_str(), "o1");
        let (renew, _) =
            <(OrderAction, CancelOrderRequest)>::try_from(input(Some("renew"), Some("demo")))
                .unwrap();
        assert_eq!(renew, OrderAction::Renew);
        assert!(message(<(OrderAction, CancelOrderRequest)>::try_from(input(
            Some("refund"),
            Some("demo")
        )))
        .contains("unknown action"));
        assert!(message(<(OrderAction, CancelOrderRequest)>::try_from(input(
            None,
            Some("demo")
        )))
        .contains("unknown action"));
        assert!(message(<(OrderAction, CancelOrderRequest)>::try_from(input(
            Some("cancel"),
            None
        )))
        .contains("project can't be blank"));
    }

    #[test]
    fn a_path_order_id_with_a_space_is_invalid() {
        let input = OrderActionInput {
            order_id: "o 1".into(),
            body: OrderActionBody::default(),
        };
        assert!(message(<(OrderAction, CancelOrderRequest)>::try_from(input)).contains("orderId"));
    }

    #[test]
    fn list_query_defaults_to_consuming_first_page() {
        let query = ListOrdersQuery {
            project: Some("demo".into()),
            ..Default::default()
        };
        let (filter, accounts, page) = Listed::try_from(query).unwrap();
        assert_eq!(
            filter,
            OrderFilter::in_status(ProjectId::parse("demo").unwrap(), OrderStatus::Consuming)
        );
        assert_eq!(accounts, AccountSelection::Own);
        assert_eq!(page, PageRequest::default());
    }

    type Listed = (OrderFilter, AccountSelection, PageRequest);

    fn listed(query: ListOrdersQuery) -> Result<(OrderFilter, PageRequest), ApiError> {
        Listed::try_from(ListOrdersQuery {
            project: Some("demo".into()),
            ..query
        })
        .map(|(filter, _, page)| (filter, page))
    }

    #[test]
    fn list_query_selects_accounts_by_51idcs_account_type() {
        for (text, selection) in [
            ("admin", AccountSelection::Main),
            ("sub", AccountSelection::Sub),
            ("all", AccountSelection::All),
        ] {
            let query = ListOrdersQuery {
                project: Some("demo".into()),
                account_type: Some(text.into()),
                ..Default::default()
            };
            assert_eq!(Listed::try_from(query).unwrap().1, selection, "{text}");
        }
        let query = ListOrdersQuery {
            project: Some("demo".into()),
            account_type: Some("main".into()),
            ..Default::default()
        };
        assert!(message(Listed::try_from(query)).contains("account_type must be one of"));
    }

    #[test]
    fn list_query_takes_every_51idc_filter() {
        let (filter, page) = listed(ListOrdersQuery {
            order_state: Some("all".into()),
            resource_type: Some("Volume".into()),
            order_type: Some("switch".into()),
            start_time: Some("2026-12-01T08:00:00+08:00".into()),
            end_time: Some("2026-12-08T00:00:00Z".into()),
            search_word: Some(" pg_ ".into()),
            offset: Some("20".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(filter.status, None);
        assert_eq!(filter.plan_type, Some(PlanType::parse("volume").unwrap()));
        assert_eq!(filter.order_type, Some(OrderType::Switch));
        assert_eq!(
            filter.created.start,
            Some(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap())
        );
        assert_eq!(
            filter.created.end,
            Some(Utc.with_ymd_and_hms(2026, 12, 8, 0, 0, 0).unwrap())
        );
        assert_eq!(filter.search.as_ref().map(SearchWord::as_str), Some("pg_"));
        assert_eq!((page.offset(), page.limit()), (20, 10));
    }

    #[test]
    fn order_state_is_status_by_another_name_and_all_lifts_it() {
        for (status, order_state, expected) in [
            (Some("ended"), None, Some(OrderStatus::Ended)),
            (None, Some("pending"), Some(OrderStatus::Pending)),
            (Some("all"), None, None),
            (None, Some("all"), None),
        ] {
            let (filter, _) = listed(ListOrdersQuery {
                status: status.map(Into::into),
                order_state: order_state.map(Into::into),
                ..Default::default()
            })
            .unwrap();
            assert_eq!(filter.status, expected, "{status:?} {order_state:?}");
        }
        let both = listed(ListOrdersQuery {
            status: Some("ended".into()),
            order_state: Some("ended".into()),
            ..Default::default()
        });
        assert!(message(both).contains("give one of them"));
        let unknown = listed(ListOrdersQuery {
            order_state: Some("ALL".into()),
            ..Default::default()
        });
        assert!(message(unknown).contains("order_state must be one of"));
    }

    #[test]
    fn bad_51idc_filters_are_refused_naming_the_parameter() {
        let cases = [
            (
                ListOrdersQuery {
                    start_time: Some("2026-12-08T00:00:00Z".into()),
                    end_time: Some("2026-12-01T00:00:00Z".into()),
                    ..Default::default()
                },
                "end_time must not be before start_time",
            ),
            (
                ListOrdersQuery {
                    start_time: Some("2026-12-08".into()),
                    ..Default::default()
                },
                "start_time must be an RFC 3339 time",
            ),
            (
                ListOrdersQuery {
                    order_type: Some("renewal".into()),
                    ..Default::default()
                },
                "order_type must be one of new, switch",
            ),
            (
                ListOrdersQuery {
                    resource_type: Some("vol ume".into()),
                    ..Default::default()
                },
                "resource_type must be a plan type",
            ),
            (
                ListOrdersQuery {
                    search_word: Some("x".repeat(65)),
                    ..Default::default()
                },
                "search_word must be at most 64 characters",
            ),
            (
                ListOrdersQuery {
                    search_word: Some(String::new()),
                    ..Default::default()
                },
                "search_word must not be empty",
            ),
            (
                ListOrdersQuery {
                    offset: Some("-1".into()),
                    ..Default::default()
                },
                "offset must be a whole number",
            ),
            (
                ListOrdersQuery {
                    limit: Some("1001".into()),
                    ..Default::default()
                },
                "limit must be a whole number from 1 to 1000",
            ),
            (
                ListOrdersQuery {
                    page: Some("1".into()),
                    limit: Some("10".into()),
                    ..Default::default()
                },
                "give one of them",
            ),
        ];
        for (query, expected) in cases {
            let shown = format!("{query:?}");
            let error = message(listed(query));
            assert!(error.contains(expected), "{shown}: {error}");
        }
    }

    #[test]
    fn an_order_shows_51idc_fields_derived_from_itself() {
        let mut switched = order(false);
        switched.replaces = Some(OrderId::parse("o0").unwrap());
        let json = serde_json::to_value(OrderJson::from(&switched)).unwrap();
        assert_eq!(json["orderNumber"], "o1");
        assert_eq!(json["resourceType"], "cpuquota");
        assert_eq!(json["orderType"], "switch");
        assert_eq!(json["payWay"], "PREPAY");
        assert_eq!(json["productName"], "cpu-m");
        assert_eq!(json["createTime"], json["startTime"]);
        assert_eq!(json["price"], "198.00");
        assert_eq!(
            serde_json::to_value(OrderJson::from(&order(false))).unwrap()["orderType"],
            "new"
        );
    }

    #[test]
    fn a_cycle_price_that_does_not_fit_is_left_out_not_made_up() {
        let mut huge = order(false);
        huge.terms.price = Money::from_minor(i64::MAX / 2 + 1);
        let json = serde_json::to_value(OrderJson::from(&huge)).unwrap();
        assert!(json.get("price").is_none(), "{json}");
        assert!(json.get("unitPrice").is_some());
    }

    #[test]
    fn a_listed_order_is_named_by_its_plan_or_by_its_plan_id() {
        let order = order(false);
        let named = HashMap::from([(order.plan_id.clone(), "CPU, medium".to_owned())]);
        let view = AccountView {
            project: order.project.clone(),
            account_type: AccountType::Sub,
        };
        let json = serde_json::to_value(ListedOrderJson::new(&order, &named, &view)).unwrap();
        assert_eq!(json["orderName"], "CPU, medium");
        assert_eq!(json["orderId"], "o1");
        assert_eq!(
            (&json["accountType"], &json["isSelf"]),
            (&json!("sub"), &json!(true))
        );
        let json =
            serde_json::to_value(ListedOrderJson::new(&order, &HashMap::new(), &view)).unwrap();
        assert_eq!(json["orderName"], "cpu-m");
    }

    #[test]
    fn list_query_rejects_unknown_status_and_bad_paging() {
        let query = |status: &str, page: &str| ListOrdersQuery {
            project: Some("demo".into()),
            status: Some(status.into()),
            page: Some(page.into()),
            ..Default::default()
        };
        assert!(message(Listed::try_from(query("done", "1"))).contains("status"));
        assert!(message(Listed::try_from(query("ended", "0"))).contains("page"));
    }

    fn order(end: bool) -> Order {
        let start = Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0).unwrap();
        Order {
            id: OrderId::parse("o1").unwrap(),
            project: ProjectId::parse("demo").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            plan_id: PlanId::parse("cpu-m").unwrap(),
            plan_type: PlanType::parse("cpuquota").unwrap(),
            quantities: Quantity::new(2).unwrap(),
            start_time: start,
            end_time: end.then(|| Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()),
            deadline_time: Utc.with_ymd_and_hms(2026, 2, 28, 10, 0, 0).unwrap(),
            status: if end {
                OrderStatus::Ended
            } else {
                OrderStatus::Consuming
            },
            creator: UserName::parse("demo").unwrap(),
            resource_name: None,
            last_consume_id: 1,
            mode: ChargingMode::Prepaid,
            renew_retries: 0,
            last_warned_at: None,
            terms: domain::order::Terms {
                cycle: domain::cycle::Cycle::Month,
                price: Money::from_minor(990_000),
                keeper: domain::payment::MoneyKeeper::LocalLedger,
            },
            version: 1,
            payment_seq: 1,
            awaiting_payment: None,
            replaces: None,
            replaced_by: None,
        }
    }

    #[test]
    fn order_json_has_the_contract_keys() {
        let json = serde_json::to_value(CreatedOrderJson::new(
            &order(false),
            Money::from_minor(1_980_000),
            None,
        ))
        .unwrap();
        assert_eq!(
            json,
            json!({
                "orderId": "o1", "project": "demo", "region": "cn-north-1", "quantities": 2,
                "planId": "cpu-m", "chargingMode": "prepaid",
                "startTime": "2026-01-31T10:00:00.000000Z",
                "deadlineTime": "2026-02-28T10:00:00.000000Z", "status": "consuming",
                "creator": "demo", "renewRetries": 0, "cycle": "month", "unitPrice": "99.00",
                "moneyKeeper": "ledger", "awaitingPayment": false, "orderNumber": "o1",
                "resourceType": "cpuquota", "orderType": "new", "payWay": "PREPAY",
                "productName": "cpu-m", "createTime": "2026-01-31T10:00:00.000000Z",
                "price": "198.00", "money": "198.00",
                "charge": "198.00", "refund": "0.00", "settlement": "0.00"
            })
        );
    }

    #[test]
    fn a_postpaid_order_in_retry_shows_its_mode_and_retries() {
        let mut retried = order(false);
        retried.mode = ChargingMode::Postpaid;
        retried.renew_retries = 3;
        retried.status = OrderStatus::Ending;
        let json = serde_json::to_value(OrderJson::from(&retried)).unwrap();
        assert_eq!(json["chargingMode"], "postpaid");
        assert_eq!(json["renewRetries"], 3);
        assert_eq!(json["status"], "ending");
    }

    #[test]
    fn a_switch_shows_the_net_and_the_replaced_order() {
        let mut new = order(false);
        new.id = OrderId::parse("o2").unwrap();
        let old = order(true);
        let json = serde_json::to_value(CreatedOrderJson {
            charge: Money::from_minor(10_000),
            refund: Money::from_minor(22_345),
            ..CreatedOrderJson::new(&new, Money::from_minor(-12_345), Some(&old))
        })
        .unwrap();
        assert_eq!(json["orderId"], "o2");
        assert_eq!(json["money"], "-1.2345");
        assert_eq!(json["charge"], "1.00");
        assert_eq!(json["refund"], "2.2345");
        assert_eq!(json["settlement"], "0.00");
        assert_eq!(json["replaces"], "o1");
        assert_eq!(json["replaced"]["status"], "ended");
        assert_eq!(json["replaced"]["endTime"], "2026-02-01T00:00:00.000000Z");
    }

    #[test]
    fn a_cancel_shows_refund_and_settlement() {
        let json = serde_json::to_value(CancelledOrderJson {
            order: OrderJson::from(&order(true)),
            refunded: Money::ZERO,
            settled: Money::from_minor(330_000),
        })
        .unwrap();
        assert_eq!(json["refunded"], "0.00");
        assert_eq!(json["settled"], "33.00");
        assert_eq!(json["status"], "ended");
    }

    fn quote(replaces: Option<&str>) -> Quote {
        Quote {
            money: Money::from_minor(-50_000),
            charge: Money::from_minor(990_000),
            refund: Money::from_minor(1_100_000),
            settlement: Money::from_minor(60_000),
            replaces: replaces.map(|id| OrderId::parse(id).unwrap()),
            project: ProjectId::parse("demo").unwrap(),
            plan: Plan {
                id: PlanId::parse("cpu-m").unwrap(),
                plan_type: PlanType::parse("cpuquota").unwrap(),
                region: Region::parse("cn-north-1").unwrap(),
                mode: ChargingMode::Prepaid,
                price: Money::from_minor(990_000),
                cycle: Cycle::Month,
                requires_resource_name: false,
                description: String::new(),
            },
            quantities: Quantity::ONE,
            start_time: Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0).unwrap(),
            deadline_time: Utc.with_ymd_and_hms(2026, 2, 28, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_switch_quote_shows_the_net_and_its_parts_as_strings() {
        assert_eq!(
            serde_json::to_value(QuoteJson::from(&quote(Some("o1")))).unwrap(),
            json!({
                "money": "-5.00", "charge": "99.00", "refund": "110.00", "settlement": "6.00",
                "replaces": "o1", "project": "demo", "planId": "cpu-m", "region": "cn-north-1",
                "quantities": 1, "startTime": "2026-01-31T10:00:00.000000Z",
                "deadlineTime": "2026-02-28T10:00:00.000000Z"
            })
        );
    }

    #[test]
    fn a_plain_quote_has_no_replaces() {
        let json = serde_json::to_value(QuoteJson::from(&quote(None))).unwrap();
        assert!(json.get("replaces").is_none(), "{json}");
    }

    #[test]
    fn replaces_is_parsed_as_an_order_id() {
        let request = create(
            json!({"project": "demo", "planId": "p", "replaces": "0123abcd"}),
            Some("1"),
        )
        .unwrap();
        assert_eq!(request.replaces.unwrap().as_str(), "0123abcd");
        let absent = create(json!({"project": "demo", "planId": "p"}), None).unwrap();
        assert_eq!(absent.replaces, None);
    }

    #[test]
    fn empty_or_null_optional_fields_are_invalid_not_absent() {
        let with = |key: &str, value: serde_json::Value| {
            let mut body = json!({"project": "demo", "planId": "p"});
            body[key] = value;
            body
        };
        for (body, expected) in [
            (with("replaces", json!("")), "orderId can't be blank"),
            (with("region", json!("")), "region can't be blank"),
            (with("quantities", json!(null)), "quantities can't be null"),
            (with("region", json!(null)), "region can't be null"),
            (with("replaces", json!(null)), "replaces can't be null"),
            (with("parameters", json!(null)), "parameters can't be null"),
            (
                with("parameters", json!({"resourceName": null})),
                "parameters.resourceName can't be null",
            ),
            (
                with("parameters", json!({"resourceName": ""})),
                "resourceName must be a DNS label",
            ),
        ] {
            let error = message(create(body.clone(), None));
            assert!(
                error.starts_with(&format!("invalid parameters: {expected}")),
                "{body}: {error}"
            );
        }
    }

    #[test]
    fn an_empty_drytry_is_invalid_not_a_real_order() {
        let error = message(create(json!({"project": "demo", "planId": "p"}), Some("")));
        assert_eq!(
            error,
            "invalid parameters: drytry must be 0, 1, true or false"
        );
    }

    #[test]
    fn empty_query_filters_are_invalid_not_absent() {
        for query in [
            ListOrdersQuery {
                status: Some(String::new()),
                ..list_query()
            },
            ListOrdersQuery {
                region: Some(String::new()),
                ..list_query()
            },
            ListOrdersQuery {
                page: Some(String::new()),
                ..list_query()
            },
            ListOrdersQuery {
                size: Some(String::new()),
                ..list_query()
            },
        ] {
            let label = format!("{query:?}");
            let error = Listed::try_from(query).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid parameters:"),
                "{label}: {error}"
            );
        }
    }

    fn list_query() -> ListOrdersQuery {
        ListOrdersQuery {
            project: Some("demo".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_malformed_replaces_is_invalid_and_a_non_string_is_bad_json() {
        let long = "a".repeat(65);
        for id in ["a b", long.as_str(), "o/1"] {
            let error = message(create(
                json!({"project": "demo", "planId": "p", "replaces": id}),
                None,
            ));
            assert!(
                error.starts_with("invalid parameters: orderId"),
                "{id}: {error}"
            );
        }
        let error = crate::dto::json::from_value::<CreateOrderBody>(
            json!({"project": "demo", "planId": "p", "replaces": 7}),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("replaces: invalid type"),
            "{error}"
        );
    }

    #[test]
    fn an_ended_order_shows_its_end_time() {
        let json = serde_json::to_value(OrderJson::from(&order(true))).unwrap();
        assert_eq!(json["endTime"], "2026-02-01T00:00:00.000000Z");
        assert_eq!(json["status"], "ended");
    }

    #[test]
    fn a_resource_name_appears_only_when_set() {
        let mut named = order(false);
        named.resource_name = Some(ResourceName::parse("data-1").unwrap());
        assert_eq!(
            serde_json::to_value(OrderJson::from(&named)).unwrap()["resourceName"],
            "data-1"
        );
        assert!(serde_json::to_value(OrderJson::from(&order(false)))
            .unwrap()
            .get("resourceName")
            .is_none());
    }
}
