//! What the black-box renewal tests and the renewal benchmark share: a connection to the
//! service's database (SQLite or MariaDB) that bypasses the service, a seeding tool that
//! writes due orders the way the service would have written them, and a checker of the
//! ledger's invariants. The tests in `tests/` start the real binary; this library only
//! prepares and inspects its database.
//!
//! Depends on diesel and chrono only, never on the service's crates: a black-box check
//! must not share the code it checks.

pub mod calendar;
pub mod catalog;
pub mod db;
pub mod inspect;
pub mod invariants;
pub mod retries;
pub mod rng;
pub mod schema;
pub mod seed;
