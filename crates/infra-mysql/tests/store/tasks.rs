//! The queue of resource tasks: queued, due, claimed once per attempt, done, cancelled.

use chrono::TimeDelta;

use domain::ports::TaskQueue;
use domain::provisioning::{NewTask, Resource, TaskAction};
use infra_mysql::TaskStore;

use crate::common::{both_backends, order, t, OrderExt, TestDb};

const LATER: &str = "2100-01-01T00:00:00Z";

fn tasks(db: &TestDb) -> TaskStore {
    TaskStore::new(db.db.clone())
}

fn release(id: &str, due: &str) -> NewTask {
    NewTask::release_unless_committed(
        Resource::of(&order(id).named(&format!("vol-{id}"))).unwrap(),
        t(due),
    )
}

both_backends!(a_queued_task_reads_back_as_queued_when_due, |db| {
    let queue = tasks(&db);
    let quota = NewTask::after_change(
        Resource::of(&order("q-1").of_type("cpuquota")).unwrap(),
        t("2026-02-01T00:00:00Z"),
    );
    let released = queue
        .enqueue(release("o-1", "2026-02-01T00:05:00Z"))
        .await
        .unwrap();
    let synced = queue.enqueue(quota.clone()).await.unwrap();
    assert!(released < synced);

    let at = t("2026-02-01T00:05:00Z");
    let due = queue
        .due(at - TimeDelta::microseconds(1), 10, None)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "the release is not due yet");
    assert_eq!(due[0].id, synced);
    assert_eq!(
        (due[0].action, &due[0].resource, due[0].attempts),
        (TaskAction::SyncQuota, &quota.resource, 0)
    );
    let due = queue.due(at, 10, None).await.unwrap();
    let ids: Vec<u64> = due.iter().map(|task| task.id).collect();
    assert_eq!(ids, [released, synced], "oldest first");
    assert_eq!(due[0].action, TaskAction::Release);
    assert_eq!(due[0].resource.name.as_ref().unwrap().as_str(), "vol-o-1");
    assert_eq!(queue.due(at, 1, None).await.unwrap().len(), 1, "limit");
    let only = queue.due(at, 10, Some(vec![synced])).await.unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].id, synced);
    assert!(queue
        .due(at, 10, Some(Vec::new()))
        .await
        .unwrap()
        .is_empty());
});

both_backends!(a_claim_counts_one_run_and_pushes_the_next_attempt, |db| {
    let queue = tasks(&db);
    let id = queue
        .enqueue(release("o-1", "2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    let retry = t("2026-02-01T00:00:10Z");
    assert!(queue.claim(id, 0, retry).await.unwrap());
    assert!(
        !queue.claim(id, 0, retry).await.unwrap(),
        "that run is someone else's"
    );
    assert!(queue
        .due(retry - TimeDelta::microseconds(1), 10, None)
        .await
        .unwrap()
        .is_empty());
    let again = queue.due(retry, 10, None).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    assert!(queue.claim(id, 1, t(LATER)).await.unwrap());
});

both_backends!(concurrent_claims_of_one_run_let_one_through, |db| {
    let id = tasks(&db)
        .enqueue(release("o-1", "2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    let claims: Vec<_> = (0..6)
        .map(|_| {
            let queue = tasks(&db);
            tokio::spawn(async move { queue.claim(id, 0, t(LATER)).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for claim in claims {
        won += usize::from(claim.await.unwrap());
    }
    assert_eq!(won, 1);
});

both_backends!(a_done_task_is_never_due_nor_claimed_again, |db| {
    let queue = tasks(&db);
    let id = queue
        .enqueue(release("o-1", "2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(queue.claim(id, 0, t("2026-02-01T00:00:10Z")).await.unwrap());
    queue.done(id, t("2026-02-01T00:00:01Z")).await.unwrap();
    queue.done(id, t("2026-02-02T00:00:00Z")).await.unwrap();
    assert_eq!(
        db.time_in("DF_RESOURCE_TASK", "DONE_AT", id)
            .unwrap()
            .map(|time| time.and_utc()),
        Some(t("2026-02-01T00:00:01Z")),
        "the first time stays"
    );
    assert!(queue.due(t(LATER), 10, None).await.unwrap().is_empty());
    assert!(!queue.claim(id, 1, t(LATER)).await.unwrap());
    queue.due_at(id, t("2026-02-01T00:00:00Z")).await.unwrap();
    assert!(queue.due(t(LATER), 10, None).await.unwrap().is_empty());
});

both_backends!(a_failed_run_keeps_its_error_cut_to_the_column, |db| {
    let queue = tasks(&db);
    let id = queue
        .enqueue(release("o-1", "2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(queue.claim(id, 0, t("2026-02-01T00:00:10Z")).await.unwrap());
    queue.failed(id, "é".repeat(5_000)).await.unwrap();
    let again = queue.due(t(LATER), 10, None).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts), (id, 1), "it runs again");
});

both_backends!(a_task_made_due_now_is_due_now, |db| {
    let queue = tasks(&db);
    let id = queue
        .enqueue(release("o-1", "2026-02-01T00:05:00Z"))
        .await
        .unwrap();
    let now = t("2026-02-01T00:00:30Z");
    assert!(queue.due(now, 10, None).await.unwrap().is_empty());
    queue.due_at(id, now).await.unwrap();
    assert_eq!(queue.due(now, 10, None).await.unwrap()[0].id, id);
});

both_backends!(a_task_not_yet_run_is_cancelled_once, |db| {
    let queue = tasks(&db);
    let id = queue
        .enqueue(release("o-1", "2026-02-01T00:05:00Z"))
        .await
        .unwrap();
    assert!(queue.cancel(id).await.unwrap());
    assert!(!queue.cancel(id).await.unwrap());
    assert!(queue.due(t(LATER), 10, None).await.unwrap().is_empty());
    assert!(!queue.claim(id, 0, t(LATER)).await.unwrap());
});

both_backends!(a_claimed_task_can_no_longer_be_cancelled, |db| {
    let queue = tasks(&db);
    let id = queue
        .enqueue(release("o-1", "2026-02-01T00:05:00Z"))
        .await
        .unwrap();
    assert!(queue.claim(id, 0, t("2026-02-01T00:06:00Z")).await.unwrap());
    assert!(!queue.cancel(id).await.unwrap());
    assert_eq!(queue.due(t(LATER), 10, None).await.unwrap().len(), 1);
});

both_backends!(a_claim_and_a_cancel_racing_let_exactly_one_through, |db| {
    for n in 0..10 {
        let id = tasks(&db)
            .enqueue(release(&format!("o-{n}"), "2026-02-01T00:05:00Z"))
            .await
            .unwrap();
        let (claimer, canceller) = (tasks(&db), tasks(&db));
        let claim = tokio::spawn(async move { claimer.claim(id, 0, t(LATER)).await.unwrap() });
        let cancel = tokio::spawn(async move { canceller.cancel(id).await.unwrap() });
        let (claimed, cancelled) = (claim.await.unwrap(), cancel.await.unwrap());
        assert!(
            claimed != cancelled,
            "task {id}: claimed {claimed}, cancelled {cancelled}"
        );
    }
});
