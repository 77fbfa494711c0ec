//! Telling the project what a use case did, once it is committed: events are built from the
//! order they are about and handed to the notifier after the transaction, never before, so
//! no event describes a change that was rolled back.

use chrono::{DateTime, Utc};

use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::Order;

use super::UseCases;

/// An event about `order` at `now`; `amount` is what it moved (none when zero).
pub(super) fn notice(
    order: &Order,
    kind: NotificationKind,
    now: DateTime<Utc>,
    amount: Money,
    message: String,
) -> Notification {
    Notification {
        kind,
        project: order.project.clone(),
        region: order.region.clone(),
        order_id: order.id.clone(),
        time: now,
        amount: (!amount.is_zero()).then_some(amount),
        message,
    }
}

impl UseCases {
    /// Hands committed events to the notifier; a failure is logged, never undone.
    pub(super) async fn send(&self, events: Vec<Notification>) {
        if events.is_empty() {
            return;
        }
        let count = events.len();
        if let Err(e) = self.ports.notifier.notify(events).await {
            log::error!("{count} notification(s) could not be recorded: {e}");
        }
    }
}
