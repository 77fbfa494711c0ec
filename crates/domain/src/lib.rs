//! The serviceusage business core: money, billing cycles, orders, consumption, the ledger,
//! the ports the outside world must implement, and the use cases that tie them together.
//!
//! This crate does no IO and knows no framework. It may depend on serde, chrono(-tz),
//! async-trait, thiserror, log and futures-util (runtime-agnostic streams); `mockall` only
//! behind the `mocks` feature. Database, HTTP,
//! runtime and configuration crates belong in the adapter crates that depend on this one.

pub mod change;
pub mod closing;
pub mod consumption;
pub mod cycle;
pub mod error;
pub mod idempotency;
pub mod ids;
pub mod ledger;
pub mod log_context;
pub mod money;
pub mod notification;
pub mod opening;
pub mod order;
pub mod page;
pub mod payment;
pub mod plan;
pub mod policy;
pub mod ports;
pub mod principal;
pub mod proration;
pub mod provisioning;
pub mod reconcile;
pub mod renewal;
pub mod retry;
pub mod settlement;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod usecases;

pub use error::{Error, Result};
pub use money::Money;
