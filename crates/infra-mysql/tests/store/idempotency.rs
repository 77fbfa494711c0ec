//! Idempotency keys: recorded with changes, read back, answered, forgotten.

use domain::change::ChangeBuilder;
use domain::idempotency::{Idempotency, IdempotencyKey, IdempotencyRecord, Remembered};
use domain::ports::IdempotencyStore;
use infra_mysql::IdempotencyKeys;

use crate::common::{both_backends, commit, project, t, TestDb};

fn keys(db: &TestDb) -> IdempotencyKeys {
    IdempotencyKeys::new(db.db.clone())
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

/// Records `key` of `project_id` at `at` through a change.
async fn record(db: &TestDb, project_id: &str, text: &str, at: &str) {
    let mut change = ChangeBuilder::new();
    change.idempotency(IdempotencyRecord {
        request: Idempotency {
            project: project(project_id),
            key: key(text),
            fingerprint: format!("sha256:{}", text.len()),
        },
        result: format!("order:o-{}", text.len()),
        at: t(at),
    });
    commit(db, change).await.unwrap();
}

both_backends!(a_recorded_key_reads_back_per_project, |db| {
    record(&db, "p1", "k-1", "2026-02-01T00:00:00.000001Z").await;
    assert_eq!(
        keys(&db).find(&project("p1"), &key("k-1")).await.unwrap(),
        Some(Remembered {
            fingerprint: "sha256:3".into(),
            result: "order:o-3".into(),
            at: t("2026-02-01T00:00:00.000001Z"),
            answer: None,
        })
    );
    assert_eq!(
        keys(&db).find(&project("p2"), &key("k-1")).await.unwrap(),
        None
    );
    assert_eq!(
        keys(&db).find(&project("p1"), &key("K-1")).await.unwrap(),
        None,
        "keys are case-sensitive"
    );
});

both_backends!(the_longest_key_is_kept_whole, |db| {
    let longest = "k".repeat(IdempotencyKey::MAX_LEN);
    record(&db, "p1", &longest, "2026-02-01T00:00:00Z").await;
    assert!(keys(&db)
        .find(&project("p1"), &key(&longest))
        .await
        .unwrap()
        .is_some());
});

both_backends!(the_answer_given_is_kept_beside_the_key, |db| {
    record(&db, "p1", "k-1", "2026-02-01T00:00:00Z").await;
    let body = format!(
        "{{\"orderId\":\"o-1\",\"note\":\"{}\"}}",
        "✓".repeat(30_000)
    );
    keys(&db)
        .answer(&project("p1"), &key("k-1"), 202, body.clone())
        .await
        .unwrap();
    let remembered = keys(&db)
        .find(&project("p1"), &key("k-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(remembered.answer, Some((202, body)));
    // An answer for a key never recorded keeps nothing.
    keys(&db)
        .answer(&project("p1"), &key("k-2"), 201, "{}".into())
        .await
        .unwrap();
    assert_eq!(
        keys(&db).find(&project("p1"), &key("k-2")).await.unwrap(),
        None
    );
});

both_backends!(keys_recorded_before_an_instant_are_forgotten, |db| {
    record(&db, "p1", "old-1", "2026-01-01T00:00:00Z").await;
    record(&db, "p2", "old-2", "2026-01-31T23:59:59.999999Z").await;
    record(&db, "p1", "new", "2026-02-01T00:00:00Z").await;
    assert_eq!(
        keys(&db).forget(t("2026-02-01T00:00:00Z")).await.unwrap(),
        2
    );
    assert_eq!(
        keys(&db).find(&project("p1"), &key("old-1")).await.unwrap(),
        None
    );
    assert!(keys(&db)
        .find(&project("p1"), &key("new"))
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        keys(&db).forget(t("2026-02-01T00:00:00Z")).await.unwrap(),
        0
    );
});
