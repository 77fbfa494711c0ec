//! The plan catalog as listed in the configuration (`[[plans]]`).

use async_trait::async_trait;
use domain::ids::{PlanId, Region};
use domain::plan::Plan;
use domain::ports::PlanCatalog;

/// Plans from configuration, in the order the file lists them.
#[derive(Clone, Debug)]
pub struct ConfigPlans {
    plans: Vec<Plan>,
}

impl ConfigPlans {
    pub fn new(plans: Vec<Plan>) -> Self {
        Self { plans }
    }
}

#[async_trait]
impl PlanCatalog for ConfigPlans {
    async fn get(&self, id: &PlanId) -> domain::Result<Option<Plan>> {
        Ok(self.plans.iter().find(|p| p.id == *id).cloned())
    }

    async fn list(&self, region: Option<Region>) -> domain::Result<Vec<Plan>> {
        Ok(self
            .plans
            .iter()
            .filter(|p| region.as_ref().is_none_or(|r| p.region == *r))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::test_support::plan;

    fn catalog() -> ConfigPlans {
        ConfigPlans::new(vec![plan("a", "r1"), plan("b", "r2"), plan("c", "r1")])
    }

    #[tokio::test]
    async fn get_finds_a_plan_by_id_and_misses_unknown_ones() {
        let catalog = catalog();
        assert_eq!(
            catalog.get(&PlanId::parse("b").unwrap()).await.unwrap(),
            Some(plan("b", "r2"))
        );
        assert_eq!(
            catalog.get(&PlanId::parse("zz").unwrap()).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn list_filters_by_region_and_keeps_file_order() {
        let catalog = catalog();
        let ids = |plans: Vec<Plan>| {
            plans
                .into_iter()
                .map(|p| p.id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(catalog.list(None).await.unwrap()), ["a", "b", "c"]);
        assert_eq!(
            ids(catalog
                .list(Some(Region::parse("r1").unwrap()))
                .await
                .unwrap()),
            ["a", "c"]
        );
        assert!(catalog
            .list(Some(Region::parse("r9").unwrap()))
            .await
            .unwrap()
            .is_empty());
    }
}
