//! Repository tests: every body runs against SQLite and against MariaDB, each on a fresh
//! database (see `common`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod charge_service;
mod concurrency;
mod connect;
mod credits;
mod far_times;
mod ledger;
mod migrations;
mod notifications;
mod orders;
mod releases;
mod renewal_records;
mod renewal_regions;
mod renewals;
mod resources;
mod switching;
mod usages;
mod webhooks;
