use super::*;
use crate::error::Error;
use crate::ids::ResourceName;
use crate::ports::OrderOpening;
use crate::usecases::{CreateOrderOutcome, CreateOrderRequest, Quote};

/// The member's order of one [`prepaid_plan`].
fn request() -> CreateOrderRequest {
    create_request(&prepaid_plan())
}

fn resource_name() -> ResourceName {
    ResourceName::parse("data-1").unwrap()
}

impl Mocks {
    /// The catalog serves `plan` (and only it).
    fn serving(mut self, plan: Plan) -> Self {
        self.plans
            .expect_get()
            .returning(move |id| Ok((*id == plan.id).then(|| plan.clone())));
        self
    }

    /// The id generator hands out [`order_id`].
    fn with_order_id(mut self) -> Self {
        self.ids.expect_order_id().return_const(order_id());
        self
    }

    /// The repository accepts one opening and records it.
    fn opening_into(mut self, captured: &Captured<OrderOpening>) -> Self {
        let slot = captured.handle();
        self.orders
            .expect_open()
            .times(1)
            .returning(move |opening| {
                slot.put(opening);
                Ok(())
            });
        self
    }

    /// The repository refuses the opening with `error`.
    fn opening_fails(mut self, error: Error) -> Self {
        self.orders
            .expect_open()
            .times(1)
            .returning(move |_| Err(error.clone()));
        self
    }

    fn never_opens(mut self) -> Self {
        self.orders.expect_open().never();
        self.ids.expect_order_id().never();
        self
    }
}

fn created(outcome: CreateOrderOutcome) -> (Order, Money) {
    match outcome {
        CreateOrderOutcome::Created {
            order,
            charged,
            charge,
            refund,
            settlement,
            replaced: None,
        } => {
            assert_eq!(
                (charge, refund, settlement),
                (charged, Money::ZERO, Money::ZERO)
            );
            (order, charged)
        }
        CreateOrderOutcome::Created { replaced, .. } => {
            panic!("a plain create replaced {replaced:?}")
        }
        CreateOrderOutcome::Quoted(quote) => panic!("expected a created order, got {quote:?}"),
    }
}

/// Creates `request` for a member at `now` with the catalog serving `plan`; returns the
/// outcome and what the repository was asked to write.
async fn create(
    plan: Plan,
    now: &str,
    request: CreateOrderRequest,
) -> (Order, Money, OrderOpening) {
    let opening = Captured::new();
    let use_cases = Mocks::new()
        .at(utc(now))
        .serving(plan)
        .with_order_id()
        .opening_into(&opening)
        .notifying()
        .build();
    let (order, charged) = created(use_cases.create_order(&member(), request).await.unwrap());
    (order, charged, opening.take())
}

/// Creates `request` and returns the error; nothing may be written.
async fn refused(mocks: Mocks, principal: Principal, request: CreateOrderRequest) -> Error {
    let use_cases = mocks.at(utc(JAN_31)).never_opens().build();
    use_cases
        .create_order(&principal, request)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn prepaid_order_is_charged_its_first_cycle_and_starts_consuming() {
    let (order, charged, opening) = create(prepaid_plan(), JAN_31, request()).await;
    assert_eq!(charged, money("99"));
    assert_eq!(order.status, OrderStatus::Consuming);
    assert_eq!(order.last_consume_id, 1);
    assert_eq!(order.start_time, utc(JAN_31));
    assert_eq!(order.end_time, None);
    assert_eq!(order.creator, member().user);
    assert_eq!(order.id, order_id());
    assert_eq!(opening.order, order);
}

#[tokio::test]
async fn prepaid_order_started_jan_31_is_paid_until_feb_28() {
    let (order, _, _) = create(prepaid_plan(), JAN_31, request()).await;
    assert_eq!(order.deadline_time, utc("2017-02-28T10:00:00Z"));
}

#[tokio::test]
async fn prepaid_order_started_jan_31_in_a_leap_year_is_paid_until_feb_29() {
    let (order, _, _) = create(prepaid_plan(), "2016-01-31T10:00:00Z", request()).await;
    assert_eq!(order.deadline_time, utc("2016-02-29T10:00:00Z"));
}

#[tokio::test]
async fn prepaid_order_writes_row_one_of_kind_new_covering_start_to_deadline() {
    let (order, _, opening) = create(prepaid_plan(), JAN_31, request()).await;
    assert_eq!(
        opening.first_charge,
        Some(Consumption {
            order_id: order.id,
            consume_id: 1,
            project: project(),
            region: region(),
            plan_id: prepaid_plan().id,
            amount: money("99"),
            time: utc(JAN_31),
            covered_until: utc("2017-02-28T10:00:00Z"),
            kind: ConsumptionKind::New,
        })
    );
}

#[tokio::test]
async fn yearly_plan_is_paid_one_natural_year_ahead() {
    let plan = Plan {
        cycle: Cycle::Year,
        ..prepaid_plan()
    };
    let (order, _, opening) = create(plan, "2016-02-29T10:00:00Z", request()).await;
    assert_eq!(order.deadline_time, utc("2017-02-28T10:00:00Z"));
    assert_eq!(
        opening.first_charge.map(|row| row.covered_until),
        Some(utc("2017-02-28T10:00:00Z"))
    );
}

#[tokio::test]
async fn deadline_is_taken_in_the_business_time_zone() {
    // 16:30Z on Jan 30 is Jan 31 00:30 in Shanghai: paid until Feb 28 00:30 there.
    let use_cases = Mocks::new()
        .at(utc("2017-01-30T16:30:00Z"))
        .serving(prepaid_plan())
        .with_order_id()
        .opening_into(&Captured::new())
        .notifying()
        .build_with(BillingPolicy {
            calendar: crate::cycle::BusinessCalendar::from_name("Asia/Shanghai").unwrap(),
            ..BillingPolicy::default()
        });
    let (order, _) = created(use_cases.create_order(&member(), request()).await.unwrap());
    assert_eq!(order.deadline_time, utc("2017-02-27T16:30:00Z"));
}

#[tokio::test]
async fn quantities_multiply_the_price() {
    let request = CreateOrderRequest {
        quantities: Quantity::new(3).unwrap(),
        ..request()
    };
    let (order, charged, opening) = create(prepaid_plan(), JAN_31, request).await;
    assert_eq!(charged, money("297"));
    assert_eq!(order.quantities.get(), 3);
    assert_eq!(
        opening.first_charge.map(|row| row.amount),
        Some(money("297"))
    );
}

#[tokio::test]
async fn postpaid_order_is_not_charged_and_has_no_row() {
    let plan = Plan {
        mode: ChargingMode::Postpaid,
        ..prepaid_plan()
    };
    let (order, charged, opening) = create(plan, JAN_31, request()).await;
    assert_eq!(charged, Money::ZERO);
    assert_eq!(opening.first_charge, None);
    assert_eq!(order.last_consume_id, 0);
    assert_eq!(order.status, OrderStatus::Consuming);
    assert_eq!(order.deadline_time, utc("2017-02-28T10:00:00Z"));
}

#[tokio::test]
async fn free_prepaid_order_still_records_row_one_of_zero() {
    let plan = Plan {
        price: Money::ZERO,
        ..prepaid_plan()
    };
    let (order, charged, opening) = create(plan, JAN_31, request()).await;
    assert_eq!(charged, Money::ZERO);
    assert_eq!(order.last_consume_id, 1);
    let row = opening.first_charge.unwrap();
    assert_eq!((row.consume_id, row.amount), (1, Money::ZERO));
}

#[tokio::test]
async fn resource_name_is_kept_on_the_order() {
    let request = CreateOrderRequest {
        plan_id: volume_plan().id,
        resource_name: Some(resource_name()),
        ..request()
    };
    let (order, _, opening) = create(volume_plan(), JAN_31, request).await;
    assert_eq!(order.resource_name, Some(resource_name()));
    assert_eq!(opening.order.resource_name, Some(resource_name()));
}

#[tokio::test]
async fn region_matching_the_plan_is_accepted() {
    let request = CreateOrderRequest {
        region: Some(region()),
        ..request()
    };
    let (order, _, _) = create(prepaid_plan(), JAN_31, request).await;
    assert_eq!(order.region, region());
}

#[tokio::test]
async fn order_takes_its_region_plan_and_type_from_the_catalog() {
    let (order, _, _) = create(
        volume_plan(),
        JAN_31,
        CreateOrderRequest {
            plan_id: volume_plan().id,
            resource_name: Some(resource_name()),
            ..request()
        },
    )
    .await;
    assert_eq!(
        (order.region, order.plan_id, order.plan_type),
        (region(), volume_plan().id, volume_plan().plan_type)
    );
}

#[tokio::test]
async fn dry_run_quotes_the_charge_and_writes_nothing() {
    let use_cases = Mocks::new()
        .at(utc(JAN_31))
        .serving(prepaid_plan())
        .never_opens()
        .build();
    let request = CreateOrderRequest {
        dry_run: true,
        quantities: Quantity::new(2).unwrap(),
        ..request()
    };
    let outcome = use_cases.create_order(&member(), request).await.unwrap();
    assert_eq!(
        outcome,
        CreateOrderOutcome::Quoted(Quote {
            money: money("198"),
            charge: money("198"),
            refund: Money::ZERO,
            settlement: Money::ZERO,
            replaces: None,
            project: project(),
            plan: prepaid_plan(),
            quantities: Quantity::new(2).unwrap(),
            start_time: utc(JAN_31),
            deadline_time: utc("2017-02-28T10:00:00Z"),
        })
    );
}

#[tokio::test]
async fn dry_run_of_a_postpaid_plan_quotes_zero() {
    let plan = Plan {
        mode: ChargingMode::Postpaid,
        ..prepaid_plan()
    };
    let use_cases = Mocks::new()
        .at(utc(JAN_31))
        .serving(plan)
        .never_opens()
        .build();
    let request = CreateOrderRequest {
        dry_run: true,
        ..request()
    };
    match use_cases.create_order(&member(), request).await.unwrap() {
        CreateOrderOutcome::Quoted(quote) => assert_eq!(quote.money, Money::ZERO),
        other => panic!("expected a quote, got {other:?}"),
    }
}

#[tokio::test]
async fn non_member_is_denied_before_the_plan_is_looked_up() {
    let mut mocks = Mocks::new();
    mocks.plans.expect_get().never();
    let request = CreateOrderRequest {
        project: other_project(),
        ..request()
    };
    let error = refused(mocks, member(), request).await;
    assert!(matches!(error, Error::PermissionDenied(_)), "{error:?}");
}

#[tokio::test]
async fn admin_creates_in_any_project_without_a_membership_check() {
    let mut mocks = Mocks::default();
    mocks.identity.expect_is_member().never();
    let opening = Captured::new();
    let use_cases = mocks
        .at(utc(JAN_31))
        .serving(prepaid_plan())
        .with_order_id()
        .opening_into(&opening)
        .notifying()
        .build();
    let request = CreateOrderRequest {
        project: other_project(),
        ..request()
    };
    let (order, _) = created(use_cases.create_order(&admin(), request).await.unwrap());
    assert_eq!(order.project, other_project());
    assert_eq!(order.creator, admin().user);
}

#[tokio::test]
async fn membership_lookup_failure_propagates() {
    let mut mocks = Mocks::default();
    mocks
        .identity
        .expect_is_member()
        .returning(|_, _| Err(Error::Unavailable("identity down".into())));
    mocks.plans.expect_get().never();
    let error = refused(mocks, member(), request()).await;
    assert_eq!(error, Error::Unavailable("identity down".into()));
}

#[tokio::test]
async fn unknown_plan_is_an_invalid_parameter() {
    let mocks = Mocks::new().serving(prepaid_plan());
    let request = CreateOrderRequest {
        plan_id: PlanId::parse("no-such-plan").unwrap(),
        ..request()
    };
    let error = refused(mocks, member(), request).await;
    assert!(
        matches!(&error, Error::InvalidParameter(m) if m.contains("no-such-plan")),
        "{error:?}"
    );
}

#[tokio::test]
async fn plan_of_another_region_is_an_invalid_parameter() {
    let mocks = Mocks::new().serving(prepaid_plan());
    let request = CreateOrderRequest {
        region: Some(Region::parse("cn-south-1").unwrap()),
        ..request()
    };
    let error = refused(mocks, member(), request).await;
    assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
}

#[tokio::test]
async fn plan_that_requires_a_resource_name_rejects_an_order_without_one() {
    let mocks = Mocks::new().serving(volume_plan());
    let request = CreateOrderRequest {
        plan_id: volume_plan().id,
        ..request()
    };
    let error = refused(mocks, member(), request).await;
    assert!(
        matches!(&error, Error::InvalidParameter(m) if m.contains("resourceName")),
        "{error:?}"
    );
}

#[tokio::test]
async fn plan_without_resource_names_rejects_an_order_naming_one() {
    let mocks = Mocks::new().serving(prepaid_plan());
    let request = CreateOrderRequest {
        resource_name: Some(resource_name()),
        ..request()
    };
    let error = refused(mocks, member(), request).await;
    assert!(
        matches!(&error, Error::InvalidParameter(m) if m.contains("resourceName")),
        "{error:?}"
    );
}

#[tokio::test]
async fn price_times_quantities_overflow_is_an_invalid_parameter() {
    let plan = Plan {
        price: Money::MAX,
        ..prepaid_plan()
    };
    let request = CreateOrderRequest {
        quantities: Quantity::new(2).unwrap(),
        ..request()
    };
    let error = refused(Mocks::new().serving(plan), member(), request).await;
    assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
}

#[tokio::test]
async fn postpaid_price_times_quantities_overflow_is_an_invalid_parameter() {
    // Nothing is charged up front, but no later settlement could ever be computed.
    let plan = Plan {
        price: Money::MAX,
        mode: ChargingMode::Postpaid,
        ..prepaid_plan()
    };
    let request = CreateOrderRequest {
        quantities: Quantity::new(2).unwrap(),
        ..request()
    };
    let error = refused(Mocks::new().serving(plan), member(), request).await;
    assert!(matches!(error, Error::InvalidParameter(_)), "{error:?}");
}

#[tokio::test]
async fn plan_catalog_unavailable_propagates() {
    let mut mocks = Mocks::new();
    mocks
        .plans
        .expect_get()
        .returning(|_| Err(Error::PlanCatalogUnavailable("timeout".into())));
    let error = refused(mocks, member(), request()).await;
    assert_eq!(error, Error::PlanCatalogUnavailable("timeout".into()));
}

async fn refused_by_the_repository(error: Error) -> Error {
    let use_cases = Mocks::new()
        .at(utc(JAN_31))
        .serving(prepaid_plan())
        .with_order_id()
        .opening_fails(error)
        .build();
    use_cases
        .create_order(&member(), request())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn insufficient_balance_from_the_repository_propagates() {
    let error = Error::InsufficientBalance {
        needed: money("99"),
        available: money("10"),
    };
    assert_eq!(refused_by_the_repository(error.clone()).await, error);
}

#[tokio::test]
async fn duplicate_resource_name_from_the_repository_propagates() {
    let error = Error::DuplicateResourceName("data-1".into());
    assert_eq!(refused_by_the_repository(error.clone()).await, error);
}

#[tokio::test]
async fn store_unavailable_while_opening_propagates() {
    let error = Error::Unavailable("pool exhausted".into());
    assert_eq!(refused_by_the_repository(error.clone()).await, error);
}

#[tokio::test]
async fn create_sends_order_created_with_the_charge_after_opening() {
    let sent = Sent::default();
    let use_cases = Mocks::new()
        .at(utc(JAN_31))
        .serving(prepaid_plan())
        .with_order_id()
        .opening_into(&Captured::new())
        .notifying_into(&sent)
        .build();
    use_cases.create_order(&member(), request()).await.unwrap();
    let events = sent.lock().unwrap().clone();
    assert_eq!(
        sent_events(&sent),
        [(NotificationKind::OrderCreated, "order-1".to_string())]
    );
    assert_eq!(events[0].amount, Some(money("99")));
    assert_eq!(events[0].time, utc(JAN_31));
}

#[tokio::test]
async fn a_failed_create_notifies_nobody() {
    let mut mocks = Mocks::new()
        .at(utc(JAN_31))
        .serving(prepaid_plan())
        .with_order_id()
        .opening_fails(Error::Unavailable("pool exhausted".into()));
    mocks.notifier.expect_notify().never();
    let error = mocks
        .build()
        .create_order(&member(), request())
        .await
        .unwrap_err();
    assert_eq!(error, Error::Unavailable("pool exhausted".into()));
}

#[tokio::test]
async fn a_notifier_failure_does_not_undo_a_created_order() {
    let mut mocks = Mocks::new()
        .at(utc(JAN_31))
        .serving(prepaid_plan())
        .with_order_id()
        .opening_into(&Captured::new());
    mocks
        .notifier
        .expect_notify()
        .times(1)
        .returning(|_| Err(Error::Unavailable("notification table locked".into())));
    let outcome = mocks.build().create_order(&member(), request()).await;
    assert!(
        matches!(outcome, Ok(CreateOrderOutcome::Created { .. })),
        "{outcome:?}"
    );
}
