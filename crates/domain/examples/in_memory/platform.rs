//! The gateways: the plan catalog, who the callers are, the charge service, the platform
//! that creates resources, the clock and the order ids. In a real deployment each one is
//! a client of another service (or the configuration); here each is a few lines of memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ids::{OrderId, PlanId, ProjectId, Region};
use domain::payment::Payment;
use domain::plan::Plan;
use domain::ports::{Charging, Clock, IdGenerator, Identity, PlanCatalog, Provisioning};
use domain::principal::Principal;
use domain::provisioning::Resource;
use domain::{Error, Result};

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A catalog that never changes.
pub struct Catalog(pub Vec<Plan>);

#[async_trait]
impl PlanCatalog for Catalog {
    async fn get(&self, id: &PlanId) -> Result<Option<Plan>> {
        Ok(self.0.iter().find(|plan| plan.id == *id).cloned())
    }

    async fn list(&self, region: Option<Region>) -> Result<Vec<Plan>> {
        let wanted = |plan: &&Plan| region.as_ref().is_none_or(|r| *r == plan.region);
        Ok(self.0.iter().filter(wanted).cloned().collect())
    }
}

/// Bearer tokens and the projects their users belong to.
pub struct Members {
    /// Token → the principal it stands for.
    pub tokens: HashMap<String, Principal>,
    /// Project → its members' names.
    pub projects: HashMap<ProjectId, Vec<String>>,
}

#[async_trait]
impl Identity for Members {
    async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.tokens
            .get(token)
            .cloned()
            .ok_or(Error::Unauthenticated)
    }

    async fn is_member(&self, principal: &Principal, project: &ProjectId) -> Result<bool> {
        let members = self
            .projects
            .get(project)
            .map(Vec::as_slice)
            .unwrap_or_default();
        Ok(members.iter().any(|name| name == principal.user.as_str()))
    }
}

/// No region here has a charge service: the policy leaves every region's money to the
/// local ledger (`BillingPolicy::charge_regions` is empty), which settles inside the
/// store's transaction, so the use cases never send a payment.
pub struct NoChargeService;

#[async_trait]
impl Charging for NoChargeService {
    async fn deduct(&self, payment: &Payment) -> Result<()> {
        Err(Error::Internal(format!(
            "no charge service for {}",
            payment.id
        )))
    }

    async fn credit(&self, payment: &Payment) -> Result<()> {
        Err(Error::Internal(format!(
            "no charge service for {}",
            payment.id
        )))
    }
}

/// A platform that creates whatever it is asked to and remembers what exists.
#[derive(Clone, Default)]
pub struct Platform(Arc<Mutex<Vec<String>>>);

impl Platform {
    /// The names of the resources that exist now.
    pub fn existing(&self) -> Vec<String> {
        locked(&self.0).clone()
    }
}

fn name(resource: &Resource) -> String {
    let name = resource.name.as_ref().map_or("quota", |n| n.as_str());
    format!("{:?} {name}", resource.kind).to_lowercase()
}

#[async_trait]
impl Provisioning for Platform {
    async fn provision(&self, resource: &Resource) -> Result<()> {
        let mut existing = locked(&self.0);
        let name = name(resource);
        if !existing.contains(&name) {
            existing.push(name);
        }
        Ok(())
    }

    async fn release(&self, resource: &Resource) -> Result<()> {
        let name = name(resource);
        locked(&self.0).retain(|existing| *existing != name);
        Ok(())
    }

    /// The example's platform keeps its resources itself, not in the store's changes.
    fn kept_in_store(&self, _resource: &Resource) -> bool {
        false
    }
}

/// A clock the example moves by hand, so a year passes in a moment.
#[derive(Clone)]
pub struct FakeClock(Arc<Mutex<DateTime<Utc>>>);

impl FakeClock {
    /// A clock stopped at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    /// Moves it to `now`.
    pub fn set(&self, now: DateTime<Utc>) {
        *locked(&self.0) = now;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *locked(&self.0)
    }
}

/// Order ids `order-1`, `order-2`, … (a real one is random: ids are public handles).
#[derive(Default)]
pub struct Counter(Mutex<u64>);

impl IdGenerator for Counter {
    fn order_id(&self) -> OrderId {
        let mut next = locked(&self.0);
        *next += 1;
        // Letters, digits and '-' only: a valid id whatever the count.
        OrderId::parse(&format!("order-{next}")).unwrap_or_else(|_| unreachable!())
    }
}
