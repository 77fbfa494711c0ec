//! A user's cancel racing a renewal whose payment the charge service is taking (defect 1
//! of issue 10): the database decides before any money moves. Either the renewal recorded
//! its payment first, and the cancel is refused until the payment is settled, or the cancel
//! ended the order first, and the renewal charges nothing. Each test puts the cancel on one
//! side of the renewal's commit (the charge service answering 2 s late, or the plan
//! service slowing the run's decision). Whichever wins, the charge
//! service holds for the order exactly what its rows say. On SQLite and MariaDB.

use std::time::Duration;

use crate::fake_platform::{Condition, PaymentSeen, Service};
use crate::helpers::minor;

use super::harness::{
    due_time, order_id, payment_reason, time, Database, Harness, ANN, BACKGROUND, QUOTA_SMALL,
};

/// How late the charge service answers, within the service's timeout (see [`start`]).
const DELAY: Duration = Duration::from_secs(2);

/// The harness with a timeout the delayed answers come within.
async fn start(database: Database) -> Option<Harness> {
    Harness::start_with(database, |config, _| config.timeout_ms = 2_500).await
}

/// Waits for the renew process it left running and insists on exit 0.
fn finished(renew: std::process::Child) -> String {
    let output = renew.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "renew failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The order's books agree with the charge service, and reconcile finds nothing wrong.
async fn assert_books(h: &Harness, id: &str) {
    assert_eq!(
        h.net_taken_for(id),
        h.rows_total(id).await,
        "order {id}: taken by the charge service vs its rows:\n{}",
        h.fakes.journal.describe()
    );
    h.assert_reconciled();
}

async fn cancel_while_the_renewal_payment_is_taken(h: &Harness) {
    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);
    let before = h.order(&id).await;
    let renewal = payment_reason(&id, 2);

    h.fakes.charge.set_delay(DELAY);
    let mark = h.fakes.journal.len();
    let renew = h.spawn_renew(due_time(&before));
    // The run recorded the payment of the next cycle and sent it; the charge service has
    // taken it and its answer is on the way.
    h.fakes
        .journal
        .wait_for("the renewal's deduction", BACKGROUND, |r| {
            r.seq >= mark && PaymentSeen::of(r).is_some_and(|p| p.reason == renewal)
        })
        .await;
    let refused = h.cancel(ANN, &id).await;
    refused.expect(409, 3309);
    assert_eq!(h.order(&id).await["awaitingPayment"], true);
    let stdout = finished(renew);
    h.fakes.charge.set_delay(Duration::ZERO);

    // The payment settled: its row is written and the order paid for one more cycle.
    let renewed = h.order(&id).await;
    assert_eq!(renewed["awaitingPayment"], false, "{stdout}");
    assert!(time(&renewed["deadlineTime"]) > time(&before["deadlineTime"]));
    let rows = h.usages(&id).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows
        .iter()
        .any(|row| row["consumeId"] == 2 && minor(&row["money"]) == 200_000));
    assert_eq!(
        h.fakes.charge.taken_under("deduction", &renewal),
        Some(200_000)
    );

    // Now the cancel goes through, and refunds what was paid and is not used.
    let mark = h.fakes.journal.len();
    let cancelled = h.cancel(ANN, &id).await;
    cancelled.expect(200, 0);
    let refunded = minor(&cancelled.data()["refunded"]);
    assert!(
        refunded > 200_000,
        "the second cycle is unused: {cancelled:?}"
    );
    let credit = h.refund_taken(mark, &id).await;
    assert_eq!(credit.reason, payment_reason(&id, 3));
    assert_eq!(credit.amount, Some(refunded));
    assert_books(h, &id).await;
}

#[tokio::test]
async fn a_cancel_while_the_renewal_payment_is_taken_is_refused_until_it_settles() {
    let h = start(Database::Sqlite).await.unwrap();
    cancel_while_the_renewal_payment_is_taken(&h).await;
}

#[tokio::test]
async fn mysql_a_cancel_while_the_renewal_payment_is_taken_is_refused_until_it_settles() {
    let Some(h) = start(Database::Mysql(
        "platform::renewal_races::mysql_a_cancel_while_the_renewal_payment_is_taken_is_refused_until_it_settles",
    ))
    .await
    else {
        return;
    };
    cancel_while_the_renewal_payment_is_taken(&h).await;
}

async fn cancel_before_the_renewal_commits(h: &Harness) {
    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);
    let before = h.order(&id).await;

    // The run is slowed while it decides: the plan service answers it a second late.
    h.fakes.plans.set_condition(Condition::Slow {
        delay: Duration::from_secs(1),
        carried_out: true,
    });
    h.fakes.charge.set_delay(DELAY);
    let mark = h.fakes.journal.len();
    let renew = h.spawn_renew(due_time(&before));
    h.fakes
        .journal
        .wait_for("the renewal's plan lookup", BACKGROUND, |r| {
            r.seq >= mark && r.is(Service::Plans, "GET")
        })
        .await;
    // The cancel commits first (it needs no plan: the order keeps its terms).
    let cancelled = h.cancel(ANN, &id).await;
    cancelled.expect(200, 0);
    let stdout = finished(renew);
    h.fakes.charge.set_delay(Duration::ZERO);

    // The run found the order ended: nothing recorded, nothing deducted.
    let deductions: Vec<_> = h
        .fakes
        .payments()
        .into_iter()
        .filter(|p| p.is_deduction())
        .map(|p| p.reason)
        .collect();
    assert_eq!(deductions, [payment_reason(&id, 1)], "{stdout}");
    let rows = h.usages(&id).await;
    assert!(rows.iter().all(|row| row["kind"] != "renew"), "{rows:?}");
    assert!(
        crate::renewal_runs::summary(&stdout).contains(" 0 renewed"),
        "{stdout}"
    );
    // Its refund is the unused part of the first cycle, under payment #2.
    let credit = h.refund_taken(mark, &id).await;
    assert_eq!(credit.reason, payment_reason(&id, 2));
    assert_eq!(credit.amount, Some(minor(&cancelled.data()["refunded"])));
    assert_books(h, &id).await;
}

#[tokio::test]
async fn a_cancel_that_commits_before_the_renewal_leaves_it_nothing_to_charge() {
    let h = start(Database::Sqlite).await.unwrap();
    cancel_before_the_renewal_commits(&h).await;
}

#[tokio::test]
async fn mysql_a_cancel_that_commits_before_the_renewal_leaves_it_nothing_to_charge() {
    let Some(h) = start(Database::Mysql(
        "platform::renewal_races::mysql_a_cancel_that_commits_before_the_renewal_leaves_it_nothing_to_charge",
    ))
    .await
    else {
        return;
    };
    cancel_before_the_renewal_commits(&h).await;
}
