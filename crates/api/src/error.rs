//! The one place where failures become HTTP answers: every `domain::Error` variant and every
//! request-level error maps to a status and a stable code, in a single `match` with no
//! catch-all arm, so a new variant cannot slip through unmapped.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::envelope::ErrorBody;

/// The original service's error codes (see `docs/api.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Unknown = 3300,
    ParseJsonFailed = 3302,
    UnsupportedUrl = 3303,
    StorageUnavailable = 3304,
    AuthFailed = 3305,
    PermissionDenied = 3306,
    InvalidParameters = 3307,
    FailedToCreateOrder = 3308,
    Conflict = 3309,
    FailedToGetPlan = 3315,
    InsufficientBalance = 3316,
    ChargedButNotProvisioned = 3317,
    NotFound = 3318,
    ProvisioningFailed = 3319,
    DependencyUnavailable = 3320,
    /// The `Idempotency-Key` was used before for another request (or one still running).
    IdempotencyKeyReused = 3321,
}

impl Code {
    pub fn number(self) -> u32 {
        self as u32
    }
}

/// Anything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] domain::Error),
    /// The body is not the JSON the endpoint expects; the message names the field.
    #[error("parse json failed: {0}")]
    BadJson(String),
    #[error("parse json failed: the body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// The body did not arrive within `server.request_timeout_seconds`.
    #[error("parse json failed: the body did not arrive in time")]
    BodyTimeout,
    /// No usable `Authorization: Bearer …` header; the token itself is never echoed.
    #[error("auth failed: {0}")]
    MissingCredentials(&'static str),
    #[error("unsupported url")]
    UnknownRoute,
    #[error("unsupported url: method not allowed")]
    MethodNotAllowed,
    /// The `Idempotency-Key` names an earlier request with another method, path or body.
    #[error("idempotency key reused: {0}")]
    KeyReused(String),
    /// The path and query string are longer than the service reads.
    #[error("invalid parameters: the url is longer than {limit} bytes")]
    UrlTooLong { limit: usize },
    /// The request headers are larger than the service reads.
    #[error("invalid parameters: the request headers are larger than {limit} bytes")]
    HeadersTooLarge { limit: usize },
}

impl ApiError {
    /// Shorthand for a 400 / 3307 about a parameter.
    pub fn invalid(detail: impl Into<String>) -> Self {
        ApiError::Domain(domain::Error::invalid(detail))
    }

    /// The status and code of this error.
    pub fn classify(&self) -> (StatusCode, Code) {
        use domain::Error as D;
        match self {
            ApiError::Domain(error) => match error {
                D::InvalidParameter(_) => (StatusCode::BAD_REQUEST, Code::InvalidParameters),
                D::Unauthenticated => (StatusCode::UNAUTHORIZED, Code::AuthFailed),
                D::PermissionDenied(_) => (StatusCode::FORBIDDEN, Code::PermissionDenied),
                D::NotFound(_) => (StatusCode::NOT_FOUND, Code::NotFound),
                D::InsufficientBalance { .. } => {
                    (StatusCode::PAYMENT_REQUIRED, Code::InsufficientBalance)
                }
                D::PaymentDeclined { .. } => {
                    (StatusCode::PAYMENT_REQUIRED, Code::InsufficientBalance)
                }
                D::ProvisioningFailed(_) => (StatusCode::BAD_GATEWAY, Code::ProvisioningFailed),
                D::ChargedButNotProvisioned(_) => {
                    (StatusCode::BAD_GATEWAY, Code::ChargedButNotProvisioned)
                }
                D::DependencyUnavailable(_) => {
                    (StatusCode::SERVICE_UNAVAILABLE, Code::DependencyUnavailable)
                }
                D::PaymentMismatch(_) => (StatusCode::BAD_GATEWAY, Code::DependencyUnavailable),
                D::DuplicateRequest(_) => (StatusCode::CONFLICT, Code::IdempotencyKeyReused),
                D::DuplicateResourceName(_) => (StatusCode::CONFLICT, Code::FailedToCreateOrder),
                D::Conflict(_) => (StatusCode::CONFLICT, Code::Conflict),
                D::PlanCatalogUnavailable(_) => {
                    (StatusCode::SERVICE_UNAVAILABLE, Code::FailedToGetPlan)
                }
                D::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, Code::StorageUnavailable),
                D::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, Code::Unknown),
            },
            ApiError::BadJson(_) => (StatusCode::BAD_REQUEST, Code::ParseJsonFailed),
            ApiError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, Code::ParseJsonFailed),
            ApiError::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, Code::ParseJsonFailed),
            ApiError::MissingCredentials(_) => (StatusCode::UNAUTHORIZED, Code::AuthFailed),
            ApiError::UnknownRoute => (StatusCode::NOT_FOUND, Code::UnsupportedUrl),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, Code::UnsupportedUrl),
            ApiError::KeyReused(_) => (StatusCode::CONFLICT, Code::IdempotencyKeyReused),
            ApiError::UrlTooLong { .. } => (StatusCode::BAD_REQUEST, Code::InvalidParameters),
            ApiError::HeadersTooLarge { .. } => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                Code::InvalidParameters,
            ),
        }
    }

    /// What the client reads. A server-side fault says only what kind of fault it was: the
    /// cause (SQL, host names, paths) goes to the log, not to the caller.
    fn public_message(&self, code: Code) -> String {
        match code {
            Code::Unknown => "unknown error".to_owned(),
            Code::StorageUnavailable => "storage unavailable".to_owned(),
            Code::FailedToGetPlan => "failed to get plan".to_owned(),
            // The platform's own words may name hosts: the log has them.
            Code::DependencyUnavailable => "a platform service is unavailable".to_owned(),
            Code::ProvisioningFailed => "failed to create resource".to_owned(),
            Code::ChargedButNotProvisioned => {
                "charged but failed to create resource; the charge was refunded".to_owned()
            }
            // What the client can act on; why it was declined (the charge service's region,
            // the payment, the arrears) was logged where it was decided.
            Code::InsufficientBalance => match self {
                ApiError::Domain(domain::Error::PaymentDeclined { needed, .. }) => {
                    format!("insufficient balance: {needed} needed")
                }
                _ => self.to_string(),
            },
            Code::ParseJsonFailed
            | Code::UnsupportedUrl
            | Code::AuthFailed
            | Code::PermissionDenied
            | Code::InvalidParameters
            | Code::FailedToCreateOrder
            | Code::Conflict
            | Code::IdempotencyKeyReused
            | Code::NotFound => self.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.classify().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.classify();
        if status.is_server_error() {
            log::error!(
                "request failed with {} (code {}): {self}",
                status.as_u16(),
                code.number()
            );
        }
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(ErrorBody {
            code: code.number(),
            msg: self.public_message(code),
            // Answers are built while the request is served (see `crate::logging::access`).
            request_id: domain::log_context::current().map(|id| id.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::body::to_bytes;
    use domain::Money;
    use serde_json::{json, Value};

    use super::*;

    async fn body_of(error: ApiError) -> (u16, Value) {
        let response = error.error_response();
        let status = response.status().as_u16();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    fn every_domain_error() -> Vec<(domain::Error, u16, u32)> {
        use domain::Error as D;
        vec![
            (D::InvalidParameter("size".into()), 400, 3307),
            (D::Unauthenticated, 401, 3305),
            (D::PermissionDenied("x".into()), 403, 3306),
            (D::NotFound("order o1".into()), 404, 3318),
            (
                D::InsufficientBalance {
                    needed: Money::from_minor(990_000),
                    available: Money::from_minor(10_000),
                },
                402,
                3316,
            ),
            (D::DuplicateResourceName("vol-1".into()), 409, 3308),
            (D::Conflict("already ended".into()), 409, 3309),
            (D::PlanCatalogUnavailable("timeout".into()), 503, 3315),
            (D::Unavailable("pool timed out".into()), 503, 3304),
            (
                D::PaymentDeclined {
                    needed: Money::from_minor(125_000),
                    detail: "code 1309".into(),
                },
                402,
                3316,
            ),
            (
                D::ProvisioningFailed("volume service: 500".into()),
                502,
                3319,
            ),
            (D::ChargedButNotProvisioned("quota: 500".into()), 502, 3317),
            (
                D::DependencyUnavailable("charge service: timeout".into()),
                503,
                3320,
            ),
            (D::Internal("broken invariant".into()), 500, 3300),
            (
                D::PaymentMismatch("holds 1.00 under pay:o:1".into()),
                502,
                3320,
            ),
            (D::DuplicateRequest("k-1".into()), 409, 3321),
        ]
    }

    #[actix_web::test]
    async fn every_domain_error_maps_to_its_status_and_code() {
        for (error, status, code) in every_domain_error() {
            let (got_status, body) = body_of(ApiError::Domain(error.clone())).await;
            assert_eq!(got_status, status, "{error:?}");
            assert_eq!(body["code"], code, "{error:?}");
        }
    }

    #[actix_web::test]
    async fn error_body_has_exactly_code_and_msg() {
        let (_, body) = body_of(ApiError::invalid(
            "page must be a whole number of at least 1",
        ))
        .await;
        assert_eq!(
            body,
            json!({"code": 3307, "msg": "invalid parameters: page must be a whole number of at least 1"})
        );
    }

    #[actix_web::test]
    async fn error_body_names_the_request_it_answers() {
        let response = domain::log_context::scope(Some("req-9".into()), || {
            ApiError::Domain(domain::Error::NotFound("order o1".into())).error_response()
        });
        let bytes = to_bytes(response.into_body()).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            body,
            json!({"code": 3318, "msg": "not found: order o1", "request_id": "req-9"})
        );
    }

    #[actix_web::test]
    async fn insufficient_balance_message_states_both_amounts() {
        let error = domain::Error::InsufficientBalance {
            needed: Money::from_minor(990_000),
            available: Money::from_minor(10_000),
        };
        let (_, body) = body_of(error.into()).await;
        assert_eq!(
            body,
            json!({"code": 3316, "msg": "insufficient balance: 99.00 needed, 1.00 available"})
        );
    }

    #[actix_web::test]
    async fn a_declined_payment_states_the_amount_needed_and_nothing_else() {
        let error = domain::Error::PaymentDeclined {
            needed: Money::from_minor(125_000),
            detail: "declined by the charge service of cn-north-1 (pay:o-1:1)".into(),
        };
        let (_, body) = body_of(error.into()).await;
        assert_eq!(
            body,
            json!({"code": 3316, "msg": "insufficient balance: 12.50 needed"})
        );
    }

    #[actix_web::test]
    async fn server_faults_do_not_leak_their_cause() {
        for (error, status, _) in every_domain_error() {
            if status < 500 {
                continue;
            }
            let (_, body) = body_of(error.into()).await;
            let msg = body["msg"].as_str().unwrap();
            for secret in ["timeout", "pool", "invariant"] {
                assert!(!msg.contains(secret), "{msg} leaks {secret}");
            }
        }
    }

    #[actix_web::test]
    async fn request_errors_map_to_their_status_and_code() {
        let cases: [(ApiError, u16, u64); 9] = [
            (ApiError::KeyReused("another body".into()), 409, 3321),
            (
                ApiError::BadJson("quantities: invalid type".into()),
                400,
                3302,
            ),
            (ApiError::BodyTooLarge { limit: 65_536 }, 413, 3302),
            (ApiError::BodyTimeout, 408, 3302),
            (ApiError::MissingCredentials("no bearer token"), 401, 3305),
            (ApiError::UnknownRoute, 404, 3303),
            (ApiError::MethodNotAllowed, 405, 3303),
            (ApiError::UrlTooLong { limit: 16_384 }, 400, 3307),
            (ApiError::HeadersTooLarge { limit: 32_768 }, 431, 3307),
        ];
        for (error, status, code) in cases {
            let label = error.to_string();
            let (got_status, body) = body_of(error).await;
            assert_eq!(
                (got_status, body["code"].as_u64().unwrap()),
                (status, code),
                "{label}"
            );
        }
    }

    #[actix_web::test]
    async fn unauthenticated_answers_carry_a_bearer_challenge() {
        let response = ApiError::MissingCredentials("no bearer token").error_response();
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
    }

    #[test]
    fn bad_json_message_keeps_the_field_name() {
        let error = ApiError::BadJson("quantities: invalid type: string \"x\"".into());
        assert_eq!(
            error.to_string(),
            "parse json failed: quantities: invalid type: string \"x\""
        );
    }
}
