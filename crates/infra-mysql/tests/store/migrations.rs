use domain::page::PageRequest;
use domain::ports::{OrderRepository, StoreHealth};
use infra_mysql::{Database, HealthStore, OrderStore};

use crate::common::{both_backends, consuming_in, opening_uncharged, order};

both_backends!(migrations_run_again_change_nothing, |db| {
    let orders = OrderStore::new(db.db.clone());
    orders.open(opening_uncharged(&order("o-1"))).await.unwrap();

    db.db.run_migrations().expect("second run");
    db.db.run_migrations().expect("third run");

    let page = orders
        .list(consuming_in("p1"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1, "data survives re-running migrations");
});

both_backends!(
    migrations_started_by_two_replicas_at_once_both_succeed,
    |db| {
        let fresh = db.empty_sibling();
        let replicas = [
            fresh.db.clone(),
            Database::connect(&fresh.url(), 2).unwrap(),
        ];
        let runs =
            replicas.map(|replica| tokio::task::spawn_blocking(move || replica.run_migrations()));
        for run in runs {
            run.await.unwrap().unwrap();
        }
        let orders = OrderStore::new(fresh.db.clone());
        orders.open(opening_uncharged(&order("o-1"))).await.unwrap();
    }
);

both_backends!(ping_answers_when_the_database_is_up, |db| {
    HealthStore::new(db.db.clone()).ping().await.unwrap();
});
