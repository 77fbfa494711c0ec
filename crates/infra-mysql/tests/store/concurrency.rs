use domain::page::PageRequest;
use domain::ports::{ConsumptionRepository, LedgerRepository, OrderRepository, UsageFilter};
use domain::Error;
use infra_mysql::{ConsumptionStore, OrderStore};

use crate::common::{both_backends, consuming_in, fund, money, opening, order, project};

both_backends!(
    eight_concurrent_opens_on_a_balance_for_three_let_exactly_three_through,
    |db| {
        fund(&db, "p1", 3 * 10_000).await;
        let tasks: Vec<_> = (0..8)
            .map(|n| {
                let store = OrderStore::new(db.db.clone());
                tokio::spawn(
                    async move { store.open(opening(&order(&format!("o-{n}")), 10_000)).await },
                )
            })
            .collect();
        let mut succeeded = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => succeeded += 1,
                Err(Error::InsufficientBalance { needed, available }) => {
                    assert_eq!(needed, money(10_000));
                    assert!(
                        available < needed && !available.is_negative(),
                        "{available}"
                    );
                }
                Err(other) => panic!("unexpected failure: {other:?}"),
            }
        }
        assert_eq!(succeeded, 3);
        assert_eq!(
            db.ledger().balance(&project("p1")).await.unwrap().amount,
            money(0)
        );

        let listed = OrderStore::new(db.db.clone())
            .list(consuming_in("p1"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(listed.total, 3);
        let rows = ConsumptionStore::new(db.db.clone())
            .list(
                UsageFilter {
                    project: project("p1"),
                    order: None,
                    region: None,
                },
                PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(rows.total, 3, "one row per order that got through");
    }
);

both_backends!(
    concurrent_opens_of_one_resource_name_let_exactly_one_through,
    |db| {
        use crate::common::OrderExt;
        let tasks: Vec<_> = (0..6)
            .map(|n| {
                let store = OrderStore::new(db.db.clone());
                tokio::spawn(async move {
                    store
                        .open(opening(&order(&format!("o-{n}")).named("vol-1"), 0))
                        .await
                })
            })
            .collect();
        let mut succeeded = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => succeeded += 1,
                Err(Error::DuplicateResourceName(name)) => assert_eq!(name, "vol-1"),
                Err(other) => panic!("unexpected failure: {other:?}"),
            }
        }
        assert_eq!(succeeded, 1);
    }
);
