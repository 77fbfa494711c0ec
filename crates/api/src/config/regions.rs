//! `[[regions]]`: which adapter serves each region's plans, money and resources. A region
//! that is not listed, like one listed with the defaults, is served by the embedded
//! adapters (configured plans, the store's ledger, resources recorded in the database).

use std::collections::HashSet;

use domain::ids::Region;
use infra_http::Secret;
use serde::Deserialize;

use super::env::{Deployment, Lookup, CHARGE_SERVICE, PLAN_SERVICE, PLATFORM_HOST};
use super::secrets::secret;
use super::urls::http_url;
use super::{at, invalid, ConfigError};

/// One region's adapters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionSettings {
    pub name: Region,
    pub plans: PlanSource,
    pub charging: ChargingSource,
    pub provisioning: ProvisioningSource,
}

/// Where a region's plans come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanSource {
    /// `[[plans]]` of the configuration.
    Config,
    /// The plan service at `url`.
    Remote { url: String },
}

/// Who keeps a region's balances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargingSource {
    /// The store's own ledger.
    Ledger,
    /// The charge service at `url`, called with the platform admin's token.
    Remote { url: String, admin_token: Secret },
}

/// Who creates a region's volumes, service instances and quotas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProvisioningSource {
    /// Recorded in the database only.
    Embedded,
    /// The platform API at `platform_url` and the volume service, with the admin's token.
    Remote {
        platform_url: String,
        volume_service: String,
        admin_token: Secret,
    },
}

impl RegionSettings {
    pub fn remote_plans(&self) -> Option<&str> {
        match &self.plans {
            PlanSource::Remote { url } => Some(url),
            PlanSource::Config => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub(super) struct RawRegion {
    name: String,
    plans: String,
    charging: String,
    provisioning: String,
    plan_service: String,
    charge_service: String,
    platform_url: String,
    volume_service: String,
    admin_token: String,
    admin_token_env: String,
}

impl Default for RawRegion {
    fn default() -> Self {
        Self {
            name: String::new(),
            plans: "config".into(),
            charging: "ledger".into(),
            provisioning: "embedded".into(),
            plan_service: String::new(),
            charge_service: String::new(),
            platform_url: String::new(),
            volume_service: String::new(),
            admin_token: String::new(),
            admin_token_env: String::new(),
        }
    }
}

/// Whether a region's adapter is the embedded one (`false`) or remote (`true`).
fn is_remote(key: &str, value: &str, embedded: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase() {
        v if v == embedded => Ok(false),
        v if v == "remote" => Ok(true),
        _ => Err(invalid(
            key,
            format!("{value:?} is neither \"{embedded}\" nor \"remote\""),
        )),
    }
}

/// The url of `key`, or the deployment variable's default when the key is empty; `None`
/// when both are empty.
fn url_or_default(
    key: &str,
    value: &str,
    default: Option<&str>,
    variable: &str,
) -> Result<Option<String>, ConfigError> {
    if !value.trim().is_empty() {
        return http_url(key, value).map(Some);
    }
    default
        .map(|url| http_url(&format!("{key} (from {variable})"), url))
        .transpose()
}

pub(super) fn validate_regions(
    raw: Vec<RawRegion>,
    deployment: &Deployment,
    env: Lookup<'_>,
) -> Result<Vec<RegionSettings>, ConfigError> {
    let mut seen = HashSet::new();
    let mut regions = Vec::with_capacity(raw.len());
    for (i, region) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("regions[{i}].{field}");
        let name = at(&key("name"), Region::parse(&region.name))?;
        if !seen.insert(name.clone()) {
            return Err(invalid(
                key("name"),
                format!("region {name} is listed twice"),
            ));
        }
        let required = |field: &str, variable: Option<&str>, with: &str| {
            let or_env = variable.map_or(String::new(), |v| format!(" (or set {v})"));
            invalid(
                key(field),
                format!("required with {with} = \"remote\"{or_env}"),
            )
        };
        let token = secret(
            &key("admin_token"),
            &region.admin_token,
            &region.admin_token_env,
            env,
        )?;
        let admin_token = |with: &str| {
            token
                .clone()
                .ok_or_else(|| required("admin_token", None, with))
        };

        let plans = if is_remote(&key("plans"), &region.plans, "config")? {
            let url = url_or_default(
                &key("plan_service"),
                &region.plan_service,
                deployment.plan_service.as_deref(),
                PLAN_SERVICE,
            )?
            .ok_or_else(|| required("plan_service", Some(PLAN_SERVICE), "plans"))?;
            PlanSource::Remote { url }
        } else {
            PlanSource::Config
        };

        let charging = if is_remote(&key("charging"), &region.charging, "ledger")? {
            let url = url_or_default(
                &key("charge_service"),
                &region.charge_service,
                deployment.charge_service.as_deref(),
                CHARGE_SERVICE,
            )?
            .ok_or_else(|| required("charge_service", Some(CHARGE_SERVICE), "charging"))?;
            ChargingSource::Remote {
                url,
                admin_token: admin_token("charging")?,
            }
        } else {
            ChargingSource::Ledger
        };

        let provisioning = if is_remote(&key("provisioning"), &region.provisioning, "embedded")? {
            // The platform is told a plan's sizes and service names, which only the plan
            // service knows: configured plans carry none.
            if plans == PlanSource::Config {
                return Err(invalid(
                    key("provisioning"),
                    "\"remote\" needs plans = \"remote\" in the same region (the plan \
                     service gives the sizes to provision)",
                ));
            }
            let platform_url = url_or_default(
                &key("platform_url"),
                &region.platform_url,
                deployment.platform_url.as_deref(),
                PLATFORM_HOST,
            )?
            .ok_or_else(|| required("platform_url", Some(PLATFORM_HOST), "provisioning"))?;
            let volume_service =
                url_or_default(&key("volume_service"), &region.volume_service, None, "")?
                    .ok_or_else(|| required("volume_service", None, "provisioning"))?;
            ProvisioningSource::Remote {
                platform_url,
                volume_service,
                admin_token: admin_token("provisioning")?,
            }
        } else {
            ProvisioningSource::Embedded
        };

        regions.push(RegionSettings {
            name,
            plans,
            charging,
            provisioning,
        });
    }
    Ok(regions)
}
