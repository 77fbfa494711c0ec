//! A renewal run in a region whose money a charge service keeps, killed with SIGKILL while
//! the charge service takes its payments (the fake answers each 200 ms late, so the kill
//! finds payments taken and not yet answered), then killed again in the run that retries
//! them, while it writes the first answers down; a third run and the delivery job finish
//! the work. Every due cycle is then charged
//! exactly once: each order has its renewal row, and the charge service took exactly its
//! first cycle and that renewal under the order's two payment ids. On SQLite and MariaDB.

use std::time::{Duration, Instant};

use blackbox_tests::inspect::{self, OrderState};
use blackbox_tests::seed::CONSUMING;
use serde_json::json;

use crate::fake_platform::PaymentSeen;
use crate::platform::harness::{
    due_time, payment_reason, time, Database, Harness, BOSS, QUOTA_SMALL, REGION,
};

const ORDERS: usize = 24;
/// [`QUOTA_SMALL`]'s price of a month, ten-thousandths (20.00).
const PRICE: i64 = 200_000;
/// How late the charge service answers the runs: within the service's timeout (1 s).
const DELAY: Duration = Duration::from_millis(200);
/// How long a run may take to send what the test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

fn project(n: usize) -> String {
    format!("renew-{n:02}")
}

/// The renewal deductions (payment #2) that reached the charge service from journal
/// position `since` on, repeats included.
fn renewals_since(h: &Harness, since: usize) -> usize {
    h.fakes
        .payments()
        .iter()
        .filter(|p| p.seq >= since && p.is_deduction() && p.reason.ends_with(":2"))
        .count()
}

/// The renewal payments (#2) recorded as taken.
fn renewals_settled(h: &Harness) -> usize {
    inspect::payments(&mut h.db())
        .unwrap()
        .iter()
        .filter(|p| p.seq == 2 && p.state == inspect::PAYMENT_SETTLED)
        .count()
}

async fn killed_while_renewing(h: Harness, test: &str) {
    let mut opened = Vec::new();
    for n in 0..ORDERS {
        h.fakes.charge.set_balance(&project(n), 3 * PRICE);
        let reply = h
            .app
            .post(
                "/orders",
                BOSS,
                json!({"project": project(n), "planId": QUOTA_SMALL, "region": REGION}),
            )
            .await;
        reply.expect(201, 0);
        opened.push(reply.data().clone());
    }
    // Every order is due for its second cycle by then (they opened within seconds).
    let now = opened.iter().map(due_time).max().unwrap();
    h.fakes.charge.set_delay(DELAY);

    for kill in 1..=2 {
        let mark = h.fakes.journal.len();
        let mut run = h.spawn_renew(now);
        let deadline = Instant::now() + PATIENCE;
        // The first run dies once a third of the renewal payments reached the charge
        // service, the second once it wrote the first answer down.
        let killing_time = || match kill {
            1 => renewals_since(&h, mark) >= ORDERS / 3,
            _ => renewals_settled(&h) > 0,
        };
        while !killing_time() {
            assert!(
                run.try_wait().unwrap().is_none(),
                "run {kill} ended before the kill"
            );
            assert!(Instant::now() < deadline, "run {kill} sent too little");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        run.kill().unwrap();
        let status = run.wait().unwrap();
        assert!(!status.success(), "run {kill} ended before the kill");
        let pending = h.left_to_deliver().len();
        eprintln!(
            "{test}: run {kill} killed ({status}) after {} renewal deductions and {} \
             answers written; {pending} thing(s) left to deliver",
            renewals_since(&h, mark),
            renewals_settled(&h)
        );
    }
    h.fakes.charge.set_delay(Duration::ZERO);
    let stdout = h.renew_ok(now);
    eprintln!(
        "{test}: run 3: {} / {}",
        crate::renewal_runs::summary(&stdout),
        stdout
            .lines()
            .find(|l| l.starts_with("payments:"))
            .unwrap_or_default()
    );
    let runs = h.deliver_until_done(now + chrono::Duration::hours(1));
    eprintln!("{test}: {runs} run(s) of deliver --once finished the rest");

    let orders = inspect::orders(&mut h.db()).unwrap();
    let rows = inspect::rows_per_order(&mut h.db()).unwrap();
    let money = inspect::money_per_order(&mut h.db()).unwrap();
    assert_eq!(orders.len(), ORDERS);
    for before in &opened {
        let id = before["orderId"].as_str().unwrap();
        let order: &OrderState = orders.iter().find(|o| o.order_id == id).unwrap();
        assert_eq!(order.status, CONSUMING, "{order:?}");
        assert_eq!(order.awaiting_payment, None, "{order:?}");
        let after = h
            .app
            .get(&format!("/orders/{id}?project={}", order.project), BOSS)
            .await;
        after.expect(200, 0);
        assert!(
            time(&after.data()["deadlineTime"]) > time(&before["deadlineTime"]),
            "order {id} was not renewed: {after:?}"
        );
        assert_eq!(
            rows.get(id),
            Some(&2),
            "order {id}: two rows, opening and renewal"
        );
        assert_eq!(money.get(id), Some(&(2 * PRICE)), "order {id}");
        for seq in [1, 2] {
            assert_eq!(
                h.fakes
                    .charge
                    .taken_under("deduction", &payment_reason(id, seq)),
                Some(PRICE),
                "order {id}, payment #{seq}"
            );
        }
        assert_eq!(h.net_taken_for(id), 2 * PRICE, "order {id}");
        assert_eq!(
            h.fakes.charge.net_taken(&order.project),
            2 * PRICE,
            "{}: taken under another id",
            order.project
        );
    }
    let repeats = h
        .fakes
        .payments()
        .iter()
        .filter(|p: &&PaymentSeen| p.status == 409)
        .count();
    eprintln!("{test}: the charge service answered {repeats} repeat(s) 409 (already taken)");
    eprintln!("{test}: {}", h.assert_reconciled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_service_renewal_killed_twice_charges_each_cycle_once_on_sqlite() {
    let h = Harness::start().await;
    killed_while_renewing(
        h,
        "a_charge_service_renewal_killed_twice_charges_each_cycle_once_on_sqlite",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_charge_service_renewal_killed_twice_charges_each_cycle_once() {
    let test = "crash::service_killed_renewing::mysql_a_charge_service_renewal_killed_twice_charges_each_cycle_once";
    let Some(h) = Harness::start_on(Database::Mysql(test), false).await else {
        return;
    };
    killed_while_renewing(h, test).await;
}
