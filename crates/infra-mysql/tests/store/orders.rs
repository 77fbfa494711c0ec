use domain::order::OrderStatus;
use domain::page::PageRequest;
use domain::ports::{ConsumptionRepository, LedgerRepository, OrderFilter, OrderRepository};
use domain::Error;
use infra_mysql::{ConsumptionStore, OrderStore};

use crate::common::{
    both_backends, closing, consuming_in, first_charge, fund, money, opening, opening_uncharged,
    order, order_id, page, project, t, OrderExt, TestDb,
};

fn orders(db: &TestDb) -> OrderStore {
    OrderStore::new(db.db.clone())
}

fn usages(db: &TestDb) -> ConsumptionStore {
    ConsumptionStore::new(db.db.clone())
}

async fn balance_of(db: &TestDb, project_id: &str) -> domain::ledger::Balance {
    db.ledger().balance(&project(project_id)).await.unwrap()
}

// ---- open, find, list ----

both_backends!(open_then_find_returns_every_field_as_written, |db| {
    fund(&db, "p1", 100_000).await;
    let written = order("o-1").named("vol-1");
    orders(&db).open(opening(&written, 12_345)).await.unwrap();

    let found = orders(&db).find(&order_id("o-1")).await.unwrap();
    assert_eq!(found, Some(written.clone()));
    let found = found.unwrap();
    assert_eq!(
        found.start_time,
        t("2026-01-31T08:00:00.123456Z"),
        "microseconds kept"
    );

    let rows = usages(&db).for_order(&written.id).await.unwrap();
    assert_eq!(rows, vec![first_charge(&written, 12_345)]);
});

both_backends!(an_order_without_optional_fields_round_trips, |db| {
    let written = opening_uncharged(&order("o-2"));
    orders(&db).open(written.clone()).await.unwrap();
    let found = orders(&db).find(&order_id("o-2")).await.unwrap().unwrap();
    assert_eq!(found, written.order);
    assert_eq!(found.resource_name, None);
    assert_eq!(found.end_time, None);
    assert_eq!(found.last_consume_id, 0);
    assert!(usages(&db).for_order(&found.id).await.unwrap().is_empty());
});

both_backends!(find_of_an_unknown_order_is_none, |db| {
    assert_eq!(orders(&db).find(&order_id("nope")).await.unwrap(), None);
});

both_backends!(order_ids_are_case_sensitive, |db| {
    orders(&db)
        .open(opening_uncharged(&order("Ab-1")))
        .await
        .unwrap();
    assert_eq!(orders(&db).find(&order_id("ab-1")).await.unwrap(), None);
    assert!(orders(&db).find(&order_id("Ab-1")).await.unwrap().is_some());
});

both_backends!(list_filters_by_project_status_and_region, |db| {
    let store = orders(&db);
    store.open(opening_uncharged(&order("a"))).await.unwrap();
    store
        .open(opening_uncharged(&order("b").in_region("r2")))
        .await
        .unwrap();
    store
        .open(opening_uncharged(&order("c").in_project("p2")))
        .await
        .unwrap();
    let mut pending = order("d");
    pending.status = OrderStatus::Pending;
    store.open(opening_uncharged(&pending)).await.unwrap();

    let ids = |page: domain::page::Page<domain::order::Order>| {
        page.items
            .into_iter()
            .map(|o| o.id.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let all = store
        .list(consuming_in("p1"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    let mut got = ids(all);
    got.sort();
    assert_eq!(got, ["a", "b"]);

    let in_r2 = OrderFilter {
        region: Some(domain::ids::Region::parse("r2").unwrap()),
        ..consuming_in("p1")
    };
    let r2 = store.list(in_r2, PageRequest::default()).await.unwrap();
    assert_eq!((r2.total, ids(r2)), (1, vec!["b".to_owned()]));

    let pending_filter = OrderFilter {
        status: OrderStatus::Pending,
        ..consuming_in("p1")
    };
    let p = store
        .list(pending_filter, PageRequest::default())
        .await
        .unwrap();
    assert_eq!((p.total, ids(p)), (1, vec!["d".to_owned()]));

    let other = store
        .list(consuming_in("p3"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!((other.total, other.items.len()), (0, 0));
});

both_backends!(
    list_is_newest_start_first_then_newest_row_and_pages_cleanly,
    |db| {
        let store = orders(&db);
        // Opened in this order; "same-1" and "same-2" share a start time.
        for (id, start) in [
            ("old", "2026-01-01T00:00:00Z"),
            ("same-1", "2026-02-01T00:00:00.000001Z"),
            ("same-2", "2026-02-01T00:00:00.000001Z"),
            ("new", "2026-03-01T00:00:00Z"),
            ("mid", "2026-02-01T00:00:00Z"),
        ] {
            store
                .open(opening_uncharged(&order(id).started(start)))
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        for number in 1..=3 {
            let p = store
                .list(consuming_in("p1"), page(number, 2))
                .await
                .unwrap();
            assert_eq!(p.total, 5);
            seen.extend(p.items.into_iter().map(|o| o.id.as_str().to_owned()));
        }
        assert_eq!(seen, ["new", "same-2", "same-1", "mid", "old"]);

        let past_end = store.list(consuming_in("p1"), page(4, 2)).await.unwrap();
        assert_eq!(past_end.total, 5);
        assert!(past_end.items.is_empty());
    }
);

// ---- open: balance and names ----

both_backends!(open_debits_the_first_charge, |db| {
    fund(&db, "p1", 100_000).await;
    orders(&db)
        .open(opening(&order("o-1"), 30_000))
        .await
        .unwrap();
    let balance = balance_of(&db, "p1").await;
    assert_eq!(balance.amount, money(70_000));
    assert_eq!(balance.updated_at, Some(order("o-1").start_time));
});

both_backends!(open_with_an_insufficient_balance_writes_nothing, |db| {
    fund(&db, "p1", 10_000).await;
    let before = balance_of(&db, "p1").await;

    let error = orders(&db)
        .open(opening(&order("o-1"), 10_001))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        Error::InsufficientBalance {
            needed: money(10_001),
            available: money(10_000)
        }
    );
    assert_eq!(orders(&db).find(&order_id("o-1")).await.unwrap(), None);
    assert!(usages(&db)
        .for_order(&order_id("o-1"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(balance_of(&db, "p1").await, before);
});

both_backends!(
    open_for_a_project_never_funded_reports_zero_available,
    |db| {
        let error = orders(&db)
            .open(opening(&order("o-1"), 1))
            .await
            .unwrap_err();
        assert_eq!(
            error,
            Error::InsufficientBalance {
                needed: money(1),
                available: money(0)
            }
        );
        assert_eq!(balance_of(&db, "p1").await.updated_at, None);
    }
);

both_backends!(a_balance_exactly_equal_to_the_charge_suffices, |db| {
    fund(&db, "p1", 5_000).await;
    orders(&db)
        .open(opening(&order("o-1"), 5_000))
        .await
        .unwrap();
    assert_eq!(balance_of(&db, "p1").await.amount, money(0));
});

both_backends!(
    a_zero_first_charge_writes_its_row_but_touches_no_balance,
    |db| {
        let o = order("free");
        orders(&db).open(opening(&o, 0)).await.unwrap();
        let rows = usages(&db).for_order(&o.id).await.unwrap();
        assert_eq!(rows, vec![first_charge(&o, 0)]);
        let balance = balance_of(&db, "p1").await;
        assert_eq!((balance.amount, balance.updated_at), (money(0), None));
    }
);

both_backends!(
    a_second_open_order_with_the_same_resource_name_is_refused,
    |db| {
        fund(&db, "p1", 100_000).await;
        orders(&db)
            .open(opening(&order("o-1").named("vol-1"), 1_000))
            .await
            .unwrap();
        let error = orders(&db)
            .open(opening(&order("o-2").named("vol-1"), 1_000))
            .await
            .unwrap_err();
        assert_eq!(error, Error::DuplicateResourceName("vol-1".into()));
        // Nothing of the refused order was written, and its charge was not taken.
        assert_eq!(orders(&db).find(&order_id("o-2")).await.unwrap(), None);
        assert!(usages(&db)
            .for_order(&order_id("o-2"))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(balance_of(&db, "p1").await.amount, money(99_000));
    }
);

both_backends!(
    the_same_resource_name_is_free_in_another_project_region_or_plan_type,
    |db| {
        let store = orders(&db);
        store
            .open(opening_uncharged(&order("o-1").named("vol-1")))
            .await
            .unwrap();
        store
            .open(opening_uncharged(
                &order("o-2").named("vol-1").in_project("p2"),
            ))
            .await
            .unwrap();
        store
            .open(opening_uncharged(
                &order("o-3").named("vol-1").in_region("r2"),
            ))
            .await
            .unwrap();
        store
            .open(opening_uncharged(
                &order("o-4").named("vol-1").of_type("bsi"),
            ))
            .await
            .unwrap();
        // Orders without a name never collide.
        store.open(opening_uncharged(&order("o-5"))).await.unwrap();
        store.open(opening_uncharged(&order("o-6"))).await.unwrap();
    }
);

both_backends!(a_resource_name_is_free_again_once_its_order_ended, |db| {
    let store = orders(&db);
    let first = order("o-1").named("vol-1");
    store.open(opening(&first, 0)).await.unwrap();
    let ended = store
        .close(closing(&first, 0, "2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        ended.resource_name, first.resource_name,
        "the name stays on the ended order"
    );

    store
        .open(opening(&order("o-2").named("vol-1"), 0))
        .await
        .unwrap();
});

both_backends!(
    an_ended_order_can_be_opened_without_holding_its_name,
    |db| {
        let mut historic = order("o-1").named("vol-1");
        historic.status = OrderStatus::Ended;
        historic.end_time = Some(t("2026-02-01T00:00:00Z"));
        orders(&db).open(opening(&historic, 0)).await.unwrap();
        orders(&db)
            .open(opening(&order("o-2").named("vol-1"), 0))
            .await
            .unwrap();
        assert_eq!(
            orders(&db).find(&historic.id).await.unwrap(),
            Some(historic)
        );
    }
);

both_backends!(open_refuses_a_charge_that_does_not_match_its_order, |db| {
    let o = order("o-1");
    let mut bad = opening(&o, 10);
    bad.first_charge.as_mut().unwrap().order_id = order_id("other");
    assert!(matches!(
        orders(&db).open(bad).await,
        Err(Error::Internal(_))
    ));
    assert_eq!(orders(&db).find(&o.id).await.unwrap(), None);
});

// ---- close ----

both_backends!(close_ends_the_order_refunds_and_writes_the_end_row, |db| {
    fund(&db, "p1", 100_000).await;
    let o = order("o-1").named("vol-1");
    orders(&db).open(opening(&o, 30_000)).await.unwrap();

    let end = closing(&o, 12_500, "2026-02-10T10:00:00.654321Z");
    let ended = orders(&db).close(end.clone()).await.unwrap();

    let mut expected = o.clone();
    expected.status = OrderStatus::Ended;
    expected.end_time = Some(t("2026-02-10T10:00:00.654321Z"));
    expected.last_consume_id = 2;
    assert_eq!(ended, expected);
    assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(expected));

    let rows = usages(&db).for_order(&o.id).await.unwrap();
    assert_eq!(rows, vec![first_charge(&o, 30_000), end.end_row]);

    let balance = balance_of(&db, "p1").await;
    assert_eq!(balance.amount, money(100_000 - 30_000 + 12_500));
    assert_eq!(balance.updated_at, Some(t("2026-02-10T10:00:00.654321Z")));
});

both_backends!(close_without_refund_leaves_the_balance_alone, |db| {
    fund(&db, "p1", 100_000).await;
    let o = order("o-1");
    orders(&db).open(opening(&o, 30_000)).await.unwrap();
    let before = balance_of(&db, "p1").await;
    orders(&db)
        .close(closing(&o, 0, "2026-02-10T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(balance_of(&db, "p1").await, before);
    assert_eq!(usages(&db).for_order(&o.id).await.unwrap().len(), 2);
});

both_backends!(
    a_refund_creates_the_balance_of_a_project_that_had_none,
    |db| {
        let o = order("o-1");
        orders(&db).open(opening(&o, 0)).await.unwrap();
        orders(&db)
            .close(closing(&o, 700, "2026-02-10T10:00:00Z"))
            .await
            .unwrap();
        assert_eq!(balance_of(&db, "p1").await.amount, money(700));
    }
);

both_backends!(
    close_with_a_stale_last_consume_id_is_a_conflict_and_writes_nothing,
    |db| {
        fund(&db, "p1", 100_000).await;
        let o = order("o-1");
        orders(&db).open(opening(&o, 30_000)).await.unwrap();
        let before = balance_of(&db, "p1").await;

        let mut stale = o.clone();
        stale.last_consume_id = 0;
        let error = orders(&db)
            .close(closing(&stale, 5_000, "2026-02-10T10:00:00Z"))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Conflict(_)), "{error:?}");

        assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(o.clone()));
        assert_eq!(usages(&db).for_order(&o.id).await.unwrap().len(), 1);
        assert_eq!(balance_of(&db, "p1").await, before);
    }
);

both_backends!(closing_twice_is_a_conflict, |db| {
    fund(&db, "p1", 100_000).await;
    let o = order("o-1");
    orders(&db).open(opening(&o, 30_000)).await.unwrap();
    let ended = orders(&db)
        .close(closing(&o, 1_000, "2026-02-10T10:00:00Z"))
        .await
        .unwrap();
    let before = balance_of(&db, "p1").await;

    let error = orders(&db)
        .close(closing(&ended, 1_000, "2026-02-11T10:00:00Z"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Conflict(m) if m.contains("already ended")),
        "{error:?}"
    );
    assert_eq!(balance_of(&db, "p1").await, before);
    assert_eq!(usages(&db).for_order(&o.id).await.unwrap().len(), 2);
});

both_backends!(closing_an_unknown_order_is_not_found, |db| {
    let error = orders(&db)
        .close(closing(&order("ghost"), 0, "2026-02-10T10:00:00Z"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
});

both_backends!(close_refuses_an_end_row_that_charges, |db| {
    let o = order("o-1");
    orders(&db).open(opening(&o, 0)).await.unwrap();
    let error = orders(&db)
        .close(closing(&o, -5, "2026-02-10T10:00:00Z"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Internal(_)), "{error:?}");
    assert_eq!(orders(&db).find(&o.id).await.unwrap(), Some(o));
});

// ---- the unique (order, consume id) key ----

both_backends!(
    a_second_row_with_the_same_order_and_consume_id_is_rejected,
    |db| {
        let o = order("o-1");
        orders(&db).open(opening(&o, 0)).await.unwrap();

        let duplicate = db.insert_history_row("o-1", 1);
        assert!(
            matches!(
                duplicate,
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _
                ))
            ),
            "{duplicate:?}"
        );
        db.insert_history_row("o-1", 2)
            .expect("the next sequence number is fine");
        assert_eq!(usages(&db).for_order(&o.id).await.unwrap().len(), 2);
    }
);

both_backends!(a_row_for_an_unknown_order_is_rejected, |db| {
    assert!(db.insert_history_row("ghost", 1).is_err());
});

both_backends!(
    a_stored_order_with_an_unknown_status_is_an_internal_error,
    |db| {
        orders(&db)
            .open(opening_uncharged(&order("o-1")))
            .await
            .unwrap();
        assert_eq!(db.set_status_code("o-1", 7).unwrap(), 1);
        let error = orders(&db).find(&order_id("o-1")).await.unwrap_err();
        assert!(
            matches!(&error, Error::Internal(m) if m.contains("STATUS") && m.contains("7")),
            "{error:?}"
        );
    }
);
