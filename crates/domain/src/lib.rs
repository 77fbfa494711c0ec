// What the crate is and what it may depend on: its README, which is also its front page on
// docs.rs, with an example compiled and run as a doctest.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod account;
pub mod change;
pub mod closing;
pub mod consumption;
pub mod cycle;
pub mod enumeration;
pub mod error;
pub mod filter;
pub mod idempotency;
pub mod ids;
pub mod ledger;
pub mod log_context;
pub mod money;
pub mod notification;
pub mod opening;
pub mod order;
pub mod order_type;
pub mod page;
pub mod payment;
pub mod plan;
pub mod policy;
pub mod ports;
pub mod principal;
pub mod proration;
pub mod provisioning;
pub mod reconcile;
pub mod record;
pub mod renewal;
pub mod retry;
pub mod settlement;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod usecases;

pub use error::{Error, Result};
pub use money::Money;
