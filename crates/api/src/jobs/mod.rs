//! Renewal runs: the server's background job, the one-shot `serviceusage renew --once`,
//! and the lines both report with.

pub mod renew_once;
pub mod renewal_job;
pub mod report;

pub use renew_once::{renew_once, RenewOnceError};
pub use renewal_job::RenewalJob;
