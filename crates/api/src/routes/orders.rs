//! `/orders`: create (or quote), modify (cancel), get, list.

use actix_web::{web, HttpResponse};
use domain::ids::{OrderId, ProjectId};
use domain::page::PageRequest;
use domain::ports::OrderFilter;
use domain::usecases::{CancelOrderRequest, CreateOrderOutcome, CreateOrderRequest, OrderAction};

use crate::auth::Caller;
use crate::dto::json::JsonBody;
use crate::dto::list::ListJson;
use crate::dto::orders::{
    CancelledOrderJson, CreateOrderBody, CreateOrderInput, CreateOrderQuery, CreatedOrderJson,
    GetOrderQuery, ListOrdersQuery, OrderActionBody, OrderActionInput, OrderJson, QuoteJson,
};
use crate::dto::required;
use crate::envelope::ok;
use crate::error::ApiError;
use crate::startup::AppState;

/// `POST /orders[?drytry=1]`, with `"replaces": "<orderId>"` for a plan switch.
pub async fn create(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    query: web::Query<CreateOrderQuery>,
    JsonBody(body): JsonBody<CreateOrderBody>,
) -> Result<HttpResponse, ApiError> {
    let request = CreateOrderRequest::try_from(CreateOrderInput {
        body,
        query: query.into_inner(),
    })?;
    Ok(
        match state.usecases.create_order(&principal, request).await? {
            CreateOrderOutcome::Quoted(quote) => ok(QuoteJson::from(&quote)),
            CreateOrderOutcome::Created {
                order,
                charged,
                charge,
                refund,
                settlement,
                replaced,
            } => ok(CreatedOrderJson {
                charge,
                refund,
                settlement,
                ..CreatedOrderJson::new(&order, charged, replaced.as_deref())
            }),
        },
    )
}

/// `PUT /orders/{orderId}` with `{"action":"cancel","project":…}`.
pub async fn modify(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    order_id: web::Path<String>,
    JsonBody(body): JsonBody<OrderActionBody>,
) -> Result<HttpResponse, ApiError> {
    let (action, request) = <(OrderAction, CancelOrderRequest)>::try_from(OrderActionInput {
        order_id: order_id.into_inner(),
        body,
    })?;
    match action {
        OrderAction::Cancel => {
            let outcome = state.usecases.cancel_order(&principal, request).await?;
            Ok(ok(CancelledOrderJson {
                order: OrderJson::from(&outcome.order),
                refunded: outcome.refunded,
                settled: outcome.settled,
            }))
        }
    }
}

/// `GET /orders/{orderId}?project=`.
pub async fn get(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    order_id: web::Path<String>,
    query: web::Query<GetOrderQuery>,
) -> Result<HttpResponse, ApiError> {
    let order_id = required(Some(order_id.as_str()), OrderId::parse)?;
    let project = required(query.project.as_deref(), ProjectId::parse)?;
    let order = state
        .usecases
        .get_order(&principal, &project, &order_id)
        .await?;
    Ok(ok(OrderJson::from(&order)))
}

/// `GET /orders?project=&status=&region=&page=&size=`; status defaults to consuming.
pub async fn list(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    query: web::Query<ListOrdersQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = <(OrderFilter, PageRequest)>::try_from(query.into_inner())?;
    let orders = state.usecases.list_orders(&principal, filter, page).await?;
    Ok(ok(ListJson::<OrderJson>::from_page(orders)))
}
