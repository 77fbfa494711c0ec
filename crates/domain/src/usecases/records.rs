//! Consumption records (51idc): a page of orders, each with its consumption rows.

use crate::error::Result;
use crate::ids::{OrderId, ProjectId};
use crate::page::{Page, PageRequest};
use crate::ports::OrderFilter;
use crate::principal::Principal;
use crate::record::ConsumptionRecord;

use super::UseCases;

impl UseCases {
    /// A page of the records of the orders the filter passes, newest first, each with its
    /// rows: the order list's page, then the rows of its orders in one read.
    /// Errors: `PermissionDenied`, `Unavailable`.
    pub async fn list_records(
        &self,
        principal: &Principal,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<ConsumptionRecord>> {
        let orders = self.list_orders(principal, filter, page).await?;
        let ids: Vec<OrderId> = orders.items.iter().map(|o| o.id.clone()).collect();
        let rows = self.ports.usages.for_orders(&ids).await?;
        Ok(Page {
            total: orders.total,
            exact: orders.exact,
            items: ConsumptionRecord::assemble(orders.items, rows),
        })
    }

    /// The record of one order of `project` (another project's order is not found).
    /// Errors: `PermissionDenied`, `NotFound`, `Unavailable`.
    pub async fn get_record(
        &self,
        principal: &Principal,
        project: &ProjectId,
        id: &OrderId,
    ) -> Result<ConsumptionRecord> {
        let order = self.get_order(principal, project, id).await?;
        let rows = self.ports.usages.for_order(id).await?;
        Ok(ConsumptionRecord { order, rows })
    }
}
