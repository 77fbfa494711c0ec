//! Every HTTP request counted and timed, labelled by route pattern, method and status.
//! Labels take a bounded set of values whatever clients send, so a scanner cannot create
//! series: a path no route matches is `route="unmatched"`, and a method outside HTTP's
//! standard ones is `method="other"`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::Error;

pub const HTTP_REQUESTS: &str = "serviceusage_http_requests_total";
pub const HTTP_REQUEST_SECONDS: &str = "serviceusage_http_request_duration_seconds";

/// The route label of every path no route matches.
pub const UNMATCHED: &str = "unmatched";

/// The middleware (`App::wrap(from_fn(record_request))`).
pub async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let route = route_label(req.match_pattern());
    let method = method_label(req.method());
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let labels = labels(route, method, status);
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_SECONDS, &labels).record(started.elapsed().as_secs_f64());
    outcome
}

fn labels(route: String, method: &'static str, status: StatusCode) -> [(&'static str, String); 3] {
    [
        ("route", route),
        ("method", method.to_owned()),
        ("status", status.as_str().to_owned()),
    ]
}

/// The matched resource's pattern (`/usageapi/v1/orders/{orderId}`), or [`UNMATCHED`].
fn route_label(pattern: Option<String>) -> String {
    pattern.unwrap_or_else(|| UNMATCHED.to_owned())
}

fn method_label(method: &Method) -> &'static str {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    STANDARD
        .iter()
        .find(|standard| *standard == method)
        .map_or("other", Method::as_str)
}

pub(super) fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route pattern, method and status"
    );
    metrics::describe_histogram!(
        HTTP_REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "Time from a request's arrival to its answer, by route pattern, method and status"
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};

    use super::*;
    use crate::telemetry::install;

    /// The value of the sample of `name` whose labels are exactly `labels`, as rendered now.
    fn sample(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        install().render().lines().find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let inner = series
                .strip_prefix(name)?
                .strip_prefix('{')?
                .strip_suffix('}')?;
            let mut found: Vec<&str> = inner.split(',').collect();
            let mut wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
            found.sort_unstable();
            wanted.sort_unstable();
            (found == wanted).then(|| value.parse().unwrap())
        })
    }

    fn count(route: &str, method: &str, status: &str) -> f64 {
        sample(
            HTTP_REQUESTS,
            &[("route", route), ("method", method), ("status", status)],
        )
        .unwrap_or(0.0)
    }

    /// An app with one resource of a pattern no other test uses (the recorder is the
    /// process's, shared by every test).
    async fn call(prefix: &str, method: Method, path: &str) -> u16 {
        install();
        let app = test::init_service(
            App::new()
                .wrap(from_fn(record_request))
                .service(
                    web::resource(format!("/{prefix}/items/{{id}}"))
                        .route(web::get().to(|| async { HttpResponse::Ok().finish() }))
                        .route(web::post().to(|| async { HttpResponse::BadRequest().finish() })),
                )
                .default_service(web::to(|| async { HttpResponse::NotFound().finish() })),
        )
        .await;
        let request = test::TestRequest::default()
            .method(method)
            .uri(path)
            .to_request();
        test::call_service(&app, request).await.status().as_u16()
    }

    #[actix_web::test]
    async fn a_matched_request_is_labelled_by_its_pattern_not_its_path() {
        call("matched", Method::GET, "/matched/items/a1").await;
        call("matched", Method::GET, "/matched/items/b2").await;
        assert_eq!(count("/matched/items/{id}", "GET", "200"), 2.0);
        let page = install().render();
        assert!(!page.contains("a1") && !page.contains("b2"), "{page}");
        let latency = sample(
            &format!("{HTTP_REQUEST_SECONDS}_count"),
            &[
                ("route", "/matched/items/{id}"),
                ("method", "GET"),
                ("status", "200"),
            ],
        );
        assert_eq!(latency, Some(2.0));
    }

    #[actix_web::test]
    async fn the_status_label_is_the_answers_status() {
        assert_eq!(call("status", Method::POST, "/status/items/x").await, 400);
        assert_eq!(call("status", Method::DELETE, "/status/items/x").await, 405);
        assert_eq!(count("/status/items/{id}", "POST", "400"), 1.0);
        assert_eq!(count("/status/items/{id}", "DELETE", "405"), 1.0);
        assert_eq!(count("/status/items/{id}", "GET", "200"), 0.0);
    }

    #[actix_web::test]
    async fn every_unmatched_path_shares_one_label() {
        let before = count(UNMATCHED, "GET", "404");
        for path in ["/wp-admin/x1q", "/.env-x2q", "/a/b/c/x3q?y=1"] {
            assert_eq!(call("unmatched", Method::GET, path).await, 404);
        }
        // Other tests may count unmatched paths at the same time: at least these three.
        assert!(count(UNMATCHED, "GET", "404") >= before + 3.0);
        let page = install().render();
        assert!(
            !page.contains("x1q") && !page.contains("x2q") && !page.contains("x3q"),
            "{page}"
        );
    }

    #[actix_web::test]
    async fn a_method_outside_the_standard_ones_is_other() {
        let custom = Method::from_bytes(b"PROPFINDX").unwrap();
        call("methods", custom, "/methods/items/1").await;
        assert_eq!(count("/methods/items/{id}", "other", "405"), 1.0);
        assert!(!install().render().contains("PROPFINDX"));
    }

    #[actix_web::test]
    async fn labels_are_route_method_and_status() {
        assert_eq!(
            labels(
                route_label(None),
                method_label(&Method::HEAD),
                StatusCode::NOT_FOUND
            ),
            [
                ("route", "unmatched".to_owned()),
                ("method", "HEAD".to_owned()),
                ("status", "404".to_owned()),
            ]
        );
    }
}
