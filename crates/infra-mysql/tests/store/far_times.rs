//! Times past January 2038, and with microseconds, in every time column of every table.
//!
//! A MariaDB TIMESTAMP ends at 2038-01-19 03:14:07 UTC. Times bound as TIMESTAMP made a
//! later write fail on a NOT NULL column and store NULL, silently, in a nullable one, with
//! the cut-off moved by the session time zone. The columns are DATETIME(6); every store must
//! write and read back exactly what it was given, up to year 9999.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use domain::consumption::{Consumption, ConsumptionKind};
use domain::ids::Region;
use domain::notification::{Notification, NotificationKind};
use domain::order::{Order, OrderStatus};
use domain::payment::RegionScope;
use domain::ports::{
    ConsumptionRepository, CreditQueue, LedgerRepository, NotificationFilter,
    NotificationRepository, Notifier, OrderRepository, Provisioning, ReleaseQueue,
    RenewalRepository,
};
use domain::renewal::{RenewalBatch, RenewalDecision, RenewalOutcome, RenewalRules};
use domain::Money;
use infra_mysql::{
    ConsumptionStore, CreditStore, NotificationStore, OrderStore, ReleaseStore, RenewalStore,
    ResourceStore, WebhookOutboxStore,
};

use crate::common::{
    both_backends, by_charge_service, closed_by_charge_service, closing, first_charge, fund, money,
    opening, opening_uncharged, order, order_id, page, project, recharge_of, t, OrderExt,
    StoppedClock, TestDb,
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

async fn rows_of(db: &TestDb, id: &str) -> Vec<Consumption> {
    ConsumptionStore::new(db.db.clone())
        .for_order(&order_id(id))
        .await
        .unwrap()
}

/// A time column read past the stores, as UTC.
fn time_in(db: &TestDb, table: &str, column: &str, id: u64) -> Option<DateTime<Utc>> {
    db.time_in(table, column, id)
        .unwrap()
        .map(|time| time.and_utc())
}

both_backends!(
    orders_their_rows_and_the_balance_keep_times_past_2038,
    |db| {
        fund(&db, "p1", 1_000_000).await;
        for (i, at) in FAR.iter().enumerate() {
            let mut o = order(&format!("o-{i}")).started(at);
            o.deadline_time = t(at) + TimeDelta::days(366);
            o.last_warned_at = Some(t(at));
            orders(&db).open(opening(&o, 1_000)).await.unwrap();
            assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(o.clone()));
            assert_eq!(
                db.ledger()
                    .balance(&project("p1"))
                    .await
                    .unwrap()
                    .updated_at,
                Some(t(at)),
                "UPDATE_TIME of the opening's debit"
            );

            let end = t(at) + TimeDelta::days(1);
            let closing = closing(&o, 500, &rfc3339(end));
            let ended = orders(&db).close(closing.clone()).await.unwrap();
            let mut expected = o.clone();
            expected.status = OrderStatus::Ended;
            expected.end_time = Some(end);
            expected.last_consume_id = 2;
            assert_eq!(ended, expected);
            assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(expected));
            assert_eq!(
                rows_of(&db, &format!("o-{i}")).await,
                vec![first_charge(&o, 1_000), closing.end_row]
            );
            assert_eq!(
                db.ledger()
                    .balance(&project("p1"))
                    .await
                    .unwrap()
                    .updated_at,
                Some(end),
                "UPDATE_TIME of the closing's refund"
            );
        }
    }
);

both_backends!(recharges_and_balances_keep_times_past_2038, |db| {
    let ledger = db.ledger();
    for at in FAR {
        let (recharge, balance) = ledger.recharge(recharge_of("p1", 100, at)).await.unwrap();
        assert_eq!((recharge.time, balance.updated_at), (t(at), Some(t(at))));
        assert_eq!(
            ledger.balance(&project("p1")).await.unwrap().updated_at,
            Some(t(at))
        );
        let newest = ledger
            .list_recharges(&project("p1"), page(1, 1))
            .await
            .unwrap();
        assert_eq!(newest.items[0].time, t(at));
    }
});

fn event(order: &str, at: &str) -> Notification {
    Notification {
        kind: NotificationKind::OrderRenewed,
        project: project("p1"),
        region: Region::parse("r1").unwrap(),
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

both_backends!(notifications_keep_times_past_2038, |db| {
    // Without webhooks all events go in one multi-row INSERT; with them, one by one.
    let batched = events("batched");
    let single = events("single");
    NotificationStore::new(db.db.clone())
        .notify(batched.clone())
        .await
        .unwrap();
    NotificationStore::with_webhooks(db.db.clone(), vec!["hook".into()])
        .notify(single.clone())
        .await
        .unwrap();

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
    NotificationStore::with_webhooks(db.db.clone(), vec!["hook".into()])
        .notify(events("o"))
        .await
        .unwrap();
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

both_backends!(queued_credits_keep_times_past_2038, |db| {
    for (i, at) in FAR.iter().enumerate() {
        let o = order(&format!("o-{i}"));
        orders(&db)
            .open(by_charge_service(opening(&o, 5_000)))
            .await
            .unwrap();
        orders(&db)
            .close(closed_by_charge_service(closing(&o, 100, at)))
            .await
            .unwrap();
    }
    let credits = CreditStore::new(db.db.clone());
    let due = credits.due(t(LATER), 10).await.unwrap();
    assert_eq!(due.len(), FAR.len());
    let column = |column, i: usize| time_in(&db, "DF_CREDIT_QUEUE", column, due[i].id);
    for i in 0..FAR.len() {
        assert_eq!(column("CREATED_AT", i), Some(far(i)));
        assert_eq!(column("NEXT_ATTEMPT_AT", i), Some(far(i)));
    }

    credits
        .failed(due[0].id, far(3), "503".into())
        .await
        .unwrap();
    assert_eq!(column("NEXT_ATTEMPT_AT", 0), Some(far(3)));
    for (i, credit) in due.iter().enumerate() {
        credits.delivered(credit.id, far(i)).await.unwrap();
        assert_eq!(column("DELIVERED_AT", i), Some(far(i)));
    }
    assert!(
        credits.due(t(LATER), 10).await.unwrap().is_empty(),
        "delivered credits are not due again"
    );
});

both_backends!(resources_keep_times_past_2038, |db| {
    let at = |time| ResourceStore::new(db.db.clone(), Arc::new(StoppedClock(time)));
    for i in 0..FAR.len() {
        let o = order(&format!("o-{i}")).named(&format!("vol-{i}"));
        let released = far(i) + TimeDelta::days(1);
        at(far(i)).provision(&o).await.unwrap();
        at(released).release(&o).await.unwrap();
        let found = at(released).find(&o.id).await.unwrap().unwrap();
        assert_eq!(
            (found.created_at, found.released_at),
            (far(i), Some(released))
        );
    }
});

both_backends!(queued_releases_keep_times_past_2038, |db| {
    let releases = ReleaseStore::new(db.db.clone());
    for i in 0..FAR.len() {
        let o = order(&format!("o-{i}")).named(&format!("vol-{i}"));
        orders(&db).open(opening_uncharged(&o)).await.unwrap();
        releases.enqueue(&o, far(i)).await.unwrap();
    }
    let pending = releases.pending(t(LATER), 10).await.unwrap();
    assert_eq!(pending.len(), FAR.len());
    let column = |column, i: usize| time_in(&db, "DF_RELEASE_QUEUE", column, pending[i].id);
    for (i, release) in pending.iter().enumerate() {
        assert_eq!(column("CREATED_AT", i), Some(far(i)));
        assert_eq!(column("NEXT_ATTEMPT_AT", i), Some(far(i)));
        let retry = far(i) + TimeDelta::days(1);
        releases
            .failed(release.id, retry, "503".into())
            .await
            .unwrap();
        assert_eq!(column("NEXT_ATTEMPT_AT", i), Some(retry));
        releases.done(release.id, far(i)).await.unwrap();
        assert_eq!(column("DONE_AT", i), Some(far(i)));
    }
    assert!(
        releases.pending(t(LATER), 10).await.unwrap().is_empty(),
        "done releases are not pending again"
    );
});

/// Where [`FarRules`] moves a renewed order's deadline.
const RENEWED_UNTIL: &str = "2100-12-31T23:59:59.999999Z";
/// When [`FarRules`] says every order was last warned.
const WARNED: &str = "2040-02-29T12:34:56.123456Z";

/// Ends order `o-end` at its deadline; renews every other one for one charge up to
/// [`RENEWED_UNTIL`]. Both are marked warned at [`WARNED`].
struct FarRules;

impl RenewalRules for FarRules {
    fn decide(&self, order: &Order, _available: Money) -> RenewalDecision {
        let mut after = order.clone();
        after.last_consume_id = order.last_consume_id + 1;
        after.last_warned_at = Some(t(WARNED));
        let (amount, kind, outcome) = if order.id.as_str() == "o-end" {
            after.status = OrderStatus::Ended;
            after.end_time = Some(order.deadline_time);
            (Money::ZERO, ConsumptionKind::End, RenewalOutcome::Ended)
        } else {
            after.deadline_time = t(RENEWED_UNTIL);
            (
                money(1_000),
                ConsumptionKind::Renew,
                RenewalOutcome::Renewed,
            )
        };
        let row = Consumption {
            order_id: order.id.clone(),
            consume_id: after.last_consume_id,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount,
            time: order.deadline_time,
            covered_until: after.deadline_time,
            kind,
        };
        RenewalDecision {
            before: order.clone(),
            after,
            rows: vec![row],
            events: Vec::new(),
            outcome,
        }
    }
}

/// Opens uncharged order `id`, named, due at `deadline`.
async fn due_order(db: &TestDb, id: &str, deadline: &str) -> Order {
    let mut o = order(id).named(&format!("vol-{id}"));
    o.deadline_time = t(deadline);
    o.last_consume_id = 0;
    orders(db).open(opening_uncharged(&o)).await.unwrap();
    o
}

both_backends!(
    a_renewal_batch_writes_deadlines_end_and_warning_times_past_2038,
    |db| {
        fund(&db, "p1", 100_000).await;
        let renewed = due_order(&db, "o-renew", FAR[2]).await;
        let ended = due_order(&db, "o-end", FAR[0]).await;
        let expected: Vec<RenewalDecision> = [&ended, &renewed]
            .into_iter()
            .map(|o| FarRules.decide(o, Money::ZERO))
            .collect();

        let outcome = RenewalStore::new(db.db.clone())
            .renew_batch(
                RenewalBatch {
                    queue: prepaid_consuming(),
                    regions: RegionScope::All,
                    due_by: t(LATER),
                    after: None,
                    limit: 10,
                },
                Arc::new(FarRules),
            )
            .await
            .unwrap();

        assert_eq!(outcome.decisions, expected);
        for decision in &expected {
            let id = decision.after.id.as_str();
            assert_eq!(
                orders(&db).find(&decision.after.id).await.unwrap().as_ref(),
                Some(&decision.after),
                "order {id}"
            );
            assert_eq!(rows_of(&db, id).await, decision.rows, "rows of {id}");
        }
        let balance = db.ledger().balance(&project("p1")).await.unwrap();
        assert_eq!(
            (balance.amount, balance.updated_at),
            (money(99_000), Some(far(2))),
            "debited at the latest row's time"
        );
    }
);

both_backends!(
    a_renewal_recorded_alone_writes_deadlines_end_and_warning_times_past_2038,
    |db| {
        let store = RenewalStore::new(db.db.clone());
        for (id, deadline) in [("o-renew", FAR[2]), ("o-end", FAR[0])] {
            let o = due_order(&db, id, deadline).await;
            let decision = FarRules.decide(&o, Money::ZERO);
            assert!(store.record(decision.clone()).await.unwrap());
            assert_eq!(
                orders(&db).find(&o.id).await.unwrap(),
                Some(decision.after.clone())
            );
            assert_eq!(rows_of(&db, id).await, decision.rows);
        }
    }
);
