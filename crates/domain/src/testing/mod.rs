//! Fixtures for tests of this crate and the crates that use it (behind the `testing`
//! feature, which only dev-dependencies turn on): small builders of orders and plans with
//! sensible defaults, so a test states only what it is about and a field added to an entity
//! is filled in once, here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};

use crate::consumption::{Consumption, ConsumptionKind};
use crate::cycle::{BusinessCalendar, Cycle};
use crate::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};
use crate::money::Money;
use crate::order::{Order, OrderStatus, Terms};
use crate::payment::MoneyKeeper;
use crate::plan::{ChargingMode, Plan};

/// An instant from RFC 3339 text.
pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// An amount from decimal text.
pub fn money(text: &str) -> Money {
    text.parse().unwrap()
}

/// Row `consume_id` of `order`, of `kind`, moving `amount`, over the order's first period.
pub fn row_of(order: &Order, consume_id: u32, amount: &str, kind: ConsumptionKind) -> Consumption {
    Consumption {
        order_id: order.id.clone(),
        consume_id,
        project: order.project.clone(),
        region: order.region.clone(),
        plan_id: order.plan_id.clone(),
        amount: money(amount),
        time: order.start_time,
        covered_until: order.deadline_time,
        kind,
    }
}

/// A plan; by default a prepaid monthly `volume` plan `plan-1` in `cn-north-1` at 100.00.
#[derive(Clone, Debug)]
pub struct PlanBuilder(Plan);

impl Default for PlanBuilder {
    fn default() -> Self {
        Self(Plan {
            id: PlanId::parse("plan-1").unwrap(),
            plan_type: PlanType::parse("volume").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            mode: ChargingMode::Prepaid,
            price: money("100"),
            cycle: Cycle::Month,
            requires_resource_name: false,
            description: "a plan".into(),
        })
    }
}

impl PlanBuilder {
    /// Another id, for a second plan in the catalog.
    pub fn id(mut self, id: &str) -> Self {
        self.0.id = PlanId::parse(id).unwrap();
        self
    }
    /// Another type, to test what depends on the resource kind.
    pub fn plan_type(mut self, plan_type: &str) -> Self {
        self.0.plan_type = PlanType::parse(plan_type).unwrap();
        self
    }
    /// Another region, to test regions kept by a charge service.
    pub fn region(mut self, region: &str) -> Self {
        self.0.region = Region::parse(region).unwrap();
        self
    }
    /// Postpaid or prepaid.
    pub fn mode(mut self, mode: ChargingMode) -> Self {
        self.0.mode = mode;
        self
    }
    /// Another price per cycle.
    pub fn price(mut self, price: &str) -> Self {
        self.0.price = money(price);
        self
    }
    /// Yearly or monthly.
    pub fn cycle(mut self, cycle: Cycle) -> Self {
        self.0.cycle = cycle;
        self
    }
    /// Orders must name their resource.
    pub fn named(mut self) -> Self {
        self.0.requires_resource_name = true;
        self
    }
    /// The plan.
    pub fn build(self) -> Plan {
        self.0
    }
}

/// An order; by default a consuming prepaid monthly `volume` order `order-1` of project
/// `demo` in `cn-north-1` at 100.00 a month, started 2017-01-01T00:00:00Z, its first cycle
/// paid (row #1, payment #1) until 2017-02-01, kept by the local ledger.
#[derive(Clone, Debug)]
pub struct OrderBuilder(Order);

impl Default for OrderBuilder {
    fn default() -> Self {
        Self(Order {
            id: OrderId::parse("order-1").unwrap(),
            project: ProjectId::parse("demo").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            plan_id: PlanId::parse("plan-1").unwrap(),
            plan_type: PlanType::parse("volume").unwrap(),
            mode: ChargingMode::Prepaid,
            quantities: Quantity::ONE,
            start_time: utc("2017-01-01T00:00:00Z"),
            end_time: None,
            deadline_time: utc("2017-02-01T00:00:00Z"),
            status: OrderStatus::Consuming,
            creator: UserName::parse("alice").unwrap(),
            resource_name: None,
            last_consume_id: 1,
            renew_retries: 0,
            last_warned_at: None,
            terms: Terms {
                cycle: Cycle::Month,
                price: money("100"),
                keeper: MoneyKeeper::LocalLedger,
            },
            version: 1,
            payment_seq: 1,
            awaiting_payment: None,
            replaces: None,
            replaced_by: None,
        })
    }
}

impl OrderBuilder {
    /// A postpaid order, nothing billed yet: its deadline is the end of its first cycle.
    pub fn postpaid(self) -> Self {
        let mut built = self.mode(ChargingMode::Postpaid);
        built.0.last_consume_id = 0;
        built.0.payment_seq = 0;
        built
    }
    /// Another id, for a second order.
    pub fn id(mut self, id: &str) -> Self {
        self.0.id = OrderId::parse(id).unwrap();
        self
    }
    /// Another project, to test what one project must not see of another.
    pub fn project(mut self, project: &str) -> Self {
        self.0.project = ProjectId::parse(project).unwrap();
        self
    }
    /// Another region (without changing the keeper: see [`OrderBuilder::keeper`]).
    pub fn region(mut self, region: &str) -> Self {
        self.0.region = Region::parse(region).unwrap();
        self
    }
    /// The plan's id, type, region, mode, cycle and price, as an order opened on it has them.
    pub fn plan(mut self, plan: &Plan) -> Self {
        self.0.plan_id = plan.id.clone();
        self.0.plan_type = plan.plan_type.clone();
        self.0.region = plan.region.clone();
        self.0.mode = plan.mode;
        self.0.terms.cycle = plan.cycle;
        self.0.terms.price = plan.price;
        self
    }
    /// Another type, to test what depends on the resource kind.
    pub fn plan_type(mut self, plan_type: &str) -> Self {
        self.0.plan_type = PlanType::parse(plan_type).unwrap();
        self
    }
    /// Postpaid or prepaid, leaving the rows as they are (see [`OrderBuilder::postpaid`]).
    pub fn mode(mut self, mode: ChargingMode) -> Self {
        self.0.mode = mode;
        self
    }
    /// Another number of units. Panics outside `1..=Quantity::MAX`.
    pub fn quantities(mut self, quantities: i64) -> Self {
        self.0.quantities = Quantity::new(quantities).unwrap();
        self
    }
    /// Starts at `start` with its first cycle (of its terms' cycle) as the deadline.
    pub fn start(mut self, start: &str) -> Self {
        self.0.start_time = utc(start);
        self.0.deadline_time = BusinessCalendar::default()
            .cycle_end(self.0.start_time, self.0.terms.cycle, 1)
            .unwrap();
        self
    }
    /// Another paid-until instant (say, overdue), leaving the start as it is.
    pub fn deadline(mut self, deadline: &str) -> Self {
        self.0.deadline_time = utc(deadline);
        self
    }
    /// Another status; the builder checks no transition.
    pub fn status(mut self, status: OrderStatus) -> Self {
        self.0.status = status;
        self
    }
    /// The last row; payments are numbered alike (one per row so far).
    pub fn last_consume_id(mut self, last: u32) -> Self {
        self.0.last_consume_id = last;
        self.0.payment_seq = last;
        self
    }
    /// Another price per cycle in its terms.
    pub fn price(mut self, price: &str) -> Self {
        self.0.terms.price = money(price);
        self
    }
    /// Yearly or monthly terms (call before [`OrderBuilder::start`] to move the deadline too).
    pub fn cycle(mut self, cycle: Cycle) -> Self {
        self.0.terms.cycle = cycle;
        self
    }
    /// Who keeps its money.
    pub fn keeper(mut self, keeper: MoneyKeeper) -> Self {
        self.0.terms.keeper = keeper;
        self
    }
    /// The resource it provides.
    pub fn resource_name(mut self, name: &str) -> Self {
        self.0.resource_name = Some(ResourceName::parse(name).unwrap());
        self
    }
    /// Failed renewal attempts so far.
    pub fn retries(mut self, retries: u32) -> Self {
        self.0.renew_retries = retries;
        self
    }
    /// When the last renewal-failed warning went out.
    pub fn warned_at(mut self, at: &str) -> Self {
        self.0.last_warned_at = Some(utc(at));
        self
    }
    /// The order.
    pub fn build(self) -> Order {
        self.0
    }
}

mod fakes;
mod faults;
mod memory;
pub mod model;

pub use fakes::{
    ChargeAnswer, FakeCharging, FakeProvisioning, FixedCatalog, OpenIdentity, SequentialIds,
    TestClock,
};
pub use faults::{Fault, Faults, FaultyChanges, FaultyRenewals};
pub use memory::MemoryStore;

use std::sync::Arc;

use crate::policy::BillingPolicy;
use crate::ports::{
    BooksRepository, ChangeStore, ConsumptionRepository, IdempotencyStore, LedgerRepository,
    NotificationRepository, OrderRepository, PaymentRepository, RenewalRepository, TaskQueue,
};
use crate::principal::Principal;
use crate::usecases::{Ports, SettlerSettings, UseCases};

/// The repositories of one store (the in-memory one, or the database's).
#[derive(Clone)]
pub struct StorePorts {
    /// Orders as read.
    pub orders: Arc<dyn OrderRepository>,
    /// Change writes.
    pub changes: Arc<dyn ChangeStore>,
    /// Consumption history.
    pub usages: Arc<dyn ConsumptionRepository>,
    /// The local ledger.
    pub ledger: Arc<dyn LedgerRepository>,
    /// The renewal engine's store.
    pub renewals: Arc<dyn RenewalRepository>,
    /// Payments.
    pub payments: Arc<dyn PaymentRepository>,
    /// Events kept for projects.
    pub notifications: Arc<dyn NotificationRepository>,
    /// Keyed requests.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The books `reconcile` reads.
    pub books: Arc<dyn BooksRepository>,
    /// Resource tasks.
    pub tasks: Arc<dyn TaskQueue>,
}

impl StorePorts {
    /// Every repository over `store`.
    pub fn memory(store: &MemoryStore) -> Self {
        Self {
            orders: Arc::new(store.clone()),
            changes: Arc::new(store.clone()),
            usages: Arc::new(store.clone()),
            ledger: Arc::new(store.clone()),
            renewals: Arc::new(store.clone()),
            payments: Arc::new(store.clone()),
            notifications: Arc::new(store.clone()),
            idempotency: Arc::new(store.clone()),
            books: Arc::new(store.clone()),
            tasks: Arc::new(store.clone()),
        }
    }
}

/// The use cases over a store and the fakes, with faults in front of the store's commits,
/// each part kept for the test to drive and inspect.
#[derive(Clone)]
pub struct World {
    /// The use cases, wired to everything below.
    pub usecases: UseCases,
    /// The store's repositories, as the use cases see them (without the faults).
    pub store: StorePorts,
    /// Faults to inject in front of the store's commits and renewals.
    pub faults: Faults,
    /// The charge service, with scriptable answers.
    pub charging: FakeCharging,
    /// The platform, recording what it was asked to create and release.
    pub provisioning: FakeProvisioning,
    /// The clock every use case reads; move it to pass time.
    pub clock: TestClock,
    /// The catalog, editable while the test runs.
    pub catalog: FixedCatalog,
}

impl World {
    /// `plans` in the catalog, the clock at `now`, `store` behind [`Faults`].
    pub fn over(
        store: StorePorts,
        policy: BillingPolicy,
        plans: Vec<Plan>,
        now: DateTime<Utc>,
    ) -> Self {
        let faults = Faults::default();
        let charging = FakeCharging::default();
        let provisioning = FakeProvisioning::default();
        let clock = TestClock::at(now);
        let catalog = FixedCatalog::with(plans);
        let ports = Ports {
            orders: store.orders.clone(),
            changes: Arc::new(FaultyChanges {
                inner: store.changes.clone(),
                faults: faults.clone(),
            }),
            usages: store.usages.clone(),
            ledger: store.ledger.clone(),
            renewals: Arc::new(FaultyRenewals {
                inner: store.renewals.clone(),
                faults: faults.clone(),
            }),
            payments: store.payments.clone(),
            notifications: store.notifications.clone(),
            idempotency: store.idempotency.clone(),
            books: store.books.clone(),
            plans: Arc::new(catalog.clone()),
            identity: Arc::new(OpenIdentity),
            charging: Arc::new(charging.clone()),
            provisioning: Arc::new(provisioning.clone()),
            tasks: store.tasks.clone(),
            clock: Arc::new(clock.clone()),
            ids: Arc::new(SequentialIds::default()),
        };
        Self {
            usecases: UseCases::new(ports, policy, SettlerSettings::default()),
            store,
            faults,
            charging,
            provisioning,
            clock,
            catalog,
        }
    }
}

/// A [`World`] over a [`MemoryStore`], kept too for its inspection helpers.
#[derive(Clone)]
pub struct Harness {
    /// The use cases, wired to everything below.
    pub usecases: UseCases,
    /// The store, with its inspection helpers.
    pub store: MemoryStore,
    /// Faults to inject in front of the store's commits and renewals.
    pub faults: Faults,
    /// The charge service, with scriptable answers.
    pub charging: FakeCharging,
    /// The platform, recording what it was asked to create and release.
    pub provisioning: FakeProvisioning,
    /// The clock every use case reads; move it to pass time.
    pub clock: TestClock,
    /// The catalog, editable while the test runs.
    pub catalog: FixedCatalog,
}

impl Harness {
    /// `plans` in the catalog, the clock at `now`.
    pub fn new(policy: BillingPolicy, plans: Vec<Plan>, now: DateTime<Utc>) -> Self {
        let store = MemoryStore::new();
        let world = World::over(StorePorts::memory(&store), policy, plans, now);
        Self {
            usecases: world.usecases,
            store,
            faults: world.faults,
            charging: world.charging,
            provisioning: world.provisioning,
            clock: world.clock,
            catalog: world.catalog,
        }
    }
}

/// A member of every project (see [`OpenIdentity`]), or with `admin`, an admin.
pub fn principal(name: &str) -> Principal {
    Principal {
        user: UserName::parse(name).unwrap(),
        admin: name == "admin",
        credential: None,
    }
}
