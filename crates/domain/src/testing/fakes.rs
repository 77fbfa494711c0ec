//! Fakes of the gateways for state-based tests: a charge service modelled on the contract
//! (each id taken at most once per direction, a repeat confirmed with the amount first
//! taken, deductions declined for want of balance) whose answers can be scripted (taken
//! then timed out, timed out before taking), provisioning that records what it did, a
//! clock tests move, sequential ids, a fixed catalog and an identity that knows everyone.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{Error, Result};
use crate::ids::{OrderId, PlanId, ProjectId, Region, UserName};
use crate::money::Money;
use crate::payment::{Payment, PaymentDirection};
use crate::plan::Plan;
use crate::ports::{Charging, Clock, IdGenerator, Identity, PlanCatalog, Provisioning};
use crate::principal::Principal;
use crate::provisioning::Resource;

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// How the fake charge service answers one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeAnswer {
    /// As the contract says: taken (or a confirmed repeat), or declined.
    Normal,
    /// Applies the payment, then the answer is lost (a timeout after taking).
    TakeThenTimeOut,
    /// Times out without applying it.
    TimeOutBeforeTaking,
    /// Declines a deduction whatever the balance (one already taken is still confirmed).
    Decline,
}

#[derive(Debug, Default)]
struct ChargeState {
    balances: BTreeMap<ProjectId, Money>,
    /// (direction, id) → amount taken under it.
    taken: BTreeMap<(bool, String), Money>,
    script: VecDeque<ChargeAnswer>,
    requests: u64,
}

/// The charge service model; clones share it.
#[derive(Clone, Debug, Default)]
pub struct FakeCharging(Arc<Mutex<ChargeState>>);

impl FakeCharging {
    /// Sets a project's balance at the charge service.
    pub fn fund(&self, project: &ProjectId, amount: Money) {
        locked(&self.0).balances.insert(project.clone(), amount);
    }

    /// The project's balance at the charge service, to check what it took.
    pub fn balance(&self, project: &ProjectId) -> Money {
        locked(&self.0)
            .balances
            .get(project)
            .copied()
            .unwrap_or(Money::ZERO)
    }

    /// The next requests are answered so, in order; then normally.
    pub fn script(&self, answers: impl IntoIterator<Item = ChargeAnswer>) {
        locked(&self.0).script.extend(answers);
    }

    /// Pretends `id` was already taken as a deduction of `amount` (another amount than the
    /// service under test will send provokes a mismatch).
    pub fn already_taken(&self, id: &str, amount: Money) {
        locked(&self.0).taken.insert((true, id.to_owned()), amount);
    }

    /// What was taken (deductions) and given back (credits) per id, net per order.
    pub fn net_by_order(&self) -> BTreeMap<String, Money> {
        let state = locked(&self.0);
        let mut net = BTreeMap::new();
        for ((deduction, id), amount) in &state.taken {
            let order = id
                .strip_prefix("pay:")
                .and_then(|rest| rest.rsplit_once(':'))
                .map_or(id.as_str(), |(order, _)| order)
                .to_owned();
            let total: &mut Money = net.entry(order).or_insert(Money::ZERO);
            let signed = if *deduction {
                *amount
            } else {
                Money::from_minor(-amount.minor())
            };
            *total = total.checked_add(signed).unwrap_or(Money::MAX);
        }
        net
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        locked(&self.0).requests
    }

    fn pay(&self, payment: &Payment) -> Result<()> {
        let mut state = locked(&self.0);
        state.requests += 1;
        let answer = state.script.pop_front().unwrap_or(ChargeAnswer::Normal);
        let deduction = payment.direction == PaymentDirection::Deduction;
        let key = (deduction, payment.id.to_string());
        match answer {
            ChargeAnswer::TimeOutBeforeTaking => {
                return Err(Error::DependencyUnavailable("timed out".into()))
            }
            // The contract: a payment already taken is confirmed, never declined.
            ChargeAnswer::Decline if deduction && !state.taken.contains_key(&key) => {
                return Err(Error::PaymentDeclined {
                    needed: payment.amount,
                    detail: "declined".into(),
                })
            }
            _ => {}
        }
        if let Some(taken) = state.taken.get(&key) {
            if *taken != payment.amount {
                return Err(Error::PaymentMismatch(format!(
                    "{} holds {taken}, not {}",
                    payment.id, payment.amount
                )));
            }
        } else {
            let balance = state
                .balances
                .get(&payment.project)
                .copied()
                .unwrap_or(Money::ZERO);
            let after = if deduction {
                balance.checked_sub(payment.amount)
            } else {
                balance.checked_add(payment.amount)
            }
            .ok_or_else(|| Error::Internal("overflow".into()))?;
            if after.is_negative() {
                return Err(Error::PaymentDeclined {
                    needed: payment.amount,
                    detail: "insufficient balance".into(),
                });
            }
            state.balances.insert(payment.project.clone(), after);
            state.taken.insert(key, payment.amount);
        }
        match answer {
            ChargeAnswer::TakeThenTimeOut => Err(Error::DependencyUnavailable(
                "timed out after taking".into(),
            )),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Charging for FakeCharging {
    async fn deduct(&self, payment: &Payment) -> Result<()> {
        self.pay(payment)
    }

    async fn credit(&self, payment: &Payment) -> Result<()> {
        self.pay(payment)
    }
}

/// Provisioning that records what it did; a scripted answer fails the next call. A
/// platform's by default; [`FakeProvisioning::keep_in_store`] makes it the store's.
#[derive(Clone, Debug, Default)]
pub struct FakeProvisioning {
    log: Arc<Mutex<Vec<String>>>,
    failures: Arc<Mutex<VecDeque<Error>>>,
    in_store: Arc<Mutex<bool>>,
}

impl FakeProvisioning {
    /// Resources are the store's records from now on (see
    /// [`Provisioning::kept_in_store`]): changes create them.
    pub fn keep_in_store(&self) {
        *locked(&self.in_store) = true;
    }

    /// The next calls fail so, in order.
    pub fn fail_next(&self, error: Error) {
        locked(&self.failures).push_back(error);
    }

    /// "provision {order}" / "release {order}", in order.
    pub fn log(&self) -> Vec<String> {
        locked(&self.log).clone()
    }

    fn call(&self, what: &str, resource: &Resource) -> Result<()> {
        locked(&self.log).push(format!("{what} {}", resource.order_id));
        match locked(&self.failures).pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Provisioning for FakeProvisioning {
    async fn provision(&self, resource: &Resource) -> Result<()> {
        self.call("provision", resource)
    }

    async fn release(&self, resource: &Resource) -> Result<()> {
        self.call("release", resource)
    }

    fn kept_in_store(&self, _resource: &Resource) -> bool {
        *locked(&self.in_store)
    }
}

/// A clock that tests set and move.
#[derive(Clone, Debug)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    /// A clock stopped at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    /// Jumps to `now` (backwards too).
    pub fn set(&self, now: DateTime<Utc>) {
        *locked(&self.0) = now;
    }

    /// Lets time pass.
    pub fn advance(&self, by: TimeDelta) {
        let mut now = locked(&self.0);
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *locked(&self.0)
    }
}

/// Order ids `order-1`, `order-2`, ….
#[derive(Clone, Debug, Default)]
pub struct SequentialIds(Arc<Mutex<u64>>);

impl IdGenerator for SequentialIds {
    fn order_id(&self) -> OrderId {
        let mut next = locked(&self.0);
        *next += 1;
        OrderId::parse(&format!("order-{next}")).unwrap_or_else(|_| unreachable!())
    }
}

/// A catalog of fixed plans.
#[derive(Clone, Debug, Default)]
pub struct FixedCatalog(Arc<Mutex<HashMap<PlanId, Plan>>>);

impl FixedCatalog {
    /// A catalog of `plans`.
    pub fn with(plans: impl IntoIterator<Item = Plan>) -> Self {
        let catalog = Self::default();
        for plan in plans {
            catalog.put(plan);
        }
        catalog
    }

    /// Adds or replaces a plan (an edit of the catalog).
    pub fn put(&self, plan: Plan) {
        locked(&self.0).insert(plan.id.clone(), plan);
    }
}

#[async_trait]
impl PlanCatalog for FixedCatalog {
    async fn get(&self, id: &PlanId) -> Result<Option<Plan>> {
        Ok(locked(&self.0).get(id).cloned())
    }

    async fn list(&self, region: Option<Region>) -> Result<Vec<Plan>> {
        Ok(locked(&self.0)
            .values()
            .filter(|p| region.as_ref().is_none_or(|r| *r == p.region))
            .cloned()
            .collect())
    }
}

/// Every token is the user of that name; `admin` is an admin; everyone is a member of
/// every project.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenIdentity;

#[async_trait]
impl Identity for OpenIdentity {
    async fn authenticate(&self, token: &str) -> Result<Principal> {
        Ok(Principal {
            user: UserName::parse(token).map_err(|_| Error::Unauthenticated)?,
            admin: token == "admin",
            credential: None,
        })
    }

    async fn is_member(&self, _principal: &Principal, _project: &ProjectId) -> Result<bool> {
        Ok(true)
    }
}
