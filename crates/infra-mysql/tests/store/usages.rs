use domain::consumption::Consumption;
use domain::page::PageRequest;
use domain::ports::{ConsumptionRepository, UsageFilter};
use infra_mysql::ConsumptionStore;

use crate::common::{
    both_backends, closing, commit, first_charge, fund, open, order, order_id, page, project,
    region, OrderExt,
};

fn usages_of(project_id: &str) -> UsageFilter {
    UsageFilter {
        project: project(project_id),
        order: None,
        region: None,
    }
}

fn labels(rows: &[Consumption]) -> Vec<String> {
    rows.iter()
        .map(|r| format!("{}#{}", r.order_id, r.consume_id))
        .collect()
}

both_backends!(
    usages_are_newest_first_and_filtered_by_project_order_and_region,
    |db| {
        fund(&db, "p1", 1_000_000).await;
        fund(&db, "p2", 1_000_000).await;
        let a = order("a").started("2026-01-01T00:00:00Z");
        let b = order("b").started("2026-01-02T00:00:00Z").in_region("r2");
        let c = order("c").started("2026-01-03T00:00:00Z").in_project("p2");
        for o in [&a, &b, &c] {
            open(&db, o, 1_000).await;
        }
        let (_, change) = closing(&a, 100, "2026-01-04T00:00:00Z");
        commit(&db, change).await.unwrap();

        let store = ConsumptionStore::new(db.db.clone());
        let all = store
            .list(usages_of("p1"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(all.total, 3);
        assert_eq!(labels(&all.items), ["a#2", "b#1", "a#1"]);
        assert_eq!(all.items[2], first_charge(&a, 1_000));

        let of_a = UsageFilter {
            order: Some(order_id("a")),
            ..usages_of("p1")
        };
        let rows = store.list(of_a, PageRequest::default()).await.unwrap();
        assert_eq!(
            (rows.total, labels(&rows.items)),
            (2, vec!["a#2".into(), "a#1".into()])
        );

        let in_r2 = UsageFilter {
            region: Some(region("r2")),
            ..usages_of("p1")
        };
        let rows = store.list(in_r2, PageRequest::default()).await.unwrap();
        assert_eq!((rows.total, labels(&rows.items)), (1, vec!["b#1".into()]));

        // Another project's order is invisible even when asked for by id.
        let foreign = UsageFilter {
            order: Some(order_id("c")),
            ..usages_of("p1")
        };
        assert_eq!(
            store
                .list(foreign, PageRequest::default())
                .await
                .unwrap()
                .total,
            0
        );
    }
);

both_backends!(
    usages_at_the_same_time_list_the_newest_row_first_and_page_cleanly,
    |db| {
        for id in ["x1", "x2", "x3"] {
            open(&db, &order(id).started("2026-05-05T05:05:05.5Z"), 0).await;
        }
        let store = ConsumptionStore::new(db.db.clone());
        let first = store.list(usages_of("p1"), page(1, 2)).await.unwrap();
        let second = store.list(usages_of("p1"), page(2, 2)).await.unwrap();
        let past = store.list(usages_of("p1"), page(3, 2)).await.unwrap();
        assert_eq!(labels(&first.items), ["x3#1", "x2#1"]);
        assert_eq!(labels(&second.items), ["x1#1"]);
        assert!(past.items.is_empty());
        assert_eq!((first.total, second.total, past.total), (3, 3, 3));
    }
);

both_backends!(rows_of_one_order_come_in_sequence_order, |db| {
    let o = order("o-1");
    open(&db, &o, 0).await;
    // Written out of time order on purpose: sequence, not time, decides.
    let (_, change) = closing(&o, 0, "2025-12-31T00:00:00Z");
    commit(&db, change).await.unwrap();
    let rows = ConsumptionStore::new(db.db.clone())
        .for_order(&o.id)
        .await
        .unwrap();
    assert_eq!(labels(&rows), ["o-1#1", "o-1#2"]);
});
