//! Events posted to the configured webhook, signed, retried until the receiver takes them,
//! from an outbox that survives a restart.

use chrono::Utc;

use crate::fake_platform::{Condition, Delivery, Service};

use super::harness::{
    order_id, Harness, ANN, BACKGROUND, PROJECT, QUOTA_SMALL, REGION, WEBHOOK_SECRET,
};

/// Every attempt is signed with the endpoint's secret over its timestamp and body, the
/// timestamp is about now, and the body is the event.
fn assert_signed(delivery: &Delivery) {
    assert!(
        delivery.signed_with(WEBHOOK_SECRET),
        "bad signature: {delivery:?}"
    );
    assert!(
        !delivery.signed_with("another-secret"),
        "the check itself is broken"
    );
    let timestamp = delivery.timestamp.expect("a timestamp header");
    assert!(
        (Utc::now().timestamp() - timestamp).abs() < 300,
        "timestamp {timestamp} is not about now"
    );
    assert!(delivery.delivery_id.is_some(), "{delivery:?}");
}

/// The first attempt to deliver the `order_created` event of `order` with `status`.
async fn attempt(h: &Harness, order: &str, status: u16) -> Delivery {
    let request = h
        .fakes
        .journal
        .wait_for(
            &format!("order_created of {order} answered {status}"),
            BACKGROUND,
            |r| {
                Delivery::of(r).is_some_and(|d| {
                    d.status == status
                        && d.event["kind"] == "order_created"
                        && d.event["orderId"] == order
                })
            },
        )
        .await;
    Delivery::of(&request).unwrap()
}

#[tokio::test]
async fn events_are_signed_and_retried_until_the_receiver_takes_them() {
    let h = Harness::start_with_webhooks().await;
    h.fakes.webhooks.set_condition(Condition::Failing);
    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);

    let failed = attempt(&h, &id, 503).await;
    assert_signed(&failed);
    h.fakes.webhooks.set_condition(Condition::Up);
    let delivered = attempt(&h, &id, 200).await;
    assert_signed(&delivered);
    assert_eq!(
        failed.delivery_id, delivered.delivery_id,
        "a retry is the same delivery"
    );
    let event = &delivered.event;
    assert_eq!(event["project"], PROJECT);
    assert_eq!(event["region"], REGION);
    assert!(event.get("id").is_some(), "{event}");
    assert!(h
        .fakes
        .journal
        .filter(|r| r.service == Service::Webhooks)
        .iter()
        .all(|r| r.path == "/hooks/serviceusage"));

    // Once taken, the event is not sent again.
    let mark = h.fakes.journal.len();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let again: Vec<_> = h
        .fakes
        .deliveries()
        .into_iter()
        .filter(|d| d.seq >= mark && d.event["orderId"] == id.as_str())
        .collect();
    assert!(again.is_empty(), "delivered twice: {again:?}");
}

#[tokio::test]
async fn a_delivery_pending_when_the_service_stops_is_made_after_its_restart() {
    let mut h = Harness::start_with_webhooks().await;
    h.fakes.webhooks.set_condition(Condition::Failing);
    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);
    let failed = attempt(&h, &id, 503).await;

    h.restart();
    h.fakes.webhooks.set_condition(Condition::Up);
    let delivered = attempt(&h, &id, 200).await;
    assert_signed(&delivered);
    assert_eq!(failed.delivery_id, delivered.delivery_id);
    assert_eq!(delivered.event["project"], PROJECT);
}
