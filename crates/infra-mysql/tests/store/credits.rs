//! The credit queue: what is due, in which order, and what delivering or failing does.

use chrono::TimeDelta;

use domain::ports::{CreditQueue, OrderRepository, QueuedCredit};
use infra_mysql::{CreditStore, OrderStore};

use crate::common::{
    both_backends, by_charge_service, closed_by_charge_service, closing, money, opening, order, t,
    TestDb,
};

const NOW: &str = "2026-02-10T00:00:00Z";

fn credits(db: &TestDb) -> CreditStore {
    CreditStore::new(db.db.clone())
}

/// Opens order `id` through a charge service and ends it at `at`, queueing a refund of
/// `refund`.
async fn queue(db: &TestDb, id: &str, refund: i64, at: &str) {
    let store = OrderStore::new(db.db.clone());
    let o = order(id);
    store
        .open(by_charge_service(opening(&o, 5_000)))
        .await
        .unwrap();
    store
        .close(closed_by_charge_service(closing(&o, refund, at)))
        .await
        .unwrap();
}

fn orders_of(credits: &[QueuedCredit]) -> Vec<&str> {
    credits
        .iter()
        .map(|c| c.payment.reason.order.as_str())
        .collect()
}

both_backends!(due_lists_due_credits_oldest_first_up_to_the_limit, |db| {
    // Queued in this order; the second one is due earliest, the last one not yet.
    queue(&db, "o-1", 100, "2026-02-09T00:00:00Z").await;
    queue(&db, "o-2", 200, "2026-02-01T00:00:00Z").await;
    queue(&db, "o-3", 300, "2026-02-05T00:00:00Z").await;
    queue(&db, "o-4", 400, "2026-02-11T00:00:00Z").await;

    let all = credits(&db).due(t(NOW), 10).await.unwrap();
    assert_eq!(orders_of(&all), ["o-1", "o-2", "o-3"]);
    assert_eq!(
        all.iter().map(|c| c.payment.amount).collect::<Vec<_>>(),
        [money(100), money(200), money(300)]
    );
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));

    let first_two = credits(&db).due(t(NOW), 2).await.unwrap();
    assert_eq!(orders_of(&first_two), ["o-1", "o-2"]);
});

both_backends!(a_delivered_credit_is_not_due_again, |db| {
    queue(&db, "o-1", 100, NOW).await;
    queue(&db, "o-2", 200, NOW).await;
    let due = credits(&db).due(t(NOW), 10).await.unwrap();

    credits(&db).delivered(due[0].id, t(NOW)).await.unwrap();
    credits(&db).delivered(due[0].id, t(NOW)).await.unwrap();

    let left = credits(&db).due(t(NOW), 10).await.unwrap();
    assert_eq!(orders_of(&left), ["o-2"]);
});

both_backends!(a_failed_attempt_is_counted_and_deferred, |db| {
    queue(&db, "o-1", 100, NOW).await;
    let id = credits(&db).due(t(NOW), 10).await.unwrap()[0].id;
    let later = t(NOW) + TimeDelta::minutes(5);

    credits(&db)
        .failed(id, later, "charge service: 503".into())
        .await
        .unwrap();

    assert!(credits(&db).due(t(NOW), 10).await.unwrap().is_empty());
    let retried = credits(&db).due(later, 10).await.unwrap();
    assert_eq!((retried[0].id, retried[0].attempts), (id, 1));

    credits(&db)
        .failed(id, later + TimeDelta::minutes(10), "timeout".into())
        .await
        .unwrap();
    let again = credits(&db)
        .due(later + TimeDelta::minutes(10), 10)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 2);
});

both_backends!(an_overlong_error_is_cut_not_refused, |db| {
    queue(&db, "o-1", 100, NOW).await;
    let id = credits(&db).due(t(NOW), 10).await.unwrap()[0].id;
    credits(&db)
        .failed(id, t(NOW), "é".repeat(5_000))
        .await
        .unwrap();
    assert_eq!(credits(&db).due(t(NOW), 10).await.unwrap()[0].attempts, 1);
});

both_backends!(a_failure_reported_after_delivery_changes_nothing, |db| {
    queue(&db, "o-1", 100, NOW).await;
    let id = credits(&db).due(t(NOW), 10).await.unwrap()[0].id;
    credits(&db).delivered(id, t(NOW)).await.unwrap();
    credits(&db)
        .failed(id, t(NOW), "late".into())
        .await
        .unwrap();
    assert!(credits(&db)
        .due(t("2100-01-01T00:00:00Z"), 10)
        .await
        .unwrap()
        .is_empty());
});
