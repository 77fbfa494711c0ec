//! The plan catalog on the platform's plan service, one per region, as the original read it.
//!
//! Contract assumed of the plan service (no authentication is sent):
//! - `GET {base}/charge/v1/plans/{planId}?region={region}` answers `200` with the envelope
//!   `{"code":0,"msg":"OK","data":{…plan…}}`; a plan that does not exist (or was deleted)
//!   is `200` with no `data` (absent or `null`), or with a `data` whose `plan_id` is empty
//!   (the original then saw an all-empty plan).
//! - A plan is `{plan_id, plan_name, plan_type, plan_level, belong, specification1,
//!   specification2, price, cycle, region, status}`. `price` is a JSON number (a JSON
//!   string holding one is accepted too) converted exactly to `Money`; `plan_type` and
//!   `cycle` in any case (`m`/`month`, `y`/`year`). `plan_level` and `status` are not read:
//!   the service only answers active plans. `region` should be the asked region; if not,
//!   the asked one wins and a warning is logged, as in the original.
//! - `GET {base}/charge/v1/plans?region={region}&page={n}&size=100` (pages from 1, at most
//!   100 plans a page) answers `{"code":0,"msg":"OK","data":{"total":N,"results":[…plans…]}}`
//!   (`results` may be `null` on an empty page). Pages are read until one comes back short
//!   or `total` plans have been read.
//!
//! Every plan is prepaid (the plan service knows no other mode), and `volume` and `bsi`
//! plans require a resource name. Any other status, a body that is not that JSON, an
//! envelope `code` other than 0, a timeout or a plan that does not convert is
//! `PlanCatalogUnavailable`, with the cause logged. Found plans are cached for the
//! configured time; misses and errors never are.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::cycle::Cycle;
use domain::ids::{PlanId, PlanType, Region};
use domain::plan::{ChargingMode, Plan};
use domain::ports::PlanCatalog;
use domain::{Error, Result};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::cache::TtlCache;
use crate::http::{parse_base_url, BuildError, HttpClient, HttpSettings, Reply};
use crate::json_money;
pub use crate::specification::PlanSpecification;
use crate::telemetry::Service;

/// Plans asked for per list page: the plan service's maximum.
const PAGE_SIZE: usize = 100;
/// List pages read per region at most, a guard against a service that never runs short.
const PAGES_MAX: u32 = 1000;

/// [`PlanCatalog`] on the plan services of several regions.
#[derive(Clone, Debug)]
pub struct PlanService {
    regions: Vec<PlanRegion>,
    http: HttpClient,
    cache: Arc<TtlCache<(PlanId, Region), RemotePlan>>,
}

#[derive(Clone, Debug)]
struct PlanRegion {
    region: Region,
    base: String,
}

/// A plan as the catalog uses it, with the fields provisioning reads.
#[derive(Clone, Debug)]
struct RemotePlan {
    plan: Plan,
    specification: PlanSpecification,
}

impl PlanService {
    /// One plan service per region (`(region, base url)`); answers are cached `cache_ttl`.
    pub fn new(
        regions: Vec<(Region, String)>,
        http: HttpSettings,
        cache_ttl: Duration,
    ) -> Result<Self, BuildError> {
        let regions = regions
            .into_iter()
            .map(|(region, url)| {
                Ok(PlanRegion {
                    region,
                    base: parse_base_url(&url)?,
                })
            })
            .collect::<Result<Vec<_>, BuildError>>()?;
        Ok(Self {
            regions,
            http: HttpClient::new(Service::Plans, http)?,
            cache: Arc::new(TtlCache::new(cache_ttl)),
        })
    }

    /// The plan's specification fields, for provisioning. `None`: no such plan.
    /// Errors: `PlanCatalogUnavailable`; `Internal` when the region has no plan service.
    pub async fn specification(
        &self,
        id: &PlanId,
        region: &Region,
    ) -> Result<Option<PlanSpecification>> {
        let service = self
            .regions
            .iter()
            .find(|r| &r.region == region)
            .ok_or_else(|| Error::Internal(format!("no plan service for region {region}")))?;
        Ok(self
            .cached_or_fetched(service, id)
            .await?
            .map(|remote| remote.specification))
    }

    async fn cached_or_fetched(
        &self,
        service: &PlanRegion,
        id: &PlanId,
    ) -> Result<Option<RemotePlan>> {
        let key = (id.clone(), service.region.clone());
        if let Some(hit) = self.cache.get(&key) {
            return Ok(Some(hit));
        }
        let found = self.fetch(service, id).await?;
        if let Some(remote) = &found {
            self.cache.insert(key, remote.clone());
        }
        Ok(found)
    }

    async fn fetch(&self, service: &PlanRegion, id: &PlanId) -> Result<Option<RemotePlan>> {
        let region = &service.region;
        let what = format!("plan service ({region}): plan {id}");
        let url = format!("{}/charge/v1/plans/{id}", service.base);
        let reply = self
            .http
            .get(&what, |client| {
                client.get(&url).query(&[("region", region.as_str())])
            })
            .await
            .map_err(|e| unavailable(&what, &e.to_string()))?;
        let envelope: Envelope<PlanDto> = envelope(&what, &reply)?;
        let Some(dto) = envelope.data.filter(|d| !d.plan_id.is_empty()) else {
            log::info!("{what}: not found");
            return Ok(None);
        };
        let remote = dto
            .convert(region)
            .map_err(|why| unavailable(&what, &format!("malformed plan: {why}")))?;
        // An answer about another plan would bill the order at that plan's price.
        if !remote.plan.id.as_str().eq_ignore_ascii_case(id.as_str()) {
            return Err(unavailable(
                &what,
                &format!("answered plan {} instead", remote.plan.id),
            ));
        }
        Ok(Some(remote))
    }

    async fn list_region(&self, service: &PlanRegion) -> Result<Vec<Plan>> {
        let region = &service.region;
        let url = format!("{}/charge/v1/plans", service.base);
        let mut plans = Vec::new();
        let mut read = 0usize;
        for page in 1..=PAGES_MAX {
            let what = format!("plan service ({region}): plans page {page}");
            let reply = self
                .http
                .get(&what, |client| {
                    client.get(&url).query(&[
                        ("region", region.as_str()),
                        ("page", &page.to_string()),
                        ("size", &PAGE_SIZE.to_string()),
                    ])
                })
                .await
                .map_err(|e| unavailable(&what, &e.to_string()))?;
            let envelope: Envelope<ListDto> = envelope(&what, &reply)?;
            let list = envelope.data.unwrap_or_default();
            let results = list.results.unwrap_or_default();
            let count = results.len();
            read += count;
            for dto in results {
                let plan_id = dto.plan_id.clone();
                // One bad row must not hide the whole catalog: it is left out and logged,
                // and asking for it by id reports the error.
                match dto.convert(region) {
                    Ok(remote) => plans.push(remote.plan),
                    Err(why) => log::error!("{what}: plan {plan_id:?} left out: {why}"),
                }
            }
            let total_reached = list.total.is_some_and(|total| read as u64 >= total);
            if count < PAGE_SIZE || total_reached {
                return Ok(plans);
            }
        }
        Err(unavailable(
            &format!("plan service ({region})"),
            &format!("more than {PAGES_MAX} pages of plans"),
        ))
    }
}

#[async_trait]
impl PlanCatalog for PlanService {
    /// Asks the regions in configured order; the first that has the plan wins. A region
    /// that cannot answer fails the lookup (a later region's answer might not be the one
    /// the earlier region would have given).
    async fn get(&self, id: &PlanId) -> Result<Option<Plan>> {
        for service in &self.regions {
            if let Some(hit) = self.cache.get(&(id.clone(), service.region.clone())) {
                return Ok(Some(hit.plan));
            }
        }
        for service in &self.regions {
            if let Some(remote) = self.cached_or_fetched(service, id).await? {
                return Ok(Some(remote.plan));
            }
        }
        Ok(None)
    }

    /// Every plan of the region (of every configured region for `None`); a region
    /// without a plan service has none here.
    async fn list(&self, region: Option<Region>) -> Result<Vec<Plan>> {
        let mut plans = Vec::new();
        for service in &self.regions {
            if region.as_ref().is_none_or(|r| r == &service.region) {
                plans.extend(self.list_region(service).await?);
            }
        }
        Ok(plans)
    }
}

/// The plan service's answer shape.
#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    msg: Option<String>,
    data: Option<T>,
}

/// A `200` envelope with code 0 (or none), or the reason it is not one.
fn envelope<T: serde::de::DeserializeOwned>(what: &str, reply: &Reply) -> Result<Envelope<T>> {
    if !reply.is_success() {
        return Err(unavailable(what, &reply.summary(None)));
    }
    let envelope: Envelope<T> = reply
        .json()
        .map_err(|e| unavailable(what, &format!("malformed answer: {e}")))?;
    match envelope.code {
        None | Some(0) => Ok(envelope),
        Some(code) => Err(unavailable(
            what,
            &format!(
                "answered code {code}: {}",
                envelope.msg.as_deref().unwrap_or_default()
            ),
        )),
    }
}

fn unavailable(what: &str, why: &str) -> Error {
    log::error!("{what}: {why}");
    Error::PlanCatalogUnavailable(format!("{what}: {why}"))
}

#[derive(Default, Deserialize)]
struct ListDto {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    results: Option<Vec<PlanDto>>,
}

/// A plan as the plan service sends it; `null` strings read as empty.
#[derive(Deserialize)]
struct PlanDto {
    #[serde(default, deserialize_with = "nullable")]
    plan_id: String,
    #[serde(default, deserialize_with = "nullable")]
    plan_name: String,
    #[serde(default, deserialize_with = "nullable")]
    plan_type: String,
    #[serde(default, deserialize_with = "nullable")]
    belong: String,
    #[serde(default, deserialize_with = "nullable")]
    specification1: String,
    #[serde(default, deserialize_with = "nullable")]
    specification2: String,
    #[serde(default)]
    price: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "nullable")]
    cycle: String,
    #[serde(default, deserialize_with = "nullable")]
    region: String,
}

fn nullable<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

impl PlanDto {
    /// The plan as asked for in `region`, or why it is malformed.
    fn convert(self, region: &Region) -> Result<RemotePlan, String> {
        let id = PlanId::parse(&self.plan_id).map_err(|e| e.to_string())?;
        let plan_type = PlanType::parse(&self.plan_type).map_err(|e| e.to_string())?;
        let cycle = Cycle::parse(&self.cycle).map_err(|e| e.to_string())?;
        let price = match &self.price {
            Some(raw) => json_money::price(raw).map_err(|e| e.to_string())?,
            None => return Err("price is missing".to_owned()),
        };
        if !self.region.eq_ignore_ascii_case(region.as_str()) {
            log::warn!(
                "plan service ({region}): plan {id} says region {:?}; using {region}",
                self.region
            );
        }
        let requires_resource_name = matches!(plan_type.as_str(), "volume" | "bsi");
        let description = describe(
            &self.plan_name,
            &[&self.specification1, &self.specification2],
        );
        Ok(RemotePlan {
            specification: PlanSpecification {
                plan_type: plan_type.as_str().to_owned(),
                specification1: self.specification1,
                specification2: self.specification2,
                belong: self.belong,
            },
            plan: Plan {
                id,
                plan_type,
                region: region.clone(),
                mode: ChargingMode::Prepaid,
                price,
                cycle,
                requires_resource_name,
                description,
            },
        })
    }
}

/// `"name: spec1, spec2"`, leaving out what is blank.
fn describe(name: &str, specifications: &[&str]) -> String {
    let specs: Vec<&str> = specifications
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let name = name.trim();
    match (name.is_empty(), specs.is_empty()) {
        (_, true) => name.to_owned(),
        (true, false) => specs.join(", "),
        (false, false) => format!("{name}: {}", specs.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_joins_the_name_and_the_specifications() {
        assert_eq!(
            describe("Standard", &["16 CPU Cores", "32 GB RAM"]),
            "Standard: 16 CPU Cores, 32 GB RAM"
        );
        assert_eq!(describe("Volume", &["16 GB", ""]), "Volume: 16 GB");
        assert_eq!(describe("", &["16 GB", " "]), "16 GB");
        assert_eq!(describe("Only name", &["", ""]), "Only name");
    }
}
