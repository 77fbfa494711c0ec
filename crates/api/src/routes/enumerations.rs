//! `/resource-types`, `/order-types`, `/order-states`, `/account-types`: the values a console's filters take,
//! with their labels, from the domain's own enums and the catalog, so that a console never
//! hard-codes a list that can drift. Any authenticated caller may read them.

use actix_web::{get, web, HttpResponse};
use domain::enumeration::{self, Enumerated};
use domain::ids::Region;

use crate::auth::Caller;
use crate::dto::enumerations::{EnumeratedJson, ResourceTypesQuery};
use crate::dto::list::ListJson;
use crate::dto::optional;
use crate::envelope::{ok, Envelope};
use crate::error::ApiError;
use crate::openapi::responses::{BadRequest, Unauthorized, Unavailable};
use crate::startup::AppState;

/// The whole enumeration as a list.
fn listed(values: &[Enumerated]) -> HttpResponse {
    ok(ListJson::all(
        values.iter().map(EnumeratedJson::from).collect(),
    ))
}

/// `GET /resource-types?region=`.
#[utoipa::path(
    operation_id = "list_resource_types",
    tag = "enumerations",
    summary = "The resource types of the catalog (the plans' types), for the order filter",
    params(ResourceTypesQuery),
    responses(
        (status = 200, description = "Each type once, sorted.",
            body = Envelope<ListJson<EnumeratedJson>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/resource-types")]
pub async fn resource_types(
    _caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ResourceTypesQuery>,
) -> Result<HttpResponse, ApiError> {
    let region = optional(query.region.as_deref(), Region::parse)?;
    let types = state.usecases.list_resource_types(region).await?;
    Ok(listed(&types))
}

/// `GET /order-types`.
#[utoipa::path(
    operation_id = "list_order_types",
    tag = "enumerations",
    summary = "How orders come to be (new, switch), for the order filter",
    responses(
        (status = 200, description = "Every order type.", body = Envelope<ListJson<EnumeratedJson>>),
        (status = 401, response = Unauthorized)
    ),
    security(("bearer" = []))
)]
#[get("/order-types")]
pub async fn order_types(_caller: Caller) -> HttpResponse {
    listed(&enumeration::order_types())
}

/// `GET /order-states`.
#[utoipa::path(
    operation_id = "list_order_states",
    tag = "enumerations",
    summary = "The order states, in the order an order goes through them",
    responses(
        (status = 200, description = "Every order state.", body = Envelope<ListJson<EnumeratedJson>>),
        (status = 401, response = Unauthorized)
    ),
    security(("bearer" = []))
)]
#[get("/order-states")]
pub async fn order_states(_caller: Caller) -> HttpResponse {
    listed(&enumeration::order_states())
}

/// `GET /account-types`.
#[utoipa::path(
    operation_id = "list_account_types",
    tag = "enumerations",
    summary = "The account types (main account, sub-account), for the lists' account_type filter",
    description = "The filter also takes `all`: a main account's rows and its sub-accounts'.",
    responses(
        (status = 200, description = "Every account type.", body = Envelope<ListJson<EnumeratedJson>>),
        (status = 401, response = Unauthorized)
    ),
    security(("bearer" = []))
)]
#[get("/account-types")]
pub async fn account_types(_caller: Caller) -> HttpResponse {
    listed(&enumeration::account_types())
}
