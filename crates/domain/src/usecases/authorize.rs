//! Authentication and the project-membership rule every use case applies.

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

    pub(crate) fn require_admin(principal: &Principal, what: &str) -> Result<()> {
        if principal.admin {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!("only admins may {what}")))
        }
    }
}
