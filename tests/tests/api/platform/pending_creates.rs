//! Creates whose first payment has no definitive answer in time (defects 3 and 4 of issue
//! 10): the order is written `pending` before money moves, answered 202, completed by the
//! settler under the same payment id, and safe to retry with the same `Idempotency-Key`;
//! a charge service that holds another amount under that id makes the payment disputed,
//! for an operator. On SQLite and MariaDB.

use crate::fake_platform::Service;

use super::harness::{
    payment_reason, Database, Harness, ANN, OPENING_BALANCE, PROJECT, QUOTA_LARGE, QUOTA_SMALL,
};

/// The requests the charge service received under `reason`, in arrival order.
fn sent_under(h: &Harness, reason: &str) -> Vec<crate::fake_platform::PaymentSeen> {
    h.fakes
        .payments()
        .into_iter()
        .filter(|p| p.reason == reason)
        .collect()
}

async fn create_taken_but_unanswered(h: &Harness) {
    // The deduction and the request's immediate repeat are both carried out (a repeat
    // takes nothing) and answered too late.
    h.fakes.charge.take_then_time_out(2);
    let key = "create-1b7e0c2a";
    let first = h.create_keyed(ANN, QUOTA_SMALL, key).await;
    first.expect(202, 0);
    assert!(!first.replayed());
    let id = first.data()["orderId"].as_str().unwrap().to_owned();
    assert_eq!(first.data()["status"], "pending");
    assert_eq!(first.data()["awaitingPayment"], true);
    let reason = payment_reason(&id, 1);
    assert_eq!(
        h.fakes.charge.taken_under("deduction", &reason),
        Some(200_000),
        "the charge service took it; only its answer was lost"
    );
    assert!(h.usages(&id).await.is_empty());

    // The client did not hear the answer either and retries with the same key: it gets
    // the first answer, and no second order is opened.
    let retry = h.create_keyed(ANN, QUOTA_SMALL, key).await;
    retry.expect(202, 0);
    assert!(retry.replayed(), "{:?}", retry.headers);
    assert_eq!(retry.body, first.body);
    assert_eq!(h.orders_with_status("pending").await, 1);
    assert_eq!(h.orders_with_status("consuming").await, 0);
    // The same key for another request is refused, and does nothing.
    h.create_keyed(ANN, QUOTA_LARGE, key)
        .await
        .expect(409, 3321);
    assert_eq!(h.orders_with_status("pending").await, 1);

    // The settler sends the payment again under its id; the charge service answers that
    // it holds the same amount: the order opens.
    h.deliver_due_now();
    let opened = h.wait_for_status(&id, "consuming").await;
    assert_eq!(opened["awaitingPayment"], false);
    let sent = sent_under(h, &reason);
    assert!(sent.len() >= 3, "{sent:?}");
    assert!(sent.iter().all(|p| p.amount == Some(200_000)), "{sent:?}");
    let reasons: Vec<_> = h
        .fakes
        .payments()
        .into_iter()
        .filter(|p| p.is_deduction() && p.reason != reason)
        .collect();
    assert!(reasons.is_empty(), "deducted under another id: {reasons:?}");
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE - 200_000);
    assert_eq!(h.net_taken_for(&id), h.rows_total(&id).await);
    assert_eq!(h.rows_total(&id).await, 200_000);

    // A retry after all that still gets the first answer and opens nothing.
    let late = h.create_keyed(ANN, QUOTA_SMALL, key).await;
    assert!(late.replayed());
    assert_eq!(late.data()["orderId"], id.as_str());
    assert_eq!(h.orders_with_status("consuming").await, 1);
    assert_eq!(h.orders_with_status("pending").await, 0);
    h.assert_reconciled();
}

#[tokio::test]
async fn a_create_whose_payment_was_taken_but_unanswered_is_202_replayed_and_taken_once() {
    let h = Harness::start().await;
    create_taken_but_unanswered(&h).await;
}

#[tokio::test]
async fn mysql_a_create_whose_payment_was_taken_but_unanswered_is_202_replayed_and_taken_once() {
    let Some(h) = Harness::start_on(
        Database::Mysql("platform::pending_creates::mysql_a_create_whose_payment_was_taken_but_unanswered_is_202_replayed_and_taken_once"),
        false,
    )
    .await
    else {
        return;
    };
    create_taken_but_unanswered(&h).await;
}

async fn payment_held_with_another_amount(h: &Harness) {
    // The first attempts take nothing and time out: the order is pending, its id known.
    h.fakes.charge.time_out_before_taking(2);
    let created = h.create(ANN, QUOTA_SMALL).await;
    created.expect(202, 0);
    let id = created.data()["orderId"].as_str().unwrap().to_owned();
    let reason = payment_reason(&id, 1);
    assert_eq!(h.fakes.charge.taken_under("deduction", &reason), None);
    assert_eq!(sent_under(h, &reason).len(), 2);

    // Something else took 15.00 under the very id the service will send 20.00 under.
    h.fakes
        .charge
        .seed_taken("deduction", PROJECT, &reason, 150_000);
    h.deliver_due_now();
    let answered = h
        .fakes
        .journal
        .wait_for(
            "the repeat of the payment",
            super::harness::BACKGROUND,
            |r| r.is(Service::Charge, "POST") && r.status == 409,
        )
        .await;
    assert!(
        String::from_utf8_lossy(&answered.body).contains(&reason),
        "{answered}"
    );
    // The service does not believe the charge service took its 20.00: the order stays
    // pending, no row is written, and the payment is never sent again.
    assert_eq!(h.order(&id).await["status"], "pending");
    assert!(h.usages(&id).await.is_empty());
    let sent = sent_under(h, &reason).len();
    h.deliver_due_now();
    assert_eq!(
        sent_under(h, &reason).len(),
        sent,
        "a disputed payment was sent again"
    );
    assert_eq!(h.order(&id).await["status"], "pending");

    // An operator learns of it from reconcile.
    let output = h.reconcile();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "reconcile passed:\n{stdout}");
    assert!(
        stdout.lines().any(|line| line.contains(&reason)),
        "reconcile does not name the payment:\n{stdout}"
    );
    assert!(
        !crate::helpers::reconcile_summary(&stdout).ends_with(" 0 mismatch(es)"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_payment_the_charge_service_holds_another_amount_for_is_disputed() {
    let h = Harness::start().await;
    payment_held_with_another_amount(&h).await;
}

#[tokio::test]
async fn mysql_a_payment_the_charge_service_holds_another_amount_for_is_disputed() {
    let Some(h) = Harness::start_on(
        Database::Mysql(
            "platform::pending_creates::mysql_a_payment_the_charge_service_holds_another_amount_for_is_disputed",
        ),
        false,
    )
    .await
    else {
        return;
    };
    payment_held_with_another_amount(&h).await;
}
