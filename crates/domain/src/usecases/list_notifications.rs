//! Reading the notifications kept for a project.

use crate::error::Result;
use crate::notification::Notification;
use crate::page::{Page, PageRequest};
use crate::ports::NotificationFilter;
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// A page of the project's notifications, newest first, optionally of one order.
    /// Errors: `PermissionDenied`, `Unavailable`.
    pub async fn list_notifications(
        &self,
        principal: &Principal,
        filter: NotificationFilter,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        self.authorize(principal, &filter.project).await?;
        self.ports.notifications.list(filter, page).await
    }
}
