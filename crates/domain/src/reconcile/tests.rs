//! The books of one project: what adds up and what does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::consumption::ConsumptionKind;
use crate::testing::{money, row_of, utc, OrderBuilder};

fn now() -> DateTime<Utc> {
    utc("2017-03-01T00:00:00Z")
}

fn limit() -> TimeDelta {
    TimeDelta::hours(1)
}

fn row(order: &Order, consume_id: u32, amount: &str) -> Consumption {
    let kind = if consume_id == 1 {
        ConsumptionKind::New
    } else {
        ConsumptionKind::End
    };
    row_of(order, consume_id, amount, kind)
}

fn paid(order: &Order, row: &Consumption, seq: u32) -> Payment {
    Payment::of_row(order, seq, row, false, order.start_time).unwrap()
}

/// Recharged 500; one ledger order charged 100 then refunded 40: balance 440.
fn books() -> ProjectBooks {
    let order = OrderBuilder::default().last_consume_id(2).build();
    let charged = row(&order, 1, "100");
    let refunded = row(&order, 2, "-40");
    ProjectBooks {
        project: Some(order.project.clone()),
        balance: Some(money("440")),
        recharges: vec![money("200"), money("300")],
        payments: vec![paid(&order, &charged, 1), paid(&order, &refunded, 2)],
        rows: vec![charged, refunded],
        orders: vec![order],
    }
}

#[test]
fn books_that_add_up_have_no_mismatch() {
    assert_eq!(check(&books(), now(), limit()), []);
}

#[test]
fn a_balance_off_by_one_ten_thousandth_is_reported() {
    let books = ProjectBooks {
        balance: Some(money("440.0001")),
        ..books()
    };
    assert_eq!(
        check(&books, now(), limit()),
        [Mismatch::Balance {
            balance: money("440.0001"),
            expected: money("440")
        }]
    );
}

#[test]
fn a_project_never_funded_has_a_balance_of_zero() {
    let books = ProjectBooks::default();
    assert_eq!(check(&books, now(), limit()), []);
}

#[test]
fn arrears_add_up_as_a_negative_balance() {
    let mut books = books();
    books.recharges.clear();
    books.balance = Some(money("-60"));
    assert_eq!(check(&books, now(), limit()), []);
}

#[test]
fn a_row_without_its_payment_and_a_payment_without_its_row_are_reported() {
    let mut books = books();
    books.payments.remove(1);
    books.balance = Some(money("400"));
    let found = check(&books, now(), limit());
    assert!(
        matches!(found.as_slice(), [Mismatch::Unpaid { consume_id: 2, .. }]),
        "{found:?}"
    );

    let mut books = self::books();
    books.rows.remove(1);
    let found = check(&books, now(), limit());
    assert!(
        found
            .iter()
            .any(|m| matches!(m, Mismatch::Row { problem, .. } if problem.contains("missing"))),
        "{found:?}"
    );
}

#[test]
fn a_payment_of_another_amount_than_its_row_is_reported() {
    let mut books = books();
    books.payments[0].amount = money("99");
    books.balance = Some(money("441"));
    let found = check(&books, now(), limit());
    assert!(
        found
            .iter()
            .any(|m| matches!(m, Mismatch::Row { problem, .. } if problem.contains("pays 99"))),
        "{found:?}"
    );
}

#[test]
fn a_charge_service_payment_pending_too_long_is_reported_and_a_recent_one_is_not() {
    let mut books = books();
    let order = &mut books.orders[0];
    order.terms.keeper = MoneyKeeper::ChargeService;
    for payment in &mut books.payments {
        payment.keeper = MoneyKeeper::ChargeService;
        payment.state = PaymentState::Pending;
    }
    books.balance = Some(money("500"));
    books.payments[1].created_at = now() - TimeDelta::minutes(5);
    let found = check(&books, now(), limit());
    assert_eq!(
        found,
        [Mismatch::PendingTooLong {
            payment: books.payments[0].id.clone(),
            since: books.payments[0].created_at
        }]
    );
}

#[test]
fn a_payment_kept_by_another_keeper_than_its_order_is_reported() {
    let mut books = books();
    books.orders[0].terms.keeper = MoneyKeeper::ChargeService;
    let found = check(&books, now(), limit());
    assert_eq!(
        found
            .iter()
            .filter(|m| matches!(m, Mismatch::Keeper { .. }))
            .count(),
        2
    );
}

#[test]
fn a_deferred_payment_pending_has_no_row_and_its_order_waits_for_it() {
    let mut books = books();
    books.orders[0].terms.keeper = MoneyKeeper::ChargeService;
    for payment in &mut books.payments {
        payment.keeper = MoneyKeeper::ChargeService;
    }
    books.balance = Some(money("500"));
    let mut waiting = books.orders[0].clone();
    waiting.awaiting_payment = Some(3);
    let mut next = row(&waiting, 3, "100");
    next.kind = ConsumptionKind::Renew;
    books
        .payments
        .push(Payment::of_row(&waiting, 3, &next, true, now()).unwrap());
    books.orders[0] = waiting;
    assert_eq!(check(&books, now(), limit()), []);

    books.rows.push(next);
    let found = check(&books, now(), limit());
    assert!(
        found.iter().any(
            |m| matches!(m, Mismatch::Row { problem, .. } if problem.contains("before it is paid"))
        ),
        "{found:?}"
    );
}

#[test]
fn an_order_waiting_for_a_payment_that_is_not_pending_is_reported() {
    let mut books = books();
    books.orders[0].awaiting_payment = Some(2);
    assert_eq!(
        check(&books, now(), limit()),
        [Mismatch::Waiting {
            order: books.orders[0].id.clone(),
            seq: 2
        }]
    );
}

#[test]
fn a_disputed_payment_is_reported_with_why() {
    let mut books = books();
    books.payments[1].state = PaymentState::Disputed;
    books.payments[1].last_error = Some("holds 41.00".into());
    books.balance = Some(money("400"));
    let found = check(&books, now(), limit());
    assert!(
        found
            .iter()
            .any(|m| matches!(m, Mismatch::Disputed { why, .. } if why == "holds 41.00")),
        "{found:?}"
    );
    assert!(found.iter().all(|m| !m.to_string().is_empty()));
}
