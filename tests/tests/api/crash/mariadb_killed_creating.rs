//! Defect 11 of issue 10, as an unlucky operator met it: MariaDB killed with SIGKILL under
//! 64 clients creating quota orders (each in a project of its own, funded, so the rule of
//! one quota order per project and region refuses none), and started again 5 s later. The
//! clients keep sending their requests with their own `Idempotency-Key` until answered for
//! sure (503 / 3304 while the database is away is expected); the server's background jobs
//! finish what the outage left. Then every client has exactly one order, open, paid exactly
//! once, holding its quota, and `serviceusage reconcile` finds the books in order. Once on
//! the embedded regions (the ledger keeps the money, quotas are `DF_RESOURCE` rows), once
//! against the fake platform (a charge service keeps the money, quotas are the
//! platform's). Run alone by `make test-crash` (see [`super::mariadb`]).

use std::time::{Duration, Instant};

use blackbox_tests::db::Db;
use blackbox_tests::inspect;
use blackbox_tests::retries;
use blackbox_tests::seed::CONSUMING;
use serde_json::json;

use super::books::{assert_quota_orders_complete, by_status, the_order};
use super::clients::{Answered, Endpoint, Fleet, Histogram};
use super::mariadb::{kill_mariadb, require_kill_switch};
use crate::helpers::{spawn_app_mysql, TestApp, ADMIN, CPU};
use crate::platform::harness::{Database, Harness, BOSS, QUOTA_SMALL, REGION};

const CLIENTS: usize = 64;
/// How many clients are answered when MariaDB is killed: the very first ones.
const ANSWERED_AT_KILL: usize = 2;
/// How long MariaDB stays down.
const OUTAGE: Duration = Duration::from_secs(5);
/// For the clients to be answered, and then for the background jobs to finish: a task or
/// payment the outage failed waits 10 s, then 20 s, … before its next attempt.
const PATIENCE: Duration = Duration::from_secs(180);

/// When the n-th client sends its first request: half of them in a flood, a millisecond
/// apart, so that the kill finds their creates in flight at every step; the other half
/// from 300 ms on, 50 ms apart, while MariaDB is away.
fn start_of(n: usize) -> Duration {
    let n = u32::try_from(n).unwrap();
    let flood = u32::try_from(CLIENTS / 2).unwrap();
    if n < flood {
        Duration::from_millis(1) * n
    } else {
        Duration::from_millis(300) + Duration::from_millis(50) * (n - flood)
    }
}

fn project(n: usize) -> String {
    format!("m11-{n:02}")
}

/// Starts the clients, kills MariaDB once the first of them are answered, starts it again
/// after [`OUTAGE`], and waits for every client's definitive answer.
async fn create_through_an_outage(
    test: &str,
    address: &str,
    token: &str,
    body: impl Fn(&str) -> serde_json::Value,
) -> Vec<Answered> {
    let deadline = Instant::now() + PATIENCE;
    let endpoint = Endpoint::new(address);
    let creates = (0..CLIENTS)
        .map(|n| (project(n), body(&project(n))))
        .collect();
    let fleet = Fleet::start(&endpoint, token, creates, start_of, deadline);
    while fleet.answered() < ANSWERED_AT_KILL {
        assert!(Instant::now() < deadline, "the clients were not answered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = kill_mariadb();
    let at_kill = fleet.answered();
    assert!(at_kill < CLIENTS, "the kill came after every answer");
    tokio::time::sleep(OUTAGE).await;
    let recovered = killed.restart();
    eprintln!(
        "{test}: MariaDB killed with {at_kill} of {CLIENTS} clients answered, restarted after \
         {OUTAGE:?}, answering {recovered:?} later"
    );
    let started = Instant::now();
    let answered = fleet.finish().await;
    let histogram = Histogram::of(&answered);
    eprintln!(
        "{test}: every client answered {:?} after the restart; the clients heard {histogram}",
        started.elapsed()
    );
    assert_eq!(answered.len(), CLIENTS);
    assert!(
        histogram.faults().is_empty(),
        "faults of the service, not of the outage: {:?}",
        histogram.faults()
    );
    answered
}

/// Polls `left` (what is left to do, one line each) until it is empty, at most
/// [`PATIENCE`]: the server's background jobs finish what the outage interrupted.
async fn background_finishes(test: &str, mut left: impl FnMut() -> Vec<String>) {
    let started = Instant::now();
    let mut first: Option<Vec<String>> = None;
    loop {
        let now = left();
        if now.is_empty() {
            let first = first.unwrap_or_default();
            eprintln!(
                "{test}: the background jobs finished {:?} after the clients; {} thing(s) \
                 were left when they were answered, e.g. {:?}",
                started.elapsed(),
                first.len(),
                &first[..first.len().min(3)]
            );
            return;
        }
        first.get_or_insert_with(|| now.clone());
        assert!(
            started.elapsed() < PATIENCE,
            "still left after {PATIENCE:?}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What the embedded regions have yet to finish: open orders without their quota row,
/// resource tasks undone.
fn left_on_the_ledger(database_url: &str) -> Vec<String> {
    let mut db = Db::connect(database_url).unwrap();
    let orders = inspect::orders(&mut db).unwrap();
    let live = inspect::live_resources(&mut db).unwrap();
    let mut left: Vec<String> = orders
        .iter()
        .filter(|o| o.status == CONSUMING)
        .filter(|o| !live.iter().any(|r| r.order_id == o.order_id))
        .map(|o| format!("order {} consuming without its quota", o.order_id))
        .collect();
    let tasks = retries::tasks_left(&mut db).unwrap();
    if tasks > 0 {
        left.push(format!("{tasks} resource task(s) undone"));
    }
    left
}

/// What each project is funded with before the clients start.
const FUNDED: &str = "500.00";
/// Its balance once [`CPU`] (99.00 a month) is paid exactly once.
const PAID_ONCE: &str = "401.00";

/// Each project holds one order, the one its answer names, open and holding its quota
/// (one live `DF_RESOURCE` row of kind quota, in its region, and no other live resource);
/// its balance paid the plan's price exactly once.
async fn assert_ledger_orders_complete(app: &TestApp, answered: &[Answered]) {
    let mut db = Db::connect(&app.database_url()).unwrap();
    let orders = inspect::orders(&mut db).unwrap();
    let live = inspect::live_resources(&mut db).unwrap();
    assert_eq!(orders.len(), CLIENTS, "{:?}", by_status(&orders));
    assert_eq!(live.len(), CLIENTS, "one live quota per order: {live:?}");
    for client in answered {
        let order = the_order(&orders, client);
        assert!(
            matches!(client.status(), 200 | 201),
            "{}: answered {:?}",
            client.project,
            client.reply
        );
        assert_eq!(order.status, CONSUMING, "{order:?}");
        let quota: Vec<_> = live
            .iter()
            .filter(|r| r.order_id == order.order_id)
            .collect();
        assert!(
            matches!(quota.as_slice(), [r] if r.kind == "quota" && r.project == client.project),
            "{order:?}: {quota:?}"
        );
        assert_eq!(
            app.balance(&client.project).await,
            PAID_ONCE,
            "{} was funded with {FUNDED}",
            client.project
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "kills MariaDB: run alone with `make test-crash`"]
async fn mysql_crash_mariadb_killed_under_64_clients_creating_quota_orders_on_the_ledger() {
    let test = "crash::mariadb_killed_creating::mysql_crash_mariadb_killed_under_64_clients_creating_quota_orders_on_the_ledger";
    require_kill_switch(test);
    let app = spawn_app_mysql(test)
        .await
        .expect("MariaDB must be reachable to be killed");
    for n in 0..CLIENTS {
        app.recharge(&project(n), FUNDED).await.expect(200, 0);
    }
    let answered = create_through_an_outage(
        test,
        &app.address,
        ADMIN,
        |project| json!({"project": project, "planId": CPU}),
    )
    .await;
    let url = app.database_url();
    eprintln!(
        "{test}: orders by status when the clients were answered: {:?}",
        by_status(&inspect::orders(&mut Db::connect(&url).unwrap()).unwrap())
    );
    background_finishes(test, || left_on_the_ledger(&url)).await;
    assert_ledger_orders_complete(&app, &answered).await;
    eprintln!("{test}: {}", app.assert_reconciled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "kills MariaDB: run alone with `make test-crash`"]
async fn mysql_crash_mariadb_killed_under_64_clients_creating_quota_orders_at_the_charge_service() {
    let test = "crash::mariadb_killed_creating::mysql_crash_mariadb_killed_under_64_clients_creating_quota_orders_at_the_charge_service";
    require_kill_switch(test);
    let h = Harness::start_on(Database::Mysql(test), false)
        .await
        .expect("MariaDB must be reachable to be killed");
    for n in 0..CLIENTS {
        h.fakes
            .charge
            .set_balance(&project(n), 3 * super::books::QUOTA_PRICE);
    }
    let answered = create_through_an_outage(
        test,
        &h.app.address,
        BOSS,
        |project| json!({"project": project, "planId": QUOTA_SMALL, "region": REGION}),
    )
    .await;
    eprintln!(
        "{test}: orders by status when the clients were answered: {:?}",
        by_status(&inspect::orders(&mut h.db()).unwrap())
    );
    // The server's delivery job sends what is pending and runs the quota tasks.
    background_finishes(test, || {
        let mut left = h.left_to_deliver();
        let orders = inspect::orders(&mut h.db()).unwrap();
        left.extend(
            orders
                .iter()
                .filter(|o| o.status == CONSUMING && h.fakes.quota(&o.project).is_none())
                .map(|o| format!("order {} consuming without its quota", o.order_id)),
        );
        left
    })
    .await;
    assert_quota_orders_complete(&h, &answered, |_| true);
    eprintln!("{test}: {}", h.assert_reconciled());
}
