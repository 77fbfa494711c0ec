//! `/plans`: the catalog. Any authenticated caller may read it.

use actix_web::{web, HttpResponse};
use domain::ids::Region;

use crate::auth::Caller;
use crate::dto::list::ListJson;
use crate::dto::optional;
use crate::dto::plans::{ListPlansQuery, PlanJson};
use crate::envelope::ok;
use crate::error::ApiError;
use crate::startup::AppState;

/// `GET /plans?region=`.
pub async fn list(
    _caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ListPlansQuery>,
) -> Result<HttpResponse, ApiError> {
    let region = optional(query.region.as_deref(), Region::parse)?;
    let plans = state.usecases.list_plans(region).await?;
    Ok(ok(ListJson::all(
        plans.iter().map(PlanJson::from).collect(),
    )))
}
