//! Creating orders where a charge service keeps the region's money, and the provisioning
//! saga around the charge. The journal shows the order of the outward calls: payments,
//! provisioning, and the store's writes.

use super::*;
use crate::ports::{OrderClosing, OrderOpening};
use crate::usecases::{CreateOrderOutcome, CreateOrderRequest};

/// A prepaid plan at 99.00 a month that provides nothing on the platform.
fn billed_plan() -> Plan {
    Plan {
        id: PlanId::parse("support-basic").unwrap(),
        plan_type: PlanType::parse("support").unwrap(),
        ..prepaid_plan()
    }
}

/// What the store was asked to write.
#[derive(Default)]
struct Store {
    opening: Captured<OrderOpening>,
    closing: Captured<OrderClosing>,
}

impl Mocks {
    /// At Jan 31, the catalog serving `plan`, the id generator handing out [`order_id`];
    /// the store answers openings with `open` and closings by ending the order, each
    /// journaled as "open {order}" / "close {order}".
    fn creating(
        mut self,
        plan: Plan,
        calls: &Calls,
        store: &Store,
        open: impl Fn() -> Result<()> + Send + 'static,
    ) -> Self {
        let journal = Arc::clone(calls);
        let slot = store.opening.handle();
        self.orders.expect_open().returning(move |opening| {
            note(&journal, format!("open {}", opening.order.id));
            slot.put(opening);
            open()
        });
        let journal = Arc::clone(calls);
        let slot = store.closing.handle();
        self.orders.expect_close().returning(move |closing| {
            note(&journal, format!("close {}", closing.order_id));
            let ended = Order {
                id: closing.order_id.clone(),
                status: OrderStatus::Ended,
                end_time: Some(closing.end_time),
                last_consume_id: closing.end_row.consume_id,
                ..consuming_order()
            };
            slot.put(closing);
            Ok(ended)
        });
        self.ordering(plan)
    }

    /// At Jan 31, the catalog serving `plan` and the id generator handing out
    /// [`order_id`]: what every create reads before it writes anything.
    fn ordering(mut self, plan: Plan) -> Self {
        self.ids.expect_order_id().return_const(order_id());
        self.at(utc(JAN_31)).serving_plans(vec![plan])
    }

    /// [`Mocks::ordering`] for a create that must fail before the store opens the order.
    fn opening_nothing(self, plan: Plan) -> Self {
        let mut mocks = self.ordering(plan);
        mocks.orders.expect_open().never();
        mocks
    }
}

/// The member's create of `plan` (see [`request`]).
async fn create(mocks: Mocks, plan: &Plan) -> Result<CreateOrderOutcome> {
    mocks
        .build()
        .create_order(&member(), create_request(plan))
        .await
}

fn opens() -> Result<()> {
    Ok(())
}

fn balance_short() -> Result<()> {
    Err(Error::InsufficientBalance {
        needed: money("99"),
        available: money("1"),
    })
}

fn store_down() -> Result<()> {
    Err(Error::Unavailable("lost connection".into()))
}

fn the_order(outcome: CreateOrderOutcome) -> Order {
    match outcome {
        CreateOrderOutcome::Created { order, .. } => order,
        other => panic!("expected a created order, got {other:?}"),
    }
}

#[tokio::test]
async fn remote_create_deducts_the_first_charge_named_by_row_one_before_opening() {
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .creating(billed_plan(), &calls, &store, opens)
        .notifying();
    let order = the_order(create(mocks, &billed_plan()).await.unwrap());
    assert_eq!(
        super::calls(&calls),
        ["deduct order:order-1:1 99.00", "open order-1"]
    );
    let opening = store.opening.take();
    assert_eq!(opening.keeper, MoneyKeeper::ChargeService);
    assert_eq!(opening.order, order);
    assert_eq!(opening.first_charge.unwrap().amount, money("99"));
}

#[tokio::test]
async fn remote_deduction_carries_the_project_region_amount_and_reason() {
    let taken = Captured::new();
    let slot = taken.handle();
    let (calls, store) = (Calls::default(), Store::default());
    let use_cases = Mocks::new()
        .charged_remotely(
            &calls,
            move |payment: &Payment| {
                slot.put(payment.clone());
                Ok(())
            },
            works,
        )
        .creating(billed_plan(), &calls, &store, opens)
        .notifying()
        .build();
    let request = CreateOrderRequest {
        quantities: Quantity::new(3).unwrap(),
        ..create_request(&billed_plan())
    };
    use_cases.create_order(&member(), request).await.unwrap();
    assert_eq!(
        taken.take(),
        Payment {
            project: project(),
            region: region(),
            amount: money("297"),
            direction: PaymentDirection::Deduction,
            reason: reason(1),
        }
    );
}

#[tokio::test]
async fn a_declined_deduction_is_a_payment_declined_and_opens_nothing() {
    let calls = Calls::default();
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, declines, works)
        .opening_nothing(billed_plan());
    mocks.notifier.expect_notify().never();
    let error = create(mocks, &billed_plan()).await.unwrap_err();
    assert!(matches!(error, Error::PaymentDeclined(_)), "{error:?}");
    assert_eq!(super::calls(&calls), ["deduct order:order-1:1 99.00"]);
}

#[tokio::test]
async fn an_unanswered_deduction_is_asked_again_then_unavailable_opens_nothing_and_credits_nothing()
{
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, times_out, works)
        .opening_nothing(billed_plan());
    let error = create(mocks, &billed_plan()).await.unwrap_err();
    assert_eq!(error, Error::DependencyUnavailable("timed out".into()));
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-1:1 99.00",
            "deduct order:order-1:1 99.00"
        ]
    );
}

#[tokio::test]
async fn a_deduction_answered_on_the_second_ask_opens_the_order() {
    let calls = Calls::default();
    let mut asked = 0;
    let mut mocks = Mocks::new()
        .charged_remotely(
            &calls,
            move |payment| {
                asked += 1;
                if asked == 1 {
                    times_out(payment)
                } else {
                    works(payment)
                }
            },
            works,
        )
        .ordering(billed_plan());
    mocks.orders.expect_open().times(1).returning(|_| opens());
    mocks.notifier.expect_notify().returning(|_| Ok(()));
    create(mocks, &billed_plan()).await.unwrap();
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-1:1 99.00",
            "deduct order:order-1:1 99.00"
        ]
    );
}

#[tokio::test]
async fn a_failed_open_after_the_deduction_credits_it_back_under_the_same_reason() {
    let (calls, store) = (Calls::default(), Store::default());
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .creating(billed_plan(), &calls, &store, store_down);
    mocks.notifier.expect_notify().never();
    let error = create(mocks, &billed_plan()).await.unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-1:1 99.00",
            "open order-1",
            "credit order:order-1:1 99.00"
        ]
    );
}

#[tokio::test]
async fn a_failed_compensation_still_returns_the_stores_error() {
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, times_out)
        .creating(billed_plan(), &calls, &store, balance_short);
    let error = create(mocks, &billed_plan()).await.unwrap_err();
    assert!(
        matches!(error, Error::InsufficientBalance { .. }),
        "{error:?}"
    );
    assert_eq!(super::calls(&calls).len(), 3);
}

#[tokio::test]
async fn a_free_remote_order_opens_without_asking_the_charge_service() {
    let plan = Plan {
        price: Money::ZERO,
        ..billed_plan()
    };
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .creating(plan.clone(), &calls, &store, opens)
        .notifying();
    create(mocks, &plan).await.unwrap();
    assert_eq!(super::calls(&calls), ["open order-1"]);
    let opening = store.opening.take();
    assert_eq!(opening.keeper, MoneyKeeper::ChargeService);
    assert_eq!(opening.first_charge.unwrap().amount, Money::ZERO);
}

#[tokio::test]
async fn a_postpaid_remote_order_opens_without_asking_the_charge_service() {
    let plan = Plan {
        mode: ChargingMode::Postpaid,
        ..billed_plan()
    };
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .creating(plan.clone(), &calls, &store, opens)
        .notifying();
    create(mocks, &plan).await.unwrap();
    assert_eq!(super::calls(&calls), ["open order-1"]);
    assert_eq!(store.opening.take().first_charge, None);
}

#[tokio::test]
async fn a_huge_charge_is_deducted_exactly() {
    let plan = Plan {
        price: Money::MAX,
        ..billed_plan()
    };
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .creating(plan.clone(), &calls, &store, opens)
        .notifying();
    create(mocks, &plan).await.unwrap();
    assert_eq!(
        super::calls(&calls)[0],
        format!("deduct order:order-1:1 {}", Money::MAX)
    );
}

#[tokio::test]
async fn a_region_the_store_keeps_stays_in_the_store_beside_a_charged_one() {
    let south = Plan {
        region: Region::parse("cn-south-1").unwrap(),
        ..billed_plan()
    };
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .creating(south.clone(), &calls, &store, opens)
        .notifying();
    create(mocks, &south).await.unwrap();
    assert_eq!(super::calls(&calls), ["open order-1"]);
    assert_eq!(store.opening.take().keeper, MoneyKeeper::Store);
}

#[tokio::test]
async fn a_dry_run_asks_no_platform_service() {
    let mut mocks = Mocks::new()
        .at(utc(JAN_31))
        .serving_plans(vec![volume_plan()]);
    let mut charging = crate::ports::MockCharging::new();
    charging.expect_keeper().never();
    charging.expect_deduct().never();
    mocks.charging = Some(charging);
    let mut provisioning = crate::ports::MockProvisioning::new();
    provisioning.expect_provision().never();
    mocks.provisioning = Some(provisioning);
    mocks.orders.expect_open().never();
    let request = CreateOrderRequest {
        dry_run: true,
        ..create_request(&volume_plan())
    };
    let outcome = mocks.build().create_order(&member(), request).await;
    assert!(
        matches!(outcome, Ok(CreateOrderOutcome::Quoted(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_volume_is_created_before_the_charge() {
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, works, works)
        .creating(volume_plan(), &calls, &store, opens)
        .notifying();
    create(mocks, &volume_plan()).await.unwrap();
    assert_eq!(
        super::calls(&calls),
        [
            "provision order-1",
            "deduct order:order-1:1 99.00",
            "open order-1"
        ]
    );
}

#[tokio::test]
async fn a_volume_the_platform_refuses_costs_nothing() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(
            &calls,
            |_: &Order| Err(Error::ProvisioningFailed("quota exceeded".into())),
            works,
        )
        .opening_nothing(volume_plan());
    let error = create(mocks, &volume_plan()).await.unwrap_err();
    assert_eq!(error, Error::ProvisioningFailed("quota exceeded".into()));
    assert_eq!(super::calls(&calls), ["provision order-1"]);
}

#[tokio::test]
async fn a_volume_is_released_when_the_charge_is_declined() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, declines, works)
        .provisioning_into(&calls, works, works)
        .opening_nothing(volume_plan());
    let error = create(mocks, &volume_plan()).await.unwrap_err();
    assert!(matches!(error, Error::PaymentDeclined(_)), "{error:?}");
    assert_eq!(
        super::calls(&calls),
        [
            "provision order-1",
            "deduct order:order-1:1 99.00",
            "release order-1"
        ]
    );
}

#[tokio::test]
async fn a_volume_is_released_and_the_charge_credited_when_the_open_fails() {
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, works, works)
        .creating(volume_plan(), &calls, &store, store_down);
    let error = create(mocks, &volume_plan()).await.unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
    assert_eq!(
        super::calls(&calls),
        [
            "provision order-1",
            "deduct order:order-1:1 99.00",
            "open order-1",
            "credit order:order-1:1 99.00",
            "release order-1"
        ]
    );
}

#[tokio::test]
async fn a_volume_is_released_when_the_ledger_cannot_cover_it() {
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .provisioning_into(&calls, works, works)
        .creating(volume_plan(), &calls, &store, balance_short);
    let error = create(mocks, &volume_plan()).await.unwrap_err();
    assert!(
        matches!(error, Error::InsufficientBalance { .. }),
        "{error:?}"
    );
    assert_eq!(
        super::calls(&calls),
        ["provision order-1", "open order-1", "release order-1"]
    );
}

#[tokio::test]
async fn a_release_that_fails_is_logged_and_the_decline_still_returned() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, declines, works)
        .provisioning_into(&calls, works, times_out)
        .ordering(volume_plan());
    let error = create(mocks, &volume_plan()).await.unwrap_err();
    assert!(matches!(error, Error::PaymentDeclined(_)), "{error:?}");
}

#[tokio::test]
async fn a_quota_is_set_after_the_order_is_written() {
    let (calls, store) = (Calls::default(), Store::default());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, works, works)
        .creating(prepaid_plan(), &calls, &store, opens)
        .notifying();
    create(mocks, &prepaid_plan()).await.unwrap();
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-1:1 99.00",
            "open order-1",
            "provision order-1"
        ]
    );
}

fn quota_refused(_: &Order) -> Result<()> {
    Err(Error::ProvisioningFailed("quota refused".into()))
}

#[tokio::test]
async fn a_quota_that_cannot_be_set_ends_the_order_with_a_full_refund_in_the_ledger() {
    let (calls, store, sent) = (Calls::default(), Store::default(), Sent::default());
    let mocks = Mocks::new()
        .provisioning_into(&calls, quota_refused, works)
        .creating(prepaid_plan(), &calls, &store, opens)
        .notifying_into(&sent);
    let error = create(mocks, &prepaid_plan()).await.unwrap_err();
    assert!(
        matches!(&error, Error::ChargedButNotProvisioned(m) if m.contains("quota refused")),
        "{error:?}"
    );
    assert_eq!(
        super::calls(&calls),
        [
            "open order-1",
            "provision order-1",
            "close order-1",
            "release order-1"
        ]
    );
    let closing = store.closing.take();
    assert_eq!(closing.keeper, MoneyKeeper::Store);
    assert_eq!(closing.credit, None);
    assert_eq!(closing.expected_last_consume_id, 1);
    assert!(closing.settlement.is_empty());
    assert_eq!(
        (
            closing.end_row.consume_id,
            closing.end_row.amount,
            closing.end_row.kind
        ),
        (2, money("-99"), ConsumptionKind::End)
    );
    assert_eq!(
        sent_events(&sent),
        [
            (NotificationKind::OrderCreated, "order-1".to_string()),
            (NotificationKind::OrderEnded, "order-1".to_string())
        ]
    );
    assert_eq!(sent.lock().unwrap()[1].amount, Some(money("-99")));
}

#[tokio::test]
async fn a_quota_that_cannot_be_set_queues_the_full_refund_for_the_charge_service() {
    let (calls, store) = (Calls::default(), Store::default());
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, quota_refused, works)
        .creating(prepaid_plan(), &calls, &store, opens)
        .notifying();
    let mut credits = crate::ports::MockCreditQueue::new();
    credits
        .expect_due()
        .times(1)
        .returning(|_, _| Ok(Vec::new()));
    mocks.credits = Some(credits);
    let error = create(mocks, &prepaid_plan()).await.unwrap_err();
    assert!(
        matches!(error, Error::ChargedButNotProvisioned(_)),
        "{error:?}"
    );
    let closing = store.closing.take();
    assert_eq!(closing.keeper, MoneyKeeper::ChargeService);
    assert_eq!(
        closing.credit,
        Some(Payment {
            project: project(),
            region: region(),
            amount: money("99"),
            direction: PaymentDirection::Credit,
            reason: reason(2),
        })
    );
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-1:1 99.00",
            "open order-1",
            "provision order-1",
            "close order-1",
            "release order-1"
        ]
    );
}

#[tokio::test]
async fn a_free_quota_that_cannot_be_set_ends_the_order_and_queues_nothing() {
    let plan = Plan {
        price: Money::ZERO,
        ..prepaid_plan()
    };
    let (calls, store) = (Calls::default(), Store::default());
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, quota_refused, works)
        .creating(plan.clone(), &calls, &store, opens)
        .notifying();
    let mut credits = crate::ports::MockCreditQueue::new();
    credits.expect_due().never();
    mocks.credits = Some(credits);
    let error = create(mocks, &plan).await.unwrap_err();
    assert!(
        matches!(error, Error::ChargedButNotProvisioned(_)),
        "{error:?}"
    );
    let closing = store.closing.take();
    assert_eq!(
        (closing.end_row.amount, closing.credit),
        (Money::ZERO, None)
    );
}

#[tokio::test]
async fn a_quota_whose_refund_cannot_be_written_returns_the_stores_error() {
    let calls = Calls::default();
    let mut mocks = Mocks::new()
        .provisioning_into(&calls, quota_refused, works)
        .at(utc(JAN_31))
        .serving_plans(vec![prepaid_plan()])
        .notifying();
    mocks.ids.expect_order_id().return_const(order_id());
    mocks.orders.expect_open().times(1).returning(|_| Ok(()));
    mocks
        .orders
        .expect_close()
        .times(1)
        .returning(|_| Err(Error::Unavailable("lost connection".into())));
    let error = create(mocks, &prepaid_plan()).await.unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
}
