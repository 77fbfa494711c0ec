//! Contract tests: every adapter against in-process fake servers (wiremock), one binary
//! so the fakes and fixtures are compiled once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod charge_service;
mod fixtures;
mod plan_service;
mod platform_identity;
mod platform_provisioning;
mod webhook;
