//! The books `reconcile` reads: which projects, and each one's money in one snapshot.

use domain::ids::ProjectId;
use domain::payment::PaymentState;
use domain::ports::{BooksRepository, ConsumptionRepository, LedgerRepository, OrderRepository};
use domain::reconcile::check;
use infra_mysql::{BooksStore, ConsumptionStore, OrderStore};

use crate::common::{
    both_backends, closing, commit, fund, insert, money, open, order, project, t, OrderExt, TestDb,
};

fn books(db: &TestDb) -> BooksStore {
    BooksStore::new(db.db.clone())
}

fn ids(projects: &[ProjectId]) -> Vec<&str> {
    projects.iter().map(ProjectId::as_str).collect()
}

both_backends!(
    projects_are_those_with_a_balance_an_order_or_a_recharge_in_id_order,
    |db| {
        fund(&db, "p-b", 100).await;
        insert(&db, &order("o-1").in_project("p-c").uncharged()).await;
        insert(&db, &order("o-2").in_project("p-a").uncharged()).await;
        fund(&db, "p-a", 100).await;
        // A refund creates a balance without a recharge.
        let o = order("o-3").in_project("p-d");
        open(&db, &o, 0).await;
        let (_, change) = closing(&o, 5, "2026-02-01T00:00:00Z");
        commit(&db, change).await.unwrap();

        let all = books(&db).projects(None, 10).await.unwrap();
        assert_eq!(ids(&all), ["p-a", "p-b", "p-c", "p-d"]);
        let first = books(&db).projects(None, 2).await.unwrap();
        assert_eq!(ids(&first), ["p-a", "p-b"]);
        let rest = books(&db).projects(Some(project("p-b")), 2).await.unwrap();
        assert_eq!(ids(&rest), ["p-c", "p-d"]);
        assert!(books(&db)
            .projects(Some(project("p-d")), 2)
            .await
            .unwrap()
            .is_empty());
    }
);

both_backends!(
    a_projects_books_hold_its_money_orders_rows_and_payments,
    |db| {
        fund(&db, "p1", 10_000).await;
        db.ledger()
            .recharge(
                crate::common::recharge_of("p1", 500, "2026-01-02T00:00:00Z"),
                None,
            )
            .await
            .unwrap();
        let a = order("a");
        open(&db, &a, 2_000).await;
        let (_, change) = closing(&a, 700, "2026-02-10T00:00:00Z");
        commit(&db, change).await.unwrap();
        open(&db, &order("b"), 2_000).await;
        fund(&db, "p2", 1).await;
        open(&db, &order("c").in_project("p2"), 0).await;

        let read = books(&db).books(&project("p1")).await.unwrap();

        assert_eq!(read.project, Some(project("p1")));
        assert_eq!(read.balance, Some(money(10_500 - 2_000 + 700 - 2_000)));
        let mut recharges = read.recharges.clone();
        recharges.sort();
        assert_eq!(recharges, [money(500), money(10_000)]);
        let orders = OrderStore::new(db.db.clone());
        assert_eq!(
            read.orders,
            vec![
                orders.find(&a.id).await.unwrap().unwrap(),
                orders.find(&order("b").id).await.unwrap().unwrap()
            ]
        );
        let usages = ConsumptionStore::new(db.db.clone());
        let mut rows = usages.for_order(&a.id).await.unwrap();
        rows.extend(usages.for_order(&order("b").id).await.unwrap());
        assert_eq!(read.rows, rows);
        let payments: Vec<_> = read.payments.iter().map(|p| p.id.to_string()).collect();
        assert_eq!(payments, ["pay:a:1", "pay:a:2", "pay:b:1"]);
        assert!(read
            .payments
            .iter()
            .all(|p| p.state == PaymentState::Settled));
        assert!(
            check(
                &read,
                t("2026-03-01T00:00:00Z"),
                chrono::TimeDelta::hours(1)
            )
            .is_empty(),
            "what the store wrote adds up"
        );
    }
);

both_backends!(a_project_never_funded_has_no_balance_in_its_books, |db| {
    insert(&db, &order("o-1").uncharged()).await;
    let read = books(&db).books(&project("p1")).await.unwrap();
    assert_eq!((read.balance, read.recharges), (None, Vec::new()));
    assert_eq!(read.orders.len(), 1);
    assert!(read.rows.is_empty() && read.payments.is_empty());
});
