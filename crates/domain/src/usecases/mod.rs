//! The use cases: one file each, all methods of [`UseCases`], which holds the ports the
//! configuration picked and the billing policy.

use std::sync::Arc;

use crate::cycle::BusinessCalendar;
use crate::ports::{
    Charging, Clock, ConsumptionRepository, CreditQueue, IdGenerator, Identity, LedgerRepository,
    NotificationRepository, Notifier, OrderRepository, PlanCatalog, Provisioning, ReleaseQueue,
    RenewalRepository,
};
use crate::renewal::RenewalSettings;

mod authorize;
mod balances;
mod cancel_order;
mod closing;
mod create_order;
mod deliver_credits;
mod events;
mod get_order;
mod list_notifications;
mod list_orders;
mod list_plans;
mod list_usages;
mod payments;
mod provision;
mod release;
mod renew;
mod renew_charged;
mod switch_order;

pub use cancel_order::{CancelOrderRequest, CancelOutcome, OrderAction};
pub use create_order::{CreateOrderOutcome, CreateOrderRequest, Quote};
pub use deliver_credits::CreditTally;
pub use release::ReleaseTally;
pub use renew::{RenewalReport, RenewalTally};

/// The adapters the use cases talk to.
#[derive(Clone)]
pub struct Ports {
    pub orders: Arc<dyn OrderRepository>,
    pub usages: Arc<dyn ConsumptionRepository>,
    pub ledger: Arc<dyn LedgerRepository>,
    pub renewals: Arc<dyn RenewalRepository>,
    pub notifier: Arc<dyn Notifier>,
    pub notifications: Arc<dyn NotificationRepository>,
    pub plans: Arc<dyn PlanCatalog>,
    pub identity: Arc<dyn Identity>,
    /// Which regions' money a charge service keeps, and the way to it.
    pub charging: Arc<dyn Charging>,
    /// Credits owed through the charge service, queued with their rows.
    pub credits: Arc<dyn CreditQueue>,
    pub provisioning: Arc<dyn Provisioning>,
    /// Releases that failed when their order ended, retried until they succeed.
    pub releases: Arc<dyn ReleaseQueue>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

/// Billing rules that deployments choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillingPolicy {
    /// The time zone whose calendar anchors cycles.
    pub calendar: BusinessCalendar,
    /// Whether cancelling a prepaid order refunds the unused part of its paid cycles.
    pub refund_on_cancel: bool,
    pub renewal: RenewalSettings,
}

impl Default for BillingPolicy {
    fn default() -> Self {
        Self {
            calendar: BusinessCalendar::default(),
            refund_on_cancel: true,
            renewal: RenewalSettings::default(),
        }
    }
}

/// Entry point to every use case.
#[derive(Clone)]
pub struct UseCases {
    ports: Ports,
    policy: BillingPolicy,
}

impl UseCases {
    pub fn new(ports: Ports, policy: BillingPolicy) -> Self {
        Self { ports, policy }
    }

    pub fn policy(&self) -> BillingPolicy {
        self.policy
    }
}

#[cfg(test)]
mod tests;
