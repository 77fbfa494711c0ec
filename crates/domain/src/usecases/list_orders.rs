//! Listing a project's orders.

use crate::error::Result;
use crate::order::Order;
use crate::page::{Page, PageRequest};
use crate::ports::OrderFilter;
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// A page of the project's orders, newest first. Errors: `PermissionDenied`, `Unavailable`.
    pub async fn list_orders(
        &self,
        principal: &Principal,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>> {
        self.authorize(principal, &filter.project).await?;
        self.ports.orders.list(filter, page).await
    }
}
