//! The plan catalog when some regions take their plans from the plan service: each region's
//! plans come from one place, the configuration or the plan service, as `[[regions]]` says.

use std::sync::Arc;

use async_trait::async_trait;
use domain::ids::{PlanId, Region};
use domain::plan::Plan;
use domain::ports::PlanCatalog;

use super::ConfigPlans;

/// Configured plans for the embedded regions, the plan service for `remote_regions`.
pub struct RegionalPlans {
    local: ConfigPlans,
    remote: Arc<dyn PlanCatalog>,
    remote_regions: Vec<Region>,
}

impl RegionalPlans {
    /// Configured plans of a remote region are left out (and logged): listing them beside
    /// the plan service's would offer two catalogs for one region.
    pub fn new(
        local: Vec<Plan>,
        remote: Arc<dyn PlanCatalog>,
        remote_regions: Vec<Region>,
    ) -> Self {
        let (ignored, local): (Vec<_>, Vec<_>) = local
            .into_iter()
            .partition(|p| remote_regions.contains(&p.region));
        for plan in ignored {
            log::warn!(
                "plan {} ignored: region {} takes its plans from the plan service",
                plan.id,
                plan.region
            );
        }
        Self {
            local: ConfigPlans::new(local),
            remote,
            remote_regions,
        }
    }
}

#[async_trait]
impl PlanCatalog for RegionalPlans {
    /// A configured plan answers without a remote call, so orders on embedded regions keep
    /// working while the plan service is down.
    async fn get(&self, id: &PlanId) -> domain::Result<Option<Plan>> {
        match self.local.get(id).await? {
            Some(plan) => Ok(Some(plan)),
            None => self.remote.get(id).await,
        }
    }

    async fn list(&self, region: Option<Region>) -> domain::Result<Vec<Plan>> {
        match region {
            Some(region) if self.remote_regions.contains(&region) => {
                self.remote.list(Some(region)).await
            }
            Some(region) => self.local.list(Some(region)).await,
            None => {
                let mut plans = self.local.list(None).await?;
                plans.extend(self.remote.list(None).await?);
                Ok(plans)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::ports::MockPlanCatalog;

    use super::*;
    use crate::test_support::plan;

    fn region(name: &str) -> Region {
        Region::parse(name).unwrap()
    }

    fn ids(plans: Vec<Plan>) -> Vec<String> {
        plans.into_iter().map(|p| p.id.to_string()).collect()
    }

    /// Local plans `a` (embedded region `local`) and `shadow` (remote region `far`).
    fn catalog(remote: MockPlanCatalog) -> RegionalPlans {
        RegionalPlans::new(
            vec![plan("a", "local"), plan("shadow", "far")],
            Arc::new(remote),
            vec![region("far")],
        )
    }

    #[tokio::test]
    async fn a_configured_plan_is_found_without_asking_the_plan_service() {
        let mut remote = MockPlanCatalog::new();
        remote.expect_get().never();
        let found = catalog(remote)
            .get(&PlanId::parse("a").unwrap())
            .await
            .unwrap();
        assert_eq!(found, Some(plan("a", "local")));
    }

    #[tokio::test]
    async fn other_plans_come_from_the_plan_service_errors_included() {
        let mut remote = MockPlanCatalog::new();
        remote
            .expect_get()
            .withf(|id| id.as_str() == "r1")
            .returning(|_| Ok(Some(plan("r1", "far"))));
        remote
            .expect_get()
            .withf(|id| id.as_str() == "down")
            .returning(|_| Err(domain::Error::DependencyUnavailable("plan service".into())));
        let catalog = catalog(remote);
        assert_eq!(
            catalog.get(&PlanId::parse("r1").unwrap()).await.unwrap(),
            Some(plan("r1", "far"))
        );
        assert!(matches!(
            catalog.get(&PlanId::parse("down").unwrap()).await,
            Err(domain::Error::DependencyUnavailable(_))
        ));
    }

    #[tokio::test]
    async fn a_configured_plan_of_a_remote_region_is_ignored() {
        let mut remote = MockPlanCatalog::new();
        remote
            .expect_get()
            .withf(|id| id.as_str() == "shadow")
            .times(1)
            .returning(|_| Ok(None));
        let found = catalog(remote)
            .get(&PlanId::parse("shadow").unwrap())
            .await
            .unwrap();
        assert_eq!(found, None);
    }

    #[tokio::test]
    async fn a_region_is_listed_from_where_its_plans_come_from() {
        let mut remote = MockPlanCatalog::new();
        remote
            .expect_list()
            .withf(|r| r.as_ref().is_some_and(|r| r.as_str() == "far"))
            .times(1)
            .returning(|_| Ok(vec![plan("r1", "far")]));
        let catalog = catalog(remote);
        assert_eq!(
            ids(catalog.list(Some(region("far"))).await.unwrap()),
            ["r1"]
        );
        assert_eq!(
            ids(catalog.list(Some(region("local"))).await.unwrap()),
            ["a"]
        );
        assert!(catalog
            .list(Some(region("other")))
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn every_region_is_the_configured_plans_then_the_plan_services() {
        let mut remote = MockPlanCatalog::new();
        remote
            .expect_list()
            .withf(Option::is_none)
            .returning(|_| Ok(vec![plan("r1", "far"), plan("r2", "far")]));
        assert_eq!(
            ids(catalog(remote).list(None).await.unwrap()),
            ["a", "r1", "r2"]
        );
    }

    #[tokio::test]
    async fn every_region_fails_when_the_plan_service_does() {
        let mut remote = MockPlanCatalog::new();
        remote
            .expect_list()
            .returning(|_| Err(domain::Error::DependencyUnavailable("plan service".into())));
        assert!(catalog(remote).list(None).await.is_err());
    }
}
