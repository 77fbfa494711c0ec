//! The routes: one file per resource. Everything under `/usageapi/v1` needs a bearer token;
//! `/`, `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and `/docs` do not. An unknown path is 404 / 3303, a
//! known path with another method is 405 / 3303 with `Allow`, and `HEAD` is served wherever
//! `GET` is.
//!
//! Each handler declares its route and its OpenAPI operation together (`#[utoipa::path]`
//! above actix's `#[get("/…")]`), and [`configure`] registers it through
//! `utoipa_actix_web`, which builds the served route table and the document from the same
//! calls: a route cannot be served undocumented, nor documented unserved (the tests in
//! `crate::openapi` check both ways).

use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{web, App, HttpRequest, HttpResponse};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};

use crate::error::ApiError;
use crate::openapi::{ApiDoc, Document};

pub mod balances;
pub mod docs;
pub mod enumerations;
pub mod health;
pub mod metrics;
pub mod notifications;
pub mod orders;
pub mod plans;
pub mod readiness;
pub mod records;
pub mod usages;

/// Prefix of every business endpoint.
pub const API_PREFIX: &str = "/usageapi/v1";

/// Every route, registered and documented at once. A new endpoint is one more `service(…)`
/// line here, for a handler that carries `#[utoipa::path]` and an actix route macro.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(docs::index)
        .service(docs::openapi_json)
        .service(docs::page)
        .service(docs::asset)
        .service(health::check)
        .service(readiness::check)
        .service(metrics::render)
        .service(
            scope(API_PREFIX)
                .service(orders::create)
                .service(orders::list)
                .service(orders::get)
                .service(orders::modify)
                .service(usages::list)
                .service(records::list)
                .service(records::get)
                .service(notifications::list)
                .service(plans::list)
                .service(enumerations::resource_types)
                .service(enumerations::order_types)
                .service(enumerations::order_states)
                .service(enumerations::account_types)
                .service(balances::get)
                .service(balances::recharge)
                .service(balances::list_recharges),
        );
}

/// `app` with every route, the document they make (served at `/openapi.json`, and read by
/// the default service to tell 405 from 404), and `HEAD` answered as `GET`.
pub fn serve<T, B>(
    app: App<T>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<B>,
        Error = actix_web::Error,
        InitError = (),
    >,
>
where
    B: actix_web::body::MessageBody,
    T: ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<B>,
        Error = actix_web::Error,
        InitError = (),
    >,
{
    let (app, openapi) = app
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(configure)
        .split_for_parts();
    app.app_data(web::Data::new(Document::new(openapi)))
        .default_service(web::to(unrouted))
        .wrap_fn(|mut req, service| {
            // The codec still knows the request was HEAD and sends no body.
            if req.method() == Method::HEAD {
                req.head_mut().method = Method::GET;
            }
            service.call(req)
        })
}

/// What no route took: 405 with `Allow` when the path is documented (another method), else
/// 404; both 3303.
async fn unrouted(req: HttpRequest, document: web::Data<Document>) -> HttpResponse {
    match document.methods_of(req.path()) {
        Some(allowed) => {
            let mut response =
                actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed);
            if let Ok(value) = allowed.join(", ").parse() {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::ALLOW, value);
            }
            response
        }
        None => actix_web::ResponseError::error_response(&ApiError::UnknownRoute),
    }
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
