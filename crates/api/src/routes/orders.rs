//! `/orders`: create (or quote), modify (cancel, renew), get, list. Creates, cancels and
//! renewals move money: each takes an optional `Idempotency-Key` (see
//! [`crate::idempotency`]).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use domain::ids::{OrderId, ProjectId};
use domain::order::OrderStatus;
use domain::page::PageRequest;
use domain::ports::OrderFilter;
use domain::usecases::{CancelOrderRequest, CreateOrderOutcome, CreateOrderRequest, OrderAction};

use crate::auth::Caller;
use crate::dto::json::JsonBody;
use crate::dto::list::ListJson;
use crate::dto::orders::{
    CancelledOrderJson, CreateOrderBody, CreateOrderInput, CreateOrderQuery, CreatedOrderJson,
    GetOrderQuery, ListOrdersQuery, OrderActionBody, OrderActionInput, OrderJson, QuoteJson,
    RenewedOrderJson,
};
use crate::dto::required;
use crate::envelope::ok;
use crate::error::ApiError;
use crate::idempotency::{once, Answer, Keyed};
use crate::startup::AppState;
use crate::telemetry;

/// `POST /orders[?drytry=1]`, with `"replaces": "<orderId>"` for a plan switch. Answers 201
/// with the open order, 202 with the pending order while a charge service's answer to its
/// first payment is awaited (`GET` shows the outcome), 200 with a quote for a dry run.
pub async fn create(
    req: HttpRequest,
    Caller(principal): Caller,
    state: web::Data<AppState>,
    query: web::Query<CreateOrderQuery>,
    JsonBody(body, canonical): JsonBody<CreateOrderBody>,
) -> Result<HttpResponse, ApiError> {
    let request = CreateOrderRequest::try_from(CreateOrderInput {
        body,
        query: query.into_inner(),
    })?;
    if request.dry_run {
        return match state.usecases.create_order(&principal, request).await? {
            CreateOrderOutcome::Quoted(quote) => Ok(ok(QuoteJson::from(&quote))),
            CreateOrderOutcome::Created { .. } => Err(ApiError::Domain(domain::Error::Internal(
                "a dry run created an order".into(),
            ))),
        };
    }
    let keyed = Keyed::of(&req, &canonical)?;
    let project = request.project.clone();
    let usecases = &state.usecases;
    once(&state, &principal, &project, keyed, |idempotency| async {
        let request = CreateOrderRequest {
            idempotency,
            ..request
        };
        match usecases.create_order(&principal, request).await? {
            CreateOrderOutcome::Quoted(quote) => {
                Answer::new(StatusCode::OK, QuoteJson::from(&quote))
            }
            CreateOrderOutcome::Created {
                order,
                charged,
                charge,
                refund,
                settlement,
                replaced,
            } => {
                let status = if order.status == OrderStatus::Pending {
                    StatusCode::ACCEPTED
                } else {
                    StatusCode::CREATED
                };
                Answer::new(
                    status,
                    CreatedOrderJson {
                        charge,
                        refund,
                        settlement,
                        ..CreatedOrderJson::new(&order, charged, replaced.as_deref())
                    },
                )
            }
        }
    })
    .await
}

/// `PUT /orders/{orderId}` with `{"action":"cancel"|"renew","project":…}`.
pub async fn modify(
    req: HttpRequest,
    Caller(principal): Caller,
    state: web::Data<AppState>,
    order_id: web::Path<String>,
    JsonBody(body, canonical): JsonBody<OrderActionBody>,
) -> Result<HttpResponse, ApiError> {
    let (action, request) = <(OrderAction, CancelOrderRequest)>::try_from(OrderActionInput {
        order_id: order_id.into_inner(),
        body,
    })?;
    let keyed = Keyed::of(&req, &canonical)?;
    let project = request.project.clone();
    let usecases = &state.usecases;
    once(&state, &principal, &project, keyed, |idempotency| async {
        let request = CancelOrderRequest {
            idempotency,
            ..request
        };
        match action {
            OrderAction::Cancel => {
                let outcome = usecases.cancel_order(&principal, request).await?;
                telemetry::orders::cancelled(&outcome.order.region);
                Answer::new(
                    StatusCode::OK,
                    CancelledOrderJson {
                        order: OrderJson::from(&outcome.order),
                        refunded: outcome.refunded,
                        settled: outcome.settled,
                    },
                )
            }
            OrderAction::Renew => {
                let outcome = usecases.renew_order(&principal, request).await?;
                let status = if outcome.order.is_held() {
                    StatusCode::ACCEPTED
                } else {
                    StatusCode::OK
                };
                Answer::new(status, RenewedOrderJson::from(&outcome))
            }
        }
    })
    .await
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
