//! The queues' depths the server's gauges show: orders overdue for renewal, open payments,
//! resource tasks not done, webhook deliveries pending.

use chrono::TimeDelta;

use domain::change::ChangeBuilder;
use domain::notification::{Notification, NotificationKind};
use domain::order::OrderStatus;
use domain::payment::{MoneyKeeper, PaymentDirection, PaymentState};
use domain::plan::ChargingMode;
use domain::ports::{ChangeStore, TaskQueue};
use domain::provisioning::{NewTask, Resource, TaskAction};
use domain::renewal::RenewalQueue;
use infra_mysql::{ChangeWriter, Depth, QueueStats, TaskStore, WebhookOutboxStore};

use crate::common::{both_backends, closing, insert, money, open, order, t, OrderExt, TestDb};

const NOW: &str = "2026-03-01T00:00:00Z";

fn stats(db: &TestDb) -> QueueStats {
    QueueStats::new(db.db.clone())
}

fn queue(mode: ChargingMode, status: OrderStatus) -> RenewalQueue {
    RenewalQueue { mode, status }
}

both_backends!(orders_overdue_are_those_before_their_queues_instant, |db| {
    let now = t(NOW);
    let second = TimeDelta::seconds(1);
    let due = |id: &str, deadline| order(id).uncharged().due_at(deadline);
    let late = due("late", now - second);
    let on_time = due("on-time", now);
    let mut postpaid = due("postpaid", now - second);
    postpaid.mode = ChargingMode::Postpaid;
    let mut ending = due("ending", now - TimeDelta::days(30));
    ending.status = OrderStatus::Ending;
    let mut pending = due("pending", now - TimeDelta::days(30));
    pending.status = OrderStatus::Pending;
    for each in [&late, &on_time, &postpaid, &ending, &pending] {
        insert(&db, each).await;
    }
    let cutoffs = vec![
        (queue(ChargingMode::Prepaid, OrderStatus::Consuming), now),
        (queue(ChargingMode::Postpaid, OrderStatus::Consuming), now),
        (queue(ChargingMode::Prepaid, OrderStatus::Ending), now),
    ];
    let stats = stats(&db);
    assert_eq!(stats.overdue_orders(cutoffs.clone(), 100).await.unwrap(), 3);
    assert_eq!(
        stats.overdue_orders(cutoffs.clone(), 2).await.unwrap(),
        2,
        "capped"
    );
    let earlier = vec![(
        queue(ChargingMode::Prepaid, OrderStatus::Consuming),
        now - second,
    )];
    assert_eq!(stats.overdue_orders(earlier, 100).await.unwrap(), 0);
    assert_eq!(stats.overdue_orders(Vec::new(), 100).await.unwrap(), 0);
});

both_backends!(an_empty_store_has_every_queue_at_zero, |db| {
    let backlog = stats(&db).backlog().await.unwrap();
    assert_eq!(backlog.payments.len(), 4, "{backlog:?}");
    assert!(backlog
        .payments
        .iter()
        .all(|(_, _, d)| *d == Depth::default()));
    assert_eq!(
        backlog.tasks,
        [
            (TaskAction::Release, Depth::default()),
            (TaskAction::SyncQuota, Depth::default())
        ]
    );
    assert_eq!(backlog.webhooks, Depth::default());
});

both_backends!(
    open_payments_count_by_state_and_direction_from_when_recorded,
    |db| {
        let remote = order("o-1").uncharged().kept_by(MoneyKeeper::ChargeService);
        // Recorded pending: a deduction at its start, then the refund of its closing.
        let mut opened = remote.clone();
        opened.last_consume_id = 1;
        opened.payment_seq = 1;
        open(&db, &opened, 1_000).await;
        let (_, change) = closing(&opened, 400, "2026-02-10T00:00:00Z");
        ChangeWriter::new(db.db.clone(), Vec::new())
            .commit(change.seal().unwrap())
            .await
            .unwrap();

        let backlog = stats(&db).backlog().await.unwrap();
        let depth = |state, direction| {
            backlog
                .payments
                .iter()
                .find(|(s, d, _)| *s == state && *d == direction)
                .map(|(_, _, depth)| *depth)
                .unwrap()
        };
        assert_eq!(
            depth(PaymentState::Pending, PaymentDirection::Deduction),
            Depth {
                count: 1,
                oldest: Some(opened.start_time)
            }
        );
        assert_eq!(
            depth(PaymentState::Pending, PaymentDirection::Credit),
            Depth {
                count: 1,
                oldest: Some(t("2026-02-10T00:00:00Z"))
            }
        );
        assert_eq!(
            depth(PaymentState::Owed, PaymentDirection::Deduction),
            Depth::default()
        );
    }
);

both_backends!(tasks_not_done_count_by_action_until_done, |db| {
    let tasks = TaskStore::new(db.db.clone());
    let resource = Resource::of(&order("o-1").named("vol-1")).unwrap();
    let id = tasks
        .enqueue(NewTask::release_unless_committed(resource, t(NOW)))
        .await
        .unwrap();
    let backlog = stats(&db).backlog().await.unwrap();
    assert_eq!(
        backlog.tasks[0],
        (
            TaskAction::Release,
            Depth {
                count: 1,
                oldest: Some(t(NOW))
            }
        )
    );
    assert_eq!(backlog.tasks[1], (TaskAction::SyncQuota, Depth::default()));
    tasks.done(id, t(NOW)).await.unwrap();
    assert_eq!(
        stats(&db).backlog().await.unwrap().tasks[0].1,
        Depth::default()
    );
});

both_backends!(
    pending_deliveries_count_from_their_event_until_delivered,
    |db| {
        let opened = order("o-1");
        let event_time = t("2026-02-01T00:00:00Z");
        let mut change = ChangeBuilder::new();
        change.insert(opened.clone().uncharged());
        change.event(Notification::about(
            &opened,
            NotificationKind::OrderCreated,
            event_time,
            money(0),
            "opened".into(),
        ));
        ChangeWriter::new(db.db.clone(), vec!["hook-a".into(), "hook-b".into()])
            .commit(change.seal().unwrap())
            .await
            .unwrap();
        let pending = stats(&db).backlog().await.unwrap().webhooks;
        assert_eq!(
            pending,
            Depth {
                count: 2,
                oldest: Some(event_time)
            }
        );
        let outbox = WebhookOutboxStore::new(db.db.clone());
        for delivery in outbox.due(t(NOW), 10).await.unwrap() {
            outbox.delivered(delivery.id, t(NOW)).await.unwrap();
        }
        assert_eq!(
            stats(&db).backlog().await.unwrap().webhooks,
            Depth::default()
        );
    }
);
