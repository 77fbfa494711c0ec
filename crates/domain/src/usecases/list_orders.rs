//! Listing a project's orders.

use std::collections::{HashMap, HashSet};

use crate::account::{AccountPage, AccountSelection};
use crate::error::Result;
use crate::ids::PlanId;
use crate::order::Order;
use crate::page::PageRequest;
use crate::ports::OrderFilter;
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// A page of the orders the filter passes, newest first, of the filter's project or,
    /// as `accounts` selects, of its main account or sub-accounts (see
    /// [`crate::account`]). Errors: `PermissionDenied`, `InvalidParameter` (a page too deep
    /// across several projects), `Unavailable`.
    pub async fn list_orders(
        &self,
        principal: &Principal,
        filter: OrderFilter,
        accounts: AccountSelection,
        page: PageRequest,
    ) -> Result<AccountPage<Order>> {
        let orders = &self.ports.orders;
        self.across_accounts(
            principal,
            &filter.project,
            (accounts, page),
            |project, rows| {
                orders.list(
                    OrderFilter {
                        project,
                        ..filter.clone()
                    },
                    rows,
                )
            },
            |order| order.start_time,
            |order| order.id.clone(),
        )
        .await
    }

    /// The catalog's description of each of these plans, for a list to name its orders by
    /// (51idc's order name). A name is a courtesy, not a record: when the catalog cannot
    /// be read, or no longer has a plan, the plan is simply missing from the answer and
    /// the list still serves.
    pub async fn plan_descriptions<'a>(
        &self,
        plans: impl IntoIterator<Item = &'a PlanId>,
    ) -> HashMap<PlanId, String> {
        let wanted: HashSet<&PlanId> = plans.into_iter().collect();
        if wanted.is_empty() {
            return HashMap::new();
        }
        match self.ports.plans.list(None).await {
            Ok(plans) => plans
                .into_iter()
                .filter(|plan| wanted.contains(&plan.id))
                .map(|plan| (plan.id, plan.description))
                .collect(),
            Err(error) => {
                log::warn!("orders listed without their plans' descriptions: {error}");
                HashMap::new()
            }
        }
    }
}
