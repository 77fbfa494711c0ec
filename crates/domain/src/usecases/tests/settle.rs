//! The settler: answers, arrears, disputes and the breaker.

use super::*;
use crate::notification::NotificationKind;
use crate::payment::PaymentState;
use crate::reconcile::Mismatch;
use crate::testing::ChargeAnswer;
use crate::usecases::{SettlerSettings, UseCases};

#[tokio::test]
async fn a_settlement_the_charge_service_declines_is_owed_announced_and_asked_again_later() {
    let harness = harness();
    let order = create(&harness, request(&format!("net-{REMOTE}")))
        .await
        .unwrap();
    harness.charging.fund(&project(), Money::ZERO);
    harness.clock.set(utc("2026-03-16T00:00:00Z"));
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    let owed = harness.store.payments();
    assert_eq!(owed[0].state, PaymentState::Owed);
    assert!(harness
        .store
        .notifications()
        .iter()
        .any(|n| n.kind == NotificationKind::PaymentOwed));
    let account = harness
        .usecases
        .get_balance(&principal("alice"), &project())
        .await
        .unwrap();
    assert_eq!(account.owed, owed[0].amount);
    // Not asked again at once; asked again an hour later, and taken once funded.
    assert_eq!(harness.usecases.settle_due().await.unwrap().taken, 0);
    harness.charging.fund(&project(), money("100"));
    harness.clock.advance(chrono::TimeDelta::hours(1));
    assert_eq!(harness.usecases.settle_due().await.unwrap().taken, 1);
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn another_amount_under_the_same_id_is_disputed_never_believed_nor_sent_again() {
    // Defect 4: any "already taken" used to count as taken, whatever the amount.
    let harness = harness();
    harness
        .charging
        .already_taken("pay:order-1:1", money("0.01"));
    harness.charging.script([ChargeAnswer::TimeOutBeforeTaking]);
    let order = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    let payment = &harness.store.payments()[0];
    assert_eq!(payment.state, PaymentState::Disputed);
    assert_eq!(order.status, crate::order::OrderStatus::Pending);
    let requests = harness.charging.requests();
    harness.clock.advance(chrono::TimeDelta::hours(2));
    harness.usecases.settle_due().await.unwrap();
    assert_eq!(harness.charging.requests(), requests);
    let found = mismatches(&harness).await;
    assert!(
        found
            .iter()
            .any(|(_, m)| matches!(m, Mismatch::Disputed { .. })),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_region_whose_charge_service_keeps_timing_out_is_paused_then_tried_again() {
    let harness = harness();
    harness
        .charging
        .script([ChargeAnswer::TimeOutBeforeTaking; 5]);
    for name in ["a", "b", "c"] {
        let order = create(&harness, named(&format!("vol-{REMOTE}"), name))
            .await
            .unwrap();
        assert_eq!(order.status, crate::order::OrderStatus::Pending);
    }
    // Five unknown outcomes in a row: the third create's second attempt was not sent.
    assert_eq!(harness.charging.requests(), 5);
    assert_eq!(
        harness.usecases.paused_regions(),
        [Region::parse(REMOTE).unwrap()]
    );
    harness.clock.advance(chrono::TimeDelta::seconds(20));
    let paused = harness.usecases.settle_due().await.unwrap();
    assert!(paused.is_empty(), "{paused:?}");
    assert_eq!(harness.charging.requests(), 5);
    harness.clock.advance(chrono::TimeDelta::seconds(20));
    assert!(harness.usecases.paused_regions().is_empty());
    let resumed = harness.usecases.settle_due().await.unwrap();
    assert_eq!(resumed.taken, 3);
    assert!(mismatches(&harness).await.is_empty());
}

/// The harness's use cases with a settler that reads `batch` payments per round.
fn settler_of(harness: &Harness, batch: u32) -> UseCases {
    UseCases::new(
        harness.usecases.ports.clone(),
        harness.usecases.policy().clone(),
        SettlerSettings {
            batch,
            concurrency: 2,
            ..SettlerSettings::default()
        },
    )
}

/// Five orders of the charge service's region, each waiting for its renewal payment.
async fn five_waiting_renewals(harness: &Harness) {
    for name in ["a", "b", "c", "d", "e"] {
        create(harness, named(&format!("vol-{REMOTE}"), name))
            .await
            .unwrap();
    }
    harness.clock.set(utc("2026-03-28T00:00:00Z"));
    let report = harness.usecases.renew_due(&mut |_, _, _| {}).await.unwrap();
    assert_eq!(report.total.awaiting, 5);
}

#[tokio::test]
async fn the_settler_sends_every_due_payment_in_rounds_of_its_batch() {
    let harness = harness();
    five_waiting_renewals(&harness).await;
    let tally = settler_of(&harness, 2).settle_due().await.unwrap();
    assert_eq!(tally.taken, 5);
    assert!(harness
        .store
        .orders()
        .iter()
        .all(|o| o.awaiting_payment.is_none() && o.last_consume_id == 2));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_settling_round_that_finishes_no_payment_leaves_the_rest_for_the_next_call() {
    let harness = harness();
    five_waiting_renewals(&harness).await;
    let sent = harness.charging.requests();
    harness
        .charging
        .script([ChargeAnswer::TimeOutBeforeTaking; 2]);
    let settler = settler_of(&harness, 2);
    let tally = settler.settle_due().await.unwrap();
    assert_eq!((tally.unknown, tally.taken), (2, 0));
    assert_eq!(harness.charging.requests(), sent + 2);
    let tally = settler.settle_due().await.unwrap();
    assert_eq!(
        tally.taken, 3,
        "the two unknown ones wait for their back-off"
    );
    harness.clock.advance(chrono::TimeDelta::minutes(1));
    assert_eq!(settler.settle_due().await.unwrap().taken, 2);
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_payment_taken_after_another_sender_recorded_it_declined_is_disputed() {
    // Two senders of one payment (the request and the job, or two replicas): the first is
    // declined and ends the pending order; the project is funded; the second is taken.
    // Its write lost to the decline and was counted a success: the money kept, unrecorded.
    let harness = harness();
    harness.charging.script([
        ChargeAnswer::TimeOutBeforeTaking,
        ChargeAnswer::TimeOutBeforeTaking,
    ]);
    create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    let stale = harness.store.payments()[0].clone();
    assert_eq!(stale.state, PaymentState::Pending);
    harness.charging.fund(&project(), Money::ZERO);
    harness.clock.advance(chrono::TimeDelta::seconds(30));
    assert_eq!(harness.usecases.settle_due().await.unwrap().declined, 1);
    harness.charging.fund(&project(), money("100"));
    harness.usecases.settle_now(stale).await;
    assert_eq!(harness.charging.balance(&project()), money("80"));
    assert_eq!(harness.store.payments()[0].state, PaymentState::Disputed);
    let found = mismatches(&harness).await;
    assert!(
        found
            .iter()
            .any(|(_, m)| matches!(m, Mismatch::Disputed { .. })),
        "{found:?}"
    );
}
