//! serviceusage persistence: the domain's repository ports (orders, consumption, the
//! ledger, store health, renewal claims and records, notifications, the queue of credits
//! owed by charge services, the queue of platform releases to retry, the embedded
//! provisioning) and the webhook outbox, implemented with diesel for MySQL/MariaDB in
//! production and an embedded SQLite file by default. The backend is chosen by the URL
//! scheme; migrations for both are embedded and applied by [`Database::run_migrations`].
//!
//! Depends on `domain` (inward) and on diesel, r2d2 and tokio (for `spawn_blocking`); it
//! knows nothing of HTTP or configuration. Rows, diesel types and SQL stay inside: callers
//! see [`Database`], the stores, domain types and the outbox's and provisioning's own
//! read types only.

mod backend;
mod connection;
mod database;
mod error;
mod mapping;
mod repos;
mod rows;
mod schema;

pub use backend::Backend;
pub use database::Database;
pub use error::StoreError;
pub use repos::consumption::ConsumptionStore;
pub use repos::credits::CreditStore;
pub use repos::health::HealthStore;
pub use repos::ledger::LedgerStore;
pub use repos::notifications::NotificationStore;
pub use repos::orders::OrderStore;
pub use repos::releases::ReleaseStore;
pub use repos::renewals::RenewalStore;
pub use repos::resources::{ProvisionedResource, ResourceStore};
pub use repos::webhook_outbox::{WebhookDelivery, WebhookOutboxStore};
