//! The serviceusage HTTP service: configuration, the embedded default adapters, the
//! actix-web routes and the wiring that builds the application. It may depend on every
//! other crate of the workspace; nothing depends on it.

pub mod adapters;
pub mod auth;
pub mod body_deadline;
pub mod cli;
pub mod config;
pub mod dto;
pub mod envelope;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod logging;
pub mod openapi;
pub mod request_limits;
pub mod routes;
pub mod startup;
pub mod telemetry;
#[cfg(test)]
mod test_support;
