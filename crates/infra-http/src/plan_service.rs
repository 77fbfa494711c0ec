//! SKELETON: the plan service catalog.

use std::time::Duration;

use async_trait::async_trait;
use domain::ids::{PlanId, Region};
use domain::plan::Plan;
use domain::ports::PlanCatalog;
use domain::{Error, Result};

use crate::http::{BuildError, HttpSettings};

/// The plan service's raw specification of a plan, which provisioning reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanSpecification {
    pub plan_type: String,
    pub specification1: String,
    pub specification2: String,
    pub belong: String,
}

/// [`PlanCatalog`] on the plan services of several regions.
#[derive(Clone, Debug)]
pub struct PlanService {}

impl PlanService {
    /// One plan service per region (`(region, base url)`); answers are cached `cache_ttl`.
    pub fn new(
        _regions: Vec<(Region, String)>,
        _http: HttpSettings,
        _cache_ttl: Duration,
    ) -> Result<Self, BuildError> {
        Ok(Self {})
    }

    /// The plan's specification fields, for provisioning. `None`: no such plan.
    pub async fn specification(
        &self,
        _id: &PlanId,
        _region: &Region,
    ) -> Result<Option<PlanSpecification>> {
        Err(Error::Internal("SKELETON".into()))
    }
}

#[async_trait]
impl PlanCatalog for PlanService {
    async fn get(&self, _id: &PlanId) -> Result<Option<Plan>> {
        Err(Error::Internal("SKELETON".into()))
    }

    async fn list(&self, _region: Option<Region>) -> Result<Vec<Plan>> {
        Err(Error::Internal("SKELETON".into()))
    }
}
