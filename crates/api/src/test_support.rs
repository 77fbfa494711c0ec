//! Ports made of mocks for the crate's unit tests: each test sets expectations only on the
//! mocks it needs; any other call fails the test. Also the plan and order the adapter and
//! job tests build on, so that a field added to either is filled in once. Tests that drive
//! use cases end to end use `domain::testing::Harness` instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::ports::{
    MockBooksRepository, MockChangeStore, MockCharging, MockClock, MockConsumptionRepository,
    MockIdGenerator, MockIdempotencyStore, MockIdentity, MockLedgerRepository,
    MockNotificationRepository, MockOrderRepository, MockPaymentRepository, MockPlanCatalog,
    MockProvisioning, MockRenewalRepository, MockTaskQueue,
};
use domain::usecases::Ports;

/// Every port as a mock with no expectations.
#[derive(Default)]
pub struct MockPorts {
    pub orders: MockOrderRepository,
    pub changes: MockChangeStore,
    pub usages: MockConsumptionRepository,
    pub ledger: MockLedgerRepository,
    pub renewals: MockRenewalRepository,
    pub payments: MockPaymentRepository,
    pub notifications: MockNotificationRepository,
    pub idempotency: MockIdempotencyStore,
    pub books: MockBooksRepository,
    pub plans: MockPlanCatalog,
    pub identity: MockIdentity,
    pub charging: MockCharging,
    pub provisioning: MockProvisioning,
    pub tasks: MockTaskQueue,
    pub clock: MockClock,
    pub ids: MockIdGenerator,
}

impl MockPorts {
    pub fn into_ports(self) -> Ports {
        Ports {
            orders: Arc::new(self.orders),
            changes: Arc::new(self.changes),
            usages: Arc::new(self.usages),
            ledger: Arc::new(self.ledger),
            renewals: Arc::new(self.renewals),
            payments: Arc::new(self.payments),
            notifications: Arc::new(self.notifications),
            idempotency: Arc::new(self.idempotency),
            books: Arc::new(self.books),
            plans: Arc::new(self.plans),
            identity: Arc::new(self.identity),
            charging: Arc::new(self.charging),
            provisioning: Arc::new(self.provisioning),
            tasks: Arc::new(self.tasks),
            clock: Arc::new(self.clock),
            ids: Arc::new(self.ids),
        }
    }
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

/// A prepaid monthly `cpuquota` plan of 1.00 that needs no resource name.
pub fn plan(id: &str, region: &str) -> domain::plan::Plan {
    domain::testing::PlanBuilder::default()
        .id(id)
        .plan_type("cpuquota")
        .region(region)
        .price("1")
        .build()
}

/// The state the handlers share, over `mocks` and a store health of `health`.
pub fn app_state(
    mocks: MockPorts,
    health: Arc<dyn domain::ports::StoreHealth>,
) -> actix_web::web::Data<crate::startup::AppState> {
    let ports = mocks.into_ports();
    let idempotency = ports.idempotency.clone();
    actix_web::web::Data::new(crate::startup::AppState {
        usecases: domain::usecases::UseCases::new(
            ports,
            domain::policy::BillingPolicy::default(),
            domain::usecases::SettlerSettings::default(),
        ),
        health,
        idempotency,
    })
}
