//! `/orders`: create (or quote), modify (cancel, renew), get, list. Creates, cancels and
//! renewals move money: each takes an optional `Idempotency-Key` (see
//! [`crate::idempotency`]).

use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use domain::account::{AccountPage, AccountSelection};
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
    GetOrderQuery, ListOrdersQuery, ListedOrderJson, ModifiedOrderJson, OrderActionBody,
    OrderActionInput, OrderJson, QuoteJson, RenewedOrderJson,
};
use crate::dto::required;
use crate::envelope::{ok, Envelope};
use crate::error::ApiError;
use crate::idempotency::{once, Answer, Keyed, WriteRight};
use crate::openapi::responses::{
    BadGateway, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PaymentRequired,
    Unauthorized, Unavailable,
};
use crate::startup::AppState;
use crate::telemetry;

/// `POST /orders[?drytry=1]`, with `"replaces": "<orderId>"` for a plan switch. Answers 201
/// with the open order, 202 with the pending order while a charge service's answer to its
/// first payment is awaited (`GET` shows the outcome), 200 with a quote for a dry run.
#[utoipa::path(
    operation_id = "create_order",
    tag = "orders",
    summary = "Create an order, switch an order's plan, or quote either (drytry)",
    description = "A prepaid order is charged price × quantities at once; a postpaid one needs \
                   one cycle of credit. `replaces` ends that order and opens this one in one \
                   transaction (a plan switch). See docs/api.md for the rules.",
    params(CreateOrderQuery, ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Optional: 1 to 255 visible ASCII characters (a UUID, say). The same key with the same request answers the first answer again (with `Idempotent-Replayed: true`) and does nothing twice; with another request it is 409 / 3321.", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
    request_body(content = CreateOrderBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The quote of a dry run; nothing was written.",
            body = Envelope<QuoteJson>),
        (status = 201, description = "The order, open and charged.", body = Envelope<CreatedOrderJson>,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same Idempotency-Key, sent again.")), links(
                ("GetOrder" = (operation_id = "get_order", parameters(
                    ("orderId" = "$response.body#/data/orderId"),
                    ("project" = "$response.body#/data/project")))),
                ("CancelOrder" = (operation_id = "modify_order", parameters(
                    ("orderId" = "$response.body#/data/orderId")),
                    request_body = json!({"action": "cancel", "project": "$response.body#/data/project"}))),
                ("ListUsages" = (operation_id = "list_usages", parameters(
                    ("project" = "$response.body#/data/project"),
                    ("order" = "$response.body#/data/orderId")))),
                ("GetRecord" = (operation_id = "get_record", parameters(
                    ("id" = "$response.body#/data/orderId"),
                    ("project" = "$response.body#/data/project"))))
            )),
        (status = 202, description = "The order, pending: its charge service has not answered \
            for the first cycle yet; `GET` shows the outcome.", body = Envelope<CreatedOrderJson>,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same Idempotency-Key, sent again.")), links(
                ("GetOrder" = (operation_id = "get_order", parameters(
                    ("orderId" = "$response.body#/data/orderId"),
                    ("project" = "$response.body#/data/project"))))
            )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 402, response = PaymentRequired),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 502, response = BadGateway),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[post("/orders")]
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
    // A malformed key is refused even on a dry run, which does not use it.
    let keyed = Keyed::of(&req, &canonical)?;
    if request.dry_run {
        return match state.usecases.create_order(&principal, request).await? {
            CreateOrderOutcome::Quoted(quote) => Ok(ok(QuoteJson::from(&quote))),
            CreateOrderOutcome::Created { .. } => Err(ApiError::Domain(domain::Error::Internal(
                "a dry run created an order".into(),
            ))),
        };
    }
    let project = request.project.clone();
    let usecases = &state.usecases;
    once(
        &state,
        &principal,
        &project,
        WriteRight::Member,
        keyed,
        |idempotency| async {
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
        },
    )
    .await
}

/// `PUT /orders/{orderId}` with `{"action":"cancel"|"renew","project":…}`.
#[utoipa::path(
    operation_id = "modify_order",
    tag = "orders",
    summary = "Cancel an order, or renew it now",
    description = "`cancel` ends the order now, refunding the unused remainder (prepaid) or \
                   settling the usage (postpaid). `renew` charges every cycle due that the \
                   balance covers.",
    params(
        ("orderId" = String, Path, description = "The order.", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Optional: 1 to 255 visible ASCII characters (a UUID, say). The same key with the same request answers the first answer again (with `Idempotent-Replayed: true`) and does nothing twice; with another request it is 409 / 3321.", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")
    ),
    request_body(content = OrderActionBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The order as it is now, with what moved: `refunded` and \
            `settled` after a cancel, `renewal` and `charged` after a renewal.",
            body = Envelope<ModifiedOrderJson>, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same Idempotency-Key, sent again."))),
        (status = 202, description = "A renewal whose payment a charge service has not \
            answered yet (`renewal`: `pending`).", body = Envelope<RenewedOrderJson>, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same Idempotency-Key, sent again."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 402, response = PaymentRequired),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 502, response = BadGateway),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[put("/orders/{orderId}")]
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
    once(
        &state,
        &principal,
        &project,
        WriteRight::Member,
        keyed,
        |idempotency| async {
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
                        ModifiedOrderJson::Cancelled(CancelledOrderJson {
                            order: OrderJson::from(&outcome.order),
                            refunded: outcome.refunded,
                            settled: outcome.settled,
                        }),
                    )
                }
                OrderAction::Renew => {
                    let outcome = usecases.renew_order(&principal, request).await?;
                    let status = if outcome.order.is_held() {
                        StatusCode::ACCEPTED
                    } else {
                        StatusCode::OK
                    };
                    Answer::new(
                        status,
                        ModifiedOrderJson::Renewed(RenewedOrderJson::from(&outcome)),
                    )
                }
            }
        },
    )
    .await
}

/// `GET /orders/{orderId}?project=`.
#[utoipa::path(
    operation_id = "get_order",
    tag = "orders",
    summary = "One order of a project",
    params(
        ("orderId" = String, Path, description = "The order.", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        GetOrderQuery
    ),
    responses(
        (status = 200, description = "The order.", body = Envelope<OrderJson>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/orders/{orderId}")]
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

/// `GET /orders?project=&…`: every filter of [`ListOrdersQuery`]; status defaults to
/// consuming.
#[utoipa::path(
    operation_id = "list_orders",
    tag = "orders",
    summary = "A page of a project's orders, newest first, filtered",
    description = "Filters combine (every one given must hold). Rows are asked for as \
                   `page`/`size` or as `offset`/`limit`, not both. `total` is exact except \
                   with `start_time`, `end_time` or `search_word`, where it is counted up to \
                   1,000 (`totalExact`). Members of a main account may list its \
                   sub-accounts' orders (`account_type`); a list of several projects serves \
                   its first 10,000 rows.",
    params(ListOrdersQuery),
    responses(
        (status = 200, description = "A page of orders.", body = Envelope<ListJson<ListedOrderJson>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/orders")]
pub async fn list(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    query: web::Query<ListOrdersQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, accounts, page) =
        <(OrderFilter, AccountSelection, PageRequest)>::try_from(query.into_inner())?;
    let AccountPage { view, page: orders } = state
        .usecases
        .list_orders(&principal, filter, accounts, page)
        .await?;
    let descriptions = state
        .usecases
        .plan_descriptions(orders.items.iter().map(|order| &order.plan_id))
        .await;
    Ok(ok(ListJson::mapped(&orders, |order| {
        ListedOrderJson::new(order, &descriptions, &view)
    })))
}
