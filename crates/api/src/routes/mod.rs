//! The routes: one file per resource. Everything under `/usageapi/v1` needs a bearer token;
//! `/healthz`, `/readyz` and `/metrics` do not. An unknown path is 404 / 3303, a known path with another method is
//! 405 / 3303.

use actix_web::{web, HttpResponse, Resource};

use crate::error::ApiError;

pub mod balances;
pub mod health;
pub mod metrics;
pub mod notifications;
pub mod orders;
pub mod plans;
pub mod readiness;
pub mod usages;

/// Prefix of every business endpoint.
pub const API_PREFIX: &str = "/usageapi/v1";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(health::check)))
        .service(resource("/readyz").route(web::get().to(readiness::check)))
        .service(resource("/metrics").route(web::get().to(metrics::render)))
        .service(
            web::scope(API_PREFIX)
                .service(
                    resource("/orders")
                        .route(web::post().to(orders::create))
                        .route(web::get().to(orders::list)),
                )
                .service(
                    resource("/orders/{orderId}")
                        .route(web::get().to(orders::get))
                        .route(web::put().to(orders::modify)),
                )
                .service(resource("/usages").route(web::get().to(usages::list)))
                .service(resource("/notifications").route(web::get().to(notifications::list)))
                .service(resource("/plans").route(web::get().to(plans::list)))
                .service(resource("/balances/{project}").route(web::get().to(balances::get)))
                .service(
                    resource("/balances/{project}/recharges")
                        .route(web::post().to(balances::recharge))
                        .route(web::get().to(balances::list_recharges)),
                ),
        );
}

/// A resource whose other methods answer 405 in the envelope.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// The app's default service.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::UnknownRoute)
}

/// Query strings that cannot be decoded at all (the typed checks come later) are 3307.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|error, _req| ApiError::invalid(error.to_string()).into())
}

/// Path segments that cannot be decoded are 3307.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|error, _req| ApiError::invalid(error.to_string()).into())
}
