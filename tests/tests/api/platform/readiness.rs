//! `/readyz` while the region's charge service is down: after five unknown outcomes in a
//! row the settler pauses the region, and the instance is not ready (503 / 3320) while
//! `/healthz` stays 200; `/metrics` shows the failed calls and the payments left open.

use serde_json::json;

use crate::fake_platform::Condition;
use crate::metrics::{metrics, metrics_once, readyz};

use super::harness::{Harness, ANN, REGION};

#[tokio::test]
async fn not_ready_while_a_regions_charge_service_is_down() {
    let h = Harness::start().await;
    assert_eq!(readyz(&h.app).await, (200, json!({"code": 0, "msg": "OK"})));

    h.fakes.charge.set_condition(Condition::Failing);
    // Each create asks twice (the second at once): the fifth unknown outcome pauses the
    // region, and the sixth is not sent.
    for name in ["data-1", "data-2", "data-3"] {
        h.create_volume(ANN, name).await.expect(202, 0);
    }
    let (status, body) = readyz(&h.app).await;
    assert_eq!(
        (status, &body["code"], &body["msg"]),
        (
            503,
            &json!(3320),
            &json!("a platform service is unavailable")
        ),
        "{body}"
    );
    let health = reqwest::get(h.app.url("/healthz")).await.unwrap();
    assert_eq!(
        health.status(),
        200,
        "liveness does not follow the platform"
    );

    let page = metrics(&h.app).await;
    let unknown = page
        .value(
            "serviceusage_charge_payments_total",
            &[
                ("region", REGION),
                ("direction", "deduction"),
                ("answer", "unknown"),
            ],
        )
        .unwrap();
    assert!(unknown >= 5.0, "{unknown}");
    assert_eq!(
        page.value(
            "serviceusage_remote_requests_total",
            &[("service", "charge"), ("outcome", "unavailable")]
        ),
        Some(unknown),
        "one request per answer"
    );
    assert_eq!(
        page.value(
            "serviceusage_charge_payments_total",
            &[
                ("region", REGION),
                ("direction", "deduction"),
                ("answer", "taken")
            ]
        ),
        None
    );
    let pending = [("state", "pending"), ("direction", "deduction")];
    let page = metrics_once(&h.app, "three open payments", |page| {
        page.value("serviceusage_payments_open", &pending) == Some(3.0)
    })
    .await;
    let age = page
        .value("serviceusage_payments_open_oldest_age_seconds", &pending)
        .unwrap();
    assert!(age > 0.0, "{age}");
}
