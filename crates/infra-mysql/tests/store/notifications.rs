//! The notifications projects read, written by changes.

use domain::change::ChangeBuilder;
use domain::notification::{Notification, NotificationKind};
use domain::ports::{NotificationFilter, NotificationRepository};
use infra_mysql::NotificationStore;

use crate::common::{both_backends, commit, money, order_id, page, project, region, t, TestDb};

pub(crate) fn event(
    project_id: &str,
    order: &str,
    kind: NotificationKind,
    minute: u32,
) -> Notification {
    Notification {
        kind,
        project: project(project_id),
        region: region("r1"),
        order_id: order_id(order),
        time: t(&format!("2026-02-01T00:{minute:02}:00.000001Z")),
        amount: (kind == NotificationKind::OrderRenewed).then(|| money(12_345)),
        message: format!("{} at minute {minute} ✓", kind.label()),
    }
}

/// Stores the events through one change (events alone need no order).
pub(crate) async fn notify(db: &TestDb, events: &[Notification]) {
    let mut change = ChangeBuilder::new();
    for event in events {
        change.event(event.clone());
    }
    commit(db, change).await.unwrap();
}

fn filter(project_id: &str, order: Option<&str>) -> NotificationFilter {
    NotificationFilter {
        project: project(project_id),
        order: order.map(order_id),
    }
}

both_backends!(every_event_is_stored_as_sent_newest_listed_first, |db| {
    let sent = vec![
        event("p1", "o-1", NotificationKind::OrderCreated, 1),
        event("p1", "o-1", NotificationKind::OrderRenewed, 2),
        event("p1", "o-2", NotificationKind::RenewalFailed, 3),
        event("p2", "o-3", NotificationKind::OrderEnded, 4),
        event("p1", "o-2", NotificationKind::PaymentOwed, 5),
    ];
    notify(&db, &sent).await;

    let listed = NotificationStore::new(db.db.clone())
        .list(filter("p1", None), page(1, 10))
        .await
        .unwrap();
    assert_eq!(listed.total, 4);
    let expected = vec![
        sent[4].clone(),
        sent[2].clone(),
        sent[1].clone(),
        sent[0].clone(),
    ];
    assert_eq!(
        listed.items, expected,
        "every field round-trips, newest first"
    );
});

both_backends!(notifications_filter_by_order_and_page, |db| {
    let sent: Vec<_> = (0..5)
        .map(|m| event("p1", "o-1", NotificationKind::OrderRenewed, m))
        .chain([event("p1", "o-2", NotificationKind::OrderEnding, 9)])
        .collect();
    notify(&db, &sent).await;
    let store = NotificationStore::new(db.db.clone());

    let second = store
        .list(filter("p1", Some("o-1")), page(2, 2))
        .await
        .unwrap();
    assert_eq!(second.total, 5);
    assert_eq!(second.items, vec![sent[2].clone(), sent[1].clone()]);
    let past_end = store
        .list(filter("p1", Some("o-1")), page(4, 2))
        .await
        .unwrap();
    assert_eq!((past_end.total, past_end.items.len()), (5, 0));
    let other = store.list(filter("p9", None), page(1, 2)).await.unwrap();
    assert_eq!(other.total, 0);
});

both_backends!(an_overlong_message_is_cut_not_refused, |db| {
    let mut long = event("p1", "o-1", NotificationKind::OrderEnded, 1);
    long.message = "é".repeat(2_000);
    notify(&db, &[long]).await;
    let listed = NotificationStore::new(db.db.clone())
        .list(filter("p1", None), page(1, 1))
        .await
        .unwrap();
    assert_eq!(listed.items[0].message.chars().count(), 1_024);
});
