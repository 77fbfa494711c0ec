//! Orders whose money a charge service keeps: the store writes the rows, leaves its ledger
//! alone and queues what is owed back in the same transaction.

use domain::consumption::{Consumption, ConsumptionKind};
use domain::ledger::Balance;
use domain::order::OrderStatus;
use domain::payment::{MoneyKeeper, PaymentReason};
use domain::ports::{
    ConsumptionRepository, CreditQueue, LedgerRepository, OrderOpening, OrderRepository,
    QueuedCredit,
};
use domain::Error;
use infra_mysql::{ConsumptionStore, CreditStore, OrderStore};

use crate::common::{
    both_backends, by_charge_service, closed_by_charge_service, closing, first_charge, fund, money,
    opening, order, order_id, project, refund_credit, t, OrderExt, TestDb,
};

const END: &str = "2026-02-10T10:00:00.654321Z";

fn orders(db: &TestDb) -> OrderStore {
    OrderStore::new(db.db.clone())
}

fn credits(db: &TestDb) -> CreditStore {
    CreditStore::new(db.db.clone())
}

async fn balance_of(db: &TestDb) -> Balance {
    db.ledger().balance(&project("p1")).await.unwrap()
}

async fn rows_of(db: &TestDb, id: &str) -> Vec<Consumption> {
    ConsumptionStore::new(db.db.clone())
        .for_order(&order_id(id))
        .await
        .unwrap()
}

/// Every credit queued so far, due or not.
async fn queued(db: &TestDb) -> Vec<QueuedCredit> {
    credits(db)
        .due(t("2100-01-01T00:00:00Z"), 100)
        .await
        .unwrap()
}

both_backends!(
    opening_by_a_charge_service_writes_the_order_and_row_but_no_debit,
    |db| {
        fund(&db, "p1", 100_000).await;
        let before = balance_of(&db).await;
        let o = order("o-1").named("vol-1");

        orders(&db)
            .open(by_charge_service(opening(&o, 30_000)))
            .await
            .unwrap();

        assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(o.clone()));
        assert_eq!(rows_of(&db, "o-1").await, vec![first_charge(&o, 30_000)]);
        assert_eq!(balance_of(&db).await, before);
    }
);

both_backends!(opening_by_a_charge_service_needs_no_local_balance, |db| {
    let o = order("o-1");
    orders(&db)
        .open(by_charge_service(opening(&o, 30_000)))
        .await
        .unwrap();
    let balance = balance_of(&db).await;
    assert_eq!((balance.amount, balance.updated_at), (money(0), None));
});

both_backends!(
    closing_by_a_charge_service_queues_the_refund_and_leaves_the_balance,
    |db| {
        fund(&db, "p1", 100_000).await;
        let o = order("o-1");
        orders(&db)
            .open(by_charge_service(opening(&o, 30_000)))
            .await
            .unwrap();
        let before = balance_of(&db).await;

        let end = closed_by_charge_service(closing(&o, 12_500, END));
        let ended = orders(&db).close(end.clone()).await.unwrap();

        assert_eq!(ended.status, OrderStatus::Ended);
        assert_eq!(balance_of(&db).await, before);
        assert_eq!(rows_of(&db, "o-1").await[1], end.end_row);
        let due = credits(&db).due(t(END), 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(
            due[0].payment,
            end.credit.unwrap(),
            "every field round-trips"
        );
        assert_eq!(due[0].attempts, 0);
        assert_eq!(
            due[0].payment.reason,
            PaymentReason {
                order: o.id.clone(),
                consume_id: 2
            }
        );
        let earlier = t(END) - chrono::TimeDelta::microseconds(1);
        assert!(
            credits(&db).due(earlier, 10).await.unwrap().is_empty(),
            "due from the end time on"
        );
    }
);

both_backends!(
    closing_by_a_charge_service_takes_an_unpaid_settlement_from_no_balance,
    |db| {
        let o = order("o-1");
        orders(&db)
            .open(by_charge_service(opening(&o, 1_000)))
            .await
            .unwrap();
        let mut end = closed_by_charge_service(closing(&o, 0, END));
        end.settlement = vec![Consumption {
            amount: money(700),
            kind: ConsumptionKind::Renew,
            ..end.end_row.clone()
        }];
        end.end_row.consume_id = 3;

        orders(&db).close(end).await.unwrap();

        assert_eq!(rows_of(&db, "o-1").await.len(), 3);
        assert_eq!(balance_of(&db).await.amount, money(0));
        assert!(queued(&db).await.is_empty(), "nothing owed back");
    }
);

both_backends!(a_failing_close_queues_no_credit, |db| {
    let o = order("o-1");
    orders(&db)
        .open(by_charge_service(opening(&o, 30_000)))
        .await
        .unwrap();
    let mut stale = o.clone();
    stale.last_consume_id = 0;

    let outcome = orders(&db)
        .close(closed_by_charge_service(closing(&stale, 5_000, END)))
        .await;

    assert!(matches!(outcome, Err(Error::Conflict(_))), "{outcome:?}");
    assert!(queued(&db).await.is_empty());
    assert_eq!(rows_of(&db, "o-1").await.len(), 1);
});

both_backends!(
    a_switch_by_a_charge_service_queues_the_old_orders_refund_and_moves_no_balance,
    |db| {
        fund(&db, "p1", 5_000).await;
        let old = order("o-1").named("vol-1");
        orders(&db)
            .open(by_charge_service(opening(&old, 3_000)))
            .await
            .unwrap();
        let before = balance_of(&db).await;
        let new = order("o-2").named("vol-1").started(END);

        let end = closed_by_charge_service(closing(&old, 2_500, END));
        orders(&db)
            .switch(end.clone(), by_charge_service(opening(&new, 1_000)))
            .await
            .unwrap();

        assert_eq!(balance_of(&db).await, before);
        assert_eq!(orders(&db).find(&new.id).await.unwrap(), Some(new.clone()));
        assert_eq!(rows_of(&db, "o-2").await, vec![first_charge(&new, 1_000)]);
        let queued = queued(&db).await;
        assert_eq!(queued.len(), 1);
        assert_eq!(Some(queued[0].payment.clone()), end.credit);
    }
);

both_backends!(a_switch_that_fails_queues_no_credit, |db| {
    let old = order("o-1");
    let holder = order("o-9").named("vol-2");
    for o in [&old, &holder] {
        orders(&db)
            .open(by_charge_service(opening(o, 1_000)))
            .await
            .unwrap();
    }
    let new: OrderOpening = by_charge_service(opening(&order("o-2").named("vol-2"), 0));

    let outcome = orders(&db)
        .switch(closed_by_charge_service(closing(&old, 500, END)), new)
        .await;

    assert_eq!(outcome, Err(Error::DuplicateResourceName("vol-2".into())));
    assert!(queued(&db).await.is_empty());
    assert_eq!(orders(&db).find(&old.id).await.unwrap(), Some(old));
});

both_backends!(
    a_switch_from_a_store_kept_order_moves_only_the_store_kept_part,
    |db| {
        fund(&db, "p1", 5_000).await;
        let old = order("o-1");
        orders(&db).open(opening(&old, 3_000)).await.unwrap();
        let new = order("o-2").started(END);

        orders(&db)
            .switch(
                closing(&old, 1_200, END),
                by_charge_service(opening(&new, 4_000)),
            )
            .await
            .unwrap();

        assert_eq!(balance_of(&db).await.amount, money(5_000 - 3_000 + 1_200));
        assert!(queued(&db).await.is_empty());
    }
);

both_backends!(a_credit_queued_by_the_store_keeper_is_refused, |db| {
    fund(&db, "p1", 5_000).await;
    let o = order("o-1");
    orders(&db).open(opening(&o, 3_000)).await.unwrap();
    let mut end = closing(&o, 1_000, END);
    end.credit = refund_credit(&end);
    assert_eq!(end.keeper, MoneyKeeper::Store);

    let outcome = orders(&db).close(end).await;

    assert!(matches!(outcome, Err(Error::Internal(_))), "{outcome:?}");
    assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(o));
});

both_backends!(
    a_credit_naming_a_row_the_closing_does_not_write_is_refused,
    |db| {
        let o = order("o-1");
        orders(&db)
            .open(by_charge_service(opening(&o, 3_000)))
            .await
            .unwrap();
        let mut end = closed_by_charge_service(closing(&o, 1_000, END));
        if let Some(credit) = &mut end.credit {
            credit.reason.consume_id = 1;
        }

        let outcome = orders(&db).close(end).await;

        assert!(matches!(outcome, Err(Error::Internal(_))), "{outcome:?}");
        assert!(queued(&db).await.is_empty());
    }
);
