//! Opening orders, and the end of a pending order's wait.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::change::OrderWrite;
use crate::cycle::{BusinessCalendar, Cycle};
use crate::ids::{PlanId, Region};
use crate::payment::PaymentState;
use crate::provisioning::TaskAction;
use crate::testing::{money, utc, OrderBuilder, PlanBuilder};

const NOW: &str = "2017-01-31T10:00:00Z";

fn charge_regions() -> BillingPolicy {
    BillingPolicy {
        charge_regions: vec![Region::parse("cn-north-1").unwrap()],
        ..BillingPolicy::default()
    }
}

fn new_order(plan: &Plan) -> NewOrder<'_> {
    NewOrder {
        id: OrderId::parse("new-1").unwrap(),
        project: ProjectId::parse("demo").unwrap(),
        plan,
        quantities: Quantity::new(2).unwrap(),
        resource_name: None,
        creator: UserName::parse("alice").unwrap(),
        start: utc(NOW),
        replaces: None,
    }
}

fn prepaid() -> Plan {
    PlanBuilder::default().price("50").build()
}

fn sealed(opening: &Opening, plan: &Plan) -> crate::change::Change {
    let mut change = ChangeBuilder::new();
    opening.write(&mut change, plan);
    change.seal().unwrap()
}

#[test]
fn on_the_ledger_a_prepaid_order_opens_with_its_first_cycle_paid_and_debited() {
    let plan = prepaid();
    let opening = Opening::of(new_order(&plan), &BillingPolicy::default()).unwrap();
    let order = &opening.order;
    assert_eq!(order.status, OrderStatus::Consuming);
    assert_eq!(order.deadline_time, utc("2017-02-28T10:00:00Z"));
    assert_eq!(
        order.terms,
        Terms {
            cycle: Cycle::Month,
            price: money("50"),
            keeper: MoneyKeeper::LocalLedger
        }
    );
    assert_eq!((order.last_consume_id, order.payment_seq), (1, 1));
    let row = opening.row.as_ref().unwrap();
    assert_eq!((row.amount, row.kind), (money("100"), ConsumptionKind::New));
    let payment = opening.payment.as_ref().unwrap();
    assert_eq!(
        (payment.state, payment.deferred, payment.amount),
        (PaymentState::Settled, false, money("100"))
    );
    assert_eq!(
        opening.ledger,
        Some(LedgerMove {
            project: order.project.clone(),
            amount: money("100"),
            requires: Some(money("100")),
        })
    );
    let change = sealed(&opening, &plan);
    assert_eq!(change.events()[0].kind, NotificationKind::OrderCreated);
}

#[test]
fn a_switch_target_records_its_first_cycle_as_a_switch() {
    let plan = prepaid();
    let opening = Opening::of(
        NewOrder {
            replaces: Some(OrderId::parse("old").unwrap()),
            ..new_order(&plan)
        },
        &BillingPolicy::default(),
    )
    .unwrap();
    assert_eq!(opening.row.unwrap().kind, ConsumptionKind::Switch);
    assert_eq!(opening.order.replaces, Some(OrderId::parse("old").unwrap()));
}

#[test]
fn in_a_charge_service_region_a_prepaid_order_opens_pending_on_a_deferred_payment() {
    let plan = prepaid();
    let opening = Opening::of(new_order(&plan), &charge_regions()).unwrap();
    assert!(opening.is_pending());
    assert_eq!(opening.order.awaiting_payment, Some(1));
    assert_eq!(opening.order.last_consume_id, 0);
    assert_eq!(opening.row, None);
    assert_eq!(opening.ledger, None);
    let payment = opening.payment.as_ref().unwrap();
    assert_eq!(
        (payment.state, payment.deferred, payment.keeper),
        (PaymentState::Pending, true, MoneyKeeper::ChargeService)
    );
    let change = sealed(&opening, &plan);
    assert!(change.events().is_empty(), "announced once paid");
}

#[test]
fn a_free_first_cycle_opens_at_once_with_a_row_of_zero_even_in_a_charge_service_region() {
    let plan = PlanBuilder::default().price("0").build();
    let opening = Opening::of(new_order(&plan), &charge_regions()).unwrap();
    assert_eq!(opening.order.status, OrderStatus::Consuming);
    assert_eq!(opening.row.unwrap().amount, Money::ZERO);
    assert_eq!(opening.payment, None);
}

#[test]
fn a_postpaid_order_pays_nothing_up_front_but_needs_a_cycle_of_credit_on_the_ledger() {
    let plan = PlanBuilder::default()
        .mode(ChargingMode::Postpaid)
        .price("50")
        .build();
    let policy = BillingPolicy {
        credit_limit: money("30"),
        ..BillingPolicy::default()
    };
    let opening = Opening::of(new_order(&plan), &policy).unwrap();
    assert_eq!(opening.order.status, OrderStatus::Consuming);
    assert_eq!((opening.row.clone(), opening.payment.clone()), (None, None));
    assert_eq!(
        opening.ledger,
        Some(LedgerMove {
            project: opening.order.project.clone(),
            amount: Money::ZERO,
            requires: Some(money("70")),
        })
    );
    sealed(&opening, &plan);
    let remote = Opening::of(new_order(&plan), &charge_regions()).unwrap();
    assert_eq!(remote.ledger, None);
}

#[test]
fn an_order_providing_a_quota_queues_the_task_that_sets_it() {
    let plan = PlanBuilder::default().plan_type("resources").build();
    let opening = Opening::of(new_order(&plan), &BillingPolicy::default()).unwrap();
    let change = sealed(&opening, &plan);
    let [task] = change.tasks() else {
        panic!("{:?}", change.tasks());
    };
    assert_eq!(task.action, TaskAction::SyncQuota);
}

fn pending_opening(plan: &Plan, replaces: Option<&str>) -> Opening {
    Opening::of(
        NewOrder {
            replaces: replaces.map(|id| OrderId::parse(id).unwrap()),
            ..new_order(plan)
        },
        &charge_regions(),
    )
    .unwrap()
}

#[test]
fn a_taken_first_payment_opens_the_order_with_its_row() {
    let plan = prepaid();
    let opening = pending_opening(&plan, None);
    let payment = opening.payment.clone().unwrap();
    let mut change = ChangeBuilder::new();
    let (opened, closing) = OpeningPaid {
        order: &opening.order,
        payment: &payment,
        replaced: None,
    }
    .write(&mut change, &BusinessCalendar::default(), utc(NOW))
    .unwrap();
    assert!(closing.is_none());
    assert_eq!(opened.status, OrderStatus::Consuming);
    assert_eq!((opened.awaiting_payment, opened.last_consume_id), (None, 1));
    let change = change.seal().unwrap();
    assert_eq!(change.rows()[0].amount, money("100"));
    assert_eq!(change.events()[0].kind, NotificationKind::OrderCreated);
}

#[test]
fn a_taken_switch_ends_the_old_order_at_the_switch_with_its_refund() {
    let plan = prepaid();
    let old = OrderBuilder::default()
        .id("old")
        .keeper(MoneyKeeper::ChargeService)
        .start("2017-01-01T10:00:00Z")
        .build();
    let history = [crate::consumption::Consumption {
        order_id: old.id.clone(),
        consume_id: 1,
        project: old.project.clone(),
        region: old.region.clone(),
        plan_id: old.plan_id.clone(),
        amount: money("100"),
        time: old.start_time,
        covered_until: old.deadline_time,
        kind: ConsumptionKind::New,
    }];
    let opening = pending_opening(&plan, Some("old"));
    let held = Order {
        replaced_by: Some(opening.order.id.clone()),
        ..old.clone()
    };
    let payment = opening.payment.clone().unwrap();
    let mut change = ChangeBuilder::new();
    let (_, closing) = OpeningPaid {
        order: &opening.order,
        payment: &payment,
        replaced: Some((&held, &history)),
    }
    .write(
        &mut change,
        &BusinessCalendar::default(),
        utc("2017-02-01T00:00:00Z"),
    )
    .unwrap();
    let closing = closing.unwrap();
    // Jan 31 10:00 → Feb 1 10:00 unused: 1 of 31 days of 100 → 3.2258.
    assert_eq!(closing.refunded, money("3.2259"));
    assert_eq!(closing.order.end_time, Some(utc(NOW)));
    let change = change.seal().unwrap();
    let kinds: Vec<_> = change.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            NotificationKind::OrderSwitched,
            NotificationKind::OrderCreated
        ]
    );
    // The old order is written first, so its name is free when the new one takes it.
    assert!(matches!(&change.orders()[0], OrderWrite::Update { order, .. } if order.id == old.id));
}

#[test]
fn a_switch_whose_old_order_is_not_held_for_it_is_a_conflict() {
    let plan = prepaid();
    let opening = pending_opening(&plan, Some("old"));
    let old = OrderBuilder::default().id("old").build();
    let payment = opening.payment.clone().unwrap();
    let outcome = OpeningPaid {
        order: &opening.order,
        payment: &payment,
        replaced: Some((&old, &[])),
    }
    .write(
        &mut ChangeBuilder::new(),
        &BusinessCalendar::default(),
        utc(NOW),
    );
    assert!(matches!(outcome, Err(Error::Conflict(_))));
}

#[test]
fn a_payment_the_order_does_not_wait_for_completes_nothing() {
    let plan = prepaid();
    let opening = pending_opening(&plan, None);
    let mut payment = opening.payment.clone().unwrap();
    payment.id.seq = 9;
    let outcome = OpeningPaid {
        order: &opening.order,
        payment: &payment,
        replaced: None,
    }
    .write(
        &mut ChangeBuilder::new(),
        &BusinessCalendar::default(),
        utc(NOW),
    );
    assert!(matches!(outcome, Err(Error::Conflict(_))));
}

#[test]
fn a_declined_first_payment_ends_the_order_and_releases_what_was_created_for_it() {
    let plan = PlanBuilder::default().named().build();
    let opening = Opening::of(
        NewOrder {
            resource_name: Some(ResourceName::parse("data").unwrap()),
            ..new_order(&plan)
        },
        &charge_regions(),
    )
    .unwrap();
    let payment = opening.payment.clone().unwrap();
    let mut change = ChangeBuilder::new();
    let ended = OpeningDeclined {
        order: &opening.order,
        payment: &payment,
        replaced: None,
        why: "need recharge",
    }
    .write(&mut change, utc(NOW))
    .unwrap();
    assert_eq!(ended.status, OrderStatus::Ended);
    let change = change.seal().unwrap();
    assert!(change.rows().is_empty(), "nothing was charged");
    assert_eq!(change.tasks()[0].action, TaskAction::Release);
    assert_eq!(change.events()[0].kind, NotificationKind::OrderEnded);
}

#[test]
fn a_declined_switch_frees_the_old_order_which_runs_on() {
    let plan = prepaid();
    let opening = pending_opening(&plan, Some("old"));
    let old = OrderBuilder::default().id("old").build();
    let held = Order {
        replaced_by: Some(opening.order.id.clone()),
        ..old
    };
    let payment = opening.payment.clone().unwrap();
    let mut change = ChangeBuilder::new();
    OpeningDeclined {
        order: &opening.order,
        payment: &payment,
        replaced: Some(&held),
        why: "need recharge",
    }
    .write(&mut change, utc(NOW))
    .unwrap();
    let change = change.seal().unwrap();
    let freed = change.order(&held.id).unwrap();
    assert_eq!(freed.replaced_by, None);
    assert_eq!(freed.status, OrderStatus::Consuming);
    assert!(change.tasks().is_empty(), "a switch target created nothing");
    assert_eq!(
        change.order(&opening.order.id).unwrap().plan_id,
        PlanId::parse("plan-1").unwrap()
    );
}
