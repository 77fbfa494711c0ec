//! Payments: every movement of money, recorded before it moves. A payment has its own id,
//! never reused for another amount; it pays exactly one consumption row (one cycle, one
//! settlement share, one refund), and names who keeps the money: the local ledger, which
//! settles it in the transaction that records it, or the charge service of the order's
//! region, to which it is sent under its id until the answer is definitive.
//!
//! A payment whose row is *deferred* buys something not yet granted (a prepaid cycle, the
//! first cycle of an order opened in a charge-service region): its row is written only once
//! the charge service took the money, and the order waits for it
//! ([`crate::order::Order::awaiting_payment`]). Every other payment pays a row written with
//! it: usage already consumed (a postpaid settlement) or money owed back (a refund).

use std::fmt;

use chrono::{DateTime, Utc};

use crate::consumption::{Consumption, ConsumptionKind};
use crate::error::{Error, Result};
use crate::ids::{OrderId, ProjectId, Region};
use crate::money::Money;
use crate::order::Order;

/// Who keeps an order's money; fixed on the order when it opens, so moving a region to
/// another keeper never sends an old order's refund to a keeper that never took its money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MoneyKeeper {
    /// The store's own ledger: money moves inside the transaction that records it.
    LocalLedger,
    /// The charge service of the order's region: payments are sent after the commit.
    ChargeService,
}

impl MoneyKeeper {
    /// The name the API and messages use.
    pub fn label(self) -> &'static str {
        match self {
            MoneyKeeper::LocalLedger => "ledger",
            MoneyKeeper::ChargeService => "charge-service",
        }
    }
}

/// Which way a payment moves money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentDirection {
    /// From the project's balance.
    Deduction,
    /// Back to the project's balance.
    Credit,
}

impl PaymentDirection {
    /// The name messages and the charge-service adapter use.
    pub fn label(self) -> &'static str {
        match self {
            PaymentDirection::Deduction => "deduction",
            PaymentDirection::Credit => "credit",
        }
    }
}

/// A payment's id: the order it belongs to and the order's payment number (1, 2, 3 …).
/// Sent to a charge service as the payment's reason, `pay:{orderId}:{seq}`, its
/// idempotency key. The prefix keeps it apart from the reasons of the service before
/// payments were recorded (`order:{orderId}:{consumeId}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaymentId {
    /// The order the payment moves money for.
    pub order: OrderId,
    /// The order's payment number (1, 2, 3 …), taken with
    /// [`crate::order::Order::next_payment_id`].
    pub seq: u32,
}

impl fmt::Display for PaymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pay:{}:{}", self.order, self.seq)
    }
}

/// Where a payment is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentState {
    /// Recorded, not yet known to be taken: the settler sends it (again) under its id.
    Pending,
    /// Taken (or credited) by its keeper.
    Settled,
    /// Refused for want of balance, definitively: what it would have bought was not granted
    /// (the order that waited for it moved on: ended, or unpaid).
    Declined,
    /// Refused for want of balance, but for usage already consumed: the project owes it
    /// (arrears). The settler asks again, less often, until it is taken.
    Owed,
    /// The keeper answered that it already holds another amount under this id: never sent
    /// again; `serviceusage reconcile` reports it for an operator.
    Disputed,
}

impl PaymentState {
    /// Every state, for adapters that map stored labels back.
    pub const ALL: [PaymentState; 5] = [
        PaymentState::Pending,
        PaymentState::Settled,
        PaymentState::Declined,
        PaymentState::Owed,
        PaymentState::Disputed,
    ];

    /// The stored name.
    pub fn label(self) -> &'static str {
        match self {
            PaymentState::Pending => "pending",
            PaymentState::Settled => "settled",
            PaymentState::Declined => "declined",
            PaymentState::Owed => "owed",
            PaymentState::Disputed => "disputed",
        }
    }

    /// The states the settler still sends (see [`PaymentState::is_open`]).
    pub const OPEN: [PaymentState; 2] = [PaymentState::Pending, PaymentState::Owed];

    /// The states a balance shows: arrears (owed) and what an operator must look at
    /// (disputed).
    pub const UNSETTLED: [PaymentState; 2] = [PaymentState::Owed, PaymentState::Disputed];

    /// Whether the settler still sends it.
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

/// What `payments` leave owed: the sum of those in arrears, `None` if it overflows.
pub fn owed<'a>(payments: impl IntoIterator<Item = &'a Payment>) -> Option<Money> {
    payments
        .into_iter()
        .filter(|p| p.state == PaymentState::Owed)
        .try_fold(Money::ZERO, |sum, p| sum.checked_add(p.amount))
}

/// One payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// Its id, under which a charge service takes it at most once.
    pub id: PaymentId,
    /// Whose balance it moves.
    pub project: ProjectId,
    /// The order's region: whose charge service it goes to.
    pub region: Region,
    /// Who keeps the money, as the order's terms say.
    pub keeper: MoneyKeeper,
    /// Whether it takes money or gives it back.
    pub direction: PaymentDirection,
    /// Positive: nothing is ever recorded, nor sent, for zero.
    pub amount: Money,
    /// The row it pays: its number within the order, kind and period. For a deferred
    /// payment the row is written when the payment settles; for the others it exists.
    pub consume_id: u32,
    /// The kind of the row it pays.
    pub kind: ConsumptionKind,
    /// The start of the period the row covers.
    pub period_from: DateTime<Utc>,
    /// The end of the period the row covers.
    pub period_until: DateTime<Utc>,
    /// Whether the row waits for the payment (see the module's doc).
    pub deferred: bool,
    /// Where it is in its life.
    pub state: PaymentState,
    /// When it was recorded; of payments due at the same time, the oldest is sent first.
    pub created_at: DateTime<Utc>,
    /// When it was settled, declined or found disputed.
    pub settled_at: Option<DateTime<Utc>>,
    /// Attempts whose outcome was unknown (or that were refused as owed).
    pub attempts: u32,
    /// When the settler may send it next.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt did not settle it, for operators.
    pub last_error: Option<String>,
}

impl Payment {
    /// The payment of `row`, which `order` (after the change that writes the row, its
    /// payment number already taken) records. Its amount is the row's, as a deduction for
    /// a charge and a credit for a refund; the local ledger settles at once.
    ///
    /// Errors: `Internal` when the row moves no money (nothing is recorded for zero) or
    /// belongs to another order.
    pub fn of_row(
        order: &Order,
        seq: u32,
        row: &Consumption,
        deferred: bool,
        now: DateTime<Utc>,
    ) -> Result<Payment> {
        if row.order_id != order.id || row.project != order.project {
            return Err(Error::Internal(format!(
                "payment of order {} for a row of order {}",
                order.id, row.order_id
            )));
        }
        let (direction, amount) = if row.amount.is_positive() {
            (PaymentDirection::Deduction, row.amount)
        } else {
            let credit = row
                .amount
                .checked_neg()
                .filter(|amount| amount.is_positive())
                .ok_or_else(|| {
                    Error::Internal(format!(
                        "row #{} of order {} moves no money",
                        row.consume_id, order.id
                    ))
                })?;
            (PaymentDirection::Credit, credit)
        };
        let keeper = order.terms.keeper;
        let (state, settled_at) = match keeper {
            MoneyKeeper::LocalLedger => (PaymentState::Settled, Some(now)),
            MoneyKeeper::ChargeService => (PaymentState::Pending, None),
        };
        Ok(Payment {
            id: PaymentId {
                order: order.id.clone(),
                seq,
            },
            project: order.project.clone(),
            region: order.region.clone(),
            keeper,
            direction,
            amount,
            consume_id: row.consume_id,
            kind: row.kind,
            period_from: row.time,
            period_until: row.covered_until,
            deferred,
            state,
            created_at: now,
            settled_at,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
        })
    }

    /// The row this payment pays, as it is (or will be) written: its amount signed as the
    /// history keeps it (positive charge, negative refund).
    pub fn row(&self, plan_id: &crate::ids::PlanId) -> Consumption {
        let amount = self.signed();
        Consumption {
            order_id: self.id.order.clone(),
            consume_id: self.consume_id,
            project: self.project.clone(),
            region: self.region.clone(),
            plan_id: plan_id.clone(),
            amount,
            time: self.period_from,
            covered_until: self.period_until,
            kind: self.kind,
        }
    }

    /// What the payment does to the project's balance: positive takes, negative gives.
    pub fn signed(&self) -> Money {
        match self.direction {
            PaymentDirection::Deduction => self.amount,
            PaymentDirection::Credit => Money::from_minor(-self.amount.minor()),
        }
    }
}

/// One movement of a project's balance in the local ledger, decided by the domain and
/// applied by the store in the transaction that records its payments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerMove {
    /// Whose balance moves.
    pub project: ProjectId,
    /// Positive: taken from the balance; negative: given back; zero: only the check.
    pub amount: Money,
    /// The least balance the project must hold before the move for it to happen (the store
    /// refuses it otherwise, with nothing written); `None`: it happens whatever the balance,
    /// which may then go negative (arrears), or it gives money back.
    pub requires: Option<Money>,
}

impl LedgerMove {
    /// A charge the balance must cover after it down to `floor` (zero for prepaid service,
    /// minus the credit limit for postpaid usage).
    ///
    /// Errors: `Internal` when the amounts overflow.
    pub fn covered(project: ProjectId, amount: Money, floor: Money) -> Result<LedgerMove> {
        let requires = amount
            .checked_add(floor)
            .ok_or_else(|| Error::Internal("ledger guard overflowed".into()))?;
        Ok(LedgerMove {
            project,
            amount,
            requires: Some(requires),
        })
    }

    /// A movement with no guard: a refund, or usage already consumed (arrears).
    pub fn unguarded(project: ProjectId, amount: Money) -> LedgerMove {
        LedgerMove {
            project,
            amount,
            requires: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_payment_id_reads_as_its_reason_and_differs_from_the_old_row_reasons() {
        let id = PaymentId {
            order: OrderId::parse("ord-1").unwrap(),
            seq: 12,
        };
        assert_eq!(id.to_string(), "pay:ord-1:12");
        assert!(!id.to_string().starts_with("order:"));
    }

    #[test]
    fn only_pending_and_owed_payments_are_sent_again() {
        let open: Vec<_> = PaymentState::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(open, [PaymentState::Pending, PaymentState::Owed]);
    }

    #[test]
    fn a_covered_move_requires_the_amount_above_its_floor() {
        let project = ProjectId::parse("p").unwrap();
        let moved =
            LedgerMove::covered(project, Money::from_minor(500), Money::from_minor(-200)).unwrap();
        assert_eq!(moved.requires, Some(Money::from_minor(300)));
    }

    #[test]
    fn a_covered_move_that_overflows_is_an_internal_error() {
        let project = ProjectId::parse("p").unwrap();
        assert!(matches!(
            LedgerMove::covered(project, Money::MAX, Money::from_minor(1)),
            Err(Error::Internal(_))
        ));
    }
}
