//! The change writer: a whole change in one transaction, or nothing at all.

use chrono::TimeDelta;

use domain::change::{ChangeBuilder, PaymentUpdate};
use domain::consumption::ConsumptionKind;
use domain::idempotency::{Idempotency, IdempotencyKey, IdempotencyRecord};
use domain::notification::{Notification, NotificationKind};
use domain::order::{Order, OrderStatus};
use domain::payment::{LedgerMove, MoneyKeeper, PaymentId, PaymentState};
use domain::ports::{
    ChangeStore, ConsumptionRepository, IdempotencyStore, LedgerRepository, NotificationFilter,
    NotificationRepository, OrderRepository, PaymentRepository, TaskQueue,
};
use domain::provisioning::{NewTask, Resource};
use domain::{Error, Money};
use infra_mysql::{
    ChangeWriter, ConsumptionStore, IdempotencyKeys, NotificationStore, OrderStore, PaymentStore,
    TaskStore, WebhookOutboxStore,
};

use crate::common::{
    balance_of, both_backends, closing, closing_into, commit, first_charge, fund, insert, money,
    open, opening, opening_into, order, order_id, page, project, t, OrderExt, TestDb,
};

fn orders(db: &TestDb) -> OrderStore {
    OrderStore::new(db.db.clone())
}

async fn find(db: &TestDb, id: &str) -> Option<Order> {
    orders(db).find(&order_id(id)).await.unwrap()
}

fn key(project_id: &str, key: &str, at: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        request: Idempotency {
            project: project(project_id),
            key: IdempotencyKey::parse(key).unwrap(),
            fingerprint: "sha256:aaaa".into(),
        },
        result: "order:o-1".into(),
        at: t(at),
    }
}

fn event(order: &Order, at: &str) -> Notification {
    Notification::about(
        order,
        NotificationKind::OrderCreated,
        t(at),
        money(2_000),
        format!("order {} opened", order.id),
    )
}

fn release(order: &Order, at: &str) -> NewTask {
    NewTask::after_change(Resource::of(order).unwrap(), t(at))
}

/// The opening of `o` with everything a change can carry: row, payment, ledger debit,
/// event, task and idempotency key.
fn full_opening(o: &Order) -> ChangeBuilder {
    let mut change = ChangeBuilder::new();
    full_opening_into(&mut change, o);
    change
}

fn full_opening_into(change: &mut ChangeBuilder, o: &Order) {
    opening_into(change, o, 2_000);
    change
        .event(event(o, "2026-01-31T08:00:01Z"))
        .task(release(o, "2026-01-31T08:00:01Z"))
        .idempotency(key("p1", "k-1", "2026-01-31T08:00:01Z"));
}

// ---- what a commit writes ----

both_backends!(a_commit_writes_every_part_of_its_change, |db| {
    fund(&db, "p1", 10_000).await;
    let o = order("o-1").named("vol-1");
    let writer = ChangeWriter::new(db.db.clone(), vec!["billing".into(), "audit".into()]);

    let tasks = writer
        .commit(full_opening(&o).seal().unwrap())
        .await
        .unwrap();

    assert_eq!(find(&db, "o-1").await, Some(o.clone()));
    let rows = ConsumptionStore::new(db.db.clone())
        .for_order(&o.id)
        .await
        .unwrap();
    assert_eq!(rows, vec![first_charge(&o, 2_000)]);
    let payment = PaymentStore::new(db.db.clone())
        .find(&PaymentId {
            order: o.id.clone(),
            seq: 1,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (payment.amount, payment.state, payment.keeper),
        (
            money(2_000),
            PaymentState::Settled,
            MoneyKeeper::LocalLedger
        )
    );
    let balance = db.ledger().balance(&project("p1")).await.unwrap();
    assert_eq!(balance.amount, money(8_000));
    assert_eq!(
        balance.updated_at,
        Some(t("2026-01-31T08:00:01Z")),
        "dated by the change's latest time"
    );
    let events = NotificationStore::new(db.db.clone())
        .list(
            NotificationFilter {
                project: project("p1"),
                order: None,
            },
            page(1, 10),
        )
        .await
        .unwrap();
    assert_eq!(events.items, vec![event(&o, "2026-01-31T08:00:01Z")]);
    let deliveries = WebhookOutboxStore::new(db.db.clone())
        .due(t("2100-01-01T00:00:00Z"), 10)
        .await
        .unwrap();
    let endpoints: Vec<&str> = deliveries.iter().map(|d| d.endpoint.as_str()).collect();
    assert_eq!(
        endpoints,
        ["billing", "audit"],
        "one per endpoint per event"
    );
    assert_eq!(tasks.len(), 1);
    let queued = TaskStore::new(db.db.clone())
        .due(t("2100-01-01T00:00:00Z"), 10, None)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].id, tasks[0]);
    assert_eq!(queued[0].resource, Resource::of(&o).unwrap());
    let remembered = IdempotencyKeys::new(db.db.clone())
        .find(&project("p1"), &IdempotencyKey::parse("k-1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(remembered.result, "order:o-1");
});

both_backends!(the_ids_of_the_queued_tasks_come_back_in_order, |db| {
    let a = order("a").named("vol-a");
    let b = order("b").named("vol-b");
    let mut change = opening(&a, 0);
    change
        .insert(b.clone())
        .row(first_charge(&b, 0))
        .task(release(&b, "2026-02-01T00:00:00Z"))
        .task(release(&a, "2026-02-01T00:00:00Z"));
    let ids = commit(&db, change).await.unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1]);
    let queued = TaskStore::new(db.db.clone())
        .due(t("2100-01-01T00:00:00Z"), 10, Some(ids.clone()))
        .await
        .unwrap();
    let names: Vec<_> = queued
        .iter()
        .map(|task| (task.id, task.resource.order_id.as_str().to_owned()))
        .collect();
    assert_eq!(names, [(ids[0], "b".to_owned()), (ids[1], "a".to_owned())]);
});

both_backends!(an_empty_change_writes_nothing_and_queues_nothing, |db| {
    let before = db.snapshot();
    assert_eq!(commit(&db, ChangeBuilder::new()).await, Ok(Vec::new()));
    assert_eq!(db.snapshot(), before);
});

// ---- nothing at all, whatever refuses ----

both_backends!(a_ledger_guard_that_refuses_writes_nothing_at_all, |db| {
    fund(&db, "p1", 1_999).await;
    let before = db.snapshot();

    let error = commit(&db, full_opening(&order("o-1"))).await.unwrap_err();

    assert_eq!(
        error,
        Error::InsufficientBalance {
            needed: money(2_000),
            available: money(1_999)
        }
    );
    assert_eq!(db.snapshot(), before);
});

both_backends!(a_duplicate_resource_name_writes_nothing_at_all, |db| {
    fund(&db, "p1", 10_000).await;
    open(&db, &order("o-0").named("vol-1"), 1_000).await;
    let before = db.snapshot();

    let error = commit(&db, full_opening(&order("o-1").named("vol-1")))
        .await
        .unwrap_err();

    assert_eq!(error, Error::DuplicateResourceName("vol-1".into()));
    assert_eq!(db.snapshot(), before);
});

both_backends!(a_stale_version_writes_nothing_at_all, |db| {
    fund(&db, "p1", 10_000).await;
    let old = order("o-0");
    open(&db, &old, 1_000).await;
    let (_, first) = closing(&old, 0, "2026-02-10T00:00:00Z");
    commit(&db, first).await.unwrap();
    let before = db.snapshot();

    // Decided from version 0, which the first closing moved on; the opening in front of it
    // in the same change must go too.
    let mut change = ChangeBuilder::new();
    full_opening_into(&mut change, &order("o-1"));
    closing_into(&mut change, &old, 500, "2026-02-11T00:00:00Z");
    let error = commit(&db, change).await.unwrap_err();

    assert!(
        matches!(&error, Error::Conflict(why) if why.contains("o-0")),
        "{error:?}"
    );
    assert_eq!(db.snapshot(), before);
});

both_backends!(a_taken_idempotency_key_writes_nothing_at_all, |db| {
    fund(&db, "p1", 10_000).await;
    commit(&db, full_opening(&order("o-0"))).await.unwrap();
    let before = db.snapshot();

    let error = commit(&db, full_opening(&order("o-1"))).await.unwrap_err();

    assert!(matches!(error, Error::DuplicateRequest(_)), "{error:?}");
    assert_eq!(db.snapshot(), before);
    // Another project may use the same key.
    fund(&db, "p2", 10_000).await;
    let other = order("o-2").in_project("p2");
    let mut change = opening(&other, 1_000);
    change.idempotency(key("p2", "k-1", "2026-01-31T08:00:01Z"));
    commit(&db, change).await.unwrap();
});

both_backends!(an_update_of_an_order_never_written_is_not_found, |db| {
    let ghost = order("ghost");
    let (_, change) = closing(&ghost, 0, "2026-02-10T00:00:00Z");
    let before = db.snapshot();
    let error = commit(&db, change).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert_eq!(db.snapshot(), before);
});

both_backends!(an_order_written_twice_is_a_conflict, |db| {
    insert(&db, &order("o-1").uncharged()).await;
    let error = commit(&db, crate::common::inserting(&order("o-1").uncharged()))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
});

// ---- several changes at once ----

both_backends!(
    changes_committed_each_are_all_written_with_their_tasks_change_by_change,
    |db| {
        fund(&db, "p1", 10_000).await;
        let (a, b) = (order("o-1").named("vol-1"), order("o-2").named("vol-2"));
        let mut changes = Vec::new();
        for o in [&a, &b] {
            let mut change = opening(o, 2_000);
            change.task(release(o, "2026-01-31T08:00:01Z"));
            changes.push(change.seal().unwrap());
        }

        let outcomes = ChangeWriter::new(db.db.clone(), Vec::new())
            .commit_each(changes)
            .await
            .unwrap();

        let tasks: Vec<Vec<u64>> = outcomes.into_iter().map(Result::unwrap).collect();
        assert_eq!(tasks.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1]);
        assert_ne!(tasks[0], tasks[1]);
        assert_eq!(find(&db, "o-1").await, Some(a));
        assert_eq!(find(&db, "o-2").await, Some(b));
        assert_eq!(balance_of(&db, "p1").await, money(6_000));
    }
);

both_backends!(
    a_change_refused_among_those_committed_each_holds_back_none_of_the_others,
    |db| {
        fund(&db, "p1", 10_000).await;
        let (stale, fresh) = (order("o-0"), order("o-1").named("vol-1"));
        open(&db, &stale, 1_000).await;
        open(&db, &fresh, 1_000).await;
        let (moved_on, first) = closing(&stale, 0, "2026-02-10T00:00:00Z");
        commit(&db, first).await.unwrap();

        // Decided from o-0's version 0, which the closing above moved on.
        let (_, late) = closing(&stale, 500, "2026-02-11T00:00:00Z");
        let (ended, closed) = closing(&fresh, 0, "2026-02-11T00:00:00Z");
        let outcomes = ChangeWriter::new(db.db.clone(), Vec::new())
            .commit_each(vec![late.seal().unwrap(), closed.seal().unwrap()])
            .await
            .unwrap();

        assert!(
            matches!(&outcomes[0], Err(Error::Conflict(why)) if why.contains("o-0")),
            "{outcomes:?}"
        );
        assert_eq!(outcomes[1], Ok(Vec::new()));
        assert_eq!(find(&db, "o-0").await, Some(moved_on));
        assert_eq!(find(&db, "o-1").await, Some(ended));
        assert_eq!(
            balance_of(&db, "p1").await,
            money(8_000),
            "no refund of o-0"
        );
    }
);

// ---- the version guard ----

both_backends!(
    two_changes_decided_from_one_version_let_exactly_one_through,
    |db| {
        fund(&db, "p1", 10_000).await;
        let o = order("o-1");
        open(&db, &o, 1_000).await;
        let tasks: Vec<_> = (0..6)
            .map(|n| {
                let writer = crate::common::writer(&db);
                let (_, change) = closing(&o, 100 + n, "2026-02-10T00:00:00Z");
                tokio::spawn(async move { writer.commit(change.seal().unwrap()).await })
            })
            .collect();
        let mut won = Vec::new();
        for (n, task) in tasks.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(_) => won.push(n as i64),
                Err(Error::Conflict(_)) => {}
                Err(other) => panic!("unexpected failure: {other:?}"),
            }
        }
        assert_eq!(won.len(), 1, "exactly one closing wins");
        let stored = find(&db, "o-1").await.unwrap();
        assert_eq!((stored.status, stored.version), (OrderStatus::Ended, 1));
        assert_eq!(
            balance_of(&db, "p1").await,
            money(10_000 - 1_000 + 100 + won[0]),
            "only the winner's refund"
        );
        let rows = ConsumptionStore::new(db.db.clone())
            .for_order(&o.id)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
    }
);

both_backends!(each_update_moves_the_version_on, |db| {
    let o = order("o-1");
    open(&db, &o, 0).await;
    let mut warned = o.clone();
    warned.last_warned_at = Some(t("2026-02-20T00:00:00Z"));
    let mut change = ChangeBuilder::new();
    change.update(&o, warned).unwrap();
    commit(&db, change).await.unwrap();
    let stored = find(&db, "o-1").await.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.last_warned_at, Some(t("2026-02-20T00:00:00Z")));
    let (ended, change) = closing(&stored, 0, "2026-02-21T00:00:00Z");
    commit(&db, change).await.unwrap();
    assert_eq!(find(&db, "o-1").await, Some(ended.clone()));
    assert_eq!(ended.version, 2);
});

// ---- names and quotas ----

both_backends!(
    a_switch_ends_the_old_order_and_opens_the_new_one_with_its_name,
    |db| {
        fund(&db, "p1", 10_000).await;
        let old = order("o-1").named("vol-1");
        open(&db, &old, 1_000).await;
        let (_, mut change) = closing(&old, 400, "2026-02-10T00:00:00Z");
        let mut new = order("o-2").named("vol-1").started("2026-02-10T00:00:00Z");
        new.replaces = Some(old.id.clone());
        new.deadline_time = t("2026-03-10T00:00:00Z");
        let mut row = first_charge(&new, 2_000);
        row.kind = ConsumptionKind::Switch;
        change
            .insert(new.clone())
            .row(row.clone())
            .payment(
                domain::payment::Payment::of_row(&new, 1, &row, false, new.start_time).unwrap(),
            )
            .ledger(LedgerMove::covered(project("p1"), money(2_000), Money::ZERO).unwrap());
        commit(&db, change).await.unwrap();
        assert_eq!(find(&db, "o-1").await.unwrap().status, OrderStatus::Ended);
        assert_eq!(find(&db, "o-2").await, Some(new));
        assert_eq!(
            balance_of(&db, "p1").await,
            money(10_000 - 1_000 + 400 - 2_000)
        );
    }
);

both_backends!(
    a_name_freed_and_taken_within_one_change_is_written_in_the_changes_order,
    |db| {
        // A pending switch target does not hold the name; once paid, the old order ends
        // (freeing it) and the target opens (taking it), both updates of one change.
        let old = order("o-1").named("vol-1");
        open(&db, &old, 0).await;
        let mut held = old.clone();
        held.replaced_by = Some(order_id("o-2"));
        let mut change = ChangeBuilder::new();
        change.update(&old, held.clone()).unwrap();
        let mut target = order("o-2").named("vol-1").uncharged();
        target.status = OrderStatus::Pending;
        target.replaces = Some(old.id.clone());
        change.insert(target.clone());
        commit(&db, change).await.unwrap();
        let held = find(&db, "o-1").await.unwrap();

        let (_, mut change) = closing(&held, 0, "2026-02-10T00:00:00Z");
        let mut opened = target.clone();
        opened.status = OrderStatus::Consuming;
        opened.last_consume_id = 1;
        change.update(&target, opened).unwrap();
        change.row(first_charge(&target, 0));
        commit(&db, change).await.unwrap();

        let resource = Resource::of(&target).unwrap();
        let holder = orders(&db).holder(&resource).await.unwrap().unwrap();
        assert_eq!(holder.id.as_str(), "o-2");
    }
);

both_backends!(
    a_project_holds_one_quota_per_region_and_a_second_is_a_conflict,
    |db| {
        let quota = |id: &str| order(id).of_type("cpuquota");
        open(&db, &quota("q-1"), 0).await;
        open(&db, &quota("q-2").in_region("r2"), 0).await;
        open(&db, &quota("q-3").in_project("p2"), 0).await;
        let before = db.snapshot();

        let error = commit(&db, opening(&quota("q-4"), 0)).await.unwrap_err();

        assert!(
            matches!(&error, Error::Conflict(why) if why.contains("quota") && why.contains("r1")),
            "{error:?}"
        );
        assert_eq!(db.snapshot(), before);
        // Once the first ends, the region's quota is free again.
        let first = find(&db, "q-1").await.unwrap();
        let (_, change) = closing(&first, 0, "2026-02-10T00:00:00Z");
        commit(&db, change).await.unwrap();
        open(&db, &quota("q-4"), 0).await;
    }
);

both_backends!(
    concurrent_quota_orders_of_one_region_let_one_through,
    |db| {
        let tasks: Vec<_> = (0..6)
            .map(|n| {
                let writer = crate::common::writer(&db);
                let change = opening(&order(&format!("q-{n}")).of_type("quota"), 0);
                tokio::spawn(async move { writer.commit(change.seal().unwrap()).await })
            })
            .collect();
        let mut opened = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => opened += 1,
                Err(Error::Conflict(_)) => {}
                Err(other) => panic!("unexpected failure: {other:?}"),
            }
        }
        assert_eq!(opened, 1);
    }
);

// ---- payments ----

both_backends!(
    a_payment_update_is_guarded_by_the_state_it_was_decided_from,
    |db| {
        let o = order("o-1").kept_by(MoneyKeeper::ChargeService);
        open(&db, &o, 2_000).await;
        let id = PaymentId {
            order: o.id.clone(),
            seq: 1,
        };
        let settle = |expected| PaymentUpdate {
            id: id.clone(),
            expected,
            state: PaymentState::Settled,
            settled_at: Some(t("2026-01-31T09:00:00Z")),
            attempts: 1,
            next_attempt_at: t("2026-01-31T09:00:00Z"),
            last_error: None,
        };
        let mut change = ChangeBuilder::new();
        change.payment_update(settle(PaymentState::Pending));
        commit(&db, change).await.unwrap();
        let before = db.snapshot();

        let mut again = ChangeBuilder::new();
        again
            .payment_update(settle(PaymentState::Pending))
            .event(event(&o, "2026-01-31T09:00:00Z"));
        let error = commit(&db, again).await.unwrap_err();

        assert!(matches!(error, Error::Conflict(_)), "{error:?}");
        assert_eq!(db.snapshot(), before);
        let payment = PaymentStore::new(db.db.clone())
            .find(&id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(payment.state, PaymentState::Settled);
        assert_eq!(payment.settled_at, Some(t("2026-01-31T09:00:00Z")));
        assert_eq!(payment.attempts, 1);
    }
);

both_backends!(a_payment_number_recorded_twice_is_a_conflict, |db| {
    let o = order("o-1").kept_by(MoneyKeeper::ChargeService);
    open(&db, &o, 2_000).await;
    let before = db.snapshot();
    // A decision that numbers its payment from a stale payment_seq: the order's version
    // matches, but payment #1 is already recorded.
    let mut after = o.clone();
    after.last_consume_id = 2;
    let row = domain::consumption::Consumption {
        consume_id: 2,
        kind: ConsumptionKind::Renew,
        ..first_charge(&o, 2_000)
    };
    let mut change = ChangeBuilder::new();
    change.update(&o, after.clone()).unwrap();
    change.row(row.clone());
    change.payment(domain::payment::Payment::of_row(&after, 1, &row, false, o.start_time).unwrap());

    let error = commit(&db, change).await.unwrap_err();

    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    assert_eq!(db.snapshot(), before);
});

// ---- tasks ----

both_backends!(
    a_change_cancels_a_task_that_has_not_run_and_it_is_never_due,
    |db| {
        let o = order("o-1").named("vol-1");
        let tasks = TaskStore::new(db.db.clone());
        let net = tasks
            .enqueue(NewTask::release_unless_committed(
                Resource::of(&o).unwrap(),
                t("2026-01-31T08:05:00Z"),
            ))
            .await
            .unwrap();
        let mut change = opening(&o, 0);
        change.cancel_task(net);
        commit(&db, change).await.unwrap();
        assert!(tasks
            .due(t("2100-01-01T00:00:00Z"), 10, None)
            .await
            .unwrap()
            .is_empty());
        assert!(!tasks.cancel(net).await.unwrap(), "cancelled once");
    }
);

both_backends!(a_change_that_cancels_a_claimed_task_fails_whole, |db| {
    fund(&db, "p1", 10_000).await;
    let o = order("o-1").named("vol-1");
    let tasks = TaskStore::new(db.db.clone());
    let net = tasks
        .enqueue(NewTask::release_unless_committed(
            Resource::of(&o).unwrap(),
            t("2026-01-31T08:05:00Z"),
        ))
        .await
        .unwrap();
    assert!(tasks
        .claim(net, 0, t("2026-01-31T08:06:00Z"))
        .await
        .unwrap());
    let before = db.snapshot();

    let mut change = full_opening(&o);
    change.cancel_task(net);
    let error = commit(&db, change).await.unwrap_err();

    assert!(
        matches!(&error, Error::Conflict(why) if why.contains("already ran")),
        "{error:?}"
    );
    assert_eq!(db.snapshot(), before);
});

// ---- events ----

both_backends!(
    without_webhooks_events_are_stored_and_nothing_is_queued,
    |db| {
        let o = order("o-1");
        let mut change = opening(&o, 0);
        change
            .event(event(&o, "2026-01-31T08:00:00Z"))
            .event(event(&o, "2026-01-31T08:00:01Z"));
        commit(&db, change).await.unwrap();
        assert_eq!(db.count("DF_NOTIFICATION"), 2);
        assert_eq!(db.count("DF_WEBHOOK_DELIVERY"), 0);
    }
);

both_backends!(a_delivery_is_due_when_its_event_happened, |db| {
    let o = order("o-1");
    let mut change = opening(&o, 0);
    change.event(event(&o, "2026-01-31T08:00:00Z"));
    ChangeWriter::new(db.db.clone(), vec!["hook".into()])
        .commit(change.seal().unwrap())
        .await
        .unwrap();
    let outbox = WebhookOutboxStore::new(db.db.clone());
    let at = t("2026-01-31T08:00:00Z");
    assert!(outbox
        .due(at - TimeDelta::microseconds(1), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(outbox.due(at, 10).await.unwrap().len(), 1);
});
