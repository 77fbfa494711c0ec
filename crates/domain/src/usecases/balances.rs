//! Balances and recharges of the local ledger.

use crate::error::Result;
use crate::ids::ProjectId;
use crate::ledger::{Balance, NewRecharge, Recharge};
use crate::money::Money;
use crate::page::{Page, PageRequest};
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// The project's balance. Errors: `PermissionDenied`, `Unavailable`.
    pub async fn get_balance(&self, principal: &Principal, project: &ProjectId) -> Result<Balance> {
        self.authorize(principal, project).await?;
        self.ports.ledger.balance(project).await
    }

    /// Adds money to a project's balance; admins only.
    /// Errors: `PermissionDenied`, `InvalidParameter` (amount not positive, too large,
    /// comment too long, balance would overflow), `Unavailable`.
    pub async fn recharge(
        &self,
        principal: &Principal,
        project: ProjectId,
        amount: Money,
        comment: Option<String>,
    ) -> Result<(Recharge, Balance)> {
        Self::require_admin(principal, "recharge a balance")?;
        let recharge = NewRecharge {
            project,
            amount,
            comment,
            operator: principal.user.clone(),
            time: self.ports.clock.now(),
        };
        recharge.validate()?;
        self.ports.ledger.recharge(recharge).await
    }

    /// A page of the project's recharges, newest first. Errors: `PermissionDenied`, `Unavailable`.
    pub async fn list_recharges(
        &self,
        principal: &Principal,
        project: &ProjectId,
        page: PageRequest,
    ) -> Result<Page<Recharge>> {
        self.authorize(principal, project).await?;
        self.ports.ledger.list_recharges(project, page).await
    }
}
