//! Creating and switching orders, on the ledger and through a charge service.

use super::*;
use crate::error::Error;
use crate::idempotency::{Idempotency, IdempotencyKey};
use crate::notification::NotificationKind;
use crate::order::OrderStatus;
use crate::payment::{MoneyKeeper, PaymentState};
use crate::testing::{ChargeAnswer, Fault};

#[tokio::test]
async fn on_the_ledger_an_order_opens_with_its_row_its_payment_and_the_debit_in_one_change() {
    let harness = harness();
    let order = create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Consuming);
    assert_eq!(order.terms.keeper, MoneyKeeper::LocalLedger);
    assert_eq!(ledger_balance(&harness), money("950"));
    assert_eq!(harness.store.rows().len(), 1);
    let payments = harness.store.payments();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].state, PaymentState::Settled);
    assert_eq!(harness.charging.requests(), 0);
    let kinds: Vec<_> = harness
        .store
        .notifications()
        .iter()
        .map(|n| n.kind)
        .collect();
    assert_eq!(kinds, [NotificationKind::OrderCreated]);
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_dry_run_quotes_and_writes_nothing() {
    let harness = harness();
    let quoted = harness
        .usecases
        .create_order(
            &principal("alice"),
            CreateOrderRequest {
                dry_run: true,
                ..named(&format!("vol-{REMOTE}"), "data")
            },
        )
        .await
        .unwrap();
    assert!(matches!(quoted, CreateOrderOutcome::Quoted(q) if q.money == money("50")));
    assert!(harness.store.orders().is_empty());
    assert!(harness.provisioning.log().is_empty());
    assert_eq!(harness.charging.requests(), 0);
}

#[tokio::test]
async fn a_balance_that_does_not_cover_the_first_cycle_writes_nothing_and_releases_the_volume() {
    let harness = harness();
    harness.store.fund(&project(), money("49.9999"));
    let refused = create(&harness, named(&format!("vol-{LEDGER}"), "data")).await;
    assert!(
        matches!(refused, Err(Error::InsufficientBalance { .. })),
        "{refused:?}"
    );
    assert!(harness.store.orders().is_empty() && harness.store.payments().is_empty());
    assert_eq!(ledger_balance(&harness), money("49.9999"));
    assert_eq!(
        harness.provisioning.log(),
        ["provision order-1", "release order-1"]
    );
}

#[tokio::test]
async fn in_a_charge_service_region_the_order_opens_once_its_first_payment_is_taken() {
    let harness = harness();
    let order = create(&harness, named(&format!("vol-{REMOTE}"), "data"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Consuming);
    assert_eq!(order.terms.keeper, MoneyKeeper::ChargeService);
    assert_eq!(harness.charging.balance(&project()), money("950"));
    assert_eq!(ledger_balance(&harness), money("1000"));
    let payments = harness.store.payments();
    assert_eq!(
        (payments[0].id.to_string().as_str(), payments[0].state),
        ("pay:order-1:1", PaymentState::Settled)
    );
    assert_eq!(harness.store.rows().len(), 1);
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_declined_first_payment_ends_the_pending_order_without_charge() {
    let harness = harness();
    harness.charging.fund(&project(), money("10"));
    let refused = create(&harness, named(&format!("vol-{REMOTE}"), "data")).await;
    assert!(
        matches!(refused, Err(Error::PaymentDeclined { .. })),
        "{refused:?}"
    );
    let orders = harness.store.orders();
    assert_eq!(orders[0].status, OrderStatus::Ended);
    assert!(harness.store.rows().is_empty());
    assert_eq!(harness.store.payments()[0].state, PaymentState::Declined);
    assert_eq!(harness.charging.balance(&project()), money("10"));
    harness.usecases.run_tasks().await.unwrap();
    assert!(harness
        .provisioning
        .log()
        .contains(&"release order-1".to_owned()));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn an_unknown_outcome_answers_with_the_pending_order_which_the_settler_completes_once() {
    let harness = harness();
    harness.charging.script([
        ChargeAnswer::TakeThenTimeOut,
        ChargeAnswer::TimeOutBeforeTaking,
    ]);
    let order = create(&harness, named(&format!("vol-{REMOTE}"), "data"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(harness.charging.balance(&project()), money("950"));
    assert!(harness.store.rows().is_empty());
    harness.clock.advance(chrono::TimeDelta::seconds(30));
    let tally = harness.usecases.settle_due().await.unwrap();
    assert_eq!(tally.taken, 1);
    let settled = harness.store.orders();
    assert_eq!(settled[0].status, OrderStatus::Consuming);
    assert_eq!(
        harness.charging.balance(&project()),
        money("950"),
        "taken once"
    );
    assert_eq!(harness.store.rows().len(), 1);
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_lost_commit_answer_retried_with_the_same_key_is_refused_as_a_duplicate_and_pays_once() {
    let harness = harness();
    let keyed = |key: &str| CreateOrderRequest {
        idempotency: Some(Idempotency {
            project: project(),
            key: IdempotencyKey::parse(key).unwrap(),
            fingerprint: "same".into(),
        }),
        ..request(&format!("cpu-small-{LEDGER}"))
    };
    harness.faults.inject(Fault::LoseAnswer(Error::Unavailable(
        "connection lost".into(),
    )));
    let lost = create(&harness, keyed("k-1")).await;
    assert!(matches!(lost, Err(Error::Unavailable(_))), "{lost:?}");
    let retried = create(&harness, keyed("k-1")).await;
    assert!(
        matches!(retried, Err(Error::DuplicateRequest(_))),
        "{retried:?}"
    );
    assert_eq!(harness.store.orders().len(), 1);
    assert_eq!(ledger_balance(&harness), money("980"));
}

#[tokio::test]
async fn a_switch_on_the_ledger_ends_the_old_order_and_opens_the_new_one_in_one_change() {
    let harness = harness();
    let old = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::days(10));
    let new = create(
        &harness,
        CreateOrderRequest {
            replaces: Some(old.id.clone()),
            ..request(&format!("cpu-large-{LEDGER}"))
        },
    )
    .await
    .unwrap();
    assert_eq!(new.status, OrderStatus::Consuming);
    assert_eq!(harness.store.status_of(&old.id), Some(OrderStatus::Ended));
    // 20 paid, 21 of 31 days unused: 13.5484 back; 60 charged.
    assert_eq!(ledger_balance(&harness), money("933.5484"));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_switch_through_a_charge_service_ends_the_old_order_only_once_the_new_one_is_paid() {
    let harness = harness();
    let old = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.charging.script([
        ChargeAnswer::TimeOutBeforeTaking,
        ChargeAnswer::TimeOutBeforeTaking,
    ]);
    let new = create(
        &harness,
        CreateOrderRequest {
            replaces: Some(old.id.clone()),
            ..request(&format!("cpu-large-{REMOTE}"))
        },
    )
    .await
    .unwrap();
    assert_eq!(new.status, OrderStatus::Pending);
    assert_eq!(
        harness.store.status_of(&old.id),
        Some(OrderStatus::Consuming)
    );
    let cancel = harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&old.id))
        .await;
    assert!(matches!(cancel, Err(Error::Conflict(_))), "{cancel:?}");
    harness.clock.advance(chrono::TimeDelta::seconds(30));
    harness.usecases.settle_due().await.unwrap();
    assert_eq!(harness.store.status_of(&old.id), Some(OrderStatus::Ended));
    assert_eq!(
        harness.store.status_of(&new.id),
        Some(OrderStatus::Consuming)
    );
    harness.usecases.settle_due().await.unwrap();
    // 20 taken, then 60, then the old order's unused 20 (the switch came at once) back.
    assert_eq!(harness.charging.balance(&project()), money("940"));
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_declined_switch_leaves_the_old_order_running() {
    let harness = harness();
    let old = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.charging.fund(&project(), money("1"));
    let refused = create(
        &harness,
        CreateOrderRequest {
            replaces: Some(old.id.clone()),
            ..request(&format!("cpu-large-{REMOTE}"))
        },
    )
    .await;
    assert!(
        matches!(refused, Err(Error::PaymentDeclined { .. })),
        "{refused:?}"
    );
    let kept = harness
        .store
        .orders()
        .into_iter()
        .find(|o| o.id == old.id)
        .unwrap();
    assert_eq!(
        (kept.status, kept.replaced_by),
        (OrderStatus::Consuming, None)
    );
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_project_has_at_most_one_open_quota_order_per_region() {
    let harness = harness();
    create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    let second = create(&harness, request(&format!("cpu-large-{LEDGER}"))).await;
    assert!(matches!(second, Err(Error::Conflict(_))), "{second:?}");
    assert_eq!(ledger_balance(&harness), money("980"));
    create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_quota_the_platform_refuses_ends_the_order_with_its_charge_refunded() {
    let harness = harness();
    harness
        .provisioning
        .fail_next(Error::ProvisioningFailed("quota too large".into()));
    let refused = create(&harness, request(&format!("cpu-small-{LEDGER}"))).await;
    assert!(
        matches!(refused, Err(Error::ChargedButNotProvisioned(_))),
        "{refused:?}"
    );
    assert_eq!(ledger_balance(&harness), money("1000"));
    assert_eq!(harness.store.orders()[0].status, OrderStatus::Ended);
    assert!(mismatches(&harness).await.is_empty());
}

#[tokio::test]
async fn a_quota_the_platform_cannot_be_asked_about_is_set_later_by_the_task_runner() {
    let harness = harness();
    harness
        .provisioning
        .fail_next(Error::DependencyUnavailable("timeout".into()));
    let order = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Consuming);
    assert_eq!(harness.store.open_tasks().len(), 1);
    harness.clock.advance(chrono::TimeDelta::seconds(30));
    harness.usecases.run_tasks().await.unwrap();
    assert!(harness.store.open_tasks().is_empty());
    assert_eq!(
        harness.provisioning.log(),
        ["provision order-1", "provision order-1"]
    );
}

#[tokio::test]
async fn a_volume_whose_creation_timed_out_is_released_by_name_and_nothing_is_written() {
    let harness = harness();
    harness
        .provisioning
        .fail_next(Error::DependencyUnavailable("timeout".into()));
    let refused = create(&harness, named(&format!("vol-{LEDGER}"), "data")).await;
    assert!(
        matches!(refused, Err(Error::DependencyUnavailable(_))),
        "{refused:?}"
    );
    assert!(harness.store.orders().is_empty());
    assert_eq!(
        harness.provisioning.log(),
        ["provision order-1", "release order-1"]
    );
    assert!(harness.store.open_tasks().is_empty());
}

#[tokio::test]
async fn the_safety_net_release_of_a_written_order_is_cancelled_by_its_commit() {
    let harness = harness();
    create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    assert!(harness.store.open_tasks().is_empty());
    harness.clock.advance(chrono::TimeDelta::hours(1));
    harness.usecases.run_tasks().await.unwrap();
    assert_eq!(harness.provisioning.log(), ["provision order-1"]);
}

#[tokio::test]
async fn a_volume_the_store_keeps_is_created_by_the_order_s_own_change() {
    let harness = harness();
    harness.provisioning.keep_in_store();
    let order = create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Consuming);
    let created = harness.store.resources();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(
        (
            &created[0].order_id,
            created[0].name.as_ref().map(|n| n.as_str())
        ),
        (&order.id, Some("data"))
    );
    assert!(
        harness.provisioning.log().is_empty(),
        "nothing created ahead of the order"
    );
    assert!(harness.store.open_tasks().is_empty(), "no safety net");
}

#[tokio::test]
async fn a_volume_the_store_keeps_is_not_created_when_its_order_is_refused() {
    let harness = harness();
    harness.provisioning.keep_in_store();
    harness.store.fund(&project(), Money::ZERO);
    let refused = create(&harness, named(&format!("vol-{LEDGER}"), "data")).await;
    assert!(
        matches!(refused, Err(Error::InsufficientBalance { .. })),
        "{refused:?}"
    );
    assert!(harness.store.resources().is_empty());
    assert!(harness.store.orders().is_empty());
    assert!(harness.provisioning.log().is_empty());
}

#[tokio::test]
async fn a_postpaid_order_needs_a_cycle_of_credit_on_the_ledger() {
    let harness = harness();
    harness.store.fund(&project(), money("29.9999"));
    let refused = create(&harness, request(&format!("net-{LEDGER}"))).await;
    assert!(
        matches!(refused, Err(Error::InsufficientBalance { .. })),
        "{refused:?}"
    );
    harness.store.fund(&project(), money("30"));
    create(&harness, request(&format!("net-{LEDGER}")))
        .await
        .unwrap();
    assert_eq!(
        ledger_balance(&harness),
        money("30"),
        "nothing taken up front"
    );
}

#[tokio::test]
async fn a_project_owing_a_charge_service_opens_no_postpaid_order_there() {
    let harness = harness();
    let order = create(&harness, request(&format!("net-{REMOTE}")))
        .await
        .unwrap();
    harness.charging.fund(&project(), Money::ZERO);
    harness.clock.advance(chrono::TimeDelta::days(10));
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&order.id))
        .await
        .unwrap();
    let refused = create(&harness, request(&format!("net-{REMOTE}"))).await;
    assert!(
        matches!(refused, Err(Error::PaymentDeclined { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_order_being_switched_cannot_be_switched_again() {
    let harness = harness();
    let old = create(&harness, request(&format!("cpu-small-{REMOTE}")))
        .await
        .unwrap();
    harness.charging.script([
        ChargeAnswer::TimeOutBeforeTaking,
        ChargeAnswer::TimeOutBeforeTaking,
    ]);
    let switch = |plan: &str| CreateOrderRequest {
        replaces: Some(old.id.clone()),
        ..request(plan)
    };
    create(&harness, switch(&format!("cpu-large-{REMOTE}")))
        .await
        .unwrap();
    let again = create(&harness, switch(&format!("cpu-large-{REMOTE}"))).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
}
