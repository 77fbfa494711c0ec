//! Black-box tests: each test starts the real `serviceusage` binary (build it first with
//! `cargo build -p api --bin serviceusage`) on its own database and talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod arrears;
mod auth;
mod bad_input;
mod balances;
mod concurrency;
mod crash;
mod database_down;
mod fake_clock;
mod fake_platform;
mod headers;
mod health;
mod helpers;
mod idempotency;
mod lock_waits;
mod logs;
mod manual_renewal;
mod metrics;
mod order_filters;
mod orders;
mod platform;
mod process;
mod renewal_concurrency;
mod renewal_isolation;
mod renewal_past_2038;
mod renewal_runs;
mod renewal_year;
mod slow_clients;
mod sub_accounts;
