//! A postpaid order kept by a charge service, settled when it is cancelled after several
//! unbilled cycles (defect 2 of issue 10): one payment per settlement row, each under its
//! own id; an answer lost on the way back is asked again under the same id; a renewal run
//! racing the cancel never charges a cycle twice. On SQLite and MariaDB.

use std::time::Instant;

use serde_json::Value;

use crate::helpers::minor;

use super::harness::{
    payment_prefix, payment_reason, time, Database, Harness, ANN, BACKGROUND, OPENING_BALANCE,
    POSTPAID_PRICE, PROJECT,
};

/// Started 75 days ago: two whole months and part of a third are unbilled.
const DAYS: i64 = 75;

/// The order's settlement rows (kind `renew`), by consume id.
async fn renew_rows(h: &Harness, id: &str) -> Vec<Value> {
    let mut rows: Vec<Value> = h
        .usages(id)
        .await
        .into_iter()
        .filter(|row| row["kind"] == "renew")
        .collect();
    rows.sort_by_key(|row| row["consumeId"].as_u64());
    rows
}

/// The rows cover the order's life from its start to its end once, cycle after cycle,
/// two whole months at the full price and the running one in part.
async fn assert_each_cycle_charged_once(h: &Harness, id: &str) {
    let order = h.order(id).await;
    let rows = renew_rows(h, id).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        time(&rows[0]["time"]),
        time(&order["startTime"]),
        "{rows:?}"
    );
    for pair in rows.windows(2) {
        assert_eq!(pair[0]["deadlineTime"], pair[1]["time"], "{rows:?}");
    }
    assert_eq!(
        time(&rows[2]["deadlineTime"]),
        time(&order["endTime"]),
        "{rows:?}"
    );
    assert_eq!(minor(&rows[0]["money"]), POSTPAID_PRICE);
    assert_eq!(minor(&rows[1]["money"]), POSTPAID_PRICE);
    let partial = minor(&rows[2]["money"]);
    assert!(partial > 0 && partial < POSTPAID_PRICE, "{rows:?}");
    let ends: Vec<_> = h
        .usages(id)
        .await
        .into_iter()
        .filter(|row| row["kind"] == "end")
        .collect();
    assert_eq!(ends.len(), 1);
    assert_eq!(minor(&ends[0]["money"]), 0);
}

/// Every row of the order is paid by its own deduction, `pay:{id}:{consume id}` (the order
/// had no payment before), which the charge service took with the row's amount; it took
/// nothing else for the order.
async fn assert_one_deduction_per_row(h: &Harness, id: &str) {
    let rows = renew_rows(h, id).await;
    for row in &rows {
        let seq = u32::try_from(row["consumeId"].as_u64().unwrap()).unwrap();
        assert_eq!(
            h.fakes
                .charge
                .taken_under("deduction", &payment_reason(id, seq)),
            Some(minor(&row["money"])),
            "row {row}"
        );
    }
    let prefix = payment_prefix(id);
    let taken: Vec<_> = h
        .fakes
        .charge
        .taken()
        .into_keys()
        .filter(|(_, reason)| reason.starts_with(&prefix))
        .collect();
    assert_eq!(taken.len(), rows.len(), "{taken:?}");
    assert_eq!(h.net_taken_for(id), h.rows_total(id).await);
    assert_eq!(
        h.fakes.charge.balance(PROJECT),
        OPENING_BALANCE - h.rows_total(id).await
    );
}

/// Waits until the charge service took a deduction under each of the reasons.
async fn wait_until_taken(h: &Harness, reasons: &[String]) {
    let deadline = Instant::now() + BACKGROUND;
    while !reasons
        .iter()
        .all(|r| h.fakes.charge.taken_under("deduction", r).is_some())
    {
        assert!(
            Instant::now() < deadline,
            "not all of {reasons:?} taken:\n{}",
            h.fakes.journal.describe()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn settlement_of_several_cycles(h: &Harness) {
    let id = h.seed_postpaid_order(DAYS);
    let cancelled = h.cancel(ANN, &id).await;
    cancelled.expect(200, 0);
    assert_eq!(cancelled.data()["status"], "ended");
    let settled = minor(&cancelled.data()["settled"]);
    assert!(settled > 2 * POSTPAID_PRICE, "{cancelled:?}");
    assert_each_cycle_charged_once(h, &id).await;
    assert_eq!(h.rows_total(&id).await, settled);
    let reasons: Vec<_> = (1..=3).map(|seq| payment_reason(&id, seq)).collect();
    wait_until_taken(h, &reasons).await;
    assert_one_deduction_per_row(h, &id).await;
    h.assert_reconciled();
}

#[tokio::test]
async fn a_postpaid_settlement_of_several_cycles_is_one_deduction_per_row() {
    let h = Harness::start().await;
    settlement_of_several_cycles(&h).await;
}

#[tokio::test]
async fn mysql_a_postpaid_settlement_of_several_cycles_is_one_deduction_per_row() {
    let Some(h) = Harness::start_on(
        Database::Mysql(
            "platform::settlements::mysql_a_postpaid_settlement_of_several_cycles_is_one_deduction_per_row",
        ),
        false,
    )
    .await
    else {
        return;
    };
    settlement_of_several_cycles(&h).await;
}

async fn settlement_answer_lost(h: &Harness) {
    let id = h.seed_postpaid_order(DAYS);
    // The first two deductions to arrive are taken, but their answers come too late.
    h.fakes.charge.take_then_time_out(2);
    let cancelled = h.cancel(ANN, &id).await;
    cancelled.expect(200, 0);
    assert_each_cycle_charged_once(h, &id).await;

    // What is still unsettled is sent again under its own id, and settles.
    h.deliver_due_now();
    let reasons: Vec<_> = (1..=3).map(|seq| payment_reason(&id, seq)).collect();
    wait_until_taken(h, &reasons).await;
    let prefix = payment_prefix(&id);
    let sent = h
        .fakes
        .payments()
        .into_iter()
        .filter(|p| p.reason.starts_with(&prefix))
        .collect::<Vec<_>>();
    assert!(
        sent.iter()
            .all(|p| reasons.contains(&p.reason) && p.is_deduction()),
        "{sent:?}"
    );
    assert!(sent.len() > 3, "nothing was asked again: {sent:?}");
    assert_one_deduction_per_row(h, &id).await;
    // Everything settled: nothing is due any more.
    let before = h.fakes.payments().len();
    h.deliver_due_now();
    assert_eq!(
        h.fakes.payments().len(),
        before,
        "{}",
        h.fakes.journal.describe()
    );
    h.assert_reconciled();
}

#[tokio::test]
async fn a_settlement_deduction_whose_answer_was_lost_is_sent_again_under_its_id() {
    let h = Harness::start().await;
    settlement_answer_lost(&h).await;
}

#[tokio::test]
async fn mysql_a_settlement_deduction_whose_answer_was_lost_is_sent_again_under_its_id() {
    let Some(h) = Harness::start_on(
        Database::Mysql(
            "platform::settlements::mysql_a_settlement_deduction_whose_answer_was_lost_is_sent_again_under_its_id",
        ),
        false,
    )
    .await
    else {
        return;
    };
    settlement_answer_lost(&h).await;
}

async fn cancel_racing_renewal(h: &Harness) {
    let id = h.seed_postpaid_order(DAYS);
    let mark = h.fakes.journal.len();
    // A renewal run charges the elapsed cycles, one payment each, the order waiting for
    // each (answered a little late, within the timeout); the cancel retries while the
    // order is held.
    h.fakes
        .charge
        .set_delay(std::time::Duration::from_millis(300));
    let renew = h.spawn_renew(chrono::Utc::now());
    h.fakes
        .journal
        .wait_for("the renewal's first deduction", BACKGROUND, |r| {
            r.seq >= mark
                && crate::fake_platform::PaymentSeen::of(r)
                    .is_some_and(|p| p.reason.starts_with(&payment_prefix(&id)))
        })
        .await;
    let deadline = Instant::now() + BACKGROUND;
    let mut refused = 0;
    loop {
        let reply = h.cancel(ANN, &id).await;
        match (reply.status.as_u16(), reply.code()) {
            (200, 0) => break,
            (409, 3309) => refused += 1,
            _ => panic!("cancel: {reply:?}"),
        }
        assert!(Instant::now() < deadline, "the order stayed held");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let output = renew.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    h.fakes.charge.set_delay(std::time::Duration::ZERO);
    assert!(
        refused > 0,
        "the cancel never met the order held by the renewal's payment:\n{stdout}"
    );

    assert_each_cycle_charged_once(h, &id).await;
    let reasons: Vec<_> = (1..=3).map(|seq| payment_reason(&id, seq)).collect();
    wait_until_taken(h, &reasons).await;
    assert_one_deduction_per_row(h, &id).await;
    h.assert_reconciled();
}

#[tokio::test]
async fn a_postpaid_cancel_racing_a_renewal_run_never_charges_a_cycle_twice() {
    let h = Harness::start().await;
    cancel_racing_renewal(&h).await;
}

#[tokio::test]
async fn mysql_a_postpaid_cancel_racing_a_renewal_run_never_charges_a_cycle_twice() {
    let Some(h) = Harness::start_on(
        Database::Mysql(
            "platform::settlements::mysql_a_postpaid_cancel_racing_a_renewal_run_never_charges_a_cycle_twice",
        ),
        false,
    )
    .await
    else {
        return;
    };
    cancel_racing_renewal(&h).await;
}
