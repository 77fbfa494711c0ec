//! The money model, as a property: any interleaving of creates, switches, cancels,
//! recharges, renewal runs, manual renewals and settlements, with the charge service
//! answering anything (taken, declined, timed out after taking, timed out before taking, a
//! repeat) and the store failing any commit before writing or losing the answer after it
//! (what a crash at that instant leaves behind), ends — once the settler has caught up —
//! with books that add up: for every order the charge service holds exactly what its rows
//! record, the ledger moved exactly by what its rows record, and reconcile finds nothing.

use proptest::prelude::*;

use super::*;
use crate::error::Error;
use crate::payment::{MoneyKeeper, PaymentState};
use crate::testing::{ChargeAnswer, Fault};

#[derive(Clone, Debug)]
enum Step {
    Create { plan: usize },
    Switch { order: usize, plan: usize },
    Cancel { order: usize },
    RenewOrder { order: usize },
    Recharge { amount: i64 },
    FundChargeService { amount: i64 },
    Run { days: i64 },
    Settle { minutes: i64 },
    Tasks,
    Answer(ChargeAnswer),
    Crash { lose_answer: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..8).prop_map(|plan| Step::Create { plan }),
        2 => (0usize..8, 0usize..8).prop_map(|(order, plan)| Step::Switch { order, plan }),
        2 => (0usize..8).prop_map(|order| Step::Cancel { order }),
        1 => (0usize..8).prop_map(|order| Step::RenewOrder { order }),
        1 => (1i64..=200).prop_map(|amount| Step::Recharge { amount }),
        1 => (0i64..=200).prop_map(|amount| Step::FundChargeService { amount }),
        3 => (1i64..=20).prop_map(|days| Step::Run { days }),
        3 => (1i64..=90).prop_map(|minutes| Step::Settle { minutes }),
        1 => Just(Step::Tasks),
        3 => prop_oneof![
            Just(ChargeAnswer::TakeThenTimeOut),
            Just(ChargeAnswer::TimeOutBeforeTaking),
            Just(ChargeAnswer::Decline),
        ]
        .prop_map(Step::Answer),
        2 => any::<bool>().prop_map(|lose_answer| Step::Crash { lose_answer }),
    ]
}

/// The catalog's plans by index: volumes need names, the rest do not.
fn plan_request(all: &[Plan], index: usize, n: usize) -> CreateOrderRequest {
    let plan = &all[index % all.len()];
    if plan.requires_resource_name {
        named(plan.id.as_str(), &format!("v{n}"))
    } else {
        request(plan.id.as_str())
    }
}

async fn play(steps: Vec<Step>) {
    let harness = harness();
    // The ledger is funded through recharges only, so that reconcile can prove it.
    harness.store.fund(&project(), Money::ZERO);
    let admin = principal("admin");
    let alice = principal("alice");
    harness
        .usecases
        .recharge(&admin, project(), money("300"), None, None)
        .await
        .unwrap();
    harness.charging.fund(&project(), money("300"));
    let all = plans();
    let mut created: Vec<OrderId> = Vec::new();
    for (n, step) in steps.into_iter().enumerate() {
        let pick = |i: usize| (!created.is_empty()).then(|| created[i % created.len()].clone());
        match step {
            Step::Create { plan } => {
                if let Ok(order) = create(&harness, plan_request(&all, plan, n)).await {
                    created.push(order.id);
                }
            }
            Step::Switch { order, plan } => {
                if let Some(old) = pick(order) {
                    let switch = CreateOrderRequest {
                        replaces: Some(old),
                        ..plan_request(&all, plan, n)
                    };
                    if let Ok(new) = create(&harness, switch).await {
                        created.push(new.id);
                    }
                }
            }
            Step::Cancel { order } => {
                if let Some(id) = pick(order) {
                    let _ = harness.usecases.cancel_order(&alice, cancel_request(&id)).await;
                }
            }
            Step::RenewOrder { order } => {
                if let Some(id) = pick(order) {
                    let _ = harness.usecases.renew_order(&alice, cancel_request(&id)).await;
                }
            }
            Step::Recharge { amount } => {
                let amount = Money::from_units(amount).unwrap();
                let _ = harness.usecases.recharge(&admin, project(), amount, None, None).await;
            }
            Step::FundChargeService { amount } => {
                harness.charging.fund(&project(), Money::from_units(amount).unwrap());
            }
            Step::Run { days } => {
                harness.clock.advance(chrono::TimeDelta::days(days));
                harness.usecases.renew_due(&mut |_, _, _| {}).await.unwrap();
            }
            Step::Settle { minutes } => {
                harness.clock.advance(chrono::TimeDelta::minutes(minutes));
                harness.usecases.settle_due().await.unwrap();
            }
            Step::Tasks => {
                harness.usecases.run_tasks().await.unwrap();
            }
            Step::Answer(answer) => harness.charging.script([answer]),
            Step::Crash { lose_answer } => {
                let error = Error::Unavailable("killed".into());
                harness.store.inject(if lose_answer {
                    Fault::LoseAnswer(error)
                } else {
                    Fault::Fail(error)
                });
            }
        }
    }
    catch_up(&harness).await;
    check(&harness).await;
}

/// The settler and the task runner catch up, with the charge service answering normally
/// and funded enough for any arrears.
async fn catch_up(harness: &Harness) {
    harness.charging.fund(&project(), money("1000000"));
    for _ in 0..12 {
        harness.clock.advance(chrono::TimeDelta::days(1));
        harness.usecases.settle_due().await.unwrap();
        harness.usecases.run_tasks().await.unwrap();
    }
    let open: Vec<_> = harness
        .store
        .payments()
        .into_iter()
        .filter(|p| p.state.is_open() || p.state == PaymentState::Disputed)
        .collect();
    assert!(open.is_empty(), "payments left open: {open:#?}");
}

async fn check(harness: &Harness) {
    let taken = harness.charging.net_by_order();
    for order in harness.store.orders() {
        let recorded = harness
            .store
            .rows()
            .iter()
            .filter(|r| r.order_id == order.id)
            .fold(Money::ZERO, |sum, r| sum.checked_add(r.amount).unwrap());
        let held = taken.get(order.id.as_str()).copied().unwrap_or(Money::ZERO);
        match order.terms.keeper {
            MoneyKeeper::ChargeService => assert_eq!(
                held, recorded,
                "order {}: the charge service holds {held}, its rows record {recorded}",
                order.id
            ),
            MoneyKeeper::LocalLedger => assert_eq!(
                held,
                Money::ZERO,
                "order {} is the ledger's but the charge service took money for it",
                order.id
            ),
        }
    }
    let ledger_rows = harness
        .store
        .rows()
        .iter()
        .filter(|r| {
            harness
                .store
                .orders()
                .iter()
                .any(|o| o.id == r.order_id && o.terms.keeper == MoneyKeeper::LocalLedger)
        })
        .fold(Money::ZERO, |sum, r| sum.checked_add(r.amount).unwrap());
    let recharged: Money = harness
        .usecases
        .list_recharges(
            &principal("admin"),
            &project(),
            crate::page::PageRequest::parse(None, Some("100")).unwrap(),
        )
        .await
        .unwrap()
        .items
        .iter()
        .fold(Money::ZERO, |sum, r| sum.checked_add(r.amount).unwrap());
    assert_eq!(
        ledger_balance(harness),
        recharged.checked_sub(ledger_rows).unwrap(),
        "the ledger moved by something else than its rows"
    );
    let found = mismatches(harness).await;
    assert!(found.is_empty(), "reconcile: {found:#?}");
    for order in harness.store.orders() {
        assert!(!order.is_held(), "order {} is still held: {order:?}", order.id);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn whatever_happens_the_books_add_up(steps in proptest::collection::vec(step(), 1..40)) {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(play(steps));
    }
}
