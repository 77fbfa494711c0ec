use super::*;
use crate::error::Error;
use crate::ports::OrderClosing;
use crate::usecases::{CancelOrderRequest, CancelOutcome, OrderAction};

fn february_row() -> Consumption {
    charge_row(
        2,
        "100",
        "2017-02-01T00:00:00Z",
        "2017-03-01T00:00:00Z",
        ConsumptionKind::Renew,
    )
}

/// What the repository answers to a closing: the order ended at the closing's time.
fn ended(closing: &OrderClosing) -> Order {
    Order {
        status: OrderStatus::Ended,
        end_time: Some(closing.end_time),
        ..consuming_order()
    }
}

impl Mocks {
    /// The order's consumption rows are `rows`.
    fn with_rows(mut self, rows: Vec<Consumption>) -> Self {
        self.usages
            .expect_for_order()
            .withf(|id| *id == order_id())
            .times(1)
            .returning(move |_| Ok(rows.clone()));
        self
    }

    /// The repository accepts one closing and records it.
    fn closing_into(mut self, captured: &Captured<OrderClosing>) -> Self {
        let slot = captured.handle();
        self.orders
            .expect_close()
            .times(1)
            .returning(move |closing| {
                let order = ended(&closing);
                slot.put(closing);
                Ok(order)
            });
        self
    }

    fn never_closes(mut self) -> Self {
        self.orders.expect_close().never();
        self
    }
}

/// Cancels `order` at `now` with `rows` as its history; returns the outcome and the closing.
async fn cancel(order: Order, rows: Vec<Consumption>, now: &str) -> (CancelOutcome, OrderClosing) {
    let closing = Captured::new();
    let use_cases = Mocks::new()
        .at(utc(now))
        .holding(order)
        .with_rows(rows)
        .closing_into(&closing)
        .notifying()
        .build();
    let outcome = use_cases
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap();
    (outcome, closing.take())
}

#[tokio::test]
async fn cancel_refunds_the_unused_part_of_the_paid_cycle_rounded_up() {
    let (outcome, _) = cancel(consuming_order(), vec![january_row()], NOON_JAN_11).await;
    assert_eq!(outcome.refunded, Money::from_minor(JANUARY_REFUND));
}

#[tokio::test]
async fn cancel_writes_an_end_row_after_the_last_one_worth_minus_the_refund() {
    let (_, closing) = cancel(consuming_order(), vec![january_row()], NOON_JAN_11).await;
    assert_eq!(
        closing.end_row,
        Consumption {
            order_id: order_id(),
            consume_id: 2,
            project: project(),
            region: region(),
            plan_id: prepaid_plan().id,
            amount: Money::from_minor(-JANUARY_REFUND),
            time: utc(NOON_JAN_11),
            covered_until: utc("2017-02-01T00:00:00Z"),
            kind: ConsumptionKind::End,
        }
    );
}

#[tokio::test]
async fn cancel_closes_the_order_now_guarded_by_the_last_consume_id_it_read() {
    let (_, closing) = cancel(consuming_order(), vec![january_row()], NOON_JAN_11).await;
    assert_eq!(closing.order_id, order_id());
    assert_eq!(closing.expected_last_consume_id, 1);
    assert_eq!(closing.end_time, utc(NOON_JAN_11));
}

#[tokio::test]
async fn cancel_returns_the_order_as_the_repository_ended_it() {
    let (outcome, closing) = cancel(consuming_order(), vec![january_row()], NOON_JAN_11).await;
    assert_eq!(outcome.order, ended(&closing));
    assert_eq!(outcome.order.status, OrderStatus::Ended);
    assert_eq!(outcome.order.end_time, Some(utc(NOON_JAN_11)));
}

#[tokio::test]
async fn cancel_refunds_a_period_paid_in_advance_in_full() {
    let renewed = Order {
        last_consume_id: 2,
        deadline_time: utc("2017-03-01T00:00:00Z"),
        ..consuming_order()
    };
    let rows = vec![january_row(), february_row()];
    let (outcome, closing) = cancel(renewed, rows, NOON_JAN_11).await;
    assert_eq!(
        outcome.refunded,
        Money::from_minor(JANUARY_REFUND + 1_000_000)
    );
    assert_eq!(closing.end_row.consume_id, 3);
    assert_eq!(closing.expected_last_consume_id, 2);
    assert_eq!(closing.end_row.covered_until, utc("2017-03-01T00:00:00Z"));
}

#[tokio::test]
async fn cancel_after_the_paid_period_refunds_nothing() {
    let overdue = Order {
        status: OrderStatus::Ending,
        ..consuming_order()
    };
    let (outcome, closing) = cancel(overdue, vec![january_row()], "2017-02-05T00:00:00Z").await;
    assert_eq!(outcome.refunded, Money::ZERO);
    assert_eq!(closing.end_row.amount, Money::ZERO);
}

#[tokio::test]
async fn cancel_sends_order_ended_with_what_went_back() {
    let sent = Sent::default();
    let use_cases = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(consuming_order())
        .with_rows(vec![january_row()])
        .closing_into(&Captured::new())
        .notifying_into(&sent)
        .build();
    use_cases
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap();
    let events = sent.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, NotificationKind::OrderEnded);
    assert_eq!(events[0].order_id, order_id());
    assert_eq!(events[0].time, utc(NOON_JAN_11));
    assert_eq!(events[0].amount, Some(Money::from_minor(-JANUARY_REFUND)));
}

/// The catalog's postpaid plan of [`postpaid_order`]: 100.00 a month.
fn postpaid_plan() -> Plan {
    Plan {
        mode: ChargingMode::Postpaid,
        price: money("100"),
        ..prepaid_plan()
    }
}

/// A postpaid order started Jan 1 2017 with nothing billed (its first cycle is January).
fn postpaid_order() -> Order {
    Order {
        mode: ChargingMode::Postpaid,
        last_consume_id: 0,
        ..consuming_order()
    }
}

/// Cancels [`postpaid_order`] at `now` with the catalog serving `plans`; rows are never read.
async fn cancel_postpaid(
    plans: Vec<Plan>,
    now: &str,
) -> (
    CancelOutcome,
    OrderClosing,
    Vec<crate::notification::Notification>,
) {
    let closing = Captured::new();
    let sent = Sent::default();
    let mut mocks = Mocks::new()
        .at(utc(now))
        .holding(postpaid_order())
        .serving_plans(plans)
        .closing_into(&closing)
        .notifying_into(&sent);
    mocks.usages.expect_for_order().never();
    let outcome = mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap();
    let events = sent.lock().unwrap().clone();
    (outcome, closing.take(), events)
}

#[tokio::test]
async fn cancel_of_a_postpaid_order_mid_cycle_settles_the_used_share_rounded_down() {
    let (outcome, closing, events) = cancel_postpaid(vec![postpaid_plan()], NOON_JAN_11).await;
    // 100.00 × 10.5 / 31 days = 33.87096… → 33.8709.
    let used = Money::from_minor(338_709);
    assert_eq!((outcome.settled, outcome.refunded), (used, Money::ZERO));
    assert_eq!(closing.settlement.len(), 1);
    let row = &closing.settlement[0];
    assert_eq!(
        (
            row.consume_id,
            row.amount,
            row.time,
            row.covered_until,
            row.kind
        ),
        (
            1,
            used,
            utc("2017-01-01T00:00:00Z"),
            utc(NOON_JAN_11),
            ConsumptionKind::Renew
        )
    );
    assert_eq!(
        (closing.end_row.consume_id, closing.end_row.amount),
        (2, Money::ZERO)
    );
    assert_eq!(closing.expected_last_consume_id, 0);
    assert_eq!(events[0].amount, Some(used));
}

#[tokio::test]
async fn cancel_of_a_postpaid_order_settles_every_unbilled_cycle_then_the_running_one() {
    let (outcome, closing, _) =
        cancel_postpaid(vec![postpaid_plan()], "2017-03-15T00:00:00Z").await;
    let amounts: Vec<_> = closing
        .settlement
        .iter()
        .map(|row| (row.consume_id, row.amount))
        .collect();
    // January and February in full, 14 of March's 31 days: 45.1612.
    assert_eq!(
        amounts,
        [
            (1, money("100")),
            (2, money("100")),
            (3, Money::from_minor(451_612))
        ]
    );
    assert_eq!(outcome.settled, Money::from_minor(2_451_612));
    assert_eq!(closing.end_row.consume_id, 4);
}

#[tokio::test]
async fn cancel_of_a_postpaid_order_whose_plan_was_withdrawn_settles_nothing() {
    let (outcome, closing, events) = cancel_postpaid(vec![], NOON_JAN_11).await;
    assert_eq!(outcome.settled, Money::ZERO);
    assert!(closing.settlement.is_empty());
    assert_eq!(
        (closing.end_row.consume_id, closing.end_row.amount),
        (1, Money::ZERO)
    );
    assert_eq!(events[0].amount, None);
}

#[tokio::test]
async fn postpaid_settlement_the_balance_cannot_cover_fails_and_notifies_nobody() {
    let error = Error::InsufficientBalance {
        needed: Money::from_minor(338_709),
        available: money("1"),
    };
    let refusal = error.clone();
    let mut mocks = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(postpaid_order())
        .serving_plans(vec![postpaid_plan()]);
    mocks
        .orders
        .expect_close()
        .times(1)
        .returning(move |_| Err(refusal.clone()));
    mocks.notifier.expect_notify().never();
    let got = mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap_err();
    assert_eq!(got, error);
}

#[tokio::test]
async fn postpaid_cancel_with_the_catalog_down_fails_and_closes_nothing() {
    let mut mocks = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(postpaid_order())
        .never_closes();
    mocks
        .plans
        .expect_get()
        .returning(|_| Err(Error::PlanCatalogUnavailable("timeout".into())));
    let error = mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap_err();
    assert_eq!(error, Error::PlanCatalogUnavailable("timeout".into()));
}

#[tokio::test]
async fn cancel_without_refund_policy_refunds_nothing_and_reads_no_rows() {
    let closing = Captured::new();
    let mut mocks = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(consuming_order())
        .closing_into(&closing)
        .notifying();
    mocks.usages.expect_for_order().never();
    let use_cases = mocks.build_with(BillingPolicy {
        refund_on_cancel: false,
        ..BillingPolicy::default()
    });
    let outcome = use_cases
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap();
    assert_eq!(outcome.refunded, Money::ZERO);
    let closing = closing.take();
    assert_eq!(closing.end_row.amount, Money::ZERO);
    assert_eq!(closing.end_row.kind, ConsumptionKind::End);
}

#[tokio::test]
async fn cancel_of_an_ended_order_is_a_conflict_and_closes_nothing() {
    let already = Order {
        status: OrderStatus::Ended,
        end_time: Some(utc("2017-01-05T00:00:00Z")),
        ..consuming_order()
    };
    let mut mocks = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(already)
        .never_closes();
    mocks.usages.expect_for_order().never();
    let error = mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
}

#[tokio::test]
async fn conflict_from_the_repository_propagates() {
    let mut mocks = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(consuming_order())
        .with_rows(vec![january_row()]);
    mocks
        .orders
        .expect_close()
        .times(1)
        .returning(|_| Err(Error::Conflict("last consume id moved".into())));
    let error = mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap_err();
    assert_eq!(error, Error::Conflict("last consume id moved".into()));
}

#[tokio::test]
async fn failure_reading_the_rows_propagates_and_closes_nothing() {
    let mut mocks = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(consuming_order())
        .never_closes();
    mocks
        .usages
        .expect_for_order()
        .returning(|_| Err(Error::Unavailable("lost connection".into())));
    let error = mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
}

#[tokio::test]
async fn cancel_of_an_order_of_another_project_is_not_found() {
    let foreign = Order {
        project: other_project(),
        ..consuming_order()
    };
    let mocks = Mocks::new()
        .at(utc(NOON_JAN_11))
        .holding(foreign)
        .never_closes();
    let error = mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn cancel_of_a_missing_order_is_not_found() {
    let mut mocks = Mocks::new().at(utc(NOON_JAN_11)).never_closes();
    mocks.orders.expect_find().returning(|_| Ok(None));
    let error = mocks
        .build()
        .cancel_order(&member(), cancel_request())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn non_member_is_denied_without_reading_the_order() {
    let mut mocks = Mocks::new().never_closes();
    mocks.orders.expect_find().never();
    let request = CancelOrderRequest {
        project: other_project(),
        order_id: order_id(),
    };
    let error = mocks
        .build()
        .cancel_order(&member(), request)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PermissionDenied(_)), "{error:?}");
}

#[tokio::test]
async fn admin_cancels_without_a_membership_check() {
    let mut mocks = Mocks::default();
    mocks.identity.expect_is_member().never();
    let closing = Captured::new();
    let use_cases = mocks
        .at(utc(NOON_JAN_11))
        .holding(consuming_order())
        .with_rows(vec![january_row()])
        .closing_into(&closing)
        .notifying()
        .build();
    let outcome = use_cases
        .cancel_order(&admin(), cancel_request())
        .await
        .unwrap();
    assert_eq!(outcome.refunded, Money::from_minor(JANUARY_REFUND));
}

#[test]
fn order_action_parses_only_cancel() {
    assert_eq!(OrderAction::parse("cancel"), Ok(OrderAction::Cancel));
    for text in ["", "Cancel", "CANCEL", " cancel", "foo", "renew"] {
        assert!(
            matches!(OrderAction::parse(text), Err(Error::InvalidParameter(_))),
            "{text:?}"
        );
    }
}
