//! What a change must be to be sealed: the store trusts every sealed change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::consumption::ConsumptionKind;
use crate::payment::PaymentDirection;
use crate::testing::{money, row_of, utc, OrderBuilder};

fn now() -> DateTime<Utc> {
    utc("2017-01-01T00:00:00Z")
}

/// The default order, fresh: nothing written yet.
fn fresh() -> Order {
    let mut order = OrderBuilder::default().build();
    order.last_consume_id = 0;
    order.payment_seq = 0;
    order.version = 0;
    order
}

fn row(order: &Order, consume_id: u32, amount: &str) -> Consumption {
    row_of(order, consume_id, amount, ConsumptionKind::New)
}

/// A new order charged 100 on the ledger: order, row, settled payment, debit.
fn opened() -> (ChangeBuilder, Order) {
    let mut order = fresh();
    order.last_consume_id = 1;
    order.payment_seq = 1;
    let first = row(&order, 1, "100");
    let payment = Payment::of_row(&order, 1, &first, false, now()).unwrap();
    let mut change = ChangeBuilder::new();
    change
        .insert(order.clone())
        .row(first)
        .payment(payment)
        .ledger(LedgerMove::covered(order.project.clone(), money("100"), Money::ZERO).unwrap());
    (change, order)
}

fn refused(change: ChangeBuilder) -> String {
    match change.seal() {
        Err(Error::Internal(why)) => why,
        other => panic!("sealed: {other:?}"),
    }
}

#[test]
fn a_consistent_opening_seals() {
    let (change, order) = opened();
    let change = change.seal().unwrap();
    assert_eq!(change.order(&order.id), Some(&order));
    assert_eq!(
        change.ledger_totals(),
        BTreeMap::from([(order.project, money("100"))])
    );
}

#[test]
fn an_update_is_guarded_by_the_version_it_was_decided_from_and_bumps_it() {
    let before = OrderBuilder::default().build();
    let mut change = ChangeBuilder::new();
    let mut after = before.clone();
    after.renew_retries = 1;
    change.update(&before, after).unwrap();
    let change = change.seal().unwrap();
    let [OrderWrite::Update {
        expected_version,
        order,
        ..
    }] = change.orders()
    else {
        panic!("{:?}", change.orders());
    };
    assert_eq!((*expected_version, order.version), (1, 2));
}

#[test]
fn an_order_cannot_be_updated_into_another() {
    let before = OrderBuilder::default().build();
    let other = OrderBuilder::default().id("other").build();
    assert!(matches!(
        ChangeBuilder::new().update(&before, other),
        Err(Error::Internal(_))
    ));
}

#[test]
fn rows_must_continue_the_orders_numbering() {
    let (mut change, order) = opened();
    change.row(row(&order, 3, "0"));
    assert!(refused(change).contains("should be #2"));
}

#[test]
fn the_order_must_name_its_last_row() {
    let mut order = fresh();
    order.last_consume_id = 2;
    let mut change = ChangeBuilder::new();
    change.insert(order.clone()).row(row(&order, 1, "0"));
    assert!(refused(change).contains("ends at row #2"));
}

#[test]
fn a_row_of_an_order_the_change_does_not_write_is_refused() {
    let (mut change, _) = opened();
    let stranger = OrderBuilder::default().id("stranger").build();
    change.row(row(&stranger, 2, "0"));
    assert!(refused(change).contains("stranger"));
}

#[test]
fn the_ledger_must_move_by_exactly_what_its_payments_say() {
    let (mut change, order) = opened();
    change.ledger(LedgerMove::unguarded(order.project, money("0.0001")));
    assert!(refused(change).contains("ledger"));
}

#[test]
fn a_ledger_payment_without_its_movement_is_refused() {
    let mut order = fresh();
    order.last_consume_id = 1;
    order.payment_seq = 1;
    let first = row(&order, 1, "100");
    let mut change = ChangeBuilder::new();
    change
        .insert(order.clone())
        .row(first.clone())
        .payment(Payment::of_row(&order, 1, &first, false, now()).unwrap());
    assert!(refused(change).contains("ledger"));
}

#[test]
fn a_payment_must_pay_its_rows_amount() {
    let mut order = fresh();
    order.last_consume_id = 1;
    order.payment_seq = 1;
    let first = row(&order, 1, "100");
    let mut payment = Payment::of_row(&order, 1, &first, false, now()).unwrap();
    payment.amount = money("90");
    let mut change = ChangeBuilder::new();
    change
        .insert(order.clone())
        .row(first)
        .payment(payment)
        .ledger(LedgerMove::unguarded(order.project, money("90")));
    assert!(refused(change).contains("pays 90"));
}

#[test]
fn a_payment_numbered_past_its_orders_last_is_refused() {
    let (change, order) = opened();
    let mut change = change;
    let mut extra = Payment::of_row(&order, 1, &row(&order, 1, "100"), false, now()).unwrap();
    extra.id.seq = 7;
    change.payment(extra);
    assert!(refused(change).contains("numbered past"));
}

#[test]
fn a_deferred_payment_needs_its_order_to_wait_for_it_and_no_row_yet() {
    let mut order = fresh();
    order.terms.keeper = MoneyKeeper::ChargeService;
    order.status = crate::order::OrderStatus::Pending;
    order.payment_seq = 1;
    let first = row(&order, 1, "100");
    let payment = Payment::of_row(&order, 1, &first, true, now()).unwrap();
    assert_eq!(payment.state, PaymentState::Pending);
    let mut waiting = order.clone();
    waiting.awaiting_payment = Some(1);
    let mut change = ChangeBuilder::new();
    change.insert(waiting).payment(payment.clone());
    change.seal().unwrap();

    let mut change = ChangeBuilder::new();
    change.insert(order).payment(payment);
    assert!(refused(change).contains("does not wait"));
}

#[test]
fn the_local_ledger_never_leaves_a_payment_pending() {
    let mut order = fresh();
    order.last_consume_id = 1;
    order.payment_seq = 1;
    let first = row(&order, 1, "100");
    let mut payment = Payment::of_row(&order, 1, &first, false, now()).unwrap();
    payment.state = PaymentState::Pending;
    let mut change = ChangeBuilder::new();
    change
        .insert(order.clone())
        .row(first)
        .payment(payment)
        .ledger(LedgerMove::unguarded(order.project, money("100")));
    assert!(refused(change).contains("settles"));
}

#[test]
fn a_refund_row_is_paid_by_a_credit() {
    let mut order = OrderBuilder::default().build();
    let before = order.clone();
    order.last_consume_id = 2;
    order.payment_seq = 2;
    let end = Consumption {
        kind: ConsumptionKind::End,
        ..row(&order, 2, "-40")
    };
    let credit = Payment::of_row(&order, 2, &end, false, now()).unwrap();
    assert_eq!(
        (credit.direction, credit.amount),
        (PaymentDirection::Credit, money("40"))
    );
    let mut change = ChangeBuilder::new();
    change.update(&before, order.clone()).unwrap();
    change
        .row(end)
        .payment(credit)
        .ledger(LedgerMove::unguarded(order.project, money("-40")));
    change.seal().unwrap();
}

#[test]
fn a_row_of_zero_has_no_payment() {
    let order = fresh();
    let free = row(&order, 1, "0");
    assert!(matches!(
        Payment::of_row(&order, 1, &free, false, now()),
        Err(Error::Internal(_))
    ));
}

#[test]
fn an_empty_change_is_empty() {
    assert!(ChangeBuilder::new().seal().unwrap().is_empty());
    assert!(!opened().0.seal().unwrap().is_empty());
}

/// [`opened`] for an order of another id.
fn opened_as(id: &str) -> Change {
    let (_, order) = opened();
    let order = Order {
        id: OrderId::parse(id).unwrap(),
        ..order
    };
    let first = row(&order, 1, "100");
    let payment = Payment::of_row(&order, 1, &first, false, now()).unwrap();
    let mut change = ChangeBuilder::new();
    change
        .insert(order.clone())
        .row(first)
        .payment(payment)
        .ledger(LedgerMove::covered(order.project.clone(), money("100"), Money::ZERO).unwrap());
    change.seal().unwrap()
}

#[test]
fn changes_merge_into_one_holding_each_ones_parts_in_order() {
    let (a, b) = (opened_as("order-a"), opened_as("order-b"));
    let merged = Change::merge(&[a.clone(), b.clone()]).unwrap();
    let ids: Vec<&str> = merged
        .orders()
        .iter()
        .map(|w| w.order().id.as_str())
        .collect();
    assert_eq!(ids, ["order-a", "order-b"]);
    assert_eq!(merged.rows(), [a.rows(), b.rows()].concat());
    assert_eq!(merged.payments(), [a.payments(), b.payments()].concat());
    assert_eq!(merged.ledger(), [a.ledger(), b.ledger()].concat());
}

#[test]
fn changes_that_write_the_same_order_do_not_merge() {
    let a = opened_as("order-a");
    assert!(matches!(
        Change::merge(&[a.clone(), a]),
        Err(Error::Internal(why)) if why.contains("order-a")
    ));
}

#[test]
fn a_change_creates_resources_only_for_the_orders_it_opens() {
    let (mut change, order) = opened();
    let named = OrderBuilder::default().resource_name("data").build();
    let resource = crate::provisioning::Resource::of(&order).unwrap();
    change.create_resource(resource.clone());
    let sealed = change.seal().unwrap();
    assert_eq!(sealed.resources(), [resource]);

    let mut updating = ChangeBuilder::new();
    let mut after = named.clone();
    after.renew_retries = 1;
    updating.update(&named, after).unwrap();
    updating.create_resource(crate::provisioning::Resource::of(&named).unwrap());
    let why = refused(updating);
    assert!(why.contains("which it does not open"), "{why}");
}

#[test]
fn releases_of_resources_the_store_keeps_become_part_of_the_change_other_tasks_stay() {
    use crate::provisioning::{ResourceKind, TaskAction};
    let order = OrderBuilder::default().build();
    let volume = crate::provisioning::Resource::of(&order).unwrap();
    let mut quota = volume.clone();
    quota.kind = ResourceKind::Quota;
    let mut elsewhere = volume.clone();
    elsewhere.order_id = OrderId::parse("kept-elsewhere").unwrap();
    let mut change = ChangeBuilder::new();
    let mut after = order.clone();
    after.renew_retries = 1;
    change.update(&order, after).unwrap();
    change
        .task(NewTask::after_change(volume.clone(), now()))
        .task(NewTask::after_change(quota.clone(), now()))
        .task(NewTask::after_change(elsewhere.clone(), now()));

    let sealed = change
        .seal()
        .unwrap()
        .release_in_store(|resource| resource.order_id == order.id);

    assert_eq!(sealed.released(), [volume]);
    let queued: Vec<_> = sealed
        .tasks()
        .iter()
        .map(|task| (&task.resource, task.action))
        .collect();
    assert_eq!(
        queued,
        [
            (&quota, TaskAction::SyncQuota),
            (&elsewhere, TaskAction::Release)
        ],
        "a quota is set by its task; a resource kept elsewhere is released by its task"
    );
}
