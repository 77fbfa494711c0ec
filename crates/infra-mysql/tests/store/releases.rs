//! The release queue: what is pending, with which order, and what queueing again, a done
//! release or a failed attempt does.

use chrono::TimeDelta;

use domain::order::Order;
use domain::ports::{OrderRepository, QueuedRelease, ReleaseQueue};
use domain::Error;
use infra_mysql::{OrderStore, ReleaseStore};

use crate::common::{both_backends, opening_uncharged, order, t, OrderExt, TestDb};

const NOW: &str = "2026-02-10T00:00:00Z";

fn releases(db: &TestDb) -> ReleaseStore {
    ReleaseStore::new(db.db.clone())
}

/// Writes order `id` (a named volume) and returns it as the store has it.
async fn written(db: &TestDb, id: &str) -> Order {
    let store = OrderStore::new(db.db.clone());
    let o = order(id).named(&format!("vol-{id}"));
    store.open(opening_uncharged(&o)).await.unwrap();
    store.find(&o.id).await.unwrap().unwrap()
}

/// Writes order `id` and queues its release, due at `at`.
async fn queue(db: &TestDb, id: &str, at: &str) -> Order {
    let o = written(db, id).await;
    releases(db).enqueue(&o, t(at)).await.unwrap();
    o
}

fn orders_of(pending: &[QueuedRelease]) -> Vec<&str> {
    pending.iter().map(|r| r.order.id.as_str()).collect()
}

both_backends!(
    pending_lists_due_releases_oldest_first_with_their_orders,
    |db| {
        // Queued in this order; the second one is due earliest, the last one not yet.
        let first = queue(&db, "o-1", "2026-02-09T00:00:00Z").await;
        queue(&db, "o-2", "2026-02-01T00:00:00Z").await;
        queue(&db, "o-3", "2026-02-05T00:00:00Z").await;
        queue(&db, "o-4", "2026-02-11T00:00:00Z").await;

        let all = releases(&db).pending(t(NOW), 10).await.unwrap();
        assert_eq!(orders_of(&all), ["o-1", "o-2", "o-3"]);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(all[0].order, first);
        assert!(all.iter().all(|r| r.attempts == 0));

        let first_two = releases(&db).pending(t(NOW), 2).await.unwrap();
        assert_eq!(orders_of(&first_two), ["o-1", "o-2"]);
    }
);

both_backends!(an_order_not_in_the_store_cannot_be_queued, |db| {
    let error = releases(&db)
        .enqueue(&order("ghost"), t(NOW))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert!(releases(&db).pending(t(NOW), 10).await.unwrap().is_empty());
});

both_backends!(queueing_a_queued_release_again_keeps_its_entry, |db| {
    let o = queue(&db, "o-1", NOW).await;
    let id = releases(&db).pending(t(NOW), 10).await.unwrap()[0].id;
    let later = t(NOW) + TimeDelta::minutes(5);
    releases(&db)
        .failed(id, later, "platform: 503".into())
        .await
        .unwrap();

    releases(&db).enqueue(&o, t(NOW)).await.unwrap();

    assert!(releases(&db).pending(t(NOW), 10).await.unwrap().is_empty());
    let retried = releases(&db).pending(later, 10).await.unwrap();
    assert_eq!(
        (retried.len(), retried[0].id, retried[0].attempts),
        (1, id, 1)
    );
});

both_backends!(a_done_release_is_not_pending_until_owed_again, |db| {
    let o = queue(&db, "o-1", NOW).await;
    queue(&db, "o-2", NOW).await;
    let pending = releases(&db).pending(t(NOW), 10).await.unwrap();
    releases(&db)
        .failed(pending[0].id, t(NOW), "timeout".into())
        .await
        .unwrap();

    releases(&db).done(pending[0].id, t(NOW)).await.unwrap();
    releases(&db).done(pending[0].id, t(NOW)).await.unwrap();
    let left = releases(&db).pending(t(NOW), 10).await.unwrap();
    assert_eq!(orders_of(&left), ["o-2"]);

    let again = t(NOW) + TimeDelta::hours(1);
    releases(&db).enqueue(&o, again).await.unwrap();
    let owed = releases(&db).pending(again, 10).await.unwrap();
    assert_eq!(orders_of(&owed), ["o-1", "o-2"]);
    assert_eq!((owed[0].id, owed[0].attempts), (pending[0].id, 0));
});

both_backends!(a_failed_attempt_is_counted_and_deferred, |db| {
    queue(&db, "o-1", NOW).await;
    let id = releases(&db).pending(t(NOW), 10).await.unwrap()[0].id;
    let later = t(NOW) + TimeDelta::minutes(5);

    releases(&db)
        .failed(id, later, "platform: 503".into())
        .await
        .unwrap();
    assert!(releases(&db).pending(t(NOW), 10).await.unwrap().is_empty());
    assert_eq!(
        releases(&db).pending(later, 10).await.unwrap()[0].attempts,
        1
    );

    let latest = later + TimeDelta::minutes(10);
    releases(&db)
        .failed(id, latest, "é".repeat(5_000))
        .await
        .unwrap();
    assert_eq!(
        releases(&db).pending(latest, 10).await.unwrap()[0].attempts,
        2
    );
});

both_backends!(a_failure_reported_after_done_changes_nothing, |db| {
    queue(&db, "o-1", NOW).await;
    let id = releases(&db).pending(t(NOW), 10).await.unwrap()[0].id;
    releases(&db).done(id, t(NOW)).await.unwrap();
    releases(&db)
        .failed(id, t(NOW), "late".into())
        .await
        .unwrap();
    assert!(releases(&db)
        .pending(t("2100-01-01T00:00:00Z"), 10)
        .await
        .unwrap()
        .is_empty());
});
