//! What the service tells a project about its orders without being asked: an order opened,
//! renewed, could not be renewed, entered its grace period, ended or was switched. Events
//! are written in the transaction of the change they describe
//! ([`crate::change::ChangeBuilder::event`]); the project reads them through
//! [`crate::ports::NotificationRepository`], and the service delivers them to webhooks.

use chrono::{DateTime, Utc};

use crate::ids::{OrderId, ProjectId, Region};
use crate::money::Money;
use crate::order::Order;

/// Why a notification was sent. Labels are part of the API and of webhook payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// An order was opened (by a create or as the target of a switch).
    OrderCreated,
    /// A renewal run charged one or more cycles of the order.
    OrderRenewed,
    /// A renewal could not be charged (balance short or plan withdrawn); sent at most once
    /// per warning interval per order.
    RenewalFailed,
    /// The order passed its paid-until deadline unpaid and is in its grace period.
    OrderEnding,
    /// The order ended: cancelled, or closed after its grace period ran out.
    OrderEnded,
    /// The order was ended by a switch to another plan.
    OrderSwitched,
    /// A charge service declined a payment for usage already consumed: the project owes it
    /// (arrears), and it is asked for again until taken.
    PaymentOwed,
}

impl NotificationKind {
    /// Every kind, for adapters that map stored labels back.
    pub const ALL: [NotificationKind; 7] = [
        NotificationKind::OrderCreated,
        NotificationKind::OrderRenewed,
        NotificationKind::RenewalFailed,
        NotificationKind::OrderEnding,
        NotificationKind::OrderEnded,
        NotificationKind::OrderSwitched,
        NotificationKind::PaymentOwed,
    ];

    /// The stored and serialised name (the original's reasons where it had one).
    pub fn label(self) -> &'static str {
        match self {
            NotificationKind::OrderCreated => "order_created",
            NotificationKind::OrderRenewed => "order_renewed",
            NotificationKind::RenewalFailed => "order_renew_failed",
            NotificationKind::OrderEnding => "order_ending",
            NotificationKind::OrderEnded => "order_ended",
            NotificationKind::OrderSwitched => "order_switched",
            NotificationKind::PaymentOwed => "payment_owed",
        }
    }

    /// The kind a stored label stands for; `None` for one no kind has.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label() == label)
    }
}

/// One event about one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// What happened.
    pub kind: NotificationKind,
    /// Who is told.
    pub project: ProjectId,
    /// The order's region, sent along so a receiver need not look the order up.
    pub region: Region,
    /// The order the event is about.
    pub order_id: OrderId,
    /// When the change happened (the run's or the request's now).
    pub time: DateTime<Utc>,
    /// The money the event moved: charged (positive) or refunded (negative); `None` when
    /// it moved none.
    pub amount: Option<Money>,
    /// A sentence for people, e.g. "balance 3.00 does not cover 99.00; ends on …".
    pub message: String,
}

impl Notification {
    /// An event about `order` at `time`; `amount` is what it moved, left out when zero.
    pub fn about(
        order: &Order,
        kind: NotificationKind,
        time: DateTime<Utc>,
        amount: Money,
        message: String,
    ) -> Self {
        Self {
            kind,
            project: order.project.clone(),
            region: order.region.clone(),
            order_id: order.id.clone(),
            time,
            amount: (!amount.is_zero()).then_some(amount),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_are_unique() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::from_label(kind.label()), Some(kind));
        }
        let mut labels: Vec<_> = NotificationKind::ALL.iter().map(|k| k.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), NotificationKind::ALL.len());
    }

    #[test]
    fn unknown_labels_have_no_kind() {
        for label in ["", "order_cancled", "ORDER_CREATED", "renewed"] {
            assert_eq!(NotificationKind::from_label(label), None, "{label:?}");
        }
    }
}
