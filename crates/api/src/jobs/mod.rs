//! Background work: the server's renewal, delivery and webhook jobs (each on a periodic
//! loop of its own), their one-shot command-line runs (`renew --once`, `deliver --once`),
//! `reconcile`, and the lines runs report with.

pub mod backoff;
pub mod deliver_once;
pub mod delivery_job;
pub mod periodic;
pub mod reconcile_once;
pub mod renew_once;
pub mod renewal_job;
pub mod report;
pub mod webhook_delivery;
pub mod webhook_job;

pub use deliver_once::{deliver_once, DeliverOnceError};
pub use delivery_job::{DeliveryJob, DELIVERY_INTERVAL};
pub use periodic::RunningJob;
pub use reconcile_once::{reconcile_once, ReconcileOnceError};
pub use renew_once::{renew_once, RenewOnceError};
pub use renewal_job::RenewalJob;
pub use webhook_delivery::WebhookDispatcher;
pub use webhook_job::{WebhookJob, WEBHOOK_INTERVAL};
