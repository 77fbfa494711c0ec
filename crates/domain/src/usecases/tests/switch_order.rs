//! Plan switches: `create_order` with `replaces`. The old order is [`consuming_order`]
//! (prepaid, January 2017 paid 100.00 with row 1); the switch happens at noon on Jan 11,
//! when 20.5 of January's 31 days are unused: a refund of 66.1291.

use super::*;
use crate::error::Error;
use crate::ids::ResourceName;
use crate::ports::{OrderClosing, OrderOpening};
use crate::usecases::{CreateOrderOutcome, CreateOrderRequest, Quote};

/// A bigger plan of the same type and region: 199.00 a month.
fn bigger_plan() -> Plan {
    Plan {
        id: PlanId::parse("quota-4c8g").unwrap(),
        price: money("199"),
        ..prepaid_plan()
    }
}

/// The old order as the repository ends it.
fn ended_old(closing: &OrderClosing) -> Order {
    Order {
        status: OrderStatus::Ended,
        end_time: Some(closing.end_time),
        last_consume_id: closing.end_row.consume_id,
        ..consuming_order()
    }
}

/// What the repository was asked to write.
struct Written {
    closing: Captured<OrderClosing>,
    opening: Captured<OrderOpening>,
    sent: Sent,
}

impl Mocks {
    /// The store holds `old` with January's row; the catalog serves `plans`.
    fn switching_from(mut self, old: Order, plans: Vec<Plan>) -> Self {
        self.usages
            .expect_for_order()
            .returning(|_| Ok(vec![january_row()]));
        self.at(utc(NOON_JAN_11)).holding(old).serving_plans(plans)
    }

    /// The repository accepts one switch; everything written is recorded.
    fn switch_into(mut self, written: &Written) -> Self {
        let closing = written.closing.handle();
        let opening = written.opening.handle();
        self.ids.expect_order_id().return_const(new_id());
        self.orders.expect_switch().times(1).returning(move |c, o| {
            let old = ended_old(&c);
            closing.put(c);
            opening.put(o);
            Ok(old)
        });
        self.orders.expect_open().never();
        self.notifying_into(&written.sent)
    }

    /// Nothing may be written or sent.
    fn writes_nothing(mut self) -> Self {
        self.orders.expect_switch().never();
        self.orders.expect_open().never();
        self.notifier.expect_notify().never();
        self
    }
}

/// Switches to `plan` and returns (order, charged, replaced, what was written).
async fn switch(mocks: Mocks, request: CreateOrderRequest) -> (Order, Money, Order, Written) {
    let written = Written {
        closing: Captured::new(),
        opening: Captured::new(),
        sent: Sent::default(),
    };
    let use_cases = mocks.switch_into(&written).build();
    match use_cases.create_order(&member(), request).await.unwrap() {
        CreateOrderOutcome::Created {
            order,
            charged,
            charge,
            refund,
            settlement,
            replaced: Some(replaced),
        } => {
            let net = charge
                .checked_add(settlement)
                .and_then(|sum| sum.checked_sub(refund));
            assert_eq!(net, Some(charged), "the net is the sum of its parts");
            (order, charged, *replaced, written)
        }
        other => panic!("expected a switch, got {other:?}"),
    }
}

async fn refused(mocks: Mocks, request: CreateOrderRequest) -> Error {
    mocks
        .writes_nothing()
        .build()
        .create_order(&member(), request)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn switch_charges_the_new_plan_less_the_old_orders_unused_remainder() {
    let mocks = Mocks::new().switching_from(consuming_order(), vec![bigger_plan()]);
    let (order, charged, replaced, written) = switch(mocks, switch_request(&bigger_plan())).await;
    assert_eq!(
        charged,
        money("199")
            .checked_sub(Money::from_minor(JANUARY_REFUND))
            .unwrap()
    );
    assert_eq!(order.id, new_id());
    assert_eq!(order.plan_id, bigger_plan().id);
    assert_eq!(replaced.status, OrderStatus::Ended);
    let closing = written.closing.take();
    assert_eq!(closing.order_id, order_id());
    assert_eq!(closing.expected_last_consume_id, 1);
    assert_eq!(closing.end_time, utc(NOON_JAN_11));
    assert!(closing.settlement.is_empty());
    assert_eq!(
        (
            closing.end_row.consume_id,
            closing.end_row.amount,
            closing.end_row.kind
        ),
        (2, Money::from_minor(-JANUARY_REFUND), ConsumptionKind::End)
    );
}

#[tokio::test]
async fn switch_opens_the_new_order_with_a_first_charge_of_kind_switch() {
    let mocks = Mocks::new().switching_from(consuming_order(), vec![bigger_plan()]);
    let (order, _, _, written) = switch(mocks, switch_request(&bigger_plan())).await;
    let opening = written.opening.take();
    assert_eq!(opening.order, order);
    assert_eq!(
        opening.first_charge,
        Some(Consumption {
            order_id: new_id(),
            consume_id: 1,
            project: project(),
            region: region(),
            plan_id: bigger_plan().id,
            amount: money("199"),
            time: utc(NOON_JAN_11),
            covered_until: utc("2017-02-11T12:00:00Z"),
            kind: ConsumptionKind::Switch,
        })
    );
}

#[tokio::test]
async fn switch_sends_order_switched_then_order_created() {
    let mocks = Mocks::new().switching_from(consuming_order(), vec![bigger_plan()]);
    let (_, _, _, written) = switch(mocks, switch_request(&bigger_plan())).await;
    assert_eq!(
        sent_events(&written.sent),
        [
            (NotificationKind::OrderSwitched, "order-1".to_string()),
            (NotificationKind::OrderCreated, "order-2".to_string()),
        ]
    );
    let events = written.sent.lock().unwrap().clone();
    assert_eq!(events[0].amount, Some(Money::from_minor(-JANUARY_REFUND)));
    assert_eq!(events[1].amount, Some(money("199")));
}

#[tokio::test]
async fn switch_to_a_cheaper_plan_gives_the_balance_the_difference() {
    let cheaper = Plan {
        id: PlanId::parse("quota-1c2g").unwrap(),
        price: money("10"),
        ..prepaid_plan()
    };
    let mocks = Mocks::new().switching_from(consuming_order(), vec![cheaper.clone()]);
    let (_, charged, _, _) = switch(mocks, switch_request(&cheaper)).await;
    assert_eq!(
        charged,
        money("10")
            .checked_sub(Money::from_minor(JANUARY_REFUND))
            .unwrap()
    );
    assert!(charged.is_negative());
}

#[tokio::test]
async fn switch_refunds_even_when_cancels_do_not() {
    let written = Written {
        closing: Captured::new(),
        opening: Captured::new(),
        sent: Sent::default(),
    };
    let use_cases = Mocks::new()
        .switching_from(consuming_order(), vec![bigger_plan()])
        .switch_into(&written)
        .build_with(BillingPolicy {
            refund_on_cancel: false,
            ..BillingPolicy::default()
        });
    use_cases
        .create_order(&member(), switch_request(&bigger_plan()))
        .await
        .unwrap();
    assert_eq!(
        written.closing.take().end_row.amount,
        Money::from_minor(-JANUARY_REFUND)
    );
}

#[tokio::test]
async fn switch_from_a_postpaid_order_settles_its_usage_and_refunds_nothing() {
    let old_plan = Plan {
        mode: ChargingMode::Postpaid,
        price: money("100"),
        ..prepaid_plan()
    };
    let old = Order {
        mode: ChargingMode::Postpaid,
        last_consume_id: 0,
        ..consuming_order()
    };
    let mut mocks = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(old)
        .serving_plans(vec![old_plan, bigger_plan()]);
    mocks.usages.expect_for_order().never();
    let (_, charged, _, written) = switch(mocks, switch_request(&bigger_plan())).await;
    // 100.00 × 10.5 / 31 days = 33.8709 used, plus the new plan's 199.00.
    assert_eq!(
        charged,
        money("199")
            .checked_add(Money::from_minor(338_709))
            .unwrap()
    );
    let closing = written.closing.take();
    let settled: Vec<_> = closing
        .settlement
        .iter()
        .map(|row| (row.consume_id, row.amount, row.kind))
        .collect();
    assert_eq!(
        settled,
        [(1, Money::from_minor(338_709), ConsumptionKind::Renew)]
    );
    assert_eq!(
        (closing.end_row.consume_id, closing.end_row.amount),
        (2, Money::ZERO)
    );
}

#[tokio::test]
async fn switch_to_a_postpaid_plan_opens_without_a_first_charge() {
    let postpaid = Plan {
        id: PlanId::parse("quota-payg").unwrap(),
        mode: ChargingMode::Postpaid,
        ..prepaid_plan()
    };
    let mocks = Mocks::new().switching_from(consuming_order(), vec![postpaid.clone()]);
    let (order, charged, _, written) = switch(mocks, switch_request(&postpaid)).await;
    assert_eq!(charged, Money::from_minor(-JANUARY_REFUND));
    assert_eq!(order.last_consume_id, 0);
    assert_eq!(written.opening.take().first_charge, None);
}

#[tokio::test]
async fn switch_the_balance_cannot_cover_fails_and_notifies_nobody() {
    let error = Error::InsufficientBalance {
        needed: money("132.8709"),
        available: money("5"),
    };
    let refusal = error.clone();
    let mut mocks = Mocks::new().switching_from(consuming_order(), vec![bigger_plan()]);
    mocks.ids.expect_order_id().return_const(new_id());
    mocks
        .orders
        .expect_switch()
        .times(1)
        .returning(move |_, _| Err(refusal.clone()));
    mocks.orders.expect_open().never();
    mocks.notifier.expect_notify().never();
    let got = mocks
        .build()
        .create_order(&member(), switch_request(&bigger_plan()))
        .await
        .unwrap_err();
    assert_eq!(got, error);
}

#[tokio::test]
async fn switch_to_another_plan_type_is_an_invalid_parameter() {
    let volume = Plan {
        id: PlanId::parse("volume-10g").unwrap(),
        plan_type: PlanType::parse("volume").unwrap(),
        ..prepaid_plan()
    };
    let mocks = Mocks::new().switching_from(consuming_order(), vec![volume.clone()]);
    let error = refused(mocks, switch_request(&volume)).await;
    assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
}

#[tokio::test]
async fn switch_to_a_plan_of_another_region_is_an_invalid_parameter() {
    let elsewhere = Plan {
        id: PlanId::parse("quota-south").unwrap(),
        region: Region::parse("cn-south-1").unwrap(),
        ..prepaid_plan()
    };
    let mocks = Mocks::new().switching_from(consuming_order(), vec![elsewhere.clone()]);
    let error = refused(mocks, switch_request(&elsewhere)).await;
    assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
}

#[tokio::test]
async fn switch_from_an_order_of_another_project_is_not_found() {
    let foreign = Order {
        project: other_project(),
        ..consuming_order()
    };
    let mocks = Mocks::new().switching_from(foreign, vec![bigger_plan()]);
    let error = refused(mocks, switch_request(&bigger_plan())).await;
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn switch_from_an_ended_order_is_a_conflict() {
    let ended = Order {
        status: OrderStatus::Ended,
        end_time: Some(utc("2017-01-05T00:00:00Z")),
        ..consuming_order()
    };
    let mocks = Mocks::new().switching_from(ended, vec![bigger_plan()]);
    let error = refused(mocks, switch_request(&bigger_plan())).await;
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
}

#[tokio::test]
async fn switch_from_an_ending_order_is_allowed() {
    let ending = Order {
        status: OrderStatus::Ending,
        ..consuming_order()
    };
    let mocks = Mocks::new().switching_from(ending, vec![bigger_plan()]);
    let (_, _, replaced, _) = switch(mocks, switch_request(&bigger_plan())).await;
    assert_eq!(replaced.status, OrderStatus::Ended);
}

fn named(name: &str) -> ResourceName {
    ResourceName::parse(name).unwrap()
}

/// A named old order and a bigger plan that needs a resource name.
fn named_old_and_plan() -> (Order, Plan) {
    let old = Order {
        resource_name: Some(named("data-1")),
        ..consuming_order()
    };
    let plan = Plan {
        requires_resource_name: true,
        ..bigger_plan()
    };
    (old, plan)
}

#[tokio::test]
async fn switch_inherits_the_old_orders_resource_name_when_none_is_given() {
    let (old, plan) = named_old_and_plan();
    let mocks = Mocks::new().switching_from(old, vec![plan.clone()]);
    let (order, _, _, _) = switch(mocks, switch_request(&plan)).await;
    assert_eq!(order.resource_name, Some(named("data-1")));
}

#[tokio::test]
async fn switch_accepts_the_old_orders_resource_name_given_again() {
    let (old, plan) = named_old_and_plan();
    let mocks = Mocks::new().switching_from(old, vec![plan.clone()]);
    let request = CreateOrderRequest {
        resource_name: Some(named("data-1")),
        ..switch_request(&plan)
    };
    let (order, _, _, _) = switch(mocks, request).await;
    assert_eq!(order.resource_name, Some(named("data-1")));
}

#[tokio::test]
async fn switch_naming_a_different_resource_is_an_invalid_parameter() {
    let (old, plan) = named_old_and_plan();
    let mocks = Mocks::new().switching_from(old, vec![plan.clone()]);
    let request = CreateOrderRequest {
        resource_name: Some(named("data-2")),
        ..switch_request(&plan)
    };
    let error = refused(mocks, request).await;
    assert!(
        matches!(&error, Error::InvalidParameter(m) if m.contains("data-2")),
        "{error:?}"
    );
}

#[tokio::test]
async fn switch_dry_run_quotes_the_net_and_its_parts_and_writes_nothing() {
    let mut mocks = Mocks::new()
        .switching_from(consuming_order(), vec![bigger_plan()])
        .writes_nothing();
    mocks.ids.expect_order_id().never();
    let request = CreateOrderRequest {
        dry_run: true,
        ..switch_request(&bigger_plan())
    };
    let outcome = mocks
        .build()
        .create_order(&member(), request)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        CreateOrderOutcome::Quoted(Quote {
            money: money("199")
                .checked_sub(Money::from_minor(JANUARY_REFUND))
                .unwrap(),
            charge: money("199"),
            refund: Money::from_minor(JANUARY_REFUND),
            settlement: Money::ZERO,
            replaces: Some(order_id()),
            project: project(),
            plan: bigger_plan(),
            quantities: Quantity::ONE,
            start_time: utc(NOON_JAN_11),
            deadline_time: utc("2017-02-11T12:00:00Z"),
        })
    );
}
