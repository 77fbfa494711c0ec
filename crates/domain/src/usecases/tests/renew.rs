//! Renewal runs, manual renewals, and renewal against cancels.

use super::*;
use crate::error::Error;
use crate::notification::NotificationKind;
use crate::order::OrderStatus;
use crate::payment::PaymentState;
use crate::renewal::RenewalOutcome;
use crate::testing::{ChargeAnswer, Fault};

async fn run(harness: &Harness) -> crate::usecases::RenewalReport {
    harness.usecases.renew_due(&mut |_, _, _| {}).await.unwrap()
}

#[tokio::test]
async fn a_run_renews_ledger_orders_in_its_transaction_and_records_charge_service_payments() {
    let harness = harness();
    let here = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    let there = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.clock.set(utc("2026-03-28T00:00:00Z"));
    let report = run(&harness).await;
    assert_eq!((report.total.renewed, report.total.awaiting), (1, 1));
    assert_eq!(ledger_balance(&harness), money("960"));
    assert_eq!(
        harness.charging.balance(&project()),
        money("980"),
        "not sent yet"
    );
    let waiting = harness
        .store
        .orders()
        .into_iter()
        .find(|o| o.id == there.id)
        .unwrap();
    assert_eq!(waiting.awaiting_payment, Some(2));
    harness.usecases.settle_due().await.unwrap();
    assert_eq!(harness.charging.balance(&project()), money("960"));
    let renewed = harness
        .store
        .orders()
        .into_iter()
        .find(|o| o.id == there.id)
        .unwrap();
    assert_eq!(renewed.deadline_time, utc("2026-05-01T00:00:00Z"));
    assert_eq!(renewed.awaiting_payment, None);
    let _ = here;
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_cancel_racing_a_charge_service_renewal_is_refused_until_the_payment_settles() {
    // Defect 1: the renewal's deduction used to be kept with no row when a cancel won.
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.clock.set(utc("2026-03-28T00:00:00Z"));
    run(&harness).await;
    let refused = harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    harness.usecases.settle_due().await.unwrap();
    let outcome = harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    // The renewed April, not begun, goes back in full with the rest of March.
    assert!(outcome.refunded > money("20"), "{}", outcome.refunded);
    harness.usecases.settle_due().await.unwrap();
    let net = harness.charging.net_by_order();
    let recorded: Money = harness
        .store
        .rows()
        .iter()
        .fold(Money::ZERO, |sum, row| sum.checked_add(row.amount).unwrap());
    assert_eq!(net.get(order.id.as_str()).copied(), Some(recorded));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_renewal_payment_declined_makes_the_order_unpaid_and_it_ends_after_its_grace() {
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.charging.fund(&project(), Money::ZERO);
    harness.clock.set(utc("2026-04-01T00:00:00Z"));
    run(&harness).await;
    harness.usecases.settle_due().await.unwrap();
    let unpaid = harness
        .store
        .orders()
        .into_iter()
        .find(|o| o.id == order.id)
        .unwrap();
    assert_eq!(unpaid.status, OrderStatus::Ending);
    assert_eq!(unpaid.awaiting_payment, None);
    harness.clock.set(utc("2026-04-09T00:00:00Z"));
    run(&harness).await;
    assert_eq!(harness.store.status_of(&order.id), Some(OrderStatus::Ended));
    let declined = harness
        .store
        .payments()
        .into_iter()
        .filter(|p| p.state == PaymentState::Declined)
        .count();
    assert_eq!(declined, 1, "asked once per warning interval");
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_top_up_in_the_grace_period_renews_on_request_without_waiting_for_a_run() {
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    harness.store.fund(&project(), Money::ZERO);
    harness.clock.set(utc("2026-04-02T00:00:00Z"));
    run(&harness).await;
    assert_eq!(
        harness.store.status_of(&order.id),
        Some(OrderStatus::Ending)
    );
    harness
        .usecases
        .recharge(&principal("admin"), project(), money("20"), None, None)
        .await
        .unwrap();
    let renewed = harness
        .usecases
        .renew_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    assert_eq!(renewed.outcome, RenewalOutcome::Renewed);
    assert_eq!(renewed.order.status, OrderStatus::Consuming);
    assert_eq!(ledger_balance(&harness), Money::ZERO);
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_postpaid_order_unpaid_past_its_grace_ends_with_its_usage_owed() {
    let harness = harness();
    harness.store.fund(&project(), money("30"));
    let order = create(&harness, request(&format!("net-{LEDGER}")))
        .await
        .unwrap();
    harness.store.fund(&project(), Money::ZERO);
    harness.clock.set(utc("2026-04-01T00:00:01Z"));
    run(&harness).await;
    assert_eq!(
        harness.store.status_of(&order.id),
        Some(OrderStatus::Ending)
    );
    harness.clock.set(utc("2026-04-09T00:00:00Z"));
    run(&harness).await;
    assert_eq!(harness.store.status_of(&order.id), Some(OrderStatus::Ended));
    // March, then April 1 → 8: 30 + 30 × 7 / 30.
    assert_eq!(ledger_balance(&harness), money("-37"));
    let ended = harness
        .store
        .notifications()
        .into_iter()
        .find(|n| n.kind == NotificationKind::OrderEnded)
        .unwrap();
    assert_eq!(ended.amount, Some(money("37")));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_run_that_cannot_write_one_queue_goes_on_with_the_others() {
    let harness = harness();
    create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    harness.store.fund(&project(), money("30"));
    create(&harness, request(&format!("net-{LEDGER}")))
        .await
        .unwrap();
    harness.store.fund(&project(), money("1000"));
    harness.clock.set(utc("2026-04-01T00:00:01Z"));
    harness
        .faults
        .inject(Fault::Fail(Error::Unavailable("connection lost".into())));
    let report = run(&harness).await;
    assert_eq!(report.failed_queues, 1);
    assert_eq!(report.total.renewed, 1, "the postpaid queue still ran");
    let again = run(&harness).await;
    assert_eq!(
        again.total.renewed, 1,
        "the next run catches up the prepaid one"
    );
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_catalog_price_change_reaches_a_running_order_at_its_next_renewal() {
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    harness
        .catalog
        .put(quota(LEDGER, &format!("cpu-small-{LEDGER}"), "25"));
    harness.clock.set(utc("2026-03-28T00:00:00Z"));
    run(&harness).await;
    assert_eq!(ledger_balance(&harness), money("955"));
    let renewed = harness
        .store
        .orders()
        .into_iter()
        .find(|o| o.id == order.id)
        .unwrap();
    assert_eq!(renewed.terms.price, money("25"));
}

#[tokio::test]
async fn a_renewal_payment_taken_then_timed_out_is_sent_again_and_counted_once() {
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.clock.set(utc("2026-03-28T00:00:00Z"));
    run(&harness).await;
    harness.charging.script([ChargeAnswer::TakeThenTimeOut]);
    let first = harness.usecases.settle_due().await.unwrap();
    assert_eq!(first.unknown, 1);
    harness.clock.advance(chrono::TimeDelta::minutes(1));
    let second = harness.usecases.settle_due().await.unwrap();
    assert_eq!(second.taken, 1);
    assert_eq!(harness.charging.balance(&project()), money("960"));
    let renewed = harness
        .store
        .orders()
        .into_iter()
        .find(|o| o.id == order.id)
        .unwrap();
    assert_eq!(renewed.last_consume_id, 2);
    assert!(mismatches(&harness).await.is_empty());
}

fn postpaid_at(region: &str, price: &str) -> Plan {
    PlanBuilder::default()
        .id(&format!("net-{region}"))
        .plan_type("network")
        .region(region)
        .mode(ChargingMode::Postpaid)
        .price(price)
        .build()
}

fn rows_of(harness: &Harness, order: &OrderId) -> Vec<Money> {
    harness
        .store
        .rows()
        .into_iter()
        .filter(|r| r.order_id == *order)
        .map(|r| r.amount)
        .collect()
}

#[tokio::test]
async fn postpaid_cycles_caught_up_on_the_ledger_are_charged_at_the_price_they_ran_at() {
    let harness = harness();
    let order = create(&harness, request(&format!("net-{LEDGER}")))
        .await
        .unwrap();
    harness.catalog.put(postpaid_at(LEDGER, "45"));
    harness.clock.set(utc("2026-06-02T00:00:00Z"));
    run(&harness).await;
    assert_eq!(
        rows_of(&harness, &order.id),
        [money("30"), money("30"), money("30")],
        "March, April and May ran at 30.00"
    );
    assert_eq!(
        harness.store.orders()[0].terms.price,
        money("45"),
        "the cycle running now is at the catalog's price"
    );
    harness.clock.set(utc("2026-07-02T00:00:00Z"));
    run(&harness).await;
    assert_eq!(rows_of(&harness, &order.id).last(), Some(&money("45")));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_declined_postpaid_cycle_is_asked_again_at_the_price_it_ran_at() {
    let harness = harness();
    let order = create(&harness, request(&format!("net-{REMOTE}")))
        .await
        .unwrap();
    harness.catalog.put(postpaid_at(REMOTE, "45"));
    harness.clock.set(utc("2026-04-01T01:00:00Z"));
    run(&harness).await;
    harness.charging.fund(&project(), Money::ZERO);
    assert_eq!(harness.usecases.settle_due().await.unwrap().declined, 1);
    harness.charging.fund(&project(), money("100"));
    harness.clock.advance(chrono::TimeDelta::days(1));
    run(&harness).await;
    assert_eq!(harness.usecases.settle_due().await.unwrap().taken, 1);
    assert_eq!(rows_of(&harness, &order.id), [money("30")]);
    assert_eq!(harness.charging.balance(&project()), money("70"));
    assert_eq!(harness.store.orders()[0].terms.price, money("45"));
    assert!(mismatches(&harness).await.is_empty());
}
