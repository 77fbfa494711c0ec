//! Balances and recharges of the local ledger, and what a project owes.

use crate::error::{Error, Result};
use crate::idempotency::Idempotency;
use crate::ids::ProjectId;
use crate::ledger::{Account, Balance, NewRecharge, Recharge};
use crate::money::Money;
use crate::page::{Page, PageRequest};
use crate::payment;
use crate::ports::RechargeFilter;
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// The project's balance and what it owes: arrears in the local ledger (a negative
    /// balance) plus the payments charge services declined for used service.
    /// Errors: `PermissionDenied`, `Unavailable`.
    pub async fn get_balance(&self, principal: &Principal, project: &ProjectId) -> Result<Account> {
        self.authorize_read(principal, project).await?;
        let balance = self.ports.ledger.balance(project).await?;
        self.account(balance).await
    }

    /// The balance with what the project owes.
    async fn account(&self, balance: Balance) -> Result<Account> {
        let project = &balance.project;
        let unsettled = self.ports.payments.unsettled(project).await?;
        let owed_elsewhere = payment::owed(&unsettled);
        let arrears = Money::from_minor(balance.amount.minor().min(0).saturating_neg());
        let owed = owed_elsewhere
            .and_then(|owed| owed.checked_add(arrears))
            .ok_or_else(|| Error::Internal("arrears overflowed".into()))?;
        Ok(Account {
            balance,
            owed,
            credit_limit: self.policy.credit_limit,
        })
    }

    /// Adds money to a project's balance (its arrears first); admins only. Returns the
    /// recharge and the balance after it.
    /// Errors: `PermissionDenied`, `InvalidParameter` (amount not positive, too large,
    /// comment too long, balance would overflow), `DuplicateRequest`, `Unavailable`.
    pub async fn recharge(
        &self,
        principal: &Principal,
        project: ProjectId,
        amount: Money,
        comment: Option<String>,
        idempotency: Option<Idempotency>,
    ) -> Result<(Recharge, Account)> {
        Self::may_recharge(principal)?;
        let now = self.ports.clock.now();
        let recharge = NewRecharge {
            project,
            amount,
            comment,
            operator: principal.user.clone(),
            time: now,
        };
        recharge.validate()?;
        let (recharge, balance) = self.ports.ledger.recharge(recharge, idempotency).await?;
        Ok((recharge, self.account(balance).await?))
    }

    /// One recharge of the project, with the balance now (a lost answer rebuilt).
    /// Errors: `PermissionDenied`, `NotFound`, `Unavailable`.
    pub async fn find_recharge(
        &self,
        principal: &Principal,
        project: &ProjectId,
        id: i64,
    ) -> Result<(Recharge, Account)> {
        self.authorize_read(principal, project).await?;
        let recharge = self
            .ports
            .ledger
            .find_recharge(project, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("recharge {id} of project {project}")))?;
        let balance = self.ports.ledger.balance(project).await?;
        Ok((recharge, self.account(balance).await?))
    }

    /// A page of the project's recharges the filter passes, newest first.
    /// Errors: `PermissionDenied`, `Unavailable`.
    pub async fn list_recharges(
        &self,
        principal: &Principal,
        filter: &RechargeFilter,
        page: PageRequest,
    ) -> Result<Page<Recharge>> {
        self.authorize_read(principal, &filter.project).await?;
        self.ports.ledger.list_recharges(filter, page).await
    }
}
