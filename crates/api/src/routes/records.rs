//! `/records`: 51idc's consumption records, each an order with what it was charged and
//! refunded, row by row. Read-only; members of the project or of its main account, and
//! admins.

use actix_web::{get, web, HttpResponse};
use domain::account::{AccountPage, AccountSelection};
use domain::ids::{OrderId, ProjectId};
use domain::page::PageRequest;
use domain::ports::OrderFilter;

use crate::auth::Caller;
use crate::dto::list::ListJson;
use crate::dto::orders::GetOrderQuery;
use crate::dto::records::{ListRecordsQuery, RecordJson};
use crate::dto::required;
use crate::envelope::{ok, Envelope};
use crate::error::ApiError;
use crate::openapi::responses::{BadRequest, Forbidden, NotFound, Unauthorized, Unavailable};
use crate::startup::AppState;

/// `GET /records?project=&…`.
#[utoipa::path(
    operation_id = "list_records",
    tag = "records",
    summary = "A page of a project's consumption records (an order and its rows each), newest first",
    description = "The order list's filters for orders in every state (`datacenter` is the \
                   region). `total` is exact except with `start_time`, `end_time` or \
                   `search_word`, where it is counted up to 1,000 (`totalExact`). \
                   `account_type` as for orders.",
    params(ListRecordsQuery),
    responses(
        (status = 200, description = "A page of records.", body = Envelope<ListJson<RecordJson>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/records")]
pub async fn list(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    query: web::Query<ListRecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, accounts, page) =
        <(OrderFilter, AccountSelection, PageRequest)>::try_from(query.into_inner())?;
    let AccountPage {
        view,
        page: records,
    } = state
        .usecases
        .list_records(&principal, filter, accounts, page)
        .await?;
    let descriptions = state
        .usecases
        .plan_descriptions(records.items.iter().map(|r| &r.order.plan_id))
        .await;
    Ok(ok(ListJson::mapped(&records, |record| {
        RecordJson::new(record, &descriptions, &view)
    })))
}

/// `GET /records/{id}?project=`: the record of one order (`id` is the order id).
#[utoipa::path(
    operation_id = "get_record",
    tag = "records",
    summary = "The consumption record of one order of a project",
    params(
        ("id" = String, Path, description = "The record's id: its order's id.", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        GetOrderQuery
    ),
    responses(
        (status = 200, description = "The record.", body = Envelope<RecordJson>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/records/{id}")]
pub async fn get(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<GetOrderQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = required(Some(id.as_str()), OrderId::parse)?;
    let project = required(query.project.as_deref(), ProjectId::parse)?;
    let (view, record) = state.usecases.get_record(&principal, &project, &id).await?;
    let descriptions = state
        .usecases
        .plan_descriptions([&record.order.plan_id])
        .await;
    Ok(ok(RecordJson::new(&record, &descriptions, &view)))
}
