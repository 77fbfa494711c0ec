//! The request log middleware: every request gets its id ([`RequestId`]), is served under it
//! (so every line it logs, on any thread, carries it: see `domain::log_context`), answers
//! with it in `X-Request-Id`, and ends with one access line at info (target `access`).

use std::fmt;
use std::future::{ready, Future, Ready};
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{Error, HttpResponse, ResponseError};
use domain::log_context::{self, Scoped};

use super::request_id::{RequestId, HEADER, MAX_LEN};

/// The target of access lines, for filters (`RUST_LOG=info,access=warn` drops them).
pub const TARGET: &str = "access";

/// Wrap the app in it (`App::wrap(RequestLog)`), outermost, so that other middleware runs
/// under the id too.
pub struct RequestLog;

impl<S, B> Transform<S, ServiceRequest> for RequestLog
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RequestLogService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestLogService { service }))
    }
}

/// [`RequestLog`] around one worker's app.
pub struct RequestLogService<S> {
    service: S,
}

type Served<B> = Pin<Box<dyn Future<Output = Result<ServiceResponse<B>, Error>>>>;

impl<S, B> Service<ServiceRequest> for RequestLogService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Scoped<Served<B>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let sent = req.headers().get(HEADER);
        let (id, refused) = match RequestId::sent(sent) {
            Some(id) => (id, false),
            None => (RequestId::generate(), sent.is_some()),
        };
        let access = Access::of(&req);
        let shared = id.shared();
        // Routing and the inner services' synchronous part run now: under the id too.
        let serving = log_context::scope(Some(shared.clone()), || {
            if refused {
                // Not the value itself: it is whatever the caller sent.
                log::debug!("{HEADER} not 1 to {MAX_LEN} of A-Z a-z 0-9 . _ : -; replaced");
            }
            self.service.call(req)
        });
        let served = async move {
            match serving.await {
                Ok(mut response) => {
                    name(response.headers_mut(), &id);
                    let bytes = match response.response().body().size() {
                        BodySize::Sized(n) => Some(n),
                        BodySize::None => Some(0),
                        BodySize::Stream => None,
                    };
                    let route = response.request().match_pattern();
                    access.log(route.as_deref(), response.status(), bytes);
                    Ok(response)
                }
                Err(error) => {
                    access.log(None, error.as_response_error().status_code(), None);
                    Err(UnderId { error, id }.into())
                }
            }
        };
        Scoped::new(shared, Box::pin(served))
    }
}

/// Sets `X-Request-Id`.
fn name(headers: &mut HeaderMap, id: &RequestId) {
    // Always valid: an id holds visible ASCII only.
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
}

/// An error an inner middleware returned instead of an answer. actix turns it into its
/// answer after this middleware is done, so the answer is built under the id here, to name
/// it in the body and the header as every other answer does.
struct UnderId {
    error: Error,
    id: RequestId,
}

impl fmt::Debug for UnderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for UnderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl ResponseError for UnderId {
    fn status_code(&self) -> StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response =
            log_context::scope(Some(self.id.shared()), || self.error.error_response());
        name(response.headers_mut(), &self.id);
        response
    }
}

/// What the access line says about the request, taken before it is served.
struct Access {
    started: Instant,
    method: Method,
    path: String,
    query: Option<String>,
    peer: Option<IpAddr>,
}

impl Access {
    fn of(req: &ServiceRequest) -> Access {
        Access {
            started: Instant::now(),
            method: req.method().clone(),
            path: req.path().to_owned(),
            query: Some(req.query_string())
                .filter(|q| !q.is_empty())
                .map(str::to_owned),
            peer: req.peer_addr().map(|addr| addr.ip()),
        }
    }

    /// One line per request: method, path, the route pattern it matched (none for an
    /// unknown path), the query string, status, body bytes (none when streamed),
    /// milliseconds from the request to its answer, and the peer address. Never a header,
    /// so no token is logged.
    fn log(&self, route: Option<&str>, status: StatusCode, bytes: Option<u64>) {
        let method = self.method.as_str();
        let path = self.path.as_str();
        let status = status.as_u16();
        let duration_ms = (self.started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1_000.0;
        let peer = self.peer.map(|ip| ip.to_string());
        log::info!(
            target: TARGET,
            method = method,
            path = path,
            route = route,
            query = self.query.as_deref(),
            status = status,
            bytes = bytes,
            duration_ms = duration_ms,
            peer = peer.as_deref();
            "{method} {path} {status}"
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::body::{to_bytes, BoxBody};
    use actix_web::{test, web, App};
    use serde_json::Value;

    use super::*;
    use crate::error::ApiError;

    /// The middleware around a handler that answers the id it runs under, and one that fails.
    macro_rules! app {
        () => {
            test::init_service(
                App::new()
                    .wrap(RequestLog)
                    .route(
                        "/seen",
                        web::get().to(|| async {
                            HttpResponse::Ok().body(
                                log_context::current()
                                    .map(|id| id.to_string())
                                    .unwrap_or_default(),
                            )
                        }),
                    )
                    .route(
                        "/fails",
                        web::get().to(|| async {
                            Err::<HttpResponse, _>(ApiError::invalid("size must be positive"))
                        }),
                    ),
            )
            .await
        };
    }

    fn id_of<B>(response: &ServiceResponse<B>) -> String {
        response
            .headers()
            .get("x-request-id")
            .expect("X-Request-Id")
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[actix_web::test]
    async fn the_callers_usable_id_is_answered_and_served_under() {
        let app = app!();
        let request = test::TestRequest::get()
            .uri("/seen")
            .insert_header(("X-Request-Id", "caller-42"))
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(id_of(&response), "caller-42");
        let body = to_bytes(response.into_body()).await.unwrap();
        assert_eq!(body, "caller-42", "the handler ran under the id");
    }

    #[actix_web::test]
    async fn without_a_usable_id_each_request_gets_a_new_one() {
        let app = app!();
        let refused = test::TestRequest::get()
            .uri("/seen")
            .insert_header(("X-Request-Id", "not usable"))
            .to_request();
        let first = id_of(&test::call_service(&app, refused).await);
        let second = id_of(
            &test::call_service(&app, test::TestRequest::get().uri("/seen").to_request()).await,
        );
        assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
        assert!(uuid::Uuid::parse_str(&second).is_ok(), "{second}");
        assert_ne!(first, second);
    }

    #[actix_web::test]
    async fn an_error_body_names_the_request_id() {
        let app = app!();
        let request = test::TestRequest::get()
            .uri("/fails")
            .insert_header(("X-Request-Id", "caller-43"))
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status().as_u16(), 400);
        assert_eq!(id_of(&response), "caller-43");
        let body: Value =
            serde_json::from_slice(&to_bytes(response.into_body()).await.unwrap()).unwrap();
        assert_eq!(body["request_id"], "caller-43");
    }

    #[actix_web::test]
    async fn an_error_an_inner_middleware_returns_is_answered_under_the_id() {
        let app = test::init_service(
            App::new()
                .wrap_fn(|_, _| {
                    ready(Err::<ServiceResponse<BoxBody>, Error>(
                        ApiError::MissingCredentials("no bearer token").into(),
                    ))
                })
                .wrap(RequestLog)
                .route("/seen", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let request = test::TestRequest::get()
            .uri("/seen")
            .insert_header(("X-Request-Id", "caller-45"))
            .to_request();
        let error = test::try_call_service(&app, request).await.unwrap_err();
        let response = error.error_response();
        assert_eq!(response.status().as_u16(), 401);
        assert_eq!(response.headers().get("x-request-id").unwrap(), "caller-45");
        let body: Value =
            serde_json::from_slice(&to_bytes(response.into_body()).await.unwrap()).unwrap();
        assert_eq!(body["request_id"], "caller-45");
    }

    #[actix_web::test]
    async fn an_unknown_path_still_answers_with_an_id() {
        let app = app!();
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/nowhere").to_request()).await;
        assert_eq!(response.status().as_u16(), 404);
        assert!(!id_of(&response).is_empty());
    }

    #[actix_web::test]
    async fn no_id_is_left_on_the_thread_after_a_request() {
        let app = app!();
        let request = test::TestRequest::get()
            .uri("/seen")
            .insert_header(("X-Request-Id", "caller-44"))
            .to_request();
        test::call_service(&app, request).await;
        assert_eq!(log_context::current(), None);
    }
}
