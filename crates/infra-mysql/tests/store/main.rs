//! Repository tests: every body runs against SQLite and against MariaDB, each on a fresh
//! database (see `common`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod backlog;
mod books;
mod changes;
mod connect;
mod far_times;
mod idempotency;
mod ledger;
mod migrations;
mod money_model;
mod notifications;
mod order_filters;
mod orders;
mod payments;
mod renewals;
mod resources;
mod tasks;
mod usages;
mod webhooks;
