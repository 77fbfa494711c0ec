//! The platform resources orders provide, created and released with the region's admin
//! token: a project quota (`quota`), a persistent volume (`volume`), a backing-service
//! instance (`service_instance`). Sizes come from the plan service's specification of the
//! order's plan, so a region provisioned remotely must also take its plans from the plan
//! service.
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
use domain::order::Order;
use domain::ports::Provisioning;
use domain::provisioning::ResourceKind;
use domain::{Error, Result};

use crate::http::{parse_base_url, BuildError, HttpClient, HttpSettings, Secret};
use crate::plan_service::PlanService;
use crate::specification::{PlanSpecification, QuotaSize};
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
            http: HttpClient::new(http)?,
        })
    }

    /// The order's resource kind and an admin call context for its region; `None` when
    /// its plan type provides nothing on the platform.
    fn call<'a>(&'a self, order: &'a Order) -> Result<Option<(ResourceKind, AdminCall<'a>)>> {
        let Some(kind) = ResourceKind::of(&order.plan_type) else {
            log::info!(
                "order {}: plan type {} provides no platform resource",
                order.id,
                order.plan_type
            );
            return Ok(None);
        };
        let region = self
            .regions
            .iter()
            .find(|r| r.region == order.region)
            .ok_or_else(|| {
                let why = format!(
                    "order {}: region {} has no platform provisioning",
                    order.id, order.region
                );
                log::error!("{why}");
                Error::Internal(why)
            })?;
        Ok(Some((kind, AdminCall::new(&self.http, order, region))))
    }

    async fn specification(&self, order: &Order) -> Result<PlanSpecification> {
        match self
            .plans
            .specification(&order.plan_id, &order.region)
            .await
        {
            Ok(Some(spec)) => Ok(spec),
            Ok(None) => Err(failed(order, &format!("plan {} not found", order.plan_id))),
            Err(Error::PlanCatalogUnavailable(why)) => Err(Error::DependencyUnavailable(format!(
                "order {}: {why}",
                order.id
            ))),
            Err(other) => Err(other),
        }
    }
}

fn failed(order: &Order, why: &str) -> Error {
    log::error!("order {}: {why}", order.id);
    Error::ProvisioningFailed(format!("order {}: {why}", order.id))
}

fn resource_name(order: &Order) -> Result<&str> {
    order
        .resource_name
        .as_ref()
        .map(|name| name.as_str())
        .ok_or_else(|| failed(order, "the order names no resource"))
}

#[async_trait]
impl Provisioning for PlatformProvisioning {
    async fn provision(&self, order: &Order) -> Result<()> {
        let Some((kind, call)) = self.call(order)? else {
            return Ok(());
        };
        let spec = self.specification(order).await?;
        match kind {
            ResourceKind::Quota => {
                let size = spec.quota().map_err(|why| failed(order, &why))?;
                quota::set(&call, size).await
            }
            ResourceKind::Volume => {
                let size = spec.volume_gb().map_err(|why| failed(order, &why))?;
                volume::create(&call, resource_name(order)?, size).await
            }
            ResourceKind::ServiceInstance => {
                let service = spec.backing_service().map_err(|why| failed(order, &why))?;
                service_instance::create(&call, resource_name(order)?, service).await
            }
        }
    }

    async fn release(&self, order: &Order) -> Result<()> {
        let Some((kind, call)) = self.call(order)? else {
            return Ok(());
        };
        match kind {
            ResourceKind::Quota => quota::set(&call, QuotaSize::NONE).await,
            ResourceKind::Volume => volume::delete(&call, resource_name(order)?).await,
            ResourceKind::ServiceInstance => {
                service_instance::delete(&call, resource_name(order)?).await
            }
        }
    }
}
