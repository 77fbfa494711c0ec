//! The service configured with remote adapters (platform identity; plans, charging and
//! provisioning of `cn-north-1` at the platform's services; webhooks), run as a process
//! against fake platform services, checking what the fakes received: paths, tokens,
//! payment reasons `pay:{orderId}:{seq}`, amounts, and the order of the calls.

pub(crate) mod harness;
mod identity;
mod lifecycle;
mod outages;
mod pending_creates;
mod readiness;
mod renewal_races;
mod resources;
mod settlements;
mod webhooks;
