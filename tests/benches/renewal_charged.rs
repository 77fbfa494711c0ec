//! `make bench-renewal-charged`: how fast `serviceusage renew --once` renews due orders a
//! charge service keeps, recording and settling included, on MariaDB.
//!
//! A fresh database gets N due prepaid orders (as `make bench-renewal` seeds them, but
//! KEEPER = 1: their first cycle was taken by the charge service, and no project has a
//! local balance). Both demo regions are configured `charging = "remote"`, pointing at a
//! fake charge service on loopback that answers every deduction `200 {"code":0}` after
//! 5 ms. The release binary's `renew --once` then records one pending payment per order
//! (the order waits for it), sends them all (the settler, `payments.concurrency` at once),
//! and writes each answer: the cycle's row, the order moved on, the payment settled. The
//! time is the whole command, process start included.
//!
//! Afterwards: every order renewed exactly once (its row #2, its deadline past the run's
//! clock, waiting for nothing), every row paid by one settled payment of its amount, and
//! the fake took exactly N deductions, each under its payment's id, from its project, of
//! the order's cycle price, none of them asked twice.
//!
//! Environment: as `make bench-renewal` (`SERVICEUSAGE_BIN`, `SERVICEUSAGE_BENCH_ORDERS`,
//! `SERVICEUSAGE_TEST_MYSQL_URL`).

#[path = "renewal/charge_service.rs"]
mod charge_service;
#[path = "renewal/common.rs"]
mod common;

use std::time::Duration;

use blackbox_tests::db::Db;
use blackbox_tests::seed::{Keeper, NewOrder, CONSUMING};
use charge_service::{FakeChargeService, Tally};
use chrono::NaiveDateTime;
use common::{check_payments, count, per_second, summary, Bench, Result, BATCH_SIZE};

/// How long the fake charge service takes to answer.
const ANSWER_DELAY: Duration = Duration::from_millis(5);
const ADMIN_TOKEN: &str = "bench-admin-token";
/// The demo plans' regions; every order of the benchmark is in one of them.
const REGIONS: [&str; 2] = ["cn-north-1", "cn-north-2"];

/// The configuration layered over config/default.toml: every demo region's money kept by
/// the fake.
fn config(charge_service: &str) -> String {
    REGIONS
        .iter()
        .map(|region| {
            format!(
                "[[regions]]\nname = \"{region}\"\ncharging = \"remote\"\n\
                 charge_service = \"{charge_service}\"\nadmin_token = \"{ADMIN_TOKEN}\"\n\n"
            )
        })
        .collect()
}

fn main() -> Result<()> {
    let bench = Bench::from_env(Keeper::ChargeService)?;
    let orders = bench.spec.orders;
    println!(
        "renewal benchmark (charge service answering in {} ms): {orders} due orders, \
         batch {BATCH_SIZE}, MariaDB at {}",
        ANSWER_DELAY.as_millis(),
        bench.server.base_url
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The fake serves on a thread of its own; this one only starts it.
    let fake = runtime.block_on(FakeChargeService::start(ADMIN_TOKEN, ANSWER_DELAY));
    let dir = tempfile::tempdir()?;
    let config_path = dir.path().join("charged.toml");
    std::fs::write(&config_path, config(&fake.uri()))?;

    let (url, seeded) = bench.prepare("charged")?;
    let (stdout, time) = bench.renew_once(&url, Some(&config_path))?;
    for line in summary(&stdout) {
        println!("charged: {line}");
    }
    check_orders(&url, bench.now(), &seeded)?;
    check_payments(&url, Keeper::ChargeService, "charged")?;
    check_fake(&fake.tally(), &seeded)?;
    bench.server.drop_database(&url)?;

    println!();
    println!(
        "service `renew --once`, charge service: {orders} orders in {:>6.2} s = {:>6.0} orders/s",
        time.as_secs_f64(),
        per_second(orders, time)
    );
    Ok(())
}

/// Every order renewed once: consuming, row #2 its last, paid past the run's clock, and
/// waiting for no payment.
fn check_orders(url: &str, now: NaiveDateTime, seeded: &[NewOrder]) -> Result<()> {
    let mut db = Db::connect(url)?;
    let renewed = count(
        &mut db,
        &format!(
            "SELECT COUNT(*) AS n FROM DF_PURCHASE_ORDER WHERE STATUS = {CONSUMING} \
             AND LAST_CONSUME_ID = 2 AND PAYMENT_SEQ = 2 AND AWAITING_PAYMENT IS NULL \
             AND DEADLINE_TIME > '{now}'"
        ),
    )?;
    let expected = i64::try_from(seeded.len())?;
    if renewed != expected {
        return Err(format!("charged: {renewed} of {expected} orders renewed once").into());
    }
    println!("charged: all {renewed} orders renewed once");
    Ok(())
}

/// The fake took one deduction per order, under its payment's id, of its cycle's price.
fn check_fake(tally: &Tally, seeded: &[NewOrder]) -> Result<()> {
    if tally.repeats > 0 || tally.refused > 0 {
        return Err(format!(
            "charge service: {} reasons asked again, {} requests refused",
            tally.repeats, tally.refused
        )
        .into());
    }
    if tally.taken.len() != seeded.len() {
        return Err(format!(
            "charge service took {} payments for {} orders",
            tally.taken.len(),
            seeded.len()
        )
        .into());
    }
    for order in seeded {
        let reason = format!("pay:{}:2", order.order_id);
        match tally.taken.get(&reason) {
            Some(taken)
                if taken.namespace == order.project && taken.amount == order.cycle_price() => {}
            other => {
                return Err(format!(
                    "charge service: {reason} of {} for {} expected, took {other:?}",
                    order.cycle_price(),
                    order.project
                )
                .into())
            }
        }
    }
    println!(
        "charge service: took exactly {} payments, each of its order's cycle price",
        seeded.len()
    );
    Ok(())
}
