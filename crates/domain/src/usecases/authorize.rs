//! Authentication and the project-membership rules every use case applies: to write, a
//! member of the project; to read, a member of it or of its main account (see
//! [`crate::account`]).

use crate::account::{AccountSelection, AccountType, AccountView};
use crate::error::{Error, Result};
use crate::ids::ProjectId;
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// Resolves a bearer token to a principal. A blank token never reaches the identity port.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if token.trim().is_empty() {
            return Err(Error::Unauthenticated);
        }
        self.ports.identity.authenticate(token).await
    }

    /// Admins may act on every project; everyone else only on projects they belong to.
    pub(crate) async fn authorize(&self, principal: &Principal, project: &ProjectId) -> Result<()> {
        if principal.admin || self.ports.identity.is_member(principal, project).await? {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!(
                "{} is not a member of project {project}",
                principal.user
            )))
        }
    }

    /// Admins may read every project; everyone else the projects they belong to and the
    /// sub-accounts of those. Never a write: writes go through [`UseCases::authorize`].
    pub(crate) async fn authorize_read(
        &self,
        principal: &Principal,
        project: &ProjectId,
    ) -> Result<()> {
        self.account_view(principal, project).await.map(drop)
    }

    /// The project as a list of it sees it, once the caller may read it (see
    /// [`UseCases::authorize_read`]). Its main account is asked first: the platform
    /// identity answers it and membership in one request.
    pub(crate) async fn account_view(
        &self,
        principal: &Principal,
        project: &ProjectId,
    ) -> Result<AccountView> {
        let identity = &self.ports.identity;
        let main = identity.main_account(principal, project).await?;
        let allowed = principal.admin
            || identity.is_member(principal, project).await?
            || match &main {
                Some(main) => identity.is_member(principal, main).await?,
                None => false,
            };
        if !allowed {
            return Err(Error::PermissionDenied(format!(
                "{} is not a member of project {project} or of its main account",
                principal.user
            )));
        }
        Ok(AccountView {
            project: project.clone(),
            account_type: if main.is_some() {
                AccountType::Sub
            } else {
                AccountType::Main
            },
        })
    }

    /// The projects a list of `view` reads for `selection`, the named project first.
    pub(crate) async fn account_scope(
        &self,
        principal: &Principal,
        view: &AccountView,
        selection: AccountSelection,
    ) -> Result<Vec<ProjectId>> {
        let sub_accounts =
            if view.account_type == AccountType::Main && selection.wants_sub_accounts() {
                self.ports
                    .identity
                    .sub_accounts(principal, &view.project)
                    .await?
            } else {
                Vec::new()
            };
        Ok(view.scope(selection, &sub_accounts))
    }

    /// Whether the caller may write to `project` (create, cancel or renew its orders),
    /// for a caller that answers a write without running it: a keyed write's replay must
    /// go only to whom the write itself would accept. Errors: `PermissionDenied`,
    /// `Unavailable`.
    pub async fn may_write(&self, principal: &Principal, project: &ProjectId) -> Result<()> {
        self.authorize(principal, project).await
    }

    /// Whether the caller may recharge a balance (admins only), as [`UseCases::may_write`].
    /// Errors: `PermissionDenied`.
    pub fn may_recharge(principal: &Principal) -> Result<()> {
        Self::require_admin(principal, "recharge a balance")
    }

    pub(crate) fn require_admin(principal: &Principal, what: &str) -> Result<()> {
        if principal.admin {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!("only admins may {what}")))
        }
    }
}
