//! The platform adapters: the domain's gateway ports implemented against the platform's
//! HTTP services, as the original service called them. Every call has a connect and a total
//! timeout; only idempotent calls are retried; secrets never reach a log line.

pub mod charge_service;
pub mod http;
pub mod plan_service;
pub mod platform_identity;
pub mod platform_provisioning;
pub mod webhook;

pub use charge_service::{ChargeRegion, ChargeService};
pub use http::{BuildError, HttpSettings, Secret};
pub use plan_service::PlanService;
pub use platform_identity::PlatformIdentity;
pub use platform_provisioning::{PlatformProvisioning, PlatformRegion};
pub use webhook::{WebhookError, WebhookSender};
