//! Cancelling orders: refunds, settlements into arrears, and what a hold forbids.

use super::*;
use crate::error::Error;
use crate::order::OrderStatus;
use crate::payment::{PaymentDirection, PaymentState};
use crate::policy::BillingPolicy;
use crate::testing::ChargeAnswer;

#[tokio::test]
async fn a_prepaid_cancel_refunds_the_unused_remainder_to_the_ledger() {
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::days(10));
    let outcome = harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    // 20.00 for Mar 1 → Apr 1, 21 of 31 days unused: 13.548387… → 13.5484.
    assert_eq!(outcome.refunded, money("13.5484"));
    assert_eq!(outcome.order.status, OrderStatus::Ended);
    assert_eq!(ledger_balance(&harness), money("993.5484"));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn without_refund_on_cancel_only_a_cycle_not_begun_goes_back() {
    let policy = BillingPolicy {
        refund_on_cancel: false,
        ..BillingPolicy::default()
    };
    let harness = crate::testing::Harness::new(policy, plans(), now());
    harness.store.fund(&project(), money("1000"));
    let order = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    // Renewed early in the margin: April is paid, not begun.
    harness.clock.set(utc("2026-03-28T00:00:00Z"));
    harness.usecases.renew_due(&mut |_, _, _| {}).await.unwrap();
    assert_eq!(ledger_balance(&harness), money("960"));
    let outcome = harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    assert_eq!(outcome.refunded, money("20"));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_postpaid_cancel_always_succeeds_and_settles_into_arrears() {
    let harness = harness();
    harness.store.fund(&project(), money("30"));
    let order = create(&harness, request(&format!("net-{LEDGER}")))
        .await
        .unwrap();
    harness.store.fund(&project(), money("5"));
    harness.clock.set(utc("2026-04-16T00:00:00Z"));
    let outcome = harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    // March in full, then 15 of April's 30 days: 30 + 15.
    assert_eq!(outcome.settled, money("45"));
    assert_eq!(ledger_balance(&harness), money("-40"));
    let account = harness
        .usecases
        .get_balance(&principal("alice"), &project())
        .await
        .unwrap();
    assert_eq!(account.owed, money("40"));
}

#[tokio::test]
async fn a_charge_service_refund_is_recorded_with_the_end_and_sent_at_once() {
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::days(10));
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    assert_eq!(harness.charging.balance(&project()), money("993.5484"));
    let credit = harness
        .store
        .payments()
        .into_iter()
        .find(|p| p.direction == PaymentDirection::Credit)
        .unwrap();
    assert_eq!(credit.state, PaymentState::Settled);
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_refund_the_charge_service_does_not_answer_is_sent_again_by_the_settler() {
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.charging.script([
        ChargeAnswer::TimeOutBeforeTaking,
        ChargeAnswer::TimeOutBeforeTaking,
    ]);
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    assert_eq!(harness.charging.balance(&project()), money("980"));
    harness.clock.advance(chrono::TimeDelta::minutes(5));
    harness.usecases.settle_due().await.unwrap();
    assert_eq!(harness.charging.balance(&project()), money("1000"));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_cancel_releases_the_orders_volume_by_a_task_it_runs_itself() {
    let harness = harness();
    let order = create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    assert_eq!(
        harness.provisioning.log(),
        ["provision order-1", "release order-1"]
    );
    assert!(harness.store.open_tasks().is_empty());
}

#[tokio::test]
async fn a_cancel_releases_a_volume_the_store_keeps_in_its_own_change() {
    let harness = harness();
    harness.provisioning.keep_in_store();
    let order = create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    let released = harness.store.released();
    assert_eq!(
        released.iter().map(|r| &r.order_id).collect::<Vec<_>>(),
        [&order.id],
        "released by the cancel's change"
    );
    assert!(harness.provisioning.log().is_empty(), "no task ran");
    assert!(harness.store.open_tasks().is_empty(), "none was queued");
}

#[tokio::test]
async fn an_ended_order_cannot_be_cancelled_again() {
    let harness = harness();
    let order = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    let alice = principal("alice");
    let cancel = || {
        harness
            .usecases
            .cancel_order(&alice, cancel_request(&order.id))
    };
    cancel().await.unwrap();
    assert!(matches!(cancel().await, Err(Error::Conflict(_))));
    assert_eq!(ledger_balance(&harness), money("1000"));
}

#[tokio::test]
async fn an_order_refunds_to_the_keeper_it_opened_with_after_its_region_moves_to_a_charge_service()
{
    // Defect 5: the keeper used to be re-read from the region's current configuration.
    let store = crate::testing::MemoryStore::new();
    let ledger_era = crate::testing::World::over(
        crate::testing::StorePorts::memory(&store),
        BillingPolicy::default(),
        plans(),
        now(),
    );
    let admin = principal("admin");
    ledger_era
        .usecases
        .recharge(&admin, project(), money("100"), None, None)
        .await
        .unwrap();
    let order = match ledger_era
        .usecases
        .create_order(&principal("alice"), request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap()
    {
        CreateOrderOutcome::Created { order, .. } => order,
        other => panic!("{other:?}"),
    };
    assert_eq!(store.balance_of(&project()), money("80"));
    // The region's money moves to its charge service; the order keeps its keeper.
    let charge_era = crate::testing::World::over(
        crate::testing::StorePorts::memory(&store),
        BillingPolicy {
            charge_regions: vec![Region::parse(REMOTE).unwrap()],
            ..BillingPolicy::default()
        },
        plans(),
        now(),
    );
    charge_era
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    assert_eq!(store.balance_of(&project()), money("100"));
    assert_eq!(charge_era.charging.requests(), 0);
    assert!(mismatches_of(&charge_era).await.is_empty());
}

async fn mismatches_of(world: &crate::testing::World) -> Vec<(ProjectId, Mismatch)> {
    world
        .usecases
        .reconcile(
            &ReconcileSettings {
                project: None,
                pending_limit: chrono::TimeDelta::hours(1),
            },
            &mut |_, _| {},
        )
        .await
        .unwrap()
        .mismatches
}
