//! The port implementations, one per file. Each owns its transactions: a method that
//! writes is exactly one [`crate::Database`] write transaction.

pub(crate) mod consumption;
pub(crate) mod credits;
pub(crate) mod health;
pub(crate) mod ledger;
pub(crate) mod notifications;
pub(crate) mod orders;
pub(crate) mod releases;
pub(crate) mod renewals;
pub(crate) mod resources;
pub(crate) mod webhook_outbox;
