//! Telling the project what a use case did, once it is committed: events are built from the
//! order they are about and handed to the notifier after the transaction, never before, so
//! no event describes a change that was rolled back.

use crate::notification::Notification;

use super::UseCases;

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
