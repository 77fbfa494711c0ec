//! Ports made of mocks for the crate's unit tests: each test sets expectations only on the
//! mocks it needs; any other call fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::ports::{
    MockClock, MockConsumptionRepository, MockIdGenerator, MockIdentity, MockLedgerRepository,
    MockNotificationRepository, MockNotifier, MockOrderRepository, MockPlanCatalog,
    MockRenewalRepository,
};
use domain::usecases::Ports;

/// Every port as a mock with no expectations.
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
