//! Crashes, as an unlucky operator meets them (defect 11 of issue 10): MariaDB itself
//! killed mid-renewal. After each, the work is finished the way production finishes it, and
//! nothing may be lost or doubled.
//!
//! The MariaDB-kill tests (`mysql_crash_…`) are `#[ignore]`d and run alone by
//! `make test-crash`.

mod mariadb;
mod mariadb_killed_renewing;
