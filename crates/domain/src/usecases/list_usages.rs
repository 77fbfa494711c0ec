//! Listing consumption history.

use crate::consumption::Consumption;
use crate::error::Result;
use crate::page::{Page, PageRequest};
use crate::ports::UsageFilter;
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// A page of the project's consumption rows, newest first, optionally of one order or
    /// region. Errors: `PermissionDenied`, `Unavailable`.
    pub async fn list_usages(
        &self,
        principal: &Principal,
        filter: UsageFilter,
        page: PageRequest,
    ) -> Result<Page<Consumption>> {
        self.authorize(principal, &filter.project).await?;
        self.ports.usages.list(filter, page).await
    }
}
