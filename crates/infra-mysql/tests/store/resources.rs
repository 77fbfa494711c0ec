//! The embedded provisioning: resources recorded per order, names unique while they live.

use std::sync::Arc;

use domain::order::Order;
use domain::ports::ChangeStore;
use domain::ports::Provisioning;
use domain::provisioning::{NewTask, Resource, ResourceKind};
use domain::Error;
use infra_mysql::{ProvisionedResource, ResourceStore};

use crate::common::{
    both_backends, closing, commit, opening, order, order_id, t, writer, OrderExt, StoppedClock,
    TestDb,
};

const CREATED: &str = "2026-02-01T10:00:00.123456Z";
const RELEASED: &str = "2026-03-01T10:00:00Z";

fn resources_at(db: &TestDb, at: &str) -> ResourceStore {
    ResourceStore::new(db.db.clone(), Arc::new(StoppedClock(t(at))))
}

fn resources(db: &TestDb) -> ResourceStore {
    resources_at(db, CREATED)
}

async fn found(db: &TestDb, id: &str) -> Option<ProvisionedResource> {
    resources(db).find(&order_id(id)).await.unwrap()
}

/// The resource `order` provides.
fn of(order: &Order) -> Resource {
    Resource::of(order).unwrap()
}

both_backends!(provision_records_the_orders_resource, |db| {
    let o = order("o-1").named("vol-1");
    resources(&db).provision(&of(&o)).await.unwrap();
    assert_eq!(
        found(&db, "o-1").await,
        Some(ProvisionedResource {
            order_id: o.id.clone(),
            project: o.project.clone(),
            region: o.region.clone(),
            kind: ResourceKind::Volume,
            name: o.resource_name.clone(),
            created_at: t(CREATED),
            released_at: None,
        })
    );
});

both_backends!(provisioning_the_same_order_again_changes_nothing, |db| {
    let o = order("o-1").named("vol-1");
    resources(&db).provision(&of(&o)).await.unwrap();
    let first = found(&db, "o-1").await;
    resources_at(&db, RELEASED)
        .provision(&of(&o))
        .await
        .unwrap();
    assert_eq!(found(&db, "o-1").await, first);
});

both_backends!(
    a_live_name_is_refused_to_another_order_of_its_project_region_and_kind,
    |db| {
        resources(&db)
            .provision(&of(&order("o-1").named("vol-1")))
            .await
            .unwrap();
        let outcome = resources(&db)
            .provision(&of(&order("o-2").named("vol-1")))
            .await;
        assert_eq!(outcome, Err(Error::DuplicateResourceName("vol-1".into())));
        assert_eq!(found(&db, "o-2").await, None);

        for other in [
            order("o-3").named("vol-1").in_project("p2"),
            order("o-4").named("vol-1").in_region("r2"),
            order("o-5").named("vol-1").of_type("bsi"),
        ] {
            resources(&db).provision(&of(&other)).await.unwrap();
        }
    }
);

both_backends!(release_frees_the_name_and_is_idempotent, |db| {
    let first = order("o-1").named("vol-1");
    resources(&db).provision(&of(&first)).await.unwrap();

    resources_at(&db, RELEASED)
        .release(&of(&first))
        .await
        .unwrap();
    resources(&db).release(&of(&first)).await.unwrap();

    let released = found(&db, "o-1").await.unwrap();
    assert_eq!(
        released.released_at,
        Some(t(RELEASED)),
        "the first release's"
    );
    assert_eq!(released.name, first.resource_name, "kept as history");
    resources(&db)
        .provision(&of(&order("o-2").named("vol-1")))
        .await
        .unwrap();
});

both_backends!(
    ending_the_order_a_switch_carried_the_name_to_releases_it,
    |db| {
        let created = order("o-1").named("vol-1");
        resources(&db).provision(&of(&created)).await.unwrap();
        // The switch's new order holds the name without a record of its own.
        let switched_to = order("o-2").named("vol-1");
        resources_at(&db, RELEASED)
            .release(&of(&switched_to))
            .await
            .unwrap();

        assert_eq!(
            found(&db, "o-1").await.unwrap().released_at,
            Some(t(RELEASED))
        );
        resources(&db)
            .provision(&of(&order("o-3").named("vol-1")))
            .await
            .unwrap();
        let elsewhere = order("o-4").named("vol-2");
        resources(&db).provision(&of(&elsewhere)).await.unwrap();
        resources(&db)
            .release(&of(&order("o-5").named("vol-2").in_project("p2")))
            .await
            .unwrap();
        assert_eq!(found(&db, "o-4").await.unwrap().released_at, None);
    }
);

both_backends!(releasing_an_unknown_order_succeeds, |db| {
    resources(&db).release(&of(&order("ghost"))).await.unwrap();
    assert_eq!(found(&db, "ghost").await, None);
});

both_backends!(quotas_are_recorded_unnamed, |db| {
    let quota = order("o-1").of_type("cpuquota");
    resources(&db).provision(&of(&quota)).await.unwrap();
    resources(&db)
        .provision(&of(&order("o-2").of_type("cpuquota")))
        .await
        .unwrap();
    let recorded = found(&db, "o-1").await.unwrap();
    assert_eq!((recorded.kind, recorded.name), (ResourceKind::Quota, None));
    assert!(Resource::of(&order("o-3").of_type("gpu")).is_none());
});

both_backends!(
    releasing_a_quota_resets_every_quota_of_the_project_in_the_region,
    |db| {
        for o in [
            order("o-1").of_type("cpuquota"),
            order("o-2").of_type("quota"),
            order("o-3").of_type("quota").in_region("r2"),
            order("o-4").of_type("quota").in_project("p2"),
        ] {
            resources(&db).provision(&of(&o)).await.unwrap();
        }
        // A queued release of an order that was never recorded, as a task may name it.
        resources_at(&db, RELEASED)
            .release(&of(&order("o-9").of_type("resources")))
            .await
            .unwrap();
        for (id, released) in [("o-1", true), ("o-2", true), ("o-3", false), ("o-4", false)] {
            assert_eq!(
                found(&db, id).await.unwrap().released_at.is_some(),
                released,
                "{id}"
            );
        }
    }
);

both_backends!(
    concurrent_provisions_of_one_name_let_exactly_one_through,
    |db| {
        let tasks: Vec<_> = (0..6)
            .map(|n| {
                let store = resources(&db);
                tokio::spawn(async move {
                    store
                        .provision(&of(&order(&format!("o-{n}")).named("vol-1")))
                        .await
                })
            })
            .collect();
        let mut provisioned = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => provisioned += 1,
                Err(Error::DuplicateResourceName(name)) => assert_eq!(name, "vol-1"),
                Err(other) => panic!("unexpected failure: {other:?}"),
            }
        }
        assert_eq!(provisioned, 1);
    }
);

both_backends!(
    a_change_opening_an_order_records_its_resource_with_it,
    |db| {
        let o = order("o-1").named("vol-1");
        let mut change = opening(&o, 0);
        change.create_resource(of(&o));
        commit(&db, change).await.unwrap();
        let recorded = found(&db, "o-1").await.expect("recorded");
        assert_eq!(
            (recorded.name, recorded.released_at),
            (o.resource_name.clone(), None)
        );
    }
);

both_backends!(
    a_change_whose_resource_name_a_live_resource_holds_writes_nothing,
    |db| {
        resources(&db)
            .provision(&of(&order("o-1").named("vol-1")))
            .await
            .unwrap();
        let before = db.snapshot();
        let o = order("o-2").named("vol-1");
        let mut change = opening(&o, 0);
        change.create_resource(of(&o));
        let outcome = commit(&db, change).await;
        assert_eq!(outcome, Err(Error::DuplicateResourceName("vol-1".into())));
        assert_eq!(db.snapshot(), before);
        assert_eq!(found(&db, "o-2").await, None);
    }
);

both_backends!(
    a_change_ending_an_order_releases_the_resource_the_store_keeps_with_it,
    |db| {
        let o = order("o-1").named("vol-1");
        let mut change = opening(&o, 0);
        change.create_resource(of(&o));
        commit(&db, change).await.unwrap();
        let (ended, mut change) = closing(&o, 0, RELEASED);
        change.task(NewTask::after_change(of(&ended), t(RELEASED)));
        let sealed = change.seal().unwrap().release_in_store(|_| true);
        assert!(sealed.tasks().is_empty(), "{:?}", sealed.tasks());

        let queued = writer(&db).commit(sealed).await.unwrap();

        assert!(queued.is_empty());
        assert_eq!(db.count("DF_RESOURCE_TASK"), 0, "no task to run after");
        let released = found(&db, "o-1").await.expect("recorded");
        assert!(released.released_at.is_some(), "{released:?}");
        resources(&db)
            .provision(&of(&order("o-2").named("vol-1")))
            .await
            .expect("the name is free again");
    }
);
