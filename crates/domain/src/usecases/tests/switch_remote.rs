//! Plan switches where a charge service keeps the region's money: the net moves as one
//! payment. The old order is [`consuming_order`] (January 2017 paid 100.00 with row 1); at
//! noon on Jan 11 its unused remainder is 66.1291.

use super::*;
use crate::ids::ResourceName;
use crate::payment::PaymentReason;
use crate::ports::{MockProvisioning, OrderClosing, OrderOpening};
use crate::usecases::CreateOrderOutcome;

/// A quota plan of the old order's type and region at `price` a month.
fn plan_at(price: &str) -> Plan {
    Plan {
        id: PlanId::parse("quota-other").unwrap(),
        price: money(price),
        ..prepaid_plan()
    }
}

/// What the store was asked to write.
#[derive(Default)]
struct Store {
    closing: Captured<OrderClosing>,
    opening: Captured<OrderOpening>,
    /// The refund closing of the new order, when its quota could not be set.
    refund: Captured<OrderClosing>,
}

impl Mocks {
    /// The store holds `old` with January's row, the catalog serves `plan`; the store
    /// answers the switch with `switch`, journaled as "switch {old} → {new}", and a
    /// closing (a refund of the new order) as "close {order}".
    fn switching(
        mut self,
        old: Order,
        plan: &Plan,
        calls: &Calls,
        store: &Store,
        switch: impl Fn() -> Result<()> + Send + 'static,
    ) -> Self {
        self.usages
            .expect_for_order()
            .returning(|_| Ok(vec![january_row()]));
        self.ids.expect_order_id().return_const(new_id());
        let journal = Arc::clone(calls);
        let (closed, opened) = (store.closing.handle(), store.opening.handle());
        let held = old.clone();
        self.orders
            .expect_switch()
            .returning(move |closing, opening| {
                journal.lock().unwrap().push(format!(
                    "switch {} → {}",
                    closing.order_id, opening.order.id
                ));
                switch()?;
                let ended = Order {
                    status: OrderStatus::Ended,
                    end_time: Some(closing.end_time),
                    last_consume_id: closing.end_row.consume_id,
                    ..held.clone()
                };
                closed.put(closing);
                opened.put(opening);
                Ok(ended)
            });
        let journal = Arc::clone(calls);
        let refunded = store.refund.handle();
        self.orders.expect_close().returning(move |closing| {
            note(&journal, format!("close {}", closing.order_id));
            let ended = Order {
                id: closing.order_id.clone(),
                status: OrderStatus::Ended,
                ..consuming_order()
            };
            refunded.put(closing);
            Ok(ended)
        });
        self.at(utc(NOON_JAN_11))
            .holding(old)
            .serving_plans(vec![plan.clone()])
    }
}

fn switches() -> Result<()> {
    Ok(())
}

fn reason(order: OrderId, consume_id: u32) -> PaymentReason {
    PaymentReason { order, consume_id }
}

async fn switch(mocks: Mocks, plan: &Plan) -> Result<CreateOrderOutcome> {
    mocks
        .build()
        .create_order(&member(), switch_request(plan))
        .await
}

#[tokio::test]
async fn a_dearer_plan_deducts_the_net_named_by_the_new_orders_first_row() {
    let (calls, store) = (Calls::default(), Store::default());
    let plan = plan_at("199");
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, works, works)
        .switching(consuming_order(), &plan, &calls, &store, switches)
        .delivering(0)
        .notifying();
    switch(mocks, &plan).await.unwrap();
    // 199.00 − 66.1291: and the new order's quota is set over the old one, never released.
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-2:1 132.8709",
            "switch order-1 → order-2",
            "provision order-2"
        ]
    );
    let (closing, opening) = (store.closing.take(), store.opening.take());
    assert_eq!(closing.keeper, MoneyKeeper::ChargeService);
    assert_eq!(opening.keeper, MoneyKeeper::ChargeService);
    assert_eq!(closing.credit, None);
}

#[tokio::test]
async fn a_cheaper_plan_queues_the_difference_named_by_the_old_orders_end_row() {
    let (calls, store) = (Calls::default(), Store::default());
    let plan = plan_at("9");
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .switching(consuming_order(), &plan, &calls, &store, switches)
        .delivering(1)
        .notifying();
    switch(mocks, &plan).await.unwrap();
    assert_eq!(super::calls(&calls), ["switch order-1 → order-2"]);
    let closing = store.closing.take();
    assert_eq!(
        closing.credit,
        Some(Payment {
            project: project(),
            region: region(),
            amount: Money::from_minor(571_291),
            direction: PaymentDirection::Credit,
            reason: reason(order_id(), 2),
        })
    );
}

#[tokio::test]
async fn a_switch_netting_zero_moves_no_money() {
    let (calls, store) = (Calls::default(), Store::default());
    let plan = plan_at("66.1291");
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .switching(consuming_order(), &plan, &calls, &store, switches)
        .delivering(0)
        .notifying();
    let outcome = switch(mocks, &plan).await.unwrap();
    assert!(
        matches!(outcome, CreateOrderOutcome::Created { charged, .. } if charged == Money::ZERO)
    );
    assert_eq!(super::calls(&calls), ["switch order-1 → order-2"]);
    assert_eq!(store.closing.take().credit, None);
}

#[tokio::test]
async fn a_postpaid_switch_deducts_the_old_settlement_named_by_its_last_row() {
    // The new postpaid order has no row 1 yet; its first settlement will need that name.
    let (calls, store) = (Calls::default(), Store::default());
    let old = Order {
        mode: ChargingMode::Postpaid,
        last_consume_id: 0,
        ..consuming_order()
    };
    let plan = Plan {
        mode: ChargingMode::Postpaid,
        price: money("100"),
        ..plan_at("100")
    };
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, works, works)
        .switching(old, &plan, &calls, &store, switches)
        .notifying();
    // The old order's postpaid plan is the new one's: 100.00 a month.
    mocks.plans = crate::ports::MockPlanCatalog::new();
    let mocks = mocks.serving_plans(vec![
        plan.clone(),
        Plan {
            mode: ChargingMode::Postpaid,
            price: money("100"),
            ..prepaid_plan()
        },
    ]);
    switch(mocks, &plan).await.unwrap();
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-1:1 33.8709",
            "switch order-1 → order-2",
            "provision order-2"
        ]
    );
    assert_eq!(store.opening.take().first_charge, None);
}

#[tokio::test]
async fn a_declined_net_writes_nothing() {
    let calls = Calls::default();
    let plan = plan_at("199");
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, declines, works)
        .at(utc(NOON_JAN_11))
        .holding(consuming_order())
        .serving_plans(vec![plan.clone()]);
    mocks
        .usages
        .expect_for_order()
        .returning(|_| Ok(vec![january_row()]));
    mocks.ids.expect_order_id().return_const(new_id());
    mocks.orders.expect_switch().never();
    mocks.notifier.expect_notify().never();
    let error = switch(mocks, &plan).await.unwrap_err();
    assert!(matches!(error, Error::PaymentDeclined(_)), "{error:?}");
    assert_eq!(super::calls(&calls), ["deduct order:order-2:1 132.8709"]);
}

#[tokio::test]
async fn a_failed_switch_after_the_net_credits_it_back() {
    let (calls, store) = (Calls::default(), Store::default());
    let plan = plan_at("199");
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .switching(consuming_order(), &plan, &calls, &store, || {
            Err(Error::Conflict("last consume id moved".into()))
        });
    let error = switch(mocks, &plan).await.unwrap_err();
    assert_eq!(error, Error::Conflict("last consume id moved".into()));
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-2:1 132.8709",
            "switch order-1 → order-2",
            "credit order:order-2:1 132.8709"
        ]
    );
}

#[tokio::test]
async fn a_volume_switch_keeps_the_volume() {
    let (calls, store) = (Calls::default(), Store::default());
    let name = ResourceName::parse("data-1").unwrap();
    let old = Order {
        plan_type: PlanType::parse("volume").unwrap(),
        resource_name: Some(name.clone()),
        ..consuming_order()
    };
    let plan = Plan {
        plan_type: PlanType::parse("volume").unwrap(),
        requires_resource_name: true,
        ..plan_at("199")
    };
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .switching(old, &plan, &calls, &store, switches)
        .notifying();
    let mut provisioning = MockProvisioning::new();
    provisioning.expect_provision().never();
    provisioning.expect_release().never();
    mocks.provisioning = Some(provisioning);
    let outcome = switch(mocks, &plan).await.unwrap();
    match outcome {
        CreateOrderOutcome::Created { order, .. } => assert_eq!(order.resource_name, Some(name)),
        other => panic!("expected a switch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_quota_that_cannot_be_set_after_a_switch_refunds_the_new_order_in_full() {
    let (calls, store, sent) = (Calls::default(), Store::default(), Sent::default());
    let plan = plan_at("199");
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(
            &calls,
            |_: &Order| Err(Error::ProvisioningFailed("quota refused".into())),
            works,
        )
        .switching(consuming_order(), &plan, &calls, &store, switches)
        .delivering(1)
        .notifying_into(&sent);
    let error = switch(mocks, &plan).await.unwrap_err();
    assert!(
        matches!(error, Error::ChargedButNotProvisioned(_)),
        "{error:?}"
    );
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-2:1 132.8709",
            "switch order-1 → order-2",
            "provision order-2",
            "close order-2",
            "release order-2"
        ]
    );
    let refund = store.refund.take();
    assert_eq!(refund.end_row.amount, money("-199"));
    assert_eq!(
        refund.credit.map(|p| (p.amount, p.reason)),
        Some((money("199"), reason(new_id(), 2)))
    );
    assert_eq!(
        sent_events(&sent),
        [
            (NotificationKind::OrderSwitched, "order-1".to_string()),
            (NotificationKind::OrderCreated, "order-2".to_string()),
            (NotificationKind::OrderEnded, "order-2".to_string())
        ]
    );
}
