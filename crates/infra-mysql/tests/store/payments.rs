//! Payments as the settler reads them, and its record of an attempt.

use chrono::TimeDelta;

use domain::change::{ChangeBuilder, PaymentUpdate};
use domain::ids::Region;
use domain::order::Order;
use domain::payment::{MoneyKeeper, Payment, PaymentId, PaymentState};
use domain::ports::PaymentRepository;
use infra_mysql::PaymentStore;

use crate::common::{both_backends, commit, open, order, project, region, t, OrderExt, TestDb};

fn payments(db: &TestDb) -> PaymentStore {
    PaymentStore::new(db.db.clone())
}

/// Opens charge-service order `id` in `region_name`, recording its first payment (pending,
/// created at the order's start); returns that payment.
async fn pending(db: &TestDb, id: &str, region_name: &str, start: &str) -> Payment {
    let o = order(id)
        .in_region(region_name)
        .started(start)
        .kept_by(MoneyKeeper::ChargeService);
    open(db, &o, 2_000).await;
    find(db, &o, 1).await
}

async fn find(db: &TestDb, o: &Order, seq: u32) -> Payment {
    payments(db)
        .find(&PaymentId {
            order: o.id.clone(),
            seq,
        })
        .await
        .unwrap()
        .unwrap()
}

fn moved(payment: &Payment, state: PaymentState, next: &str) -> PaymentUpdate {
    PaymentUpdate {
        id: payment.id.clone(),
        expected: payment.state,
        state,
        settled_at: None,
        attempts: payment.attempts + 1,
        next_attempt_at: t(next),
        last_error: Some("timed out".into()),
    }
}

fn ids(due: &[Payment]) -> Vec<String> {
    due.iter().map(|p| p.id.to_string()).collect()
}

both_backends!(a_payment_reads_back_as_it_was_recorded, |db| {
    let o = order("o-1").kept_by(MoneyKeeper::ChargeService);
    let mut change = crate::common::opening(&o, 2_000);
    let recorded = change.clone().seal().unwrap().payments()[0].clone();
    change.event(domain::notification::Notification::about(
        &o,
        domain::notification::NotificationKind::OrderCreated,
        o.start_time,
        domain::Money::ZERO,
        "opened".into(),
    ));
    commit(&db, change).await.unwrap();
    assert_eq!(find(&db, &o, 1).await, recorded);
    assert_eq!(recorded.state, PaymentState::Pending);
    assert_eq!(
        payments(&db)
            .find(&PaymentId {
                order: o.id.clone(),
                seq: 2
            })
            .await
            .unwrap(),
        None
    );
});

both_backends!(
    due_payments_are_the_open_ones_of_charge_services_longest_due_first,
    |db| {
        let first = pending(&db, "a", "r1", "2026-01-01T00:00:00Z").await;
        let second = pending(&db, "b", "r2", "2026-01-02T00:00:00Z").await;
        let third = pending(&db, "c", "r1", "2026-01-03T00:00:00Z").await;
        // Settled by the local ledger: never the settler's.
        crate::common::fund(&db, "p1", 2_000).await;
        open(&db, &order("d").started("2026-01-01T00:00:00Z"), 2_000).await;
        // Owed is due too; declined and settled are not.
        let mut change = ChangeBuilder::new();
        change.payment_update(moved(&second, PaymentState::Owed, "2026-01-02T00:00:00Z"));
        change.payment_update(PaymentUpdate {
            settled_at: Some(t("2026-01-03T00:00:00Z")),
            ..moved(&third, PaymentState::Settled, "2026-01-03T00:00:00Z")
        });
        commit(&db, change).await.unwrap();

        let due = payments(&db)
            .due(t("2026-02-01T00:00:00Z"), 10, Vec::new())
            .await
            .unwrap();
        assert_eq!(ids(&due), [first.id.to_string(), second.id.to_string()]);
        assert_eq!(due[1].state, PaymentState::Owed);
        assert_eq!(
            payments(&db)
                .due(t("2026-02-01T00:00:00Z"), 1, Vec::new())
                .await
                .unwrap()
                .len(),
            1,
            "limit"
        );
    }
);

both_backends!(
    a_payment_sent_again_later_waits_behind_those_due_before_it,
    |db| {
        let first = pending(&db, "a", "r1", "2026-01-01T00:00:00Z").await;
        pending(&db, "b", "r1", "2026-01-02T00:00:00Z").await;
        let owed = pending(&db, "c", "r1", "2026-01-03T00:00:00Z").await;
        let store = payments(&db);
        let retry = moved(&first, PaymentState::Pending, "2026-01-04T00:00:00Z");
        assert!(store.attempted(retry, 0).await.unwrap());
        let owed = moved(&owed, PaymentState::Owed, "2026-01-03T12:00:00Z");
        assert!(store.attempted(owed, 0).await.unwrap());

        let due = store
            .due(t("2026-02-01T00:00:00Z"), 10, Vec::new())
            .await
            .unwrap();

        assert_eq!(ids(&due), ["pay:b:1", "pay:c:1", "pay:a:1"]);
        let two = store
            .due(t("2026-02-01T00:00:00Z"), 2, Vec::new())
            .await
            .unwrap();
        assert_eq!(ids(&two), ["pay:b:1", "pay:c:1"]);
    }
);

both_backends!(a_payment_is_due_from_its_next_attempt, |db| {
    let p = pending(&db, "a", "r1", "2026-01-01T00:00:00Z").await;
    let at = p.next_attempt_at;
    assert!(payments(&db)
        .due(at - TimeDelta::microseconds(1), 10, Vec::new())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        payments(&db).due(at, 10, Vec::new()).await.unwrap().len(),
        1
    );
});

both_backends!(paused_regions_are_left_out, |db| {
    pending(&db, "a", "r1", "2026-01-01T00:00:00Z").await;
    pending(&db, "b", "r2", "2026-01-01T00:00:00Z").await;
    pending(&db, "c", "r3", "2026-01-01T00:00:00Z").await;
    let paused: Vec<Region> = vec![region("r1"), region("r3")];
    let due = payments(&db)
        .due(t("2026-02-01T00:00:00Z"), 10, paused)
        .await
        .unwrap();
    assert_eq!(ids(&due), ["pay:b:1"]);
});

both_backends!(an_attempt_is_recorded_once_per_attempt_read, |db| {
    let p = pending(&db, "a", "r1", "2026-01-01T00:00:00Z").await;
    let store = payments(&db);
    let retry = moved(&p, PaymentState::Pending, "2026-01-01T00:10:00Z");
    assert!(store.attempted(retry.clone(), 0).await.unwrap());
    assert!(
        !store.attempted(retry, 0).await.unwrap(),
        "another settler's attempt came first"
    );
    let after = store.find(&p.id).await.unwrap().unwrap();
    assert_eq!(
        (
            after.attempts,
            after.next_attempt_at,
            after.last_error.clone()
        ),
        (1, t("2026-01-01T00:10:00Z"), Some("timed out".into()))
    );
    let disputed = PaymentUpdate {
        expected: PaymentState::Settled,
        ..moved(&after, PaymentState::Disputed, "2026-01-01T00:20:00Z")
    };
    assert!(
        !store.attempted(disputed, 1).await.unwrap(),
        "guarded by the state too"
    );
    let mut long = moved(&after, PaymentState::Owed, "2026-01-02T00:00:00Z");
    long.last_error = Some("é".repeat(2_000));
    assert!(store.attempted(long, 1).await.unwrap());
    let owed = store.find(&p.id).await.unwrap().unwrap();
    assert_eq!(owed.state, PaymentState::Owed);
    assert_eq!(
        owed.last_error.unwrap().chars().count(),
        1_024,
        "cut to the column"
    );
});

both_backends!(
    unsettled_payments_are_the_owed_and_disputed_of_the_project,
    |db| {
        let owed = pending(&db, "a", "r1", "2026-01-01T00:00:00Z").await;
        let disputed = pending(&db, "b", "r1", "2026-01-02T00:00:00Z").await;
        pending(&db, "c", "r1", "2026-01-03T00:00:00Z").await;
        let other = order("d")
            .in_project("p2")
            .kept_by(MoneyKeeper::ChargeService);
        open(&db, &other, 2_000).await;
        let store = payments(&db);
        store
            .attempted(moved(&owed, PaymentState::Owed, "2026-01-05T00:00:00Z"), 0)
            .await
            .unwrap();
        store
            .attempted(
                moved(&disputed, PaymentState::Disputed, "2026-01-05T00:00:00Z"),
                0,
            )
            .await
            .unwrap();
        let other_payment = find(&db, &other, 1).await;
        store
            .attempted(
                moved(&other_payment, PaymentState::Owed, "2026-01-05T00:00:00Z"),
                0,
            )
            .await
            .unwrap();

        let unsettled = store.unsettled(&project("p1")).await.unwrap();
        assert_eq!(ids(&unsettled), ["pay:a:1", "pay:b:1"]);
        assert_eq!(
            (unsettled[0].state, unsettled[1].state),
            (PaymentState::Owed, PaymentState::Disputed)
        );
    }
);
