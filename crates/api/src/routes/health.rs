//! `GET /healthz`: whether the database answers. No token needed, so load balancers and
//! orchestrators can call it.

use actix_web::{get, web, HttpResponse};

use crate::envelope::ok_empty;
use crate::error::ApiError;
use crate::openapi::responses::Unavailable;
use crate::startup::AppState;

/// `GET /healthz`.
#[utoipa::path(
    operation_id = "healthz",
    tag = "service",
    summary = "Liveness: whether the database answers",
    responses(
        (status = 200, description = "The database answers.",
            body = crate::envelope::Done, example = json!({"code": 0, "msg": "OK"})),
        (status = 503, response = Unavailable)
    )
)]
#[get("/healthz")]
pub async fn check(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Whatever the store's failure, for a health check it means "not serving".
    state.health.ping().await.map_err(|error| match error {
        domain::Error::Unavailable(cause) => domain::Error::Unavailable(cause),
        other => domain::Error::Unavailable(other.to_string()),
    })?;
    Ok(ok_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use actix_web::{test, App};
    use domain::ports::MockStoreHealth;
    use serde_json::{json, Value};

    use super::*;
    use crate::routes::serve;
    use crate::test_support::{app_state, MockPorts};

    fn state(ping: domain::Result<()>) -> web::Data<AppState> {
        let mut health = MockStoreHealth::new();
        health.expect_ping().returning(move || ping.clone());
        app_state(MockPorts::default(), Arc::new(health))
    }

    async fn healthz(ping: domain::Result<()>) -> (u16, Value) {
        let app = test::init_service(serve(App::new().app_data(state(ping)))).await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
        let status = response.status().as_u16();
        (status, test::read_body_json(response).await)
    }

    #[actix_web::test]
    async fn healthz_is_200_when_the_store_answers() {
        assert_eq!(
            healthz(Ok(())).await,
            (200, json!({"code": 0, "msg": "OK"}))
        );
    }

    #[actix_web::test]
    async fn healthz_is_503_3304_when_the_store_does_not_answer() {
        let down = Err(domain::Error::Unavailable(
            "connection refused to db:3306".into(),
        ));
        assert_eq!(
            healthz(down).await,
            (503, json!({"code": 3304, "msg": "storage unavailable"}))
        );
    }

    #[actix_web::test]
    async fn healthz_is_503_3304_whatever_the_store_error() {
        let broken = Err(domain::Error::Internal("unexpected".into()));
        assert_eq!(
            healthz(broken).await,
            (503, json!({"code": 3304, "msg": "storage unavailable"}))
        );
    }
}
