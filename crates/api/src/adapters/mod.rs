//! The adapters the api itself provides: plans and users from the configuration file, the
//! routers that send each region to its configured adapter, the system clock (or a fixed
//! one for `renew --now`), random order ids.

pub mod config_identity;
pub mod config_plans;
pub mod fixed_clock;
pub mod random_ids;
pub mod regional_plans;
pub mod regional_provisioning;
pub mod system_clock;

pub use config_identity::ConfigIdentity;
pub use config_plans::ConfigPlans;
pub use fixed_clock::FixedClock;
pub use random_ids::RandomIds;
pub use regional_plans::RegionalPlans;
pub use regional_provisioning::RegionalProvisioning;
pub use system_clock::SystemClock;
