//! The use cases: one file each, all methods of [`UseCases`], which holds the ports the
//! configuration picked, the billing policy and the settler's circuit breakers.
//!
//! Every use case that moves money builds one [`crate::change::Change`] and commits it
//! through [`crate::ports::ChangeStore`]; what must happen outside the store afterwards
//! (a charge-service payment, a platform resource task) is recorded in that change and
//! carried out by the settler and the task runner — by the request right away for what it
//! recorded itself, and by the background jobs for everything else.

use std::sync::Arc;

use crate::policy::BillingPolicy;
use crate::ports::{
    BooksRepository, ChangeStore, Charging, Clock, ConsumptionRepository, IdGenerator,
    IdempotencyStore, Identity, LedgerRepository, NotificationRepository, OrderRepository,
    PaymentRepository, PlanCatalog, Provisioning, RenewalRepository, TaskQueue,
};

mod authorize;
mod balances;
mod breaker;
mod cancel_order;
mod create_order;
mod follow;
mod get_order;
mod keys;
mod list_notifications;
mod list_orders;
mod list_plans;
mod list_usages;
mod merge;
mod provision;
mod reconcile;
mod records;
mod renew;
mod renew_order;
mod resource_types;
mod settle;
mod tasks;

pub use breaker::SettlerSettings;
pub use cancel_order::{CancelOrderRequest, CancelOutcome, OrderAction};
pub use create_order::{CreateOrderOutcome, CreateOrderRequest, Quote};
pub use merge::MAX_MERGED_ROWS;
pub use reconcile::{ReconcileReport, ReconcileSettings};
pub use renew::{RenewalReport, RenewalTally};
pub use renew_order::RenewOutcome;
pub use settle::SettleTally;
pub use tasks::TaskTally;

/// The adapters the use cases talk to.
#[derive(Clone)]
pub struct Ports {
    /// Orders as they are read (writes go through `changes`).
    pub orders: Arc<dyn OrderRepository>,
    /// The one way anything that moves money is written.
    pub changes: Arc<dyn ChangeStore>,
    /// Consumption history.
    pub usages: Arc<dyn ConsumptionRepository>,
    /// The local ledger: balances and recharges.
    pub ledger: Arc<dyn LedgerRepository>,
    /// The renewal engine's store: claims due orders and writes a batch's decisions.
    pub renewals: Arc<dyn RenewalRepository>,
    /// Payments the settler sends and the balance reads.
    pub payments: Arc<dyn PaymentRepository>,
    /// The events kept for projects to read.
    pub notifications: Arc<dyn NotificationRepository>,
    /// Keyed requests and their answers.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The books `reconcile` proves.
    pub books: Arc<dyn BooksRepository>,
    /// The plan catalog.
    pub plans: Arc<dyn PlanCatalog>,
    /// Who calls, and which projects they belong to.
    pub identity: Arc<dyn Identity>,
    /// The charge services of the regions that have one (pure I/O).
    pub charging: Arc<dyn Charging>,
    /// Creates and releases the platform resources orders provide.
    pub provisioning: Arc<dyn Provisioning>,
    /// Releases and quota settings, queued by changes.
    pub tasks: Arc<dyn TaskQueue>,
    /// The time every use case runs at; a fake clock moves it in tests and examples.
    pub clock: Arc<dyn Clock>,
    /// New order ids.
    pub ids: Arc<dyn IdGenerator>,
}

/// Entry point to every use case.
#[derive(Clone)]
pub struct UseCases {
    ports: Ports,
    policy: Arc<BillingPolicy>,
    settler: SettlerSettings,
    breakers: Arc<breaker::Breakers>,
}

impl UseCases {
    /// Wires the use cases to the adapters the configuration picked, under the deployment's
    /// billing rules and settler settings.
    pub fn new(ports: Ports, policy: BillingPolicy, settler: SettlerSettings) -> Self {
        Self {
            ports,
            policy: Arc::new(policy),
            breakers: Arc::new(breaker::Breakers::new(settler)),
            settler,
        }
    }

    /// The billing rules the use cases run under, so a caller can decide by the same rules.
    pub fn policy(&self) -> &BillingPolicy {
        &self.policy
    }
}

#[cfg(test)]
mod tests;
