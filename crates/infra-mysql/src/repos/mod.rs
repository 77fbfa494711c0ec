//! The port implementations, one per file. Each owns its transactions: a method that
//! writes is exactly one [`crate::Database`] write transaction.

pub(crate) mod backlog;
pub(crate) mod books;
pub(crate) mod changes;
pub(crate) mod consumption;
pub(crate) mod health;
pub(crate) mod idempotency;
pub(crate) mod ledger;
pub(crate) mod notifications;
pub(crate) mod orders;
pub(crate) mod payments;
pub(crate) mod renewals;
pub(crate) mod resources;
pub(crate) mod tasks;
pub(crate) mod webhook_outbox;
