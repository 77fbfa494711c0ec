//! Platform resources whose calls fail or time out (defect 10 of issue 10): a quota task
//! retried late sets the quota of the order that holds it now, never a stale one; a volume
//! whose creation timed out is released by name. On SQLite and MariaDB.

use std::time::{Duration, Instant};

use blackbox_tests::retries;

use crate::fake_platform::{Condition, Quota, Service, VolumeCall};

use super::harness::{
    order_id, Database, Harness, ANN, BACKGROUND, OPENING_BALANCE, PROJECT, QUOTA_LARGE,
    QUOTA_SMALL,
};

/// Waits until every resource task is done.
async fn tasks_done(h: &Harness) {
    let deadline = Instant::now() + BACKGROUND;
    loop {
        let left = retries::tasks_left(&mut h.db()).unwrap();
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{left} resource task(s) left after {BACKGROUND:?}:\n{}",
            h.fakes.journal.describe()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn late_quota_release(h: &Harness) {
    let small = order_id(&h.create(ANN, QUOTA_SMALL).await);
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(2, 4)));

    // The cancel succeeds; its quota task fails on the platform and is left for later.
    h.fakes.cluster.set_condition(Condition::Failing);
    h.cancel(ANN, &small).await.expect(200, 0);
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(2, 4)));

    // A newer quota order of the project and region sets its own quota.
    h.fakes.cluster.set_condition(Condition::Up);
    let large = order_id(&h.create(ANN, QUOTA_LARGE).await);
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(4, 8)));

    // Hours later the old task is retried: it sets what the order holding the quota
    // provides, not nothing.
    let mark = h.fakes.journal.len();
    h.deliver_due_now();
    tasks_done(h).await;
    let touched = h.fakes.journal.filter(|r| {
        r.seq >= mark && r.service == Service::Platform && r.path.contains("resourcequotas")
    });
    assert!(
        !touched.is_empty(),
        "the retried task never looked at the quota:\n{}",
        h.fakes.journal.describe()
    );
    let writes: Vec<_> = h
        .fakes
        .quota_writes(PROJECT)
        .into_iter()
        .filter(|(seq, _)| *seq >= mark)
        .collect();
    assert!(
        writes.iter().all(|(_, quota)| *quota == Quota::new(4, 8)),
        "the late task wrote {writes:?}"
    );
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(4, 8)));
    assert_eq!(h.order(&large).await["status"], "consuming");
    h.assert_reconciled();
}

#[tokio::test]
async fn a_quota_release_retried_after_a_newer_quota_order_leaves_the_newer_quota() {
    let h = Harness::start().await;
    late_quota_release(&h).await;
}

#[tokio::test]
async fn mysql_a_quota_release_retried_after_a_newer_quota_order_leaves_the_newer_quota() {
    let Some(h) = Harness::start_on(
        Database::Mysql(
            "platform::resources::mysql_a_quota_release_retried_after_a_newer_quota_order_leaves_the_newer_quota",
        ),
        false,
    )
    .await
    else {
        return;
    };
    late_quota_release(&h).await;
}

async fn volume_creation_timed_out(h: &Harness) {
    // The volume is created, but the answer comes too late.
    h.fakes.volumes.take_then_time_out(1);
    h.create_volume(ANN, "data-1").await.expect(503, 3320);

    // Released by its name; nothing charged, no order.
    let release = h
        .fakes
        .journal
        .wait_for("the volume's release", BACKGROUND, |r| {
            VolumeCall::of(r).is_some_and(|c| c.method == "DELETE" && c.name == "data-1")
        })
        .await;
    assert_eq!(release.status, 200, "{}", h.fakes.journal.describe());
    assert!(!h.fakes.volumes.exists(PROJECT, "data-1"));
    assert!(h.fakes.payments().is_empty());
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE);
    for status in ["pending", "consuming", "ending", "ended"] {
        assert_eq!(h.orders_with_status(status).await, 0, "{status}");
    }

    // The name is free again.
    let created = h.create_volume(ANN, "data-1").await;
    let id = order_id(&created);
    assert!(h.fakes.volumes.exists(PROJECT, "data-1"));
    assert_eq!(
        h.fakes.volumes.order_of(PROJECT, "data-1").as_deref(),
        Some(id.as_str())
    );
    tasks_done(h).await;
    assert!(h.fakes.volumes.exists(PROJECT, "data-1"));
    h.assert_reconciled();
}

#[tokio::test]
async fn a_volume_whose_creation_timed_out_is_released_by_name_and_can_be_created_again() {
    let h = Harness::start().await;
    volume_creation_timed_out(&h).await;
}

#[tokio::test]
async fn mysql_a_volume_whose_creation_timed_out_is_released_by_name_and_can_be_created_again() {
    let Some(h) = Harness::start_on(
        Database::Mysql(
            "platform::resources::mysql_a_volume_whose_creation_timed_out_is_released_by_name_and_can_be_created_again",
        ),
        false,
    )
    .await
    else {
        return;
    };
    volume_creation_timed_out(&h).await;
}
