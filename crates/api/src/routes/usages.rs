//! `/usages`: consumption history, newest first.

use actix_web::{get, web, HttpResponse};
use domain::account::{AccountPage, AccountSelection};
use domain::page::PageRequest;
use domain::ports::UsageFilter;

use crate::auth::Caller;
use crate::dto::list::ListJson;
use crate::dto::usages::{ListUsagesQuery, UsageJson};
use crate::envelope::{ok, Envelope};
use crate::error::ApiError;
use crate::openapi::responses::{BadRequest, Forbidden, Unauthorized, Unavailable};
use crate::startup::AppState;

/// `GET /usages?project=&order=&region=&page=&size=`.
#[utoipa::path(
    operation_id = "list_usages",
    tag = "usages",
    summary = "A page of a project's consumption rows, newest first",
    description = "Members of a main account may list its sub-accounts' rows \
                   (`account_type`, as for orders); a list of several projects serves its \
                   first 10,000 rows.",
    params(ListUsagesQuery),
    responses(
        (status = 200, description = "A page of rows.", body = Envelope<ListJson<UsageJson>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/usages")]
pub async fn list(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    query: web::Query<ListUsagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, accounts, page) =
        <(UsageFilter, AccountSelection, PageRequest)>::try_from(query.into_inner())?;
    let AccountPage { view, page: rows } = state
        .usecases
        .list_usages(&principal, filter, accounts, page)
        .await?;
    Ok(ok(ListJson::mapped(&rows, |row| {
        UsageJson::new(row, &view)
    })))
}
