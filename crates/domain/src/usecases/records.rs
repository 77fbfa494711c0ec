//! Consumption records (51idc): a page of orders, each with its consumption rows.

use crate::account::{AccountPage, AccountSelection, AccountView};
use crate::error::Result;
use crate::ids::{OrderId, ProjectId};
use crate::page::{Page, PageRequest};
use crate::ports::OrderFilter;
use crate::principal::Principal;
use crate::record::ConsumptionRecord;

use super::UseCases;

impl UseCases {
    /// A page of the records of the orders the filter passes, newest first, each with its
    /// rows: the order list's page (of the accounts `accounts` selects), then the rows of
    /// its orders in one read. Errors: as [`UseCases::list_orders`].
    pub async fn list_records(
        &self,
        principal: &Principal,
        filter: OrderFilter,
        accounts: AccountSelection,
        page: PageRequest,
    ) -> Result<AccountPage<ConsumptionRecord>> {
        let AccountPage { view, page: orders } =
            self.list_orders(principal, filter, accounts, page).await?;
        let ids: Vec<OrderId> = orders.items.iter().map(|o| o.id.clone()).collect();
        let rows = self.ports.usages.for_orders(&ids).await?;
        Ok(AccountPage {
            view,
            page: Page {
                total: orders.total,
                exact: orders.exact,
                items: ConsumptionRecord::assemble(orders.items, rows),
            },
        })
    }

    /// The record of one order of `project` (another project's order is not found), and
    /// the view that labels it. Errors: `PermissionDenied`, `NotFound`, `Unavailable`.
    pub async fn get_record(
        &self,
        principal: &Principal,
        project: &ProjectId,
        id: &OrderId,
    ) -> Result<(AccountView, ConsumptionRecord)> {
        let view = self.account_view(principal, project).await?;
        let order = self.find_in_project(project, id).await?;
        let rows = self.ports.usages.for_order(id).await?;
        Ok((view, ConsumptionRecord { order, rows }))
    }
}
