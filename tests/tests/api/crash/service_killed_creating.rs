//! The service killed with SIGKILL, twice, while 32 clients create quota orders in a region
//! whose money a charge service keeps (the fake, answering each payment 300 ms late so
//! that the kills find payments taken and not yet answered), each client in a project of
//! its own and retrying with its `Idempotency-Key` until answered for sure. The service is
//! started again on the same database each time; the delivery job (`deliver --once`)
//! finishes what is left. Every client then has exactly one order: open, paid once at the
//! charge service with the plan's price, its quota set on the platform; or, where the
//! project could not pay, ended with nothing taken and no quota. On SQLite and MariaDB.

use std::time::{Duration, Instant};

use blackbox_tests::inspect;
use chrono::Utc;
use serde_json::json;

use super::books::{assert_quota_orders_complete, by_status, QUOTA_PRICE as PRICE};
use super::clients::{Endpoint, Fleet, Histogram};
use crate::platform::harness::{Database, Harness, BOSS, QUOTA_SMALL, REGION};

const CLIENTS: usize = 32;
/// How late the charge service answers: within the service's timeout (1 s).
const DELAY: Duration = Duration::from_millis(300);
/// Between two clients' first requests, so that the kills find creates at every step.
const STAGGER: Duration = Duration::from_millis(25);
/// For the whole test: clients, restarts and deliveries.
const DEADLINE: Duration = Duration::from_secs(120);

fn project(n: usize) -> String {
    format!("crash-{n:02}")
}

/// Every eighth project holds less than the plan's price: its payment is declined.
fn can_pay(n: usize) -> bool {
    n % 8 != 5
}

/// How many payments the charge service has been asked for (repeats of one count once).
fn deductions(h: &Harness) -> usize {
    h.fakes
        .payments()
        .into_iter()
        .filter(|p| p.is_deduction())
        .map(|p| p.reason)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

async fn killed_while_creating(mut h: Harness, test: &str) {
    let deadline = Instant::now() + DEADLINE;
    for n in 0..CLIENTS {
        let balance = if can_pay(n) { 3 * PRICE } else { PRICE / 2 };
        h.fakes.charge.set_balance(&project(n), balance);
    }
    h.fakes.charge.set_delay(DELAY);
    let endpoint = Endpoint::new(&h.app.address);
    let creates = (0..CLIENTS)
        .map(|n| {
            let body = json!({"project": project(n), "planId": QUOTA_SMALL, "region": REGION});
            (project(n), body)
        })
        .collect();
    let fleet = Fleet::start(
        &endpoint,
        BOSS,
        creates,
        |n| STAGGER * u32::try_from(n).unwrap(),
        deadline,
    );

    for kill in 1..=2 {
        // A third of the payments asked for, then two thirds: the kills land mid-way.
        let wanted = kill * CLIENTS / 3;
        while deductions(&h) < wanted {
            assert!(Instant::now() < deadline, "{wanted} payments never came");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let answered = fleet.answered();
        assert!(answered < CLIENTS, "kill {kill} came after every answer");
        h.restart();
        endpoint.set(&h.app.address);
        let orders = inspect::orders(&mut h.db()).unwrap();
        eprintln!(
            "{test}: kill {kill} after {} payments asked for, {answered} clients answered; \
             orders by status then: {:?}",
            deductions(&h),
            by_status(&orders)
        );
    }
    let answered = fleet.finish().await;
    h.fakes.charge.set_delay(Duration::ZERO);
    let histogram = Histogram::of(&answered);
    eprintln!("{test}: the clients heard {histogram}");
    assert!(
        histogram.faults().is_empty(),
        "faults of the service, not of the kills: {:?}",
        histogram.faults()
    );

    // What the requests left pending, the delivery job finishes (an hour on: every retry's
    // back-off has passed).
    let runs = h.deliver_until_done(Utc::now() + chrono::Duration::hours(1));
    eprintln!("{test}: {runs} run(s) of deliver --once finished the rest");
    assert_eq!(answered.len(), CLIENTS);
    assert_quota_orders_complete(&h, &answered, |project| {
        can_pay(project["crash-".len()..].parse().unwrap())
    });
    eprintln!("{test}: {}", h.assert_reconciled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_service_killed_twice_while_32_clients_create_loses_and_doubles_nothing_on_sqlite() {
    let h = Harness::start().await;
    killed_while_creating(
        h,
        "the_service_killed_twice_while_32_clients_create_loses_and_doubles_nothing_on_sqlite",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_the_service_killed_twice_while_32_clients_create_loses_and_doubles_nothing() {
    let test = "crash::service_killed_creating::mysql_the_service_killed_twice_while_32_clients_create_loses_and_doubles_nothing";
    let Some(h) = Harness::start_on(Database::Mysql(test), false).await else {
        return;
    };
    killed_while_creating(h, test).await;
}
