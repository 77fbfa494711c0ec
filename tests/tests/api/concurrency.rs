//! Concurrent creates: those that together exceed the balance (exactly one wins, the others
//! get 3316, and the balance never goes below zero), and quota orders of one project and
//! region (exactly one opens, the others get 3309). On SQLite and on MariaDB.

use std::sync::Arc;

use serde_json::json;
use tokio::task::JoinSet;

use crate::helpers::{spawn_app, spawn_app_mysql, Reply, TestApp, ADMIN, CPU, VOLUME};

/// Fires the `n` creates `bodies` gives at once and counts the answers by (status, code).
async fn fire(app: &Arc<TestApp>, bodies: Vec<serde_json::Value>) -> Vec<Reply> {
    let mut creates = JoinSet::new();
    for body in bodies {
        let app = Arc::clone(app);
        creates.spawn(async move { app.post("/orders", ADMIN, body).await });
    }
    let mut replies = Vec::new();
    while let Some(reply) = creates.join_next().await {
        replies.push(reply.unwrap());
    }
    replies
}

/// Funds a fresh project with exactly one volume's price (volumes are not quotas: a
/// project may hold several) and fires `n` creates of differently named volumes at once.
async fn only_one_of_concurrent_creates_is_paid(app: TestApp, n: usize) {
    let project = format!("race-{n}");
    app.recharge(&project, "12.50").await.expect(200, 0);
    let app = Arc::new(app);
    let bodies = (0..n)
        .map(|i| {
            json!({"project": project, "planId": VOLUME,
                   "parameters": {"resourceName": format!("data-{i}")}})
        })
        .collect();
    let mut paid = 0;
    for reply in fire(&app, bodies).await {
        match (reply.status.as_u16(), reply.code()) {
            (201, 0) => paid += 1,
            (402, 3316) => {}
            other => panic!("unexpected {other:?}: {reply:?}"),
        }
    }
    assert_eq!(paid, 1);
    assert_eq!(app.balance(&project).await, "0.00");
    let snapshot = app.snapshot(&project).await;
    assert_eq!(snapshot.orders_by_status, [0, 1, 0, 0]);
    assert_eq!(snapshot.usages, 1);
    app.assert_reconciled();
}

/// Funds a fresh project for `n` quota orders and fires `n` creates of one in the same
/// region at once: one opens, the others find the region's quota taken.
async fn only_one_of_concurrent_quota_creates_opens(app: TestApp, n: usize) {
    let project = format!("quota-race-{n}");
    let funded = format!("{}.00", 99 * n);
    app.recharge(&project, &funded).await.expect(200, 0);
    let app = Arc::new(app);
    let bodies = (0..n)
        .map(|_| json!({"project": project, "planId": CPU}))
        .collect();
    let mut opened = 0;
    for reply in fire(&app, bodies).await {
        match (reply.status.as_u16(), reply.code()) {
            (201, 0) => opened += 1,
            (409, 3309) => {}
            other => panic!("unexpected {other:?}: {reply:?}"),
        }
    }
    assert_eq!(opened, 1);
    assert_eq!(app.balance(&project).await, format!("{}.00", 99 * (n - 1)));
    let snapshot = app.snapshot(&project).await;
    assert_eq!(snapshot.orders_by_status, [0, 1, 0, 0]);
    assert_eq!(snapshot.usages, 1);
    app.assert_reconciled();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_2_concurrent_creates_succeeds_on_sqlite() {
    only_one_of_concurrent_creates_is_paid(spawn_app().await, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_8_concurrent_creates_succeeds_on_sqlite() {
    only_one_of_concurrent_creates_is_paid(spawn_app().await, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_one_of_2_concurrent_creates_succeeds() {
    if let Some(app) =
        spawn_app_mysql("concurrency::mysql_one_of_2_concurrent_creates_succeeds").await
    {
        only_one_of_concurrent_creates_is_paid(app, 2).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_one_of_8_concurrent_creates_succeeds() {
    if let Some(app) =
        spawn_app_mysql("concurrency::mysql_one_of_8_concurrent_creates_succeeds").await
    {
        only_one_of_concurrent_creates_is_paid(app, 8).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_8_concurrent_quota_creates_in_one_region_opens_on_sqlite() {
    only_one_of_concurrent_quota_creates_opens(spawn_app().await, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_one_of_8_concurrent_quota_creates_in_one_region_opens() {
    if let Some(app) =
        spawn_app_mysql("concurrency::mysql_one_of_8_concurrent_quota_creates_in_one_region_opens")
            .await
    {
        only_one_of_concurrent_quota_creates_opens(app, 8).await;
    }
}
