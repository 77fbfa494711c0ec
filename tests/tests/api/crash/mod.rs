//! Crashes, as an unlucky operator meets them (defect 11 of issue 10): the service killed
//! with SIGKILL while clients create orders or while a renewal run takes payments at a
//! charge service, and MariaDB itself killed under creating clients or mid-renewal. After
//! each, the work is finished the way production finishes it — the clients retry with the
//! same `Idempotency-Key`, the runs and the delivery job run again — and nothing may be
//! lost or doubled: every client has one order, complete, paid once, holding what it paid
//! for, and `serviceusage reconcile` finds the books in order.
//!
//! The service-kill tests touch only their own database and run with `make test`; the
//! MariaDB-kill tests (`mysql_crash_…`) are `#[ignore]`d and run alone by `make test-crash`.

mod books;
mod clients;
mod mariadb;
mod mariadb_killed_creating;
mod mariadb_killed_renewing;
mod service_killed_creating;
mod service_killed_renewing;
