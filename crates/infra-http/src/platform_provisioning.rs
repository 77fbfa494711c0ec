//! SKELETON: platform provisioning.

use std::sync::Arc;

use async_trait::async_trait;
use domain::ids::Region;
use domain::order::Order;
use domain::ports::Provisioning;
use domain::{Error, Result};

use crate::http::{BuildError, HttpSettings, Secret};
use crate::plan_service::PlanService;

/// One region's platform endpoints.
#[derive(Clone, Debug)]
pub struct PlatformRegion {
    pub region: Region,
    /// The platform API (`{api_url}/oapi/v1`, `{api_url}/api/v1`).
    pub api_url: String,
    /// The region's volume service.
    pub volume_url: String,
    pub admin_token: Secret,
}

/// [`Provisioning`] on the regions' platform APIs; plan sizes come from the plan service.
#[derive(Clone, Debug)]
pub struct PlatformProvisioning {}

impl PlatformProvisioning {
    pub fn new(
        _regions: Vec<PlatformRegion>,
        _plans: Arc<PlanService>,
        _http: HttpSettings,
    ) -> Result<Self, BuildError> {
        Ok(Self {})
    }
}

#[async_trait]
impl Provisioning for PlatformProvisioning {
    async fn provision(&self, _order: &Order) -> Result<()> {
        Err(Error::Internal("SKELETON".into()))
    }

    async fn release(&self, _order: &Order) -> Result<()> {
        Err(Error::Internal("SKELETON".into()))
    }
}
