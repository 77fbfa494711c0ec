//! Cancelling orders where a charge service keeps the region's money, and the release of
//! the order's resource once it has ended.

use super::*;
use crate::ports::{MockCreditQueue, MockReleaseQueue, OrderClosing};
use crate::usecases::CancelOutcome;

/// 100.00 a month, billed in arrears.
fn postpaid_plan() -> Plan {
    Plan {
        mode: ChargingMode::Postpaid,
        price: money("100"),
        ..prepaid_plan()
    }
}

/// Started Jan 1 2017, nothing billed yet.
fn postpaid_order() -> Order {
    Order {
        mode: ChargingMode::Postpaid,
        last_consume_id: 0,
        ..consuming_order()
    }
}

impl Mocks {
    /// The store holds `order` (January's row for a prepaid one, the postpaid plan in the
    /// catalog) and answers closings with `close`, journaled as "close {order}".
    fn cancelling(
        mut self,
        order: Order,
        calls: &Calls,
        closing: &Captured<OrderClosing>,
        close: impl Fn() -> Result<()> + Send + 'static,
    ) -> Self {
        self.usages
            .expect_for_order()
            .returning(|_| Ok(vec![january_row()]));
        let journal = Arc::clone(calls);
        let slot = closing.handle();
        let held = order.clone();
        self.orders.expect_close().returning(move |asked| {
            note(&journal, format!("close {}", asked.order_id));
            close()?;
            let ended = Order {
                status: OrderStatus::Ended,
                end_time: Some(asked.end_time),
                last_consume_id: asked.end_row.consume_id,
                ..held.clone()
            };
            slot.put(asked);
            Ok(ended)
        });
        self.at(utc(NOON_JAN_11))
            .holding(order)
            .serving_plans(vec![postpaid_plan()])
    }
}

fn closes() -> Result<()> {
    Ok(())
}

async fn cancel(mocks: Mocks) -> Result<CancelOutcome> {
    mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
}

#[tokio::test]
async fn remote_cancel_queues_the_refund_named_by_the_end_row_and_delivers_it() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, works, works)
        .cancelling(consuming_order(), &calls, &closing, closes)
        .delivering(1)
        .notifying();
    let outcome = cancel(mocks).await.unwrap();
    assert_eq!(outcome.refunded, Money::from_minor(JANUARY_REFUND));
    let closing = closing.take();
    assert_eq!(closing.keeper, MoneyKeeper::ChargeService);
    assert_eq!(
        closing.credit,
        Some(Payment {
            project: project(),
            region: region(),
            amount: Money::from_minor(JANUARY_REFUND),
            direction: PaymentDirection::Credit,
            reason: reason(2),
        })
    );
    assert_eq!(closing.end_row.amount, Money::from_minor(-JANUARY_REFUND));
    assert_eq!(super::calls(&calls), ["close order-1", "release order-1"]);
}

#[tokio::test]
async fn remote_cancel_refunding_nothing_queues_and_delivers_nothing() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let overdue = Order {
        status: OrderStatus::Ending,
        ..consuming_order()
    };
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .cancelling(overdue, &calls, &closing, closes)
        .delivering(0)
        .notifying();
    mocks.clock = crate::ports::MockClock::new();
    let mocks = mocks.at(utc("2017-02-05T00:00:00Z"));
    cancel(mocks).await.unwrap();
    let closing = closing.take();
    assert_eq!(
        (closing.keeper, closing.credit),
        (MoneyKeeper::ChargeService, None)
    );
}

#[tokio::test]
async fn remote_cancel_of_a_postpaid_order_deducts_its_settlement_before_closing() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, works, works)
        .cancelling(postpaid_order(), &calls, &closing, closes)
        .delivering(0)
        .notifying();
    let outcome = cancel(mocks).await.unwrap();
    // 100.00 × 10.5 / 31 days, rounded down.
    assert_eq!(outcome.settled, Money::from_minor(338_709));
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-1:1 33.8709",
            "close order-1",
            "release order-1"
        ]
    );
    assert_eq!(closing.take().credit, None);
}

#[tokio::test]
async fn remote_settlement_of_several_cycles_is_one_payment_named_by_the_last_row() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .cancelling(postpaid_order(), &calls, &closing, closes)
        .notifying();
    mocks.clock = crate::ports::MockClock::new();
    let mocks = mocks.at(utc("2017-03-15T00:00:00Z"));
    cancel(mocks).await.unwrap();
    // January and February in full, 14 of March's 31 days.
    assert_eq!(super::calls(&calls)[0], "deduct order:order-1:3 245.1612");
    assert_eq!(closing.take().settlement.len(), 3);
}

#[tokio::test]
async fn a_declined_settlement_fails_the_cancel_and_changes_nothing() {
    let calls = Calls::default();
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, declines, works)
        .provisioning_into(&calls, works, works)
        .at(utc(NOON_JAN_11))
        .holding(postpaid_order())
        .serving_plans(vec![postpaid_plan()]);
    mocks.orders.expect_close().never();
    mocks.notifier.expect_notify().never();
    let error = cancel(mocks).await.unwrap_err();
    assert!(matches!(error, Error::PaymentDeclined(_)), "{error:?}");
    assert_eq!(super::calls(&calls), ["deduct order:order-1:1 33.8709"]);
}

#[tokio::test]
async fn a_failed_close_after_the_settlement_keeps_it_for_the_retry_of_the_same_row() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .provisioning_into(&calls, works, works)
        .cancelling(postpaid_order(), &calls, &closing, || {
            Err(Error::Conflict("last consume id moved".into()))
        });
    let error = cancel(mocks).await.unwrap_err();
    assert_eq!(error, Error::Conflict("last consume id moved".into()));
    assert_eq!(
        super::calls(&calls),
        ["deduct order:order-1:1 33.8709", "close order-1",]
    );
}

#[tokio::test]
async fn a_cancel_in_the_ledger_releases_the_resource_and_delivers_nothing() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let mocks = Mocks::new()
        .provisioning_into(&calls, works, works)
        .cancelling(consuming_order(), &calls, &closing, closes)
        .delivering(0)
        .notifying();
    cancel(mocks).await.unwrap();
    let closing = closing.take();
    assert_eq!((closing.keeper, closing.credit), (MoneyKeeper::Store, None));
    assert_eq!(super::calls(&calls), ["close order-1", "release order-1"]);
}

#[tokio::test]
async fn a_release_that_fails_does_not_fail_the_cancel_and_is_queued_for_retry() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let mocks = Mocks::new()
        .provisioning_into(&calls, works, times_out)
        .queueing_releases_into(&calls)
        .cancelling(consuming_order(), &calls, &closing, closes)
        .notifying();
    let outcome = cancel(mocks).await.unwrap();
    assert_eq!(outcome.order.status, OrderStatus::Ended);
    assert_eq!(
        super::calls(&calls),
        [
            "close order-1",
            "release order-1",
            "enqueue order-1 2017-01-11T12:00:00+00:00"
        ]
    );
}

#[tokio::test]
async fn a_release_that_cannot_be_queued_either_does_not_fail_the_cancel() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let mut releases = MockReleaseQueue::new();
    releases
        .expect_enqueue()
        .times(1)
        .returning(|_, _| Err(Error::Unavailable("store down".into())));
    let mut mocks = Mocks::new()
        .provisioning_into(&calls, works, refuses)
        .cancelling(consuming_order(), &calls, &closing, closes)
        .notifying();
    mocks.releases = Some(releases);
    let outcome = cancel(mocks).await.unwrap();
    assert_eq!(outcome.order.status, OrderStatus::Ended);
}

#[tokio::test]
async fn an_order_that_provides_nothing_releases_nothing() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let billed = Order {
        plan_type: PlanType::parse("support").unwrap(),
        ..consuming_order()
    };
    let mocks = Mocks::new()
        .provisioning_into(&calls, works, works)
        .cancelling(billed, &calls, &closing, closes)
        .notifying();
    cancel(mocks).await.unwrap();
    assert_eq!(super::calls(&calls), ["close order-1"]);
}

#[tokio::test]
async fn a_failed_delivery_does_not_fail_the_cancel() {
    let (calls, closing) = (Calls::default(), Captured::new());
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .cancelling(consuming_order(), &calls, &closing, closes)
        .notifying();
    let mut credits = MockCreditQueue::new();
    credits
        .expect_due()
        .times(1)
        .returning(|_, _| Err(Error::Unavailable("lost connection".into())));
    mocks.credits = Some(credits);
    let outcome = cancel(mocks).await.unwrap();
    assert_eq!(outcome.refunded, Money::from_minor(JANUARY_REFUND));
}
