//! `GET /metrics`: every metric of the process in Prometheus's text format (see
//! `docs/operations.md`). No token, like `/healthz`: the page holds counts, never a
//! project, user or token, and operators restrict who reaches it at the network (a
//! scraper on the cluster network, not the public ingress). Rendering reads the recorder
//! only; nothing is asked of the database.

use actix_web::{get, HttpResponse};

use crate::telemetry;

/// The text exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
#[utoipa::path(
    operation_id = "metrics",
    tag = "service",
    summary = "Prometheus metrics of this process (docs/operations.md lists them)",
    responses(
        (status = 200, description = "Every metric in the text exposition format.",
            content_type = "text/plain; version=0.0.4; charset=utf-8", body = String,
            example = "serviceusage_orders_created_total{region=\"cn-north-1\"} 3\n")
    )
)]
#[get("/metrics")]
pub async fn render() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(telemetry::install().render())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::{test, App};

    use super::*;

    #[actix_web::test]
    async fn metrics_are_text_for_prometheus_without_a_token() {
        telemetry::install();
        metrics::counter!("serviceusage_test_rendered_total").increment(3);
        let app = test::init_service(App::new().service(render)).await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
        assert!(
            body.lines()
                .any(|line| line == "serviceusage_test_rendered_total 3"),
            "{body}"
        );
    }
}
