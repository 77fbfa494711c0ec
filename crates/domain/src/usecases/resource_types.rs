//! The resource types a console offers: the plan types of the catalog.

use crate::enumeration::{self, Enumerated};
use crate::error::Result;
use crate::ids::Region;

use super::UseCases;

impl UseCases {
    /// The catalog's plan types (of one region), labelled, once each. Any authenticated
    /// caller may read them, as the catalog. Errors: `PlanCatalogUnavailable`.
    pub async fn list_resource_types(&self, region: Option<Region>) -> Result<Vec<Enumerated>> {
        let plans = self.ports.plans.list(region).await?;
        Ok(enumeration::resource_types(
            plans.into_iter().map(|plan| plan.plan_type),
        ))
    }
}
