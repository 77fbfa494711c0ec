//! Background work: the server's renewal and delivery jobs (on one periodic loop), the
//! one-shot `serviceusage renew --once`, and the lines renewal runs report with.

pub mod backoff;
pub mod delivery_job;
pub mod periodic;
pub mod renew_once;
pub mod renewal_job;
pub mod report;
pub mod webhook_delivery;

pub use delivery_job::{DeliveryJob, DELIVERY_INTERVAL};
pub use periodic::RunningJob;
pub use renew_once::{renew_once, RenewOnceError};
pub use renewal_job::RenewalJob;
pub use webhook_delivery::WebhookDispatcher;
