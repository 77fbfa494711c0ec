//! `/plans`: the catalog. Any authenticated caller may read it.

use actix_web::{get, web, HttpResponse};
use domain::ids::Region;

use crate::auth::Caller;
use crate::dto::list::ListJson;
use crate::dto::optional;
use crate::dto::plans::{ListPlansQuery, PlanJson};
use crate::envelope::{ok, Envelope};
use crate::error::ApiError;
use crate::openapi::responses::{BadRequest, Unauthorized, Unavailable};
use crate::startup::AppState;

/// `GET /plans?region=`.
#[utoipa::path(
    operation_id = "list_plans",
    tag = "plans",
    summary = "The plan catalog, for any authenticated caller",
    params(ListPlansQuery),
    responses(
        (status = 200, description = "Every plan (of the region).",
            body = Envelope<ListJson<PlanJson>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/plans")]
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
