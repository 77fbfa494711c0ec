//! Reading one order.

use crate::error::{Error, Result};
use crate::ids::{OrderId, ProjectId};
use crate::order::Order;
use crate::principal::Principal;

use super::UseCases;

impl UseCases {
    /// The order, if it belongs to `project` and the caller may read that project
    /// (a member of it or of its main account). An order of
    /// another project is reported as not found, so ids of other projects leak nothing.
    ///
    /// Errors: `PermissionDenied`, `NotFound`, `Unavailable`.
    pub async fn get_order(
        &self,
        principal: &Principal,
        project: &ProjectId,
        id: &OrderId,
    ) -> Result<Order> {
        self.authorize_read(principal, project).await?;
        self.find_in_project(project, id).await
    }

    pub(crate) async fn find_in_project(&self, project: &ProjectId, id: &OrderId) -> Result<Order> {
        match self.ports.orders.find(id).await? {
            Some(order) if order.project == *project => Ok(order),
            _ => Err(Error::NotFound(format!("order {id} in project {project}"))),
        }
    }
}
