//! `/balances/{project}`: the balance, recharges (admins only) and their history.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use crate::auth::Caller;
use crate::dto::balances::{
    project_of, BalanceJson, RechargeBody, RechargeInput, RechargeJson, RechargeRequest,
    RechargedJson, RechargesQuery,
};
use crate::dto::json::JsonBody;
use crate::dto::list::ListJson;
use crate::envelope::{ok, Envelope};
use crate::error::ApiError;
use crate::idempotency::{once, Answer, Keyed, WriteRight};
use crate::openapi::responses::{
    BadRequest, Forbidden, KeyReused, PayloadTooLarge, Unauthorized, Unavailable,
};
use crate::startup::AppState;

/// `GET /balances/{project}`.
#[utoipa::path(
    operation_id = "get_balance",
    tag = "balances",
    summary = "A project's balance in the local ledger",
    params(("project" = String, Path, description = "The project.", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The balance; a project never funded has 0.00 and no \
            `updatedAt`.", body = Envelope<BalanceJson>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/balances/{project}")]
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
#[utoipa::path(
    operation_id = "recharge",
    tag = "balances",
    summary = "Add money to a project's balance (admins only)",
    description = "A recharge pays arrears first: it is added to the balance, negative or not.",
    params(("project" = String, Path, description = "The project.", pattern = "^[A-Za-z0-9_-]{1,64}$"), ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Optional: 1 to 255 visible ASCII characters (a UUID, say). The same key with the same request answers the first answer again (with `Idempotent-Replayed: true`) and does nothing twice; with another request it is 409 / 3321.", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
    request_body(content = RechargeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The recharge and the balance after it.",
            body = Envelope<RechargedJson>, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same Idempotency-Key, sent again."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = KeyReused),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[post("/balances/{project}/recharges")]
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
    once(
        &state,
        &principal,
        &project,
        WriteRight::Recharge,
        keyed,
        |idempotency| async {
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
        },
    )
    .await
}

/// `GET /balances/{project}/recharges?start_time=&end_time=&page=&size=` (or
/// `offset=&limit=`), newest first.
#[utoipa::path(
    operation_id = "list_recharges",
    tag = "balances",
    summary = "A page of a project's recharges, newest first, within a time range if asked",
    params(("project" = String, Path, description = "The project.", pattern = "^[A-Za-z0-9_-]{1,64}$"), RechargesQuery),
    responses(
        (status = 200, description = "A page of recharges.",
            body = Envelope<ListJson<RechargeJson>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/balances/{project}/recharges")]
pub async fn list_recharges(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    project: web::Path<String>,
    query: web::Query<RechargesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = query.parse(project_of(&project)?)?;
    let recharges = state
        .usecases
        .list_recharges(&principal, &filter, page)
        .await?;
    Ok(ok(ListJson::<RechargeJson>::from_page(recharges)))
}
