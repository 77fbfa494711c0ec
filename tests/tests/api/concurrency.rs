//! Concurrent creates that together exceed the balance: exactly one wins, the others get
//! 3316, and the balance never goes below zero. On SQLite and on MariaDB.

use std::sync::Arc;

use tokio::task::JoinSet;

use crate::helpers::{spawn_app, spawn_app_mysql, TestApp, ADMIN, CPU};

/// Funds a fresh project with exactly one order's price and fires `n` creates at once.
async fn only_one_of_concurrent_creates_is_paid(app: TestApp, n: usize) {
    let project = format!("race-{n}");
    app.recharge(&project, "99.00").await.expect(200, 0);
    let app = Arc::new(app);
    let mut creates = JoinSet::new();
    for _ in 0..n {
        let app = Arc::clone(&app);
        let project = project.clone();
        creates.spawn(async move { app.create_order(ADMIN, &project, CPU).await });
    }
    let mut paid = 0;
    while let Some(reply) = creates.join_next().await {
        let reply = reply.unwrap();
        match (reply.status.as_u16(), reply.code()) {
            (200, 0) => paid += 1,
            (402, 3316) => {}
            other => panic!("unexpected {other:?}: {reply:?}"),
        }
    }
    assert_eq!(paid, 1);
    assert_eq!(app.balance(&project).await, "0.00");
    let snapshot = app.snapshot(&project).await;
    assert_eq!(snapshot.orders_by_status, [0, 1, 0, 0]);
    assert_eq!(snapshot.usages, 1);
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
