//! Listing consumption history.

use crate::account::{AccountPage, AccountSelection};
use crate::consumption::Consumption;
use crate::error::Result;
use crate::page::PageRequest;
use crate::ports::UsageFilter;
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// A page of the project's consumption rows, newest first, optionally of one order or
    /// region; or, as `accounts` selects, of its main account or sub-accounts (see
    /// [`crate::account`]). Errors: `PermissionDenied`, `InvalidParameter` (a page too deep
    /// across several projects), `Unavailable`.
    pub async fn list_usages(
        &self,
        principal: &Principal,
        filter: UsageFilter,
        accounts: AccountSelection,
        page: PageRequest,
    ) -> Result<AccountPage<Consumption>> {
        let usages = &self.ports.usages;
        self.across_accounts(
            principal,
            &filter.project,
            (accounts, page),
            |project, rows| {
                usages.list(
                    UsageFilter {
                        project,
                        ..filter.clone()
                    },
                    rows,
                )
            },
            |row| row.time,
            |row| (row.order_id.clone(), row.consume_id),
        )
        .await
    }
}
