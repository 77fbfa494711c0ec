//! The platform adapters: the domain's gateway ports implemented against the platform's
//! HTTP services, as the original service called them. Every call has a connect and a total
//! timeout; only idempotent calls are retried; secrets never reach a log line.
//!
//! Depends on `domain` (the ports it implements), reqwest, and the `metrics` facade (each
//! request counted and timed: see `telemetry`); no reqwest type appears in a public
//! signature, so the api wires these adapters without knowing the HTTP client.

mod cache;
pub mod charge_service;
pub mod http;
mod json_money;
pub mod plan_service;
pub mod platform_identity;
pub mod platform_provisioning;
pub mod specification;
mod telemetry;
pub mod webhook;

pub use charge_service::{ChargeRegion, ChargeService};
pub use http::{BuildError, HttpSettings, Secret};
pub use plan_service::PlanService;
pub use platform_identity::PlatformIdentity;
pub use platform_provisioning::{PlatformProvisioning, PlatformRegion};
pub use specification::{PlanSpecification, QuotaSize};
pub use telemetry::describe_metrics;
pub use webhook::{signature, WebhookError, WebhookSender, DELIVERY_HEADER};
