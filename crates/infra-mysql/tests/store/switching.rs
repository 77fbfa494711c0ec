//! Closing with settlement rows, and switching plans in one transaction.

use domain::consumption::{Consumption, ConsumptionKind};
use domain::ledger::Balance;
use domain::order::{Order, OrderStatus};
use domain::ports::{
    ConsumptionRepository, LedgerRepository, OrderClosing, OrderOpening, OrderRepository,
};
use domain::Error;
use infra_mysql::{ConsumptionStore, OrderStore};

use crate::common::{
    both_backends, closing, fund, money, opening, order, order_id, project, OrderExt, TestDb,
};

fn orders(db: &TestDb) -> OrderStore {
    OrderStore::new(db.db.clone())
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

/// Closing `order` with settlement charges `amounts` and an end row refunding `refund`.
fn settled(order: &Order, amounts: &[i64], refund: i64) -> OrderClosing {
    let mut closing = closing(order, refund, "2026-02-10T00:00:00Z");
    closing.settlement = amounts
        .iter()
        .zip(order.last_consume_id + 1..)
        .map(|(amount, consume_id)| Consumption {
            consume_id,
            amount: money(*amount),
            kind: ConsumptionKind::Renew,
            ..closing.end_row.clone()
        })
        .collect();
    closing.end_row.consume_id = order.last_consume_id + 1 + amounts.len() as u32;
    closing
}

/// The new order of a switch, charged `amount` for its first cycle.
fn successor(amount: i64) -> OrderOpening {
    let new = order("o-2").named("vol-2").started("2026-02-10T00:00:00Z");
    let mut opening = opening(&new, amount);
    if let Some(charge) = &mut opening.first_charge {
        charge.kind = ConsumptionKind::Switch;
    }
    opening
}

both_backends!(close_debits_the_settlement_and_writes_its_rows, |db| {
    fund(&db, "p1", 10_000).await;
    let old = order("o-1");
    orders(&db).open(opening(&old, 1_000)).await.unwrap();

    let ended = orders(&db)
        .close(settled(&old, &[300, 200], 0))
        .await
        .unwrap();

    assert_eq!(ended.status, OrderStatus::Ended);
    assert_eq!(ended.last_consume_id, 4);
    assert_eq!(balance_of(&db).await.amount, money(10_000 - 1_000 - 500));
    let rows: Vec<_> = rows_of(&db, "o-1")
        .await
        .iter()
        .map(|r| (r.consume_id, r.amount))
        .collect();
    assert_eq!(
        rows,
        [
            (1, money(1_000)),
            (2, money(300)),
            (3, money(200)),
            (4, money(0))
        ]
    );
});

both_backends!(close_with_an_uncovered_settlement_writes_nothing, |db| {
    fund(&db, "p1", 1_200).await;
    let old = order("o-1");
    orders(&db).open(opening(&old, 1_000)).await.unwrap();

    let outcome = orders(&db).close(settled(&old, &[300], 0)).await;

    assert_eq!(
        outcome,
        Err(Error::InsufficientBalance {
            needed: money(300),
            available: money(200)
        })
    );
    assert_eq!(orders(&db).find(&old.id).await.unwrap(), Some(old));
    assert_eq!(rows_of(&db, "o-1").await.len(), 1);
    assert_eq!(balance_of(&db).await.amount, money(200));
});

both_backends!(
    switch_moves_the_balance_by_the_net_in_one_transaction,
    |db| {
        fund(&db, "p1", 10_000).await;
        let old = order("o-1").named("vol-1");
        orders(&db).open(opening(&old, 1_000)).await.unwrap();

        // Refund 400 of the old cycle, charge 1,500 for the new one: net 1,100.
        let ended = orders(&db)
            .switch(closing(&old, 400, "2026-02-10T00:00:00Z"), successor(1_500))
            .await
            .unwrap();

        assert_eq!(ended.status, OrderStatus::Ended);
        assert_eq!(balance_of(&db).await.amount, money(10_000 - 1_000 - 1_100));
        let new = orders(&db).find(&order_id("o-2")).await.unwrap().unwrap();
        assert_eq!(new.status, OrderStatus::Consuming);
        let first = rows_of(&db, "o-2").await;
        assert_eq!(
            (first[0].kind, first[0].amount),
            (ConsumptionKind::Switch, money(1_500))
        );
        assert_eq!(rows_of(&db, "o-1").await[1].amount, money(-400));
    }
);

both_backends!(a_negative_net_credits_the_balance, |db| {
    fund(&db, "p1", 5_000).await;
    let old = order("o-1");
    orders(&db).open(opening(&old, 3_000)).await.unwrap();

    orders(&db)
        .switch(
            closing(&old, 2_500, "2026-02-10T00:00:00Z"),
            successor(1_000),
        )
        .await
        .unwrap();

    assert_eq!(balance_of(&db).await.amount, money(5_000 - 3_000 + 1_500));
});

both_backends!(a_switch_whose_net_is_not_covered_writes_nothing, |db| {
    fund(&db, "p1", 1_500).await;
    let old = order("o-1");
    orders(&db).open(opening(&old, 1_000)).await.unwrap();

    // Net 900 against a balance of 500.
    let outcome = orders(&db)
        .switch(closing(&old, 100, "2026-02-10T00:00:00Z"), successor(1_000))
        .await;

    assert_eq!(
        outcome,
        Err(Error::InsufficientBalance {
            needed: money(900),
            available: money(500)
        })
    );
    assert_eq!(orders(&db).find(&old.id).await.unwrap(), Some(old));
    assert_eq!(orders(&db).find(&order_id("o-2")).await.unwrap(), None);
    assert_eq!(rows_of(&db, "o-1").await.len(), 1);
    assert_eq!(balance_of(&db).await.amount, money(500));
});

both_backends!(a_switch_from_an_ended_order_is_a_conflict, |db| {
    fund(&db, "p1", 5_000).await;
    let old = order("o-1");
    orders(&db).open(opening(&old, 1_000)).await.unwrap();
    orders(&db)
        .close(closing(&old, 0, "2026-02-09T00:00:00Z"))
        .await
        .unwrap();

    let outcome = orders(&db)
        .switch(closing(&old, 0, "2026-02-10T00:00:00Z"), successor(1_000))
        .await;

    assert!(matches!(outcome, Err(Error::Conflict(_))), "{outcome:?}");
    assert_eq!(orders(&db).find(&order_id("o-2")).await.unwrap(), None);
    assert_eq!(balance_of(&db).await.amount, money(4_000));
});
