//! `GET /readyz`: whether this instance should get traffic (`/healthz` stays the liveness
//! probe). No token, like `/healthz`. It answers 503 in the envelope
//!
//! - 3304 while the database does not answer, or its schema lacks a migration of this
//!   build (another process may still be applying them);
//! - 3320 while a region's charge service is down: the settler's breaker for the region is
//!   open, after `payments.breaker_failures` unknown outcomes in a row, for
//!   `payments.breaker_pause_seconds`. A region whose money the charge service keeps
//!   cannot take a new order's payment then.
//!
//! Cheap enough for a probe every second: one `SELECT 1`, the migrations table until it is
//! found current (never again after), and the breakers in memory. It sends nothing to a
//! platform service: the settler's own traffic is the probe.

use actix_web::{get, web, HttpResponse};

use crate::envelope::ok_empty;
use crate::error::ApiError;
use crate::openapi::responses::Unavailable;
use crate::startup::AppState;

/// `GET /readyz`.
#[utoipa::path(
    operation_id = "readyz",
    tag = "service",
    summary = "Readiness: the database answers with a current schema and no region's charge service is paused",
    responses(
        (status = 200, description = "Ready for traffic.",
            body = crate::envelope::Done, example = json!({"code": 0, "msg": "OK"})),
        (status = 503, response = Unavailable)
    )
)]
#[get("/readyz")]
pub async fn check(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Whatever the store's failure, for a readiness check it means "not serving".
    let unavailable = |error: domain::Error| match error {
        domain::Error::Unavailable(cause) => domain::Error::Unavailable(cause),
        other => domain::Error::Unavailable(other.to_string()),
    };
    state.health.ping().await.map_err(unavailable)?;
    if !state.health.schema_current().await.map_err(unavailable)? {
        return Err(domain::Error::Unavailable(
            "the database schema lacks migrations of this build".into(),
        )
        .into());
    }
    let paused = state.usecases.paused_regions();
    if !paused.is_empty() {
        let regions: Vec<&str> = paused.iter().map(|region| region.as_str()).collect();
        return Err(domain::Error::DependencyUnavailable(format!(
            "the charge service of {} is paused after unknown outcomes in a row",
            regions.join(", ")
        ))
        .into());
    }
    Ok(ok_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use actix_web::{test, App};
    use chrono::{TimeZone, Utc};
    use domain::ids::{PlanId, ProjectId, Quantity, Region};
    use domain::policy::BillingPolicy;
    use domain::ports::{MockIdempotencyStore, MockStoreHealth};
    use domain::testing::{money, principal, ChargeAnswer, Harness, PlanBuilder};
    use domain::usecases::{CreateOrderRequest, UseCases};
    use serde_json::{json, Value};

    use super::*;
    use crate::routes::serve;
    use crate::test_support::{app_state, MockPorts};

    fn health(ping: domain::Result<()>, current: domain::Result<bool>) -> Arc<MockStoreHealth> {
        let mut health = MockStoreHealth::new();
        health.expect_ping().returning(move || ping.clone());
        health
            .expect_schema_current()
            .returning(move || current.clone());
        Arc::new(health)
    }

    async fn readyz(state: web::Data<AppState>) -> (u16, Value) {
        let app = test::init_service(serve(App::new().app_data(state))).await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
        let status = response.status().as_u16();
        (status, test::read_body_json(response).await)
    }

    fn storage_unavailable() -> (u16, Value) {
        (503, json!({"code": 3304, "msg": "storage unavailable"}))
    }

    #[actix_web::test]
    async fn ready_when_the_store_answers_with_a_current_schema_and_no_region_is_paused() {
        let mut mocks = MockPorts::default();
        mocks
            .clock
            .expect_now()
            .return_const(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
        let state = app_state(mocks, health(Ok(()), Ok(true)));
        assert_eq!(readyz(state).await, (200, json!({"code": 0, "msg": "OK"})));
    }

    #[actix_web::test]
    async fn not_ready_while_the_store_does_not_answer() {
        let down = Err(domain::Error::Unavailable("connection refused".into()));
        let state = app_state(MockPorts::default(), health(down, Ok(true)));
        assert_eq!(readyz(state).await, storage_unavailable());
    }

    #[actix_web::test]
    async fn not_ready_while_migrations_are_missing() {
        let state = app_state(MockPorts::default(), health(Ok(()), Ok(false)));
        assert_eq!(readyz(state).await, storage_unavailable());
        let failing = Err(domain::Error::Internal("no such table".into()));
        let state = app_state(MockPorts::default(), health(Ok(()), failing));
        assert_eq!(readyz(state).await, storage_unavailable());
    }

    /// Use cases whose settler paused `cn-north-1` after its charge service's outcomes
    /// were unknown five times in a row (three creates, each asked twice but the last).
    async fn paused_region() -> UseCases {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let region = Region::parse("cn-north-1").unwrap();
        let policy = BillingPolicy {
            charge_regions: vec![region.clone()],
            ..BillingPolicy::default()
        };
        let plan = PlanBuilder::default().id("cpu").plan_type("gpu").build();
        let harness = Harness::new(policy, vec![plan], now);
        let project = ProjectId::parse("demo").unwrap();
        harness.charging.fund(&project, money("500"));
        harness
            .charging
            .script([ChargeAnswer::TimeOutBeforeTaking; 5]);
        for _ in 0..3 {
            let request = CreateOrderRequest {
                project: project.clone(),
                plan_id: PlanId::parse("cpu").unwrap(),
                quantities: Quantity::ONE,
                region: None,
                resource_name: None,
                replaces: None,
                dry_run: false,
                idempotency: None,
            };
            harness
                .usecases
                .create_order(&principal("alice"), request)
                .await
                .unwrap();
        }
        assert_eq!(harness.usecases.paused_regions(), [region]);
        harness.usecases
    }

    #[actix_web::test]
    async fn not_ready_while_a_regions_charge_service_is_paused() {
        let state = web::Data::new(AppState {
            usecases: paused_region().await,
            health: health(Ok(()), Ok(true)),
            idempotency: Arc::new(MockIdempotencyStore::new()),
        });
        assert_eq!(
            readyz(state).await,
            (
                503,
                json!({"code": 3320, "msg": "a platform service is unavailable"})
            )
        );
    }
}
