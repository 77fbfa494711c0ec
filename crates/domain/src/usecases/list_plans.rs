//! Reading the plan catalog.

use crate::error::Result;
use crate::ids::Region;
use crate::plan::Plan;

use super::UseCases;

impl UseCases {
    /// Every plan, or those of one region. Any authenticated caller may read the catalog.
    /// Errors: `PlanCatalogUnavailable`.
    pub async fn list_plans(&self, region: Option<Region>) -> Result<Vec<Plan>> {
        self.ports.plans.list(region).await
    }
}
