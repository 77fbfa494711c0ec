//! `/usages`: consumption history, newest first.

use actix_web::{web, HttpResponse};
use domain::page::PageRequest;
use domain::ports::UsageFilter;

use crate::auth::Caller;
use crate::dto::list::ListJson;
use crate::dto::usages::{ListUsagesQuery, UsageJson};
use crate::envelope::ok;
use crate::error::ApiError;
use crate::startup::AppState;

/// `GET /usages?project=&order=&region=&page=&size=`.
pub async fn list(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    query: web::Query<ListUsagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = <(UsageFilter, PageRequest)>::try_from(query.into_inner())?;
    let rows = state.usecases.list_usages(&principal, filter, page).await?;
    Ok(ok(ListJson::<UsageJson>::from_page(rows)))
}
