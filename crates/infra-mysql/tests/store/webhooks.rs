//! The webhook outbox: deliveries queued with the events of a change, handed out when due,
//! retried, delivered or given up.

use chrono::TimeDelta;

use domain::change::ChangeBuilder;
use domain::notification::{Notification, NotificationKind};
use domain::ports::{ChangeStore, NotificationFilter, NotificationRepository};
use infra_mysql::{ChangeWriter, NotificationStore, WebhookDelivery, WebhookOutboxStore};

use crate::common::{both_backends, page, project, t, TestDb};
use crate::notifications::event;

const LATER: &str = "2100-01-01T00:00:00Z";

fn created(order: &str, minute: u32) -> Notification {
    event("p1", order, NotificationKind::OrderCreated, minute)
}

/// Writes the events through a change queued for delivery to `endpoints`.
async fn notify(db: &TestDb, endpoints: &[&str], events: &[Notification]) -> domain::Result<()> {
    let mut change = ChangeBuilder::new();
    for event in events {
        change.event(event.clone());
    }
    ChangeWriter::new(
        db.db.clone(),
        endpoints.iter().map(|e| (*e).to_owned()).collect(),
    )
    .commit(change.seal()?)
    .await
    .map(drop)
}

fn outbox(db: &TestDb) -> WebhookOutboxStore {
    WebhookOutboxStore::new(db.db.clone())
}

async fn pending(db: &TestDb) -> Vec<WebhookDelivery> {
    outbox(db).due(t(LATER), 100).await.unwrap()
}

fn endpoints_and_orders(deliveries: &[WebhookDelivery]) -> Vec<(&str, &str)> {
    deliveries
        .iter()
        .map(|d| (d.endpoint.as_str(), d.notification.order_id.as_str()))
        .collect()
}

both_backends!(each_event_is_queued_for_every_endpoint, |db| {
    let sent = vec![created("o-1", 1), created("o-2", 2)];
    notify(&db, &["billing", "audit"], &sent).await.unwrap();

    let due = pending(&db).await;
    assert_eq!(
        endpoints_and_orders(&due),
        [
            ("billing", "o-1"),
            ("audit", "o-1"),
            ("billing", "o-2"),
            ("audit", "o-2")
        ],
        "oldest first"
    );
    assert!(due.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(due[0].notification, sent[0], "the notification as stored");
    assert_eq!(due[3].notification, sent[1]);
    assert_eq!(due[0].notification_id, due[1].notification_id);
    assert_ne!(due[1].notification_id, due[2].notification_id);
    assert!(due.iter().all(|d| d.attempts == 0));

    let listed = NotificationStore::new(db.db.clone())
        .list(
            NotificationFilter {
                project: project("p1"),
                order: None,
            },
            page(1, 10),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 2, "each notification stored once");
});

both_backends!(without_webhooks_nothing_is_queued, |db| {
    notify(&db, &[], &[created("o-1", 1)]).await.unwrap();
    assert!(pending(&db).await.is_empty());
});

both_backends!(
    an_event_whose_deliveries_cannot_be_queued_is_not_stored,
    |db| {
        db.execute("DROP TABLE DF_WEBHOOK_DELIVERY").unwrap();

        assert!(notify(&db, &["billing"], &[created("o-1", 1)])
            .await
            .is_err());

        assert_eq!(db.count("DF_NOTIFICATION"), 0);
    }
);

both_backends!(a_delivery_is_due_from_its_events_time, |db| {
    notify(&db, &["billing"], &[created("o-1", 1), created("o-2", 5)])
        .await
        .unwrap();
    let at = t("2026-02-01T00:01:00.000001Z");
    assert!(outbox(&db)
        .due(at - TimeDelta::microseconds(1), 10)
        .await
        .unwrap()
        .is_empty());
    let due = outbox(&db).due(at, 10).await.unwrap();
    assert_eq!(endpoints_and_orders(&due), [("billing", "o-1")]);
    assert_eq!(
        outbox(&db).due(t(LATER), 1).await.unwrap().len(),
        1,
        "limit"
    );
});

both_backends!(a_delivered_delivery_is_not_due_again, |db| {
    notify(&db, &["billing", "audit"], &[created("o-1", 1)])
        .await
        .unwrap();
    let first = pending(&db).await[0].id;

    outbox(&db).delivered(first, t(LATER)).await.unwrap();

    let left = pending(&db).await;
    assert_eq!(endpoints_and_orders(&left), [("audit", "o-1")]);
});

both_backends!(a_failed_attempt_is_counted_and_retried_later, |db| {
    notify(&db, &["billing"], &[created("o-1", 1)])
        .await
        .unwrap();
    let id = pending(&db).await[0].id;
    let retry = t("2026-02-01T01:00:00Z");

    outbox(&db)
        .failed(id, Some(retry), "HTTP 503".into())
        .await
        .unwrap();

    assert!(outbox(&db)
        .due(retry - TimeDelta::seconds(1), 10)
        .await
        .unwrap()
        .is_empty());
    let again = outbox(&db).due(retry, 10).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts), (id, 1));
});

both_backends!(a_given_up_delivery_is_never_due_again, |db| {
    notify(&db, &["billing"], &[created("o-1", 1)])
        .await
        .unwrap();
    let id = pending(&db).await[0].id;

    outbox(&db)
        .failed(id, None, "x".repeat(5_000))
        .await
        .unwrap();
    outbox(&db)
        .failed(id, Some(t("2026-02-02T00:00:00Z")), "late".into())
        .await
        .unwrap();

    assert!(pending(&db).await.is_empty());
});
