//! Ports made of mocks for the crate's unit tests: each test sets expectations only on the
//! mocks it needs; any other call fails the test. Also the plan and order the adapter and
//! job tests build on, so that a field added to either is filled in once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use domain::cycle::Cycle;
use domain::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, UserName};
use domain::order::{Order, OrderStatus};
use domain::payment::MoneyKeeper;
use domain::plan::{ChargingMode, Plan};
use domain::ports::{
    MockCharging, MockClock, MockConsumptionRepository, MockCreditQueue, MockIdGenerator,
    MockIdentity, MockLedgerRepository, MockNotificationRepository, MockNotifier,
    MockOrderRepository, MockPlanCatalog, MockProvisioning, MockReleaseQueue,
    MockRenewalRepository,
};
use domain::usecases::Ports;
use domain::Money;

/// Every port as a mock with no expectations, but for the money and provisioning ports,
/// which default to the embedded setup (see [`store_kept`]).
#[derive(Default)]
pub struct MockPorts {
    pub orders: MockOrderRepository,
    pub usages: MockConsumptionRepository,
    pub ledger: MockLedgerRepository,
    pub renewals: MockRenewalRepository,
    pub notifier: MockNotifier,
    pub notifications: MockNotificationRepository,
    pub plans: MockPlanCatalog,
    pub identity: MockIdentity,
    /// `None`: [`store_kept`].
    pub charging: Option<MockCharging>,
    /// `None`: nothing is ever due.
    pub credits: Option<MockCreditQueue>,
    /// `None`: no call expected.
    pub provisioning: Option<MockProvisioning>,
    /// `None`: nothing is ever pending.
    pub releases: Option<MockReleaseQueue>,
    pub clock: MockClock,
    pub ids: MockIdGenerator,
}

impl MockPorts {
    pub fn into_ports(self) -> Ports {
        Ports {
            orders: Arc::new(self.orders),
            usages: Arc::new(self.usages),
            ledger: Arc::new(self.ledger),
            renewals: Arc::new(self.renewals),
            notifier: Arc::new(self.notifier),
            notifications: Arc::new(self.notifications),
            plans: Arc::new(self.plans),
            identity: Arc::new(self.identity),
            charging: Arc::new(self.charging.unwrap_or_else(store_kept)),
            credits: Arc::new(self.credits.unwrap_or_else(nothing_due)),
            provisioning: Arc::new(self.provisioning.unwrap_or_default()),
            releases: Arc::new(self.releases.unwrap_or_else(nothing_pending)),
            clock: Arc::new(self.clock),
            ids: Arc::new(self.ids),
        }
    }
}

/// The store keeps every region's money: no region is the charge service's and no payment
/// may be sent.
fn store_kept() -> MockCharging {
    let mut charging = MockCharging::new();
    charging.expect_keeper().return_const(MoneyKeeper::Store);
    charging.expect_charged_regions().return_const(Vec::new());
    charging.expect_deduct().never();
    charging.expect_credit().never();
    charging
}

fn nothing_due() -> MockCreditQueue {
    let mut credits = MockCreditQueue::new();
    credits.expect_due().returning(|_, _| Ok(Vec::new()));
    credits
}

fn nothing_pending() -> MockReleaseQueue {
    let mut releases = MockReleaseQueue::new();
    releases.expect_pending().returning(|_, _| Ok(Vec::new()));
    releases
}

/// Ports whose clock says `now` and whose renewal store is `renewals`.
pub fn ports_with(renewals: MockRenewalRepository, now: DateTime<Utc>) -> Ports {
    let mut mocks = MockPorts {
        renewals,
        ..MockPorts::default()
    };
    mocks.clock.expect_now().return_const(now);
    mocks.into_ports()
}

/// A prepaid monthly `cpuquota` plan of 100.00 that needs no resource name.
pub fn plan(id: &str, region: &str) -> Plan {
    Plan {
        id: PlanId::parse(id).unwrap(),
        plan_type: PlanType::parse("cpuquota").unwrap(),
        region: Region::parse(region).unwrap(),
        mode: ChargingMode::Prepaid,
        price: Money::from_minor(10_000),
        cycle: Cycle::Month,
        requires_resource_name: false,
        description: String::new(),
    }
}

/// A consuming prepaid order of one `cpu-m` (`cpuquota`) in project `demo`, started and
/// due on 2026-01-31 10:00 UTC.
pub fn order(id: &str, region: &str) -> Order {
    let start = Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0).unwrap();
    Order {
        id: OrderId::parse(id).unwrap(),
        project: ProjectId::parse("demo").unwrap(),
        region: Region::parse(region).unwrap(),
        plan_id: PlanId::parse("cpu-m").unwrap(),
        plan_type: PlanType::parse("cpuquota").unwrap(),
        mode: ChargingMode::Prepaid,
        quantities: Quantity::ONE,
        start_time: start,
        end_time: None,
        deadline_time: start,
        status: OrderStatus::Consuming,
        creator: UserName::parse("demo").unwrap(),
        resource_name: None,
        last_consume_id: 1,
        renew_retries: 0,
        last_warned_at: None,
    }
}
