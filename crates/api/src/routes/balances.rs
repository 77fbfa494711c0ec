//! `/balances/{project}`: the balance, recharges (admins only) and their history.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
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
use crate::idempotency::{once, Answer, Keyed};
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

/// `POST /balances/{project}/recharges` with `{"amount":"100.00","comment"?}`; takes an
/// optional `Idempotency-Key`.
pub async fn recharge(
    req: HttpRequest,
    Caller(principal): Caller,
    state: web::Data<AppState>,
    project: web::Path<String>,
    JsonBody(body, canonical): JsonBody<RechargeBody>,
) -> Result<HttpResponse, ApiError> {
    let request = RechargeRequest::try_from(RechargeInput {
        project: project.into_inner(),
        body,
    })?;
    let keyed = Keyed::of(&req, &canonical)?;
    let project = request.project.clone();
    let usecases = &state.usecases;
    once(&state, &principal, &project, keyed, |idempotency| async {
        let (recharge, account) = usecases
            .recharge(
                &principal,
                request.project,
                request.amount,
                request.comment,
                idempotency,
            )
            .await?;
        Answer::new(
            StatusCode::OK,
            RechargedJson {
                recharge: RechargeJson::from(&recharge),
                balance: BalanceJson::from(&account),
            },
        )
    })
    .await
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
