//! Times past January 2038, and with microseconds, in every time column of every table.
//!
//! A MariaDB TIMESTAMP ends at 2038-01-19 03:14:07 UTC. Times bound as TIMESTAMP made a
//! later write fail on a NOT NULL column and store NULL, silently, in a nullable one, with
//! the cut-off moved by the session time zone. The columns are DATETIME(6); every store must
//! write and read back exactly what it was given, up to year 9999.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use domain::change::{ChangeBuilder, PaymentUpdate};
use domain::idempotency::{Idempotency, IdempotencyKey, IdempotencyRecord};
use domain::notification::{Notification, NotificationKind};
use domain::order::OrderStatus;
use domain::payment::{MoneyKeeper, PaymentId, PaymentState};
use domain::ports::{
    ConsumptionRepository, IdempotencyStore, LedgerRepository, NotificationFilter,
    NotificationRepository, OrderRepository, PaymentRepository, Provisioning, RechargeFilter,
    RenewalRepository, TaskQueue,
};
use domain::provisioning::{NewTask, Resource};
use domain::renewal::{RenewalBatch, RenewalOutcome};
use domain::Money;
use infra_mysql::{
    ConsumptionStore, IdempotencyKeys, NotificationStore, OrderStore, PaymentStore, RenewalStore,
    ResourceStore, TaskStore, WebhookOutboxStore,
};

use crate::common::{
    both_backends, closing, commit, first_charge, fund, money, open, order, order_id, page,
    project, recharge_of, run_at, t, OrderExt, StoppedClock, TestDb, PRICE,
};
use crate::renewals::prepaid_consuming;

/// The first second a TIMESTAMP cannot hold; an hour later, past the cut-off in a session
/// time zone of ±08:00 too; a leap day with microseconds; the last microsecond of 2100.
const FAR: [&str; 4] = [
    "2038-01-19T03:14:08Z",
    "2038-01-19T04:00:00Z",
    "2040-02-29T12:34:56.123456Z",
    "2100-12-31T23:59:59.999999Z",
];

/// After every time of [`FAR`] and the day after each.
const LATER: &str = "2101-01-02T00:00:00Z";

fn far(i: usize) -> DateTime<Utc> {
    t(FAR[i])
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339()
}

fn orders(db: &TestDb) -> OrderStore {
    OrderStore::new(db.db.clone())
}

/// A time column read past the stores, as UTC.
fn time_in(db: &TestDb, table: &str, column: &str, id: u64) -> Option<DateTime<Utc>> {
    db.time_in(table, column, id)
        .unwrap()
        .map(|time| time.and_utc())
}

both_backends!(
    orders_their_rows_payments_and_the_balance_keep_times_past_2038,
    |db| {
        fund(&db, "p1", 1_000_000).await;
        for (i, at) in FAR.iter().enumerate() {
            let mut o = order(&format!("o-{i}")).started(at);
            o.deadline_time = t(at) + TimeDelta::days(366);
            o.last_warned_at = Some(t(at));
            open(&db, &o, 1_000).await;
            assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(o.clone()));
            let balance = db.ledger().balance(&project("p1")).await.unwrap();
            assert_eq!(balance.updated_at, Some(t(at)), "UPDATE_TIME of the debit");

            let end = t(at) + TimeDelta::days(1);
            let (ended, change) = closing(&o, 500, &rfc3339(end));
            let end_row = change.clone().seal().unwrap().rows()[0].clone();
            commit(&db, change).await.unwrap();
            assert_eq!(ended.status, OrderStatus::Ended);
            assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(ended));
            assert_eq!(
                ConsumptionStore::new(db.db.clone())
                    .for_order(&o.id)
                    .await
                    .unwrap(),
                vec![first_charge(&o, 1_000), end_row]
            );
            let refund = PaymentStore::new(db.db.clone())
                .find(&PaymentId {
                    order: o.id.clone(),
                    seq: 2,
                })
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (
                    refund.period_from,
                    refund.period_until,
                    refund.created_at,
                    refund.settled_at,
                    refund.next_attempt_at
                ),
                (end, o.deadline_time, end, Some(end), end)
            );
            assert_eq!(
                db.ledger()
                    .balance(&project("p1"))
                    .await
                    .unwrap()
                    .updated_at,
                Some(end),
                "UPDATE_TIME of the refund"
            );
        }
    }
);

both_backends!(a_payments_attempt_and_settling_keep_times_past_2038, |db| {
    let o = order("o-1")
        .started(FAR[0])
        .kept_by(MoneyKeeper::ChargeService);
    open(&db, &o, 2_000).await;
    let id = PaymentId {
        order: o.id.clone(),
        seq: 1,
    };
    let store = PaymentStore::new(db.db.clone());
    assert!(store
        .attempted(
            PaymentUpdate {
                id: id.clone(),
                expected: PaymentState::Pending,
                state: PaymentState::Pending,
                settled_at: None,
                attempts: 1,
                next_attempt_at: far(2),
                last_error: Some("timed out".into()),
            },
            0,
        )
        .await
        .unwrap());
    assert_eq!(store.due(far(1), 10, Vec::new()).await.unwrap().len(), 0);
    assert_eq!(store.due(far(2), 10, Vec::new()).await.unwrap().len(), 1);
    let mut change = ChangeBuilder::new();
    change.payment_update(PaymentUpdate {
        id: id.clone(),
        expected: PaymentState::Pending,
        state: PaymentState::Settled,
        settled_at: Some(far(3)),
        attempts: 2,
        next_attempt_at: far(3),
        last_error: None,
    });
    commit(&db, change).await.unwrap();
    let settled = store.find(&id).await.unwrap().unwrap();
    assert_eq!(
        (settled.settled_at, settled.next_attempt_at),
        (Some(far(3)), far(3))
    );
});

both_backends!(recharges_and_balances_keep_times_past_2038, |db| {
    let ledger = db.ledger();
    for at in FAR {
        let (recharge, balance) = ledger
            .recharge(recharge_of("p1", 100, at), None)
            .await
            .unwrap();
        assert_eq!((recharge.time, balance.updated_at), (t(at), Some(t(at))));
        assert_eq!(
            ledger.balance(&project("p1")).await.unwrap().updated_at,
            Some(t(at))
        );
        let newest = ledger
            .list_recharges(&RechargeFilter::of(project("p1")), page(1, 1))
            .await
            .unwrap();
        assert_eq!(newest.items[0].time, t(at));
    }
});

fn event(order: &str, at: &str) -> Notification {
    Notification {
        kind: NotificationKind::OrderRenewed,
        project: project("p1"),
        region: crate::common::region("r1"),
        order_id: order_id(order),
        time: t(at),
        amount: Some(money(1_000)),
        message: format!("order {order} renewed"),
    }
}

fn events(prefix: &str) -> Vec<Notification> {
    FAR.iter()
        .enumerate()
        .map(|(i, at)| event(&format!("{prefix}-{i}"), at))
        .collect()
}

/// Writes `events` in one change, queued for delivery to `endpoints`.
async fn notify(db: &TestDb, endpoints: Vec<String>, events: &[Notification]) {
    use domain::ports::ChangeStore;
    let mut change = ChangeBuilder::new();
    for event in events {
        change.event(event.clone());
    }
    infra_mysql::ChangeWriter::new(db.db.clone(), endpoints)
        .commit(change.seal().unwrap())
        .await
        .unwrap();
}

both_backends!(notifications_keep_times_past_2038, |db| {
    // Without webhooks all events go in one multi-row INSERT; with them, one by one.
    let batched = events("batched");
    let single = events("single");
    notify(&db, Vec::new(), &batched).await;
    notify(&db, vec!["hook".into()], &single).await;

    let mut listed = NotificationStore::new(db.db.clone())
        .list(
            NotificationFilter {
                project: project("p1"),
                order: None,
            },
            page(1, 20),
        )
        .await
        .unwrap()
        .items;
    listed.reverse();
    assert_eq!(listed, [batched, single].concat());
});

both_backends!(webhook_deliveries_keep_times_past_2038, |db| {
    notify(&db, vec!["hook".into()], &events("o")).await;
    let outbox = WebhookOutboxStore::new(db.db.clone());
    let due = outbox.due(t(LATER), 10).await.unwrap();
    assert_eq!(due.len(), FAR.len());
    for (i, delivery) in due.iter().enumerate() {
        assert_eq!(
            time_in(&db, "DF_WEBHOOK_DELIVERY", "NEXT_ATTEMPT_AT", delivery.id),
            Some(far(i)),
            "a delivery is due when its event happened"
        );
    }
    let delivery = |i: usize| due[i].id;
    let column = |column, i| time_in(&db, "DF_WEBHOOK_DELIVERY", column, delivery(i));

    outbox
        .failed(delivery(0), Some(far(3)), "503".into())
        .await
        .unwrap();
    assert_eq!(column("NEXT_ATTEMPT_AT", 0), Some(far(3)));
    outbox.delivered(delivery(0), far(2)).await.unwrap();
    assert_eq!(column("DELIVERED_AT", 0), Some(far(2)));
    outbox.delivered(delivery(3), far(3)).await.unwrap();
    assert_eq!(column("DELIVERED_AT", 3), Some(far(3)));
    // Given up: dated when its last attempt was due.
    outbox
        .failed(delivery(1), None, "410".into())
        .await
        .unwrap();
    assert_eq!(column("GAVE_UP_AT", 1), Some(far(1)));

    let left: Vec<u64> = outbox
        .due(t(LATER), 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, [delivery(2)], "finished deliveries are not due again");
});

both_backends!(resources_keep_times_past_2038, |db| {
    let at = |time| ResourceStore::new(db.db.clone(), Arc::new(StoppedClock(time)));
    for i in 0..FAR.len() {
        let o = order(&format!("o-{i}")).named(&format!("vol-{i}"));
        let resource = Resource::of(&o).unwrap();
        let released = far(i) + TimeDelta::days(1);
        at(far(i)).provision(&resource).await.unwrap();
        at(released).release(&resource).await.unwrap();
        let found = at(released).find(&o.id).await.unwrap().unwrap();
        assert_eq!(
            (found.created_at, found.released_at),
            (far(i), Some(released))
        );
    }
});

both_backends!(resource_tasks_keep_times_past_2038, |db| {
    let queue = TaskStore::new(db.db.clone());
    for (i, at) in FAR.iter().enumerate() {
        let o = order(&format!("o-{i}")).named(&format!("vol-{i}"));
        // Queued by a change at the change's time (its event's), due at its own.
        let mut change = crate::common::opening(&o.clone().started(at), 0);
        change.event(Notification::about(
            &o,
            NotificationKind::OrderCreated,
            t(at),
            Money::ZERO,
            "opened".into(),
        ));
        change.task(NewTask::release_unless_committed(
            Resource::of(&o).unwrap(),
            far(i) + TimeDelta::days(1),
        ));
        let ids = commit(&db, change).await.unwrap();
        assert_eq!(
            time_in(&db, "DF_RESOURCE_TASK", "CREATED_AT", ids[0]),
            Some(far(i))
        );
        assert_eq!(
            time_in(&db, "DF_RESOURCE_TASK", "NEXT_ATTEMPT_AT", ids[0]),
            Some(far(i) + TimeDelta::days(1))
        );
    }
    let due = queue.due(t(LATER), 10, None).await.unwrap();
    assert_eq!(due.len(), FAR.len());
    for (i, task) in due.iter().enumerate() {
        let retry = far(i) + TimeDelta::days(2);
        assert!(queue.claim(task.id, 0, retry).await.unwrap());
        assert_eq!(
            time_in(&db, "DF_RESOURCE_TASK", "NEXT_ATTEMPT_AT", task.id),
            Some(retry)
        );
        queue.done(task.id, far(i)).await.unwrap();
        assert_eq!(
            time_in(&db, "DF_RESOURCE_TASK", "DONE_AT", task.id),
            Some(far(i))
        );
    }
    assert!(queue.due(t(LATER), 10, None).await.unwrap().is_empty());
});

both_backends!(idempotency_keys_keep_times_past_2038, |db| {
    let keys = IdempotencyKeys::new(db.db.clone());
    for (i, at) in FAR.iter().enumerate() {
        let key = IdempotencyKey::parse(&format!("k-{i}")).unwrap();
        let mut change = ChangeBuilder::new();
        change.idempotency(IdempotencyRecord {
            request: Idempotency {
                project: project("p1"),
                key: key.clone(),
                fingerprint: "sha256:x".into(),
            },
            result: "order:o-1".into(),
            at: t(at),
        });
        commit(&db, change).await.unwrap();
        let remembered = keys.find(&project("p1"), &key).await.unwrap().unwrap();
        assert_eq!(remembered.at, t(at));
    }
    assert_eq!(keys.forget(far(2)).await.unwrap(), 2);
    assert_eq!(keys.forget(t(LATER)).await.unwrap(), 2);
});

both_backends!(a_renewal_claims_and_renews_orders_due_past_2038, |db| {
    fund(&db, "p1", 100_000).await;
    // A yearly order paid until 2040 is claimed by a run in 2040, at a cut-off past
    // 2038 on both sides of the comparison.
    let mut yearly = order("o-y").started("2039-03-01T00:00:00.5Z");
    yearly.terms.cycle = domain::cycle::Cycle::Year;
    yearly.deadline_time = t("2040-03-01T00:00:00.5Z");
    open(&db, &yearly, 0).await;
    let now = t("2040-02-29T12:34:56.123456Z");
    let queue = prepaid_consuming();

    let outcome = RenewalStore::new(db.db.clone(), Vec::new())
        .renew_batch(
            RenewalBatch {
                queue,
                due_by: queue.due_by(now, &Default::default()),
                after: None,
                limit: 10,
            },
            run_at(now),
        )
        .await
        .unwrap();

    assert_eq!(outcome.decisions.len(), 1);
    assert_eq!(outcome.decisions[0].outcome, RenewalOutcome::Renewed);
    let renewed = orders(&db).find(&yearly.id).await.unwrap().unwrap();
    assert_eq!(renewed.deadline_time, t("2041-03-01T00:00:00.5Z"));
    assert_eq!(outcome.next.unwrap().deadline, yearly.deadline_time);
    let balance = db.ledger().balance(&project("p1")).await.unwrap();
    assert_eq!(balance.amount, money(100_000 - 2 * PRICE));
    assert_eq!(
        balance.updated_at,
        Some(now),
        "dated by the run's instant (its payments'), not by the renewed period's start"
    );
});
