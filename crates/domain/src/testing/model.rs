//! The money model, as a property any store must hold: any interleaving of creates,
//! switches, cancels, recharges, renewal runs, manual renewals and settlements, with the
//! charge service answering anything (taken, declined, taken then timed out, timed out
//! before taking, a repeat) and the store failing any commit before writing or losing the
//! answer after it (what a crash at that instant leaves behind), ends — once the settler
//! and the task runner have caught up — with books that add up: for every order the charge
//! service holds exactly what its rows record, the ledger moved by exactly what its rows
//! record, nothing is left held or pending, and `reconcile` finds nothing.
//!
//! [`play`] runs a sequence of [`Step`]s against a [`World`] (the in-memory store in the
//! domain's tests, the database in the store's) and checks the books.

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

use crate::error::Error;
use crate::ids::{OrderId, ProjectId, Quantity, Region, ResourceName};
use crate::money::Money;
use crate::order::OrderStatus;
use crate::page::PageRequest;
use crate::payment::{MoneyKeeper, PaymentState};
use crate::plan::{ChargingMode, Plan};
use crate::policy::BillingPolicy;
use crate::ports::{NotificationFilter, OrderFilter, RechargeFilter, UsageFilter};
use crate::reconcile::ProjectBooks;
use crate::usecases::{
    CancelOrderRequest, CreateOrderOutcome, CreateOrderRequest, ReconcileSettings,
};

use super::{money, principal, utc, ChargeAnswer, Fault, PlanBuilder, World};

/// Where the local ledger keeps the money.
pub const LEDGER: &str = "cn-south-1";
/// Where a charge service keeps it.
pub const REMOTE: &str = "cn-north-1";

/// The model's instant zero.
pub fn start() -> DateTime<Utc> {
    utc("2026-03-01T00:00:00Z")
}

/// The one project the model plays with.
pub fn project() -> ProjectId {
    ProjectId::parse("demo").unwrap_or_else(|_| unreachable!())
}

/// [`REMOTE`]'s money is its charge service's.
pub fn policy() -> BillingPolicy {
    BillingPolicy {
        charge_regions: vec![Region::parse(REMOTE).unwrap_or_else(|_| unreachable!())],
        ..BillingPolicy::default()
    }
}

/// In each region: a named prepaid volume (50.00), a postpaid network (30.00), two quota
/// plans (20.00 and 60.00), all monthly.
pub fn plans() -> Vec<Plan> {
    let mut plans = Vec::new();
    for region in [LEDGER, REMOTE] {
        plans.push(
            PlanBuilder::default()
                .id(&format!("vol-{region}"))
                .region(region)
                .price("50")
                .named()
                .build(),
        );
        plans.push(
            PlanBuilder::default()
                .id(&format!("net-{region}"))
                .plan_type("network")
                .region(region)
                .mode(ChargingMode::Postpaid)
                .price("30")
                .build(),
        );
        for (size, price) in [("small", "20"), ("large", "60")] {
            plans.push(
                PlanBuilder::default()
                    .id(&format!("cpu-{size}-{region}"))
                    .plan_type("resources")
                    .region(region)
                    .price(price)
                    .build(),
            );
        }
    }
    plans
}

/// One thing that happens.
#[derive(Clone, Debug)]
pub enum Step {
    /// A member creates an order.
    Create {
        /// Which of [`plans`] (modulo their number).
        plan: usize,
    },
    /// A member switches an order created earlier to a plan.
    Switch {
        /// Which of the orders created so far (modulo their number).
        order: usize,
        /// Which of [`plans`].
        plan: usize,
    },
    /// A member cancels an order created earlier.
    Cancel {
        /// Which of the orders created so far.
        order: usize,
    },
    /// A member renews an order created earlier at once.
    RenewOrder {
        /// Which of the orders created so far.
        order: usize,
    },
    /// An admin recharges the project's local balance.
    Recharge {
        /// Whole currency units.
        amount: i64,
    },
    /// The project's balance at the charge service is set.
    FundChargeService {
        /// Whole currency units.
        amount: i64,
    },
    /// Time passes, then a renewal run.
    Run {
        /// Days that pass first.
        days: i64,
    },
    /// Time passes, then the settler sends what is due.
    Settle {
        /// Minutes that pass first.
        minutes: i64,
    },
    /// The task runner runs what is due.
    Tasks,
    /// The charge service answers the next request so.
    Answer(ChargeAnswer),
    /// The store's next commit fails.
    Crash {
        /// After writing (the answer is lost) rather than before.
        lose_answer: bool,
    },
}

/// Any step, weighted towards what moves money.
pub fn step() -> impl Strategy<Value = Step> {
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

fn request(
    plans: &[Plan],
    index: usize,
    n: usize,
    replaces: Option<OrderId>,
) -> CreateOrderRequest {
    let plan = &plans[index % plans.len()];
    CreateOrderRequest {
        project: project(),
        plan_id: plan.id.clone(),
        quantities: Quantity::ONE,
        region: None,
        resource_name: plan
            .requires_resource_name
            .then(|| ResourceName::parse(&format!("v{n}")).unwrap_or_else(|_| unreachable!())),
        replaces,
        dry_run: false,
        idempotency: None,
    }
}

fn keyless(order: &OrderId) -> CancelOrderRequest {
    CancelOrderRequest {
        project: project(),
        order_id: order.clone(),
        idempotency: None,
    }
}

/// Plays `steps` against `world` (a project funded with 300.00 in the ledger, by a
/// recharge, and 300.00 at the charge service), lets the settler and the task runner catch
/// up, and checks the books; panics, saying what does not add up, when they do not.
pub async fn play(world: &World, steps: Vec<Step>) {
    let admin = principal("admin");
    let alice = principal("alice");
    let usecases = &world.usecases;
    usecases
        .recharge(&admin, project(), money("300"), None, None)
        .await
        .unwrap_or_else(|e| panic!("funding: {e}"));
    world.charging.fund(&project(), money("300"));
    let all = plans();
    let mut created: Vec<OrderId> = Vec::new();
    for (n, step) in steps.into_iter().enumerate() {
        let pick = |i: usize| (!created.is_empty()).then(|| created[i % created.len()].clone());
        match step {
            Step::Create { plan } => {
                if let Ok(CreateOrderOutcome::Created { order, .. }) = usecases
                    .create_order(&alice, request(&all, plan, n, None))
                    .await
                {
                    created.push(order.id);
                }
            }
            Step::Switch { order, plan } => {
                if let Some(old) = pick(order) {
                    let switch = request(&all, plan, n, Some(old));
                    if let Ok(CreateOrderOutcome::Created { order, .. }) =
                        usecases.create_order(&alice, switch).await
                    {
                        created.push(order.id);
                    }
                }
            }
            Step::Cancel { order } => {
                if let Some(id) = pick(order) {
                    let _ = usecases.cancel_order(&alice, keyless(&id)).await;
                }
            }
            Step::RenewOrder { order } => {
                if let Some(id) = pick(order) {
                    let _ = usecases.renew_order(&alice, keyless(&id)).await;
                }
            }
            Step::Recharge { amount } => {
                let amount = Money::from_units(amount).unwrap_or(Money::ZERO);
                let _ = usecases
                    .recharge(&admin, project(), amount, None, None)
                    .await;
            }
            Step::FundChargeService { amount } => {
                world
                    .charging
                    .fund(&project(), Money::from_units(amount).unwrap_or(Money::ZERO));
            }
            Step::Run { days } => {
                world.clock.advance(TimeDelta::days(days));
                usecases
                    .renew_due(&mut |_, _, _| {})
                    .await
                    .unwrap_or_else(|e| panic!("renewal run: {e}"));
            }
            Step::Settle { minutes } => {
                world.clock.advance(TimeDelta::minutes(minutes));
                let _ = usecases.settle_due().await;
            }
            Step::Tasks => {
                let _ = usecases.run_tasks().await;
            }
            Step::Answer(answer) => world.charging.script([answer]),
            Step::Crash { lose_answer } => {
                let error = Error::Unavailable("killed".into());
                world.faults.inject(if lose_answer {
                    Fault::LoseAnswer(error)
                } else {
                    Fault::Fail(error)
                });
            }
        }
    }
    catch_up(world).await;
    check(world).await;
}

/// Every list total the store answers equals the count of what it lists: the orders of
/// each status, in each region and in all, and the consumption rows, in each region, in
/// all and of each order, and the notifications, in all and of each order (a store may keep
/// totals apart from the rows; they must agree).
async fn check_totals(world: &World, books: &ProjectBooks) {
    let one = PageRequest::parse(None, Some("1")).unwrap_or_else(|_| unreachable!());
    let regions = [None, Some(LEDGER), Some(REMOTE)]
        .map(|r| r.map(|r| Region::parse(r).unwrap_or_else(|_| unreachable!())));
    for status in [
        OrderStatus::Pending,
        OrderStatus::Consuming,
        OrderStatus::Ending,
        OrderStatus::Ended,
    ] {
        for region in &regions {
            let filter = OrderFilter {
                region: region.clone(),
                ..OrderFilter::in_status(project(), status)
            };
            let listed = world
                .store
                .orders
                .list(filter, one)
                .await
                .unwrap_or_else(|e| panic!("orders: {e}"));
            let counted = books
                .orders
                .iter()
                .filter(|o| o.status == status && region.as_ref().is_none_or(|r| o.region == *r))
                .count();
            assert_eq!(
                listed.total,
                counted as u64,
                "total of the {} orders in {region:?}",
                status.label()
            );
        }
    }
    let orders = books.orders.iter().map(|o| Some(o.id.clone()));
    for order in std::iter::once(None).chain(orders) {
        for region in &regions {
            let filter = UsageFilter {
                project: project(),
                order: order.clone(),
                region: region.clone(),
            };
            let listed = world
                .store
                .usages
                .list(filter, one)
                .await
                .unwrap_or_else(|e| panic!("usages: {e}"));
            let counted = books
                .rows
                .iter()
                .filter(|r| order.as_ref().is_none_or(|o| r.order_id == *o))
                .filter(|r| region.as_ref().is_none_or(|g| r.region == *g))
                .count();
            assert_eq!(
                listed.total, counted as u64,
                "total of the rows of order {order:?} in {region:?}"
            );
        }
    }
    let notifications = |order: Option<OrderId>, page: PageRequest| async move {
        let filter = NotificationFilter {
            project: project(),
            order,
        };
        world
            .store
            .notifications
            .list(filter, page)
            .await
            .unwrap_or_else(|e| panic!("notifications: {e}"))
    };
    let mut events = Vec::new();
    let mut total = 0;
    for number in 1u32.. {
        let page = PageRequest::parse(Some(&number.to_string()), Some("100"))
            .unwrap_or_else(|_| unreachable!());
        let listed = notifications(None, page).await;
        total = listed.total;
        if listed.items.is_empty() {
            break;
        }
        events.extend(listed.items);
    }
    assert_eq!(total, events.len() as u64, "total of the notifications");
    for order in &books.orders {
        let listed = notifications(Some(order.id.clone()), one).await;
        let counted = events.iter().filter(|e| e.order_id == order.id).count();
        assert_eq!(
            listed.total, counted as u64,
            "total of the notifications of order {}",
            order.id
        );
    }
}

/// The settler and the task runner catch up, with the charge service answering normally
/// and funded enough for any arrears, and the store no longer failing.
async fn catch_up(world: &World) {
    world.faults.clear();
    world.charging.fund(&project(), money("1000000"));
    for _ in 0..12 {
        world.clock.advance(TimeDelta::days(1));
        world
            .usecases
            .settle_due()
            .await
            .unwrap_or_else(|e| panic!("settling: {e}"));
        world
            .usecases
            .run_tasks()
            .await
            .unwrap_or_else(|e| panic!("tasks: {e}"));
    }
}

async fn check(world: &World) {
    let books = world
        .store
        .books
        .books(&project())
        .await
        .unwrap_or_else(|e| panic!("books: {e}"));
    let open: Vec<_> = books
        .payments
        .iter()
        .filter(|p| p.state.is_open() || p.state == PaymentState::Disputed)
        .collect();
    assert!(open.is_empty(), "payments left open: {open:#?}");
    let taken = world.charging.net_by_order();
    for order in &books.orders {
        assert!(
            !order.is_held(),
            "order {} is still held: {order:?}",
            order.id
        );
        let recorded = books
            .rows
            .iter()
            .filter(|r| r.order_id == order.id)
            .fold(Money::ZERO, |sum, r| {
                sum.checked_add(r.amount).unwrap_or(Money::MAX)
            });
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
    let ledger_rows = books
        .rows
        .iter()
        .filter(|r| {
            books
                .orders
                .iter()
                .any(|o| o.id == r.order_id && o.terms.keeper == MoneyKeeper::LocalLedger)
        })
        .fold(Money::ZERO, |sum, r| {
            sum.checked_add(r.amount).unwrap_or(Money::MAX)
        });
    let balance = books.balance.unwrap_or(Money::ZERO);
    assert_eq!(
        Some(balance),
        books.recharged().and_then(|r| r.checked_sub(ledger_rows)),
        "the ledger moved by something else than its rows"
    );
    check_totals(world, &books).await;
    let settings = ReconcileSettings {
        project: Some(project()),
        pending_limit: TimeDelta::hours(1),
    };
    let report = world
        .usecases
        .reconcile(&settings, &mut |_, _| {})
        .await
        .unwrap_or_else(|e| panic!("reconcile: {e}"));
    assert!(
        report.mismatches.is_empty(),
        "reconcile: {:#?}",
        report.mismatches
    );
    let listed = world
        .usecases
        .list_recharges(
            &principal("admin"),
            &RechargeFilter::of(project()),
            PageRequest::parse(None, Some("1")).unwrap_or_else(|_| unreachable!()),
        )
        .await
        .unwrap_or_else(|e| panic!("recharges: {e}"));
    assert_eq!(
        listed.total,
        books.recharges.len() as u64,
        "total of the recharges"
    );
}
