//! Renewal where a charge service keeps the money: due orders read without claiming them,
//! and each decision recorded alone, guarded by the state it was decided from.

use domain::order::{Order, OrderStatus};
use domain::ports::{OrderRepository, RenewalRepository};
use domain::renewal::{RenewalDecision, RenewalRules};
use domain::{Error, Money};
use infra_mysql::OrderStore;

use crate::common::{both_backends, fund, money, opening_uncharged, order, t, OrderExt, TestDb};
use crate::renewals::{balance_of, batch, find, renewals, rows_of, seed, OneCycle, CYCLE, PRICE};

/// What the charge-service renewal decides: the rules with an unlimited balance.
fn paid(order: &Order) -> RenewalDecision {
    OneCycle.decide(order, Money::MAX)
}

fn ids(orders: &[Order]) -> Vec<&str> {
    orders.iter().map(|o| o.id.as_str()).collect()
}

both_backends!(due_orders_page_by_the_cursor_and_change_nothing, |db| {
    let mut seeded = seed(&db, "p1", "o", 5).await;
    // Shares o-0002's deadline: the id breaks the tie across pages.
    let mut twin = order("o-0002b");
    twin.deadline_time = seeded[2].deadline_time;
    twin.last_consume_id = 0;
    OrderStore::new(db.db.clone())
        .open(opening_uncharged(&twin))
        .await
        .unwrap();
    seeded.insert(3, twin);

    let mut request = batch(2);
    let mut pages = Vec::new();
    loop {
        let page = renewals(&db).due_orders(request.clone()).await.unwrap();
        let Some(last) = page.last() else { break };
        request.after = Some(domain::renewal::RenewalCursor {
            deadline: last.deadline_time,
            order_id: last.id.clone(),
        });
        pages.push(page);
    }

    assert_eq!(
        pages.iter().map(|p| ids(p)).collect::<Vec<_>>(),
        [
            vec!["o-0000", "o-0001"],
            vec!["o-0002", "o-0002b"],
            vec!["o-0003", "o-0004"]
        ]
    );
    assert_eq!(pages.concat(), seeded, "the orders as stored");
    for o in &seeded {
        assert_eq!(find(&db, o.id.as_str()).await, *o);
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_due_orders_reads_orders_another_transaction_holds() {
    use diesel::{Connection, RunQueryDsl};
    let Some(db) = TestDb::mysql("mysql_due_orders_reads_orders_another_transaction_holds") else {
        return;
    };
    seed(&db, "p1", "o", 3).await;
    let mut holder = diesel::mysql::MysqlConnection::establish(&db.url()).unwrap();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("SELECT ID FROM DF_PURCHASE_ORDER FOR UPDATE")
        .execute(&mut holder)
        .unwrap();

    let due = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        renewals(&db).due_orders(batch(10)),
    )
    .await
    .expect("a plain read waits for no lock")
    .unwrap();

    assert_eq!(due.len(), 3);
    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
}

both_backends!(
    record_writes_the_rows_and_state_and_leaves_the_balance,
    |db| {
        fund(&db, "p1", 5_000).await;
        let o = seed(&db, "p1", "o", 1).await.remove(0);
        let decision = paid(&o);

        assert!(renewals(&db).record(decision.clone()).await.unwrap());

        let stored = find(&db, "o-0000").await;
        assert_eq!(stored, decision.after);
        assert_eq!(stored.deadline_time, o.deadline_time + CYCLE);
        assert_eq!(rows_of(&db, "o-0000").await, decision.rows);
        assert_eq!(decision.rows[0].amount, money(PRICE));
        assert_eq!(balance_of(&db, "p1").await, money(5_000));
    }
);

both_backends!(recording_a_decision_twice_writes_it_once, |db| {
    let o = seed(&db, "p1", "o", 1).await.remove(0);
    let decision = paid(&o);

    assert!(renewals(&db).record(decision.clone()).await.unwrap());
    assert!(!renewals(&db).record(decision.clone()).await.unwrap());

    assert_eq!(rows_of(&db, "o-0000").await.len(), 1);
    assert_eq!(find(&db, "o-0000").await, decision.after);
});

both_backends!(
    a_decision_from_a_state_the_order_left_is_not_recorded,
    |db| {
        let o = seed(&db, "p1", "o", 1).await.remove(0);
        let mut other_status = o.clone();
        other_status.status = OrderStatus::Ending;

        assert!(!renewals(&db).record(paid(&other_status)).await.unwrap());

        assert_eq!(find(&db, "o-0000").await, o);
        assert!(rows_of(&db, "o-0000").await.is_empty());
    }
);

both_backends!(
    a_row_already_written_makes_record_false_and_undoes_the_order_update,
    |db| {
        let o = seed(&db, "p1", "o", 1).await.remove(0);
        // Row #1 exists although the order still says it has none.
        db.insert_history_row("o-0000", 1).unwrap();

        assert!(!renewals(&db).record(paid(&o)).await.unwrap());

        assert_eq!(find(&db, "o-0000").await, o);
        assert_eq!(rows_of(&db, "o-0000").await.len(), 1);
    }
);

both_backends!(an_ending_decision_frees_the_resource_name, |db| {
    let mut named = order("o-1").named("vol-1");
    named.deadline_time = t("2026-02-01T00:00:00Z");
    named.last_consume_id = 0;
    let store = OrderStore::new(db.db.clone());
    store.open(opening_uncharged(&named)).await.unwrap();
    let ending = OneCycle.decide(&named, Money::ZERO);
    assert_eq!(ending.after.status, OrderStatus::Ended);

    assert!(renewals(&db).record(ending).await.unwrap());

    store
        .open(opening_uncharged(&order("o-2").named("vol-1")))
        .await
        .unwrap();
});

both_backends!(a_decision_breaking_the_rules_contract_is_refused, |db| {
    let o = seed(&db, "p1", "o", 1).await.remove(0);
    let mut broken = paid(&o);
    broken.rows[0].consume_id = 5;

    let outcome = renewals(&db).record(broken).await;

    assert!(matches!(outcome, Err(Error::Internal(_))), "{outcome:?}");
    assert_eq!(find(&db, "o-0000").await, o);
});

both_backends!(
    concurrent_records_of_one_decision_let_exactly_one_through,
    |db| {
        let o = seed(&db, "p1", "o", 1).await.remove(0);
        let decision = paid(&o);
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let store = renewals(&db);
                let decision = decision.clone();
                tokio::spawn(async move { store.record(decision).await })
            })
            .collect();
        let mut recorded = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                recorded += 1;
            }
        }
        assert_eq!(recorded, 1);
        assert_eq!(rows_of(&db, "o-0000").await.len(), 1);
        assert_eq!(find(&db, "o-0000").await, decision.after);
    }
);
