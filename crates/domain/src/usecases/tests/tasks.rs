//! Resource tasks re-check the store before they act.

use super::*;
use crate::order::OrderStatus;
use crate::testing::ChargeAnswer;

#[tokio::test]
async fn a_quota_release_run_late_sets_the_quota_of_the_order_that_holds_it_now() {
    // Defect 10: a queued release used to wipe the quota a newer order had set.
    let harness = harness();
    let first = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    harness
        .provisioning
        .fail_next(crate::error::Error::DependencyUnavailable("down".into()));
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&first.id))
        .await
        .unwrap();
    let second = create(&harness, request(&format!("cpu-large-{LEDGER}")))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::minutes(5));
    harness.usecases.run_tasks().await.unwrap();
    let log = harness.provisioning.log();
    assert_eq!(
        log.last().map(String::as_str),
        Some(format!("provision {}", second.id).as_str())
    );
    let releases = log
        .iter()
        .filter(|l| **l == format!("release {}", first.id))
        .count();
    assert_eq!(releases, 1, "only the attempt that failed: {log:?}");
}

#[tokio::test]
async fn a_release_of_a_name_an_open_order_holds_again_does_nothing() {
    let harness = harness();
    let first = create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    harness
        .provisioning
        .fail_next(crate::error::Error::DependencyUnavailable("down".into()));
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&first.id))
        .await
        .unwrap();
    create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::minutes(5));
    harness.usecases.run_tasks().await.unwrap();
    let releases = harness
        .provisioning
        .log()
        .into_iter()
        .filter(|line| line.starts_with("release"))
        .count();
    assert_eq!(releases, 1, "only the failed attempt");
    assert!(harness.store.open_tasks().is_empty());
}

/// Opens quota order `order-1` in [`REMOTE`] with its quota task left queued (the platform
/// could not be asked).
async fn a_quota_order_with_its_task_queued(harness: &Harness) -> OrderId {
    harness
        .provisioning
        .fail_next(crate::error::Error::DependencyUnavailable("down".into()));
    let order = create(harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    assert_eq!(harness.store.open_tasks().len(), 1);
    order.id
}

/// Opens `request`, its first payment left pending.
async fn pending(harness: &Harness, request: CreateOrderRequest) -> OrderId {
    harness.charging.script([
        ChargeAnswer::TimeOutBeforeTaking,
        ChargeAnswer::TimeOutBeforeTaking,
    ]);
    let order = create(harness, request).await.unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
    order.id
}

/// The queued quota task runs, the platform refusing the quota, while the new order's first
/// payment is out; then the settler sends what is due (twice: a refund may follow).
async fn the_quota_is_refused_while_the_payment_is_out(harness: &Harness, pending: &OrderId) {
    harness.clock.advance(chrono::TimeDelta::minutes(5));
    harness
        .provisioning
        .fail_next(crate::error::Error::ProvisioningFailed("refused".into()));
    harness.usecases.run_tasks().await.unwrap();
    assert_eq!(harness.store.status_of(pending), Some(OrderStatus::Pending));
    harness.clock.advance(chrono::TimeDelta::minutes(5));
    harness.usecases.settle_due().await.unwrap();
    harness.usecases.settle_due().await.unwrap();
    assert!(harness.store.payments().iter().all(|p| !p.state.is_open()));
    assert!(mismatches(harness).await.is_empty());
}

#[tokio::test]
async fn a_quota_task_run_while_its_orders_first_payment_is_out_waits_for_the_payment() {
    // A pending order held its quota: it was set before the order was paid, and a refusal
    // ended it, the payment then taken kept without a row and re-sent for ever.
    let harness = harness();
    let first = a_quota_order_with_its_task_queued(&harness).await;
    harness
        .provisioning
        .fail_next(crate::error::Error::DependencyUnavailable("down".into()));
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&first))
        .await
        .unwrap();
    let pending = pending(&harness, request(&format!("cpu-large-{REMOTE}"))).await;
    the_quota_is_refused_while_the_payment_is_out(&harness, &pending).await;
    let log = harness.provisioning.log();
    assert_eq!(
        log.iter()
            .filter(|l| **l == format!("provision {pending}"))
            .count(),
        1,
        "asked once, after its payment was taken: {log:?}"
    );
    // That answer is the refusal: the order ends with its 60.00 given back.
    assert_eq!(harness.store.status_of(&pending), Some(OrderStatus::Ended));
    assert_eq!(
        harness
            .charging
            .net_by_order()
            .get(pending.as_str())
            .copied(),
        Some(Money::ZERO)
    );
}

#[tokio::test]
async fn a_quota_refused_while_its_order_is_being_switched_waits_for_the_switch() {
    let harness = harness();
    let old = a_quota_order_with_its_task_queued(&harness).await;
    let switch = CreateOrderRequest {
        replaces: Some(old.clone()),
        ..request(&format!("cpu-large-{REMOTE}"))
    };
    let new = pending(&harness, switch).await;
    // The refusal is for the old order, which waits for the switch to end it.
    the_quota_is_refused_while_the_payment_is_out(&harness, &new).await;
    assert_eq!(harness.store.status_of(&old), Some(OrderStatus::Ended));
    assert_eq!(harness.store.status_of(&new), Some(OrderStatus::Consuming));
}
