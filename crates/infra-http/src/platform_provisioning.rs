//! The platform resources orders provide, created and released with the region's admin
//! token: a project quota (`quota`), a persistent volume (`volume`), a backing-service
//! instance (`service_instance`). Sizes come from the plan service's specification of the
//! order's plan, so a region provisioned remotely must also take its plans from the plan
//! service.
//!
//! The port hands over a [`Resource`], not an order: a resource whose order was never
//! written (its creation timed out) is released the same way. Whether a release is right
//! (no open order holds the resource any more) is the task runner's decision; releasing a
//! quota sets it to zero.
//!
//! Common rules: every call is logged with the order id (never a token); reads (GET) are
//! retried on transport errors and 5xx, writes are sent once. A `4xx` is
//! `ProvisioningFailed` (the platform refused), a `5xx`, `429`, timeout or connection error
//! is `DependencyUnavailable`; a name the platform already holds is
//! `DuplicateResourceName`. Releasing what is already gone succeeds.

mod call;
mod quota;
mod service_instance;
mod volume;

use std::sync::Arc;

use async_trait::async_trait;
use domain::ids::Region;
use domain::ports::Provisioning;
use domain::provisioning::{Resource, ResourceKind};
use domain::{Error, Result};

use crate::http::{parse_base_url, BuildError, HttpClient, HttpSettings, Secret};
use crate::plan_service::PlanService;
use crate::specification::{PlanSpecification, QuotaSize};
use crate::telemetry::Service;
use call::AdminCall;

/// One region's platform endpoints.
#[derive(Clone, Debug)]
pub struct PlatformRegion {
    pub region: Region,
    /// The platform API (`{api_url}/oapi/v1`, `{api_url}/api/v1`).
    pub api_url: String,
    /// The region's volume service; empty when the region sells no volumes.
    pub volume_url: String,
    pub admin_token: Secret,
}

/// [`Provisioning`] on the regions' platform APIs; plan sizes come from the plan service.
#[derive(Clone, Debug)]
pub struct PlatformProvisioning {
    regions: Vec<PlatformRegion>,
    plans: Arc<PlanService>,
    http: HttpClient,
}

impl PlatformProvisioning {
    pub fn new(
        regions: Vec<PlatformRegion>,
        plans: Arc<PlanService>,
        http: HttpSettings,
    ) -> Result<Self, BuildError> {
        let regions = regions
            .into_iter()
            .map(|r| {
                let volume_url = if r.volume_url.trim().is_empty() {
                    String::new()
                } else {
                    parse_base_url(&r.volume_url)?
                };
                Ok(PlatformRegion {
                    api_url: parse_base_url(&r.api_url)?,
                    volume_url,
                    ..r
                })
            })
            .collect::<Result<Vec<_>, BuildError>>()?;
        Ok(Self {
            regions,
            plans,
            http: HttpClient::new(Service::Provisioning, http)?,
        })
    }

    /// An admin call context for the resource's region.
    fn call<'a>(&'a self, resource: &'a Resource) -> Result<AdminCall<'a>> {
        let region = self
            .regions
            .iter()
            .find(|r| r.region == resource.region)
            .ok_or_else(|| {
                let why = format!(
                    "order {}: region {} has no platform provisioning",
                    resource.order_id, resource.region
                );
                log::error!("{why}");
                Error::Internal(why)
            })?;
        Ok(AdminCall::new(&self.http, resource, region))
    }

    async fn specification(&self, resource: &Resource) -> Result<PlanSpecification> {
        match self
            .plans
            .specification(&resource.plan_id, &resource.region)
            .await
        {
            Ok(Some(spec)) => Ok(spec),
            Ok(None) => Err(failed(
                resource,
                &format!("plan {} not found", resource.plan_id),
            )),
            Err(Error::PlanCatalogUnavailable(why)) => Err(Error::DependencyUnavailable(format!(
                "order {}: {why}",
                resource.order_id
            ))),
            Err(other) => Err(other),
        }
    }
}

fn failed(resource: &Resource, why: &str) -> Error {
    log::error!("order {}: {why}", resource.order_id);
    Error::ProvisioningFailed(format!("order {}: {why}", resource.order_id))
}

fn resource_name(resource: &Resource) -> Result<&str> {
    resource
        .name
        .as_ref()
        .map(|name| name.as_str())
        .ok_or_else(|| failed(resource, "the resource has no name"))
}

#[async_trait]
impl Provisioning for PlatformProvisioning {
    async fn provision(&self, resource: &Resource) -> Result<()> {
        let call = self.call(resource)?;
        let spec = self.specification(resource).await?;
        match resource.kind {
            ResourceKind::Quota => {
                let size = spec.quota().map_err(|why| failed(resource, &why))?;
                quota::set(&call, size).await
            }
            ResourceKind::Volume => {
                let size = spec.volume_gb().map_err(|why| failed(resource, &why))?;
                volume::create(&call, resource_name(resource)?, size).await
            }
            ResourceKind::ServiceInstance => {
                let service = spec
                    .backing_service()
                    .map_err(|why| failed(resource, &why))?;
                service_instance::create(&call, resource_name(resource)?, service).await
            }
        }
    }

    async fn release(&self, resource: &Resource) -> Result<()> {
        let call = self.call(resource)?;
        match resource.kind {
            ResourceKind::Quota => quota::set(&call, QuotaSize::NONE).await,
            ResourceKind::Volume => volume::delete(&call, resource_name(resource)?).await,
            ResourceKind::ServiceInstance => {
                service_instance::delete(&call, resource_name(resource)?).await
            }
        }
    }

    /// The platform's resources are created by calls, never by a store's change.
    fn kept_in_store(&self, _resource: &Resource) -> bool {
        false
    }
}
