//! Orders as they are read: one, a project's list, and who holds a resource.

use domain::cycle::Cycle;
use domain::order::{Order, OrderStatus};
use domain::page::{Page, PageRequest};
use domain::payment::MoneyKeeper;
use domain::ports::{ChangeStore, ConsumptionRepository, OrderFilter, OrderRepository};
use domain::provisioning::Resource;
use domain::Error;
use infra_mysql::{ConsumptionStore, OrderStore};

use crate::common::{
    both_backends, closing, commit, consuming_in, first_charge, insert, money, open, opening,
    order, order_id, page, region, t, OrderExt, TestDb,
};

fn orders(db: &TestDb) -> OrderStore {
    OrderStore::new(db.db.clone())
}

fn ids(page: Page<Order>) -> Vec<String> {
    page.items
        .into_iter()
        .map(|o| o.id.as_str().to_owned())
        .collect()
}

// ---- find, list ----

both_backends!(orders_read_at_once_are_those_that_exist, |db| {
    let a = order("o-1").named("vol-1").uncharged();
    let b = order("o-2").named("vol-2").uncharged();
    insert(&db, &a).await;
    insert(&db, &b).await;

    let mut found = orders(&db)
        .find_all(&[order_id("o-2"), order_id("ghost"), order_id("o-1")])
        .await
        .unwrap();

    found.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(found, vec![a, b]);
    assert_eq!(orders(&db).find_all(&[]).await.unwrap(), Vec::new());
});

both_backends!(an_order_reads_back_every_field_as_written, |db| {
    let mut written = order("o-1")
        .named("vol-1")
        .kept_by(MoneyKeeper::ChargeService);
    written.terms.cycle = Cycle::Year;
    written.terms.price = money(123_456);
    written.status = OrderStatus::Ending;
    written.renew_retries = 3;
    written.last_warned_at = Some(t("2026-02-28T09:00:00.000001Z"));
    written.payment_seq = 4;
    written.awaiting_payment = Some(4);
    written.replaces = Some(order_id("o-0"));
    written.replaced_by = Some(order_id("o-2"));
    insert(&db, &written.clone().uncharged()).await;
    let written = written.uncharged();

    let found = orders(&db).find(&order_id("o-1")).await.unwrap();
    assert_eq!(found, Some(written.clone()));
    assert_eq!(
        found.unwrap().start_time,
        t("2026-01-31T08:00:00.123456Z"),
        "microseconds kept"
    );
});

both_backends!(an_order_without_optional_fields_round_trips, |db| {
    let written = order("o-2").uncharged();
    insert(&db, &written).await;
    let found = orders(&db).find(&order_id("o-2")).await.unwrap().unwrap();
    assert_eq!(found, written);
    assert_eq!(
        (found.resource_name, found.end_time, found.last_consume_id),
        (None, None, 0)
    );
    assert!(ConsumptionStore::new(db.db.clone())
        .for_order(&found.id)
        .await
        .unwrap()
        .is_empty());
});

both_backends!(find_of_an_unknown_order_is_none, |db| {
    assert_eq!(orders(&db).find(&order_id("nope")).await.unwrap(), None);
});

both_backends!(order_ids_are_case_sensitive, |db| {
    insert(&db, &order("Ab-1").uncharged()).await;
    assert_eq!(orders(&db).find(&order_id("ab-1")).await.unwrap(), None);
    assert!(orders(&db).find(&order_id("Ab-1")).await.unwrap().is_some());
});

both_backends!(list_filters_by_project_status_and_region, |db| {
    insert(&db, &order("a").uncharged()).await;
    insert(&db, &order("b").in_region("r2").uncharged()).await;
    insert(&db, &order("c").in_project("p2").uncharged()).await;
    let mut pending = order("d").uncharged();
    pending.status = OrderStatus::Pending;
    insert(&db, &pending).await;
    let store = orders(&db);

    let all = store
        .list(consuming_in("p1"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    let mut got = ids(all);
    got.sort();
    assert_eq!(got, ["a", "b"]);

    let in_r2 = OrderFilter {
        region: Some(region("r2")),
        ..consuming_in("p1")
    };
    let r2 = store.list(in_r2, PageRequest::default()).await.unwrap();
    assert_eq!((r2.total, ids(r2)), (1, vec!["b".to_owned()]));

    let pending_filter = OrderFilter {
        status: Some(OrderStatus::Pending),
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
        // Written in this order; "same-1" and "same-2" share a start time.
        for (id, start) in [
            ("old", "2026-01-01T00:00:00Z"),
            ("same-1", "2026-02-01T00:00:00.000001Z"),
            ("same-2", "2026-02-01T00:00:00.000001Z"),
            ("new", "2026-03-01T00:00:00Z"),
            ("mid", "2026-02-01T00:00:00Z"),
        ] {
            insert(&db, &order(id).started(start).uncharged()).await;
        }
        let store = orders(&db);
        let mut seen = Vec::new();
        for number in 1..=3 {
            let p = store
                .list(consuming_in("p1"), page(number, 2))
                .await
                .unwrap();
            assert_eq!(p.total, 5);
            seen.extend(ids(p));
        }
        assert_eq!(seen, ["new", "same-2", "same-1", "mid", "old"]);

        let past_end = store.list(consuming_in("p1"), page(4, 2)).await.unwrap();
        assert_eq!(past_end.total, 5);
        assert!(past_end.items.is_empty());
    }
);

// ---- names ----

both_backends!(
    the_same_resource_name_is_free_in_another_project_region_or_plan_type,
    |db| {
        for o in [
            order("o-1").named("vol-1"),
            order("o-2").named("vol-1").in_project("p2"),
            order("o-3").named("vol-1").in_region("r2"),
            order("o-4").named("vol-1").of_type("bsi"),
            // Orders without a name never collide.
            order("o-5"),
            order("o-6"),
        ] {
            open(&db, &o, 0).await;
        }
    }
);

both_backends!(a_resource_name_is_free_again_once_its_order_ended, |db| {
    let first = order("o-1").named("vol-1");
    open(&db, &first, 0).await;
    let (ended, change) = closing(&first, 0, "2026-02-01T00:00:00Z");
    commit(&db, change).await.unwrap();
    let stored = orders(&db).find(&first.id).await.unwrap().unwrap();
    assert_eq!(stored, ended);
    assert_eq!(
        stored.resource_name, first.resource_name,
        "the name stays on the ended order"
    );
    open(&db, &order("o-2").named("vol-1"), 0).await;
});

both_backends!(
    an_ended_order_can_be_written_without_holding_its_name,
    |db| {
        let mut historic = order("o-1").named("vol-1");
        historic.status = OrderStatus::Ended;
        historic.end_time = Some(t("2026-02-01T00:00:00Z"));
        open(&db, &historic, 0).await;
        open(&db, &order("o-2").named("vol-1"), 0).await;
        assert_eq!(
            orders(&db).find(&historic.id).await.unwrap(),
            Some(historic)
        );
    }
);

both_backends!(
    concurrent_orders_of_one_resource_name_let_exactly_one_through,
    |db| {
        let tasks: Vec<_> = (0..6)
            .map(|n| {
                let writer = crate::common::writer(&db);
                let change = opening(&order(&format!("o-{n}")).named("vol-1"), 0);
                tokio::spawn(async move { writer.commit(change.seal().unwrap()).await })
            })
            .collect();
        let mut succeeded = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => succeeded += 1,
                Err(Error::DuplicateResourceName(name)) => assert_eq!(name, "vol-1"),
                Err(other) => panic!("unexpected failure: {other:?}"),
            }
        }
        assert_eq!(succeeded, 1);
    }
);

// ---- holders ----

both_backends!(the_holder_of_a_name_is_the_open_order_holding_it, |db| {
    let first = order("o-1").named("vol-1");
    open(&db, &first, 0).await;
    let resource = Resource::of(&first).unwrap();
    let holder = orders(&db).holder(&resource).await.unwrap();
    assert_eq!(holder, Some(first.clone()));

    // The same name elsewhere is another resource.
    for other in [
        order("x").named("vol-1").in_project("p2"),
        order("y").named("vol-1").in_region("r2"),
        order("z").named("vol-1").of_type("bsi"),
    ] {
        let resource = Resource::of(&other).unwrap();
        assert_eq!(orders(&db).holder(&resource).await.unwrap(), None);
    }

    let (_, change) = closing(&first, 0, "2026-02-01T00:00:00Z");
    commit(&db, change).await.unwrap();
    assert_eq!(orders(&db).holder(&resource).await.unwrap(), None);
    // A newer order of the same name holds it now, whoever asks.
    let newer = order("o-2").named("vol-1");
    open(&db, &newer, 0).await;
    let holder = orders(&db).holder(&resource).await.unwrap().unwrap();
    assert_eq!(holder.id.as_str(), "o-2");
});

both_backends!(a_pending_switch_target_does_not_hold_the_name_yet, |db| {
    let old = order("o-1").named("vol-1");
    open(&db, &old, 0).await;
    let mut target = order("o-2").named("vol-1").uncharged();
    target.status = OrderStatus::Pending;
    target.replaces = Some(old.id.clone());
    insert(&db, &target).await;
    let holder = orders(&db)
        .holder(&Resource::of(&target).unwrap())
        .await
        .unwrap();
    assert_eq!(holder.map(|o| o.id), Some(old.id));
});

both_backends!(
    the_holder_of_a_quota_is_the_projects_open_quota_order_in_the_region,
    |db| {
        let quota = order("q-1").of_type("cpuquota");
        open(&db, &quota, 0).await;
        let resource = Resource::of(&quota).unwrap();
        // Any quota plan type of the project and region asks the same.
        let asked = Resource::of(&order("q-9").of_type("resources")).unwrap();
        assert_eq!(
            orders(&db).holder(&asked).await.unwrap().map(|o| o.id),
            Some(quota.id.clone())
        );
        let elsewhere = Resource::of(&order("q-8").of_type("quota").in_region("r2")).unwrap();
        assert_eq!(orders(&db).holder(&elsewhere).await.unwrap(), None);

        let (_, change) = closing(&quota, 0, "2026-02-01T00:00:00Z");
        commit(&db, change).await.unwrap();
        assert_eq!(orders(&db).holder(&resource).await.unwrap(), None);
    }
);

both_backends!(an_unnamed_volume_has_no_holder, |db| {
    let o = order("o-1");
    open(&db, &o, 0).await;
    let resource = Resource::of(&o).unwrap();
    assert_eq!(orders(&db).holder(&resource).await.unwrap(), None);
});

// ---- what the store refuses to read or write ----

both_backends!(
    a_second_row_with_the_same_order_and_consume_id_is_rejected,
    |db| {
        let o = order("o-1");
        open(&db, &o, 0).await;
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
        let rows = ConsumptionStore::new(db.db.clone())
            .for_order(&o.id)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], first_charge(&o, 0));
    }
);

both_backends!(a_row_for_an_unknown_order_is_rejected, |db| {
    assert!(db.insert_history_row("ghost", 1).is_err());
});

both_backends!(
    a_stored_order_with_an_unknown_status_is_an_internal_error,
    |db| {
        insert(&db, &order("o-1").uncharged()).await;
        assert_eq!(db.set_status_code("o-1", 7).unwrap(), 1);
        let error = orders(&db).find(&order_id("o-1")).await.unwrap_err();
        assert!(
            matches!(&error, Error::Internal(m) if m.contains("STATUS") && m.contains("7")),
            "{error:?}"
        );
    }
);
