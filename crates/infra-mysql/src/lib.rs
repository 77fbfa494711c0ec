//! serviceusage persistence: the domain's store ports implemented with diesel for
//! MySQL/MariaDB in production and an embedded SQLite file by default — orders and their
//! changes (the one transaction in which everything that moves money, or follows from it,
//! is written), consumption, payments, the local ledger, renewal claims, resource tasks,
//! notifications, idempotency keys, the books `reconcile` reads, store health, the
//! embedded provisioning — the webhook outbox, and the queues' depths the server's gauges
//! show. The backend is chosen by the URL scheme; migrations for both are embedded and
//! applied by [`Database::run_migrations`].
//!
//! Depends on `domain` (inward), on diesel, r2d2 and tokio (for `spawn_blocking`), and on
//! the `metrics` facade (what committed changes did, the pool's use: see `telemetry`); it
//! knows nothing of HTTP or configuration. Rows, diesel types and SQL stay inside: callers
//! see [`Database`], the stores, domain types and the outbox's and provisioning's own
//! read types only. Nothing here decides an amount: changes arrive decided and sealed by
//! the domain, and the store keeps only the guards the database must enforce.

mod availability;
mod backend;
mod connection;
mod database;
mod error;
mod mapping;
mod repos;
mod rows;
mod schema;
mod telemetry;

pub use backend::{Backend, Timeouts};
pub use database::Database;
pub use error::StoreError;
pub use repos::backlog::{Backlog, Depth, QueueStats};
pub use repos::books::BooksStore;
pub use repos::changes::ChangeWriter;
pub use repos::consumption::ConsumptionStore;
pub use repos::health::HealthStore;
pub use repos::idempotency::IdempotencyKeys;
pub use repos::ledger::LedgerStore;
pub use repos::notifications::NotificationStore;
pub use repos::orders::OrderStore;
pub use repos::payments::PaymentStore;
pub use repos::renewals::RenewalStore;
pub use repos::resources::{ProvisionedResource, ResourceStore};
pub use repos::tasks::TaskStore;
pub use repos::webhook_outbox::{WebhookDelivery, WebhookOutboxStore};
pub use telemetry::describe_metrics;
