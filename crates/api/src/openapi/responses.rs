//! The error answers every operation shares, declared once as response components and
//! referred to from each handler's `#[utoipa::path]` (`(status = 400, response =
//! BadRequest)`). Each is the `{code, msg}` body of [`ErrorBody`] with the codes that status
//! carries; `crate::error` is where they are made.

use utoipa::ToResponse;

use crate::envelope::ErrorBody;

/// 400: a parameter or the body is invalid (3307, naming the parameter), or the body is not
/// the JSON the operation expects (3302, naming the field).
#[derive(ToResponse)]
#[response(
    description = "Bad input: 3307 names the invalid parameter, 3302 the JSON at fault.",
    content_type = "application/json",
    examples(
        ("invalid parameter" = (value = json!({"code": 3307, "msg": "invalid parameters: project can't be blank"}))),
        ("bad JSON" = (value = json!({"code": 3302, "msg": "parse json failed: quantities: invalid type: string \"x\", expected i64"})))
    )
)]
pub struct BadRequest(pub ErrorBody);

/// 401 / 3305 with `WWW-Authenticate: Bearer`.
#[derive(ToResponse)]
#[response(
    description = "No usable bearer token (3305).",
    content_type = "application/json",
    headers(("WWW-Authenticate" = String, description = "Always `Bearer`.")),
    example = json!({"code": 3305, "msg": "auth failed: missing Authorization header"})
)]
pub struct Unauthorized(pub ErrorBody);

/// 402 / 3316.
#[derive(ToResponse)]
#[response(
    description = "Insufficient balance (3316): nothing was charged.",
    content_type = "application/json",
    example = json!({"code": 3316, "msg": "insufficient balance: 99.00 needed, 1.00 available"})
)]
pub struct PaymentRequired(pub ErrorBody);

/// 403 / 3306.
#[derive(ToResponse)]
#[response(
    description = "Not a member of the project (to read: nor of its main account), or an \
                   admin-only action (3306).",
    content_type = "application/json",
    example = json!({"code": 3306, "msg": "permission denied: demo is not a member of project other"})
)]
pub struct Forbidden(pub ErrorBody);

/// 404 / 3318.
#[derive(ToResponse)]
#[response(
    description = "No such order in the project (3318).",
    content_type = "application/json",
    example = json!({"code": 3318, "msg": "not found: order 0123abcd in project demo"})
)]
pub struct NotFound(pub ErrorBody);

/// 409: 3309 (state conflict), 3308 (resource name taken), 3321 (idempotency key reused).
#[derive(ToResponse)]
#[response(
    description = "Conflict: the order is ended or held (3309), the resource name is taken \
                   (3308), or the Idempotency-Key names another request (3321).",
    content_type = "application/json",
    examples(
        ("order state" = (value = json!({"code": 3309, "msg": "conflict: order 0123abcd is already ended"}))),
        ("resource name" = (value = json!({"code": 3308, "msg": "failed to create order: duplicated resource name data-1"}))),
        ("idempotency key" = (value = json!({"code": 3321, "msg": "idempotency key reused: key k-1 was used at 2026-12-06T05:00:00+00:00 for another request"})))
    )
)]
pub struct Conflict(pub ErrorBody);

/// 409 / 3321 only: the writes whose sole conflict is a reused key.
#[derive(ToResponse)]
#[response(
    description = "The Idempotency-Key was used for another request, or its first request is \
                   still running (3321).",
    content_type = "application/json",
    example = json!({"code": 3321, "msg": "idempotency key reused: a request with this key is still running"})
)]
pub struct KeyReused(pub ErrorBody);

/// 413 / 3302.
#[derive(ToResponse)]
#[response(
    description = "The body is larger than 64 KiB (3302).",
    content_type = "application/json",
    example = json!({"code": 3302, "msg": "parse json failed: the body is larger than 65536 bytes"})
)]
pub struct PayloadTooLarge(pub ErrorBody);

/// 502: 3317, 3319, 3320.
#[derive(ToResponse)]
#[response(
    description = "The platform refused or failed: 3319 (resource not created, nothing \
                   charged), 3317 (charged, then refused; refunded), 3320 (a payment disputed).",
    content_type = "application/json",
    example = json!({"code": 3319, "msg": "failed to create resource"})
)]
pub struct BadGateway(pub ErrorBody);

/// 503: 3304, 3315, 3320.
#[derive(ToResponse)]
#[response(
    description = "Try again later: the database (3304), the plan catalog (3315) or a platform \
                   service (3320) is unavailable.",
    content_type = "application/json",
    example = json!({"code": 3304, "msg": "storage unavailable"})
)]
pub struct Unavailable(pub ErrorBody);
