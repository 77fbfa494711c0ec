//! `/balances/{project}`: the balance, recharges (admins only) and their history.

use actix_web::{web, HttpResponse};
use domain::page::PageRequest;

use crate::auth::Caller;
use crate::dto::balances::{
    project_of, BalanceJson, PageQuery, RechargeBody, RechargeInput, RechargeJson, RechargeRequest,
    RechargedJson,
};
use crate::dto::json::JsonBody;
use crate::dto::list::ListJson;
use crate::envelope::ok;
use crate::error::ApiError;
use crate::startup::AppState;

/// `GET /balances/{project}`.
pub async fn get(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    project: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = project_of(&project)?;
    let balance = state.usecases.get_balance(&principal, &project).await?;
    Ok(ok(BalanceJson::from(&balance)))
}

/// `POST /balances/{project}/recharges` with `{"amount":"100.00","comment"?}`.
pub async fn recharge(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    project: web::Path<String>,
    JsonBody(body): JsonBody<RechargeBody>,
) -> Result<HttpResponse, ApiError> {
    let request = RechargeRequest::try_from(RechargeInput {
        project: project.into_inner(),
        body,
    })?;
    let (recharge, balance) = state
        .usecases
        .recharge(&principal, request.project, request.amount, request.comment)
        .await?;
    Ok(ok(RechargedJson {
        recharge: RechargeJson::from(&recharge),
        balance: BalanceJson::from(&balance),
    }))
}

/// `GET /balances/{project}/recharges?page=&size=`, newest first.
pub async fn list_recharges(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    project: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let project = project_of(&project)?;
    let page = PageRequest::try_from(query.into_inner())?;
    let recharges = state
        .usecases
        .list_recharges(&principal, &project, page)
        .await?;
    Ok(ok(ListJson::<RechargeJson>::from_page(recharges)))
}
