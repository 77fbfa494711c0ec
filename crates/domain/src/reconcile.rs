//! Proving the books: for one project, that its local balance is what its recharges and
//! the payments the ledger settled say, that every payment pays the row it names (and every
//! row that moves money has its payment), and that nothing waits too long. Pure: the store
//! reads a project's books, [`check`] lists what does not add up, and `serviceusage
//! reconcile` prints it.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::consumption::Consumption;
use crate::ids::{OrderId, ProjectId};
use crate::money::Money;
use crate::order::Order;
use crate::payment::{MoneyKeeper, Payment, PaymentId, PaymentState};

/// Everything the store holds about one project's money.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectBooks {
    /// Whose books they are (`None` only in fixtures built with `Default`).
    pub project: Option<ProjectId>,
    /// The ledger's balance; `None` for a project never funded (zero).
    pub balance: Option<Money>,
    /// Its recharges' amounts.
    pub recharges: Vec<Money>,
    /// Every order of the project, ended ones included.
    pub orders: Vec<Order>,
    /// Every consumption row of its orders.
    pub rows: Vec<Consumption>,
    /// Every payment of its orders.
    pub payments: Vec<Payment>,
}

impl ProjectBooks {
    /// What its recharges put on the balance, `None` if the sum overflows.
    pub fn recharged(&self) -> Option<Money> {
        self.recharges
            .iter()
            .try_fold(Money::ZERO, |sum, amount| sum.checked_add(*amount))
    }
}

/// Something in the books that does not add up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The balance is not recharges − ledger deductions + ledger credits.
    Balance {
        /// What the ledger holds.
        balance: Money,
        /// What the recharges and settled ledger payments make.
        expected: Money,
    },
    /// A payment names a row that is not there (or is there though it should not be yet).
    Row {
        /// The payment whose row is wrong.
        payment: PaymentId,
        /// What is wrong with it.
        problem: String,
    },
    /// A row that moves money has no payment, or more than one.
    Unpaid {
        /// The row's order.
        order: OrderId,
        /// The row's number within the order.
        consume_id: u32,
        /// How many payments it has, and what it moves.
        problem: String,
    },
    /// A payment's keeper is not its order's.
    Keeper {
        /// The payment sent to the wrong keeper.
        payment: PaymentId,
    },
    /// A payment still pending long after it was recorded.
    PendingTooLong {
        /// The payment the settler has not settled.
        payment: PaymentId,
        /// When it was recorded.
        since: DateTime<Utc>,
    },
    /// The charge service holds another amount under the payment's id.
    Disputed {
        /// The payment an operator must look at.
        payment: PaymentId,
        /// What the charge service answered.
        why: String,
    },
    /// An order waits for a payment that is not pending.
    Waiting {
        /// The order that waits.
        order: OrderId,
        /// The payment number it waits for.
        seq: u32,
    },
    /// The project's books could not be read (a corrupt row): nothing of it is proven.
    Unreadable {
        /// What could not be read, as the store said.
        why: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Balance { balance, expected } => write!(
                f,
                "balance is {balance}, but recharges and ledger payments make {expected}"
            ),
            Mismatch::Row { payment, problem } => write!(f, "payment {payment}: {problem}"),
            Mismatch::Unpaid {
                order,
                consume_id,
                problem,
            } => write!(f, "row #{consume_id} of order {order}: {problem}"),
            Mismatch::Keeper { payment } => {
                write!(f, "payment {payment} is not kept by its order's keeper")
            }
            Mismatch::PendingTooLong { payment, since } => {
                write!(f, "payment {payment} pending since {since}")
            }
            Mismatch::Disputed { payment, why } => {
                write!(f, "payment {payment} is disputed: {why}")
            }
            Mismatch::Waiting { order, seq } => write!(
                f,
                "order {order} waits for payment #{seq}, which is not pending"
            ),
            Mismatch::Unreadable { why } => write!(f, "books unreadable: {why}"),
        }
    }
}

/// What does not add up in `books` at `now`; a payment pending for longer than
/// `pending_limit` counts. Empty when the books are right.
pub fn check(books: &ProjectBooks, now: DateTime<Utc>, pending_limit: TimeDelta) -> Vec<Mismatch> {
    let mut found = Vec::new();
    check_balance(books, &mut found);
    let orders: BTreeMap<&OrderId, &Order> = books.orders.iter().map(|o| (&o.id, o)).collect();
    let rows: BTreeMap<(&OrderId, u32), &Consumption> = books
        .rows
        .iter()
        .map(|row| ((&row.order_id, row.consume_id), row))
        .collect();
    let mut paid: BTreeMap<(&OrderId, u32), usize> = BTreeMap::new();
    for payment in &books.payments {
        let key = (&payment.id.order, payment.consume_id);
        let order = orders.get(&payment.id.order);
        if order.is_some_and(|o| o.terms.keeper != payment.keeper) {
            found.push(Mismatch::Keeper {
                payment: payment.id.clone(),
            });
        }
        let row = rows.get(&key);
        let awaited = order.is_some_and(|o| o.awaiting_payment == Some(payment.id.seq));
        let should_exist = !payment.deferred || payment.state == PaymentState::Settled;
        let declined = payment.state == PaymentState::Declined;
        match (row, should_exist && !declined) {
            (Some(row), true) if row.amount != payment.signed() => found.push(Mismatch::Row {
                payment: payment.id.clone(),
                problem: format!("pays {} for a row of {}", payment.signed(), row.amount),
            }),
            (Some(_), true) => *paid.entry(key).or_default() += 1,
            (None, true) => found.push(Mismatch::Row {
                payment: payment.id.clone(),
                problem: format!("row #{} is missing", payment.consume_id),
            }),
            (Some(_), false) if payment.deferred && awaited => found.push(Mismatch::Row {
                payment: payment.id.clone(),
                problem: format!("row #{} is written before it is paid", payment.consume_id),
            }),
            (Some(_), false) | (None, false) => {}
        }
        if payment.deferred && payment.state == PaymentState::Pending && !awaited {
            found.push(Mismatch::Row {
                payment: payment.id.clone(),
                problem: "deferred and pending, but its order does not wait for it".into(),
            });
        }
        match payment.state {
            PaymentState::Pending if now - payment.created_at > pending_limit => {
                found.push(Mismatch::PendingTooLong {
                    payment: payment.id.clone(),
                    since: payment.created_at,
                })
            }
            PaymentState::Disputed => found.push(Mismatch::Disputed {
                payment: payment.id.clone(),
                why: payment.last_error.clone().unwrap_or_default(),
            }),
            _ => {}
        }
    }
    for row in books.rows.iter().filter(|row| !row.amount.is_zero()) {
        let count = paid
            .get(&(&row.order_id, row.consume_id))
            .copied()
            .unwrap_or(0);
        if count != 1 {
            found.push(Mismatch::Unpaid {
                order: row.order_id.clone(),
                consume_id: row.consume_id,
                problem: format!("moves {} with {count} payments", row.amount),
            });
        }
    }
    for order in &books.orders {
        if let Some(seq) = order.awaiting_payment {
            let pending = books.payments.iter().any(|p| {
                p.id.order == order.id && p.id.seq == seq && p.state == PaymentState::Pending
            });
            if !pending {
                found.push(Mismatch::Waiting {
                    order: order.id.clone(),
                    seq,
                });
            }
        }
    }
    found
}

fn check_balance(books: &ProjectBooks, found: &mut Vec<Mismatch>) {
    let settled = books
        .payments
        .iter()
        .filter(|p| p.keeper == MoneyKeeper::LocalLedger && p.state == PaymentState::Settled)
        .fold(Money::ZERO, |sum, p| {
            sum.checked_add(p.signed()).unwrap_or(Money::MAX)
        });
    let expected = books
        .recharged()
        .and_then(|recharged| recharged.checked_sub(settled))
        .unwrap_or(Money::MAX);
    let balance = books.balance.unwrap_or(Money::ZERO);
    if balance != expected {
        found.push(Mismatch::Balance { balance, expected });
    }
}

#[cfg(test)]
mod tests;
