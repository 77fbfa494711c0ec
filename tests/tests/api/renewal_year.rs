//! A simulated year of renewals, on SQLite and on MariaDB.
//!
//! Design. The renewal engine's clock can be faked (`renew --once --now`), the server's
//! cannot: it stamps creates, cancels and switches with the real time. So the year is the
//! one that ends yesterday, and each kind of event happens where its time can be right:
//! - 1,000 orders (random demo plans, prepaid and postpaid, quantities 1–2, 40 projects,
//!   start days spread over the year so that many anchor on the 29th, 30th or 31st) are
//!   opened at their simulated start by the seeding tool, exactly as the service writes a
//!   create: guarded debit, order, row #1 and its payment, in one transaction (no order
//!   when the balance is short, like a 402); a quota order of a project that holds one in
//!   the region already becomes a volume order (the service allows one open quota order
//!   per project and region);
//! - every simulated day at noon, `serviceusage renew --once --now <day>` (the server runs
//!   with `SERVICEUSAGE__RENEWAL__ENABLED=false`, so only these runs renew);
//! - top-ups, cancels and switches go through the HTTP API between those runs. Top-ups do
//!   not depend on the time. Cancels and switches are stamped with the real time, which is
//!   after every simulated day: the server sees an order that was renewed up to the
//!   simulated day and ends it "later" (prepaid: refund of the paid time left, if any;
//!   postpaid: settlement of every cycle up to now, into arrears when the balance cannot
//!   cover it: a cancel always succeeds). Time never runs backwards for any order, and the
//!   renewal runs that follow must leave the ended orders alone while the switched-in
//!   orders (start = real time) are not due yet.
//!
//! Afterwards: the ledger invariants (see `blackbox_tests::invariants`), every prepaid
//! renewal row covers exactly the natural-month/year cycle its sequence number names, and
//! `serviceusage reconcile` finds the books in order.
//! Projects run out of money now and then, so orders go ending, get revived by top-ups or
//! end after the grace period. The year moves with the real date and refunds depend on the
//! real time, so the counts vary a little from run to run: the checks are invariants plus
//! loose "was it exercised" floors. Wall time (debug build): ~17 s on SQLite, ~28 s on
//! MariaDB, most of it the 365 `renew --once` process starts.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use blackbox_tests::calendar::{cycle_end, midnight, on_a_clamping_day};
use blackbox_tests::catalog::{self, Plan, PREPAID};
use blackbox_tests::db::Db;
use blackbox_tests::inspect::{
    holds_open_quota, open_orders, renew_rows, rows_per_order, OpenOrder,
};
use blackbox_tests::invariants;
use blackbox_tests::rng::Rng;
use blackbox_tests::seed::{open_order, Keeper, NewOrder};
use chrono::{NaiveDateTime, TimeDelta, Utc};
use serde_json::json;

use crate::helpers::{assert_reconciled, command, MysqlDatabase, SqliteDir, TestApp, ADMIN};
use crate::renewal_runs::{migrate, renew_once};

const ORDERS: usize = 1_000;
const PROJECTS: u64 = 40;
const DAYS: i64 = 365;
/// Orders open during the first 330 days, so that the last ones still renew a few times.
const OPENING_DAYS: u64 = 330;

/// What happened through the API, for the report and the "was it exercised" checks.
#[derive(Debug, Default)]
struct Tally {
    opened: usize,
    refused_opens: usize,
    recharges: usize,
    cancels: BTreeMap<u16, usize>,
    switches: BTreeMap<u16, usize>,
}

fn project(n: u64) -> String {
    format!("year-{n:02}")
}

/// Whole money units as the API takes them.
fn amount(units: u64) -> String {
    format!("{units}.00")
}

/// The orders of the year, by the day they open on.
fn planned_orders(rng: &mut Rng, first_day: NaiveDateTime) -> BTreeMap<i64, Vec<NewOrder>> {
    let mut by_day: BTreeMap<i64, Vec<NewOrder>> = BTreeMap::new();
    for i in 0..ORDERS {
        let plan: Plan = catalog::ALL[rng.index(catalog::ALL.len())];
        let day = i64::try_from(rng.below(OPENING_DAYS)).unwrap();
        let seconds = i64::try_from(rng.below(12 * 3600)).unwrap();
        let start = first_day + TimeDelta::days(day) + TimeDelta::seconds(seconds);
        by_day.entry(day).or_default().push(NewOrder {
            order_id: format!("year-{i:04}"),
            project: project(rng.below(PROJECTS)),
            plan,
            quantities: i32::try_from(1 + rng.below(2)).unwrap(),
            start,
            resource_name: plan.needs_resource_name.then(|| format!("res-{i:04}")),
            keeper: Keeper::LocalLedger,
        });
    }
    by_day
}

/// The plan a cpuquota order can switch to (same type and region, the other mode).
fn switch_target(plan_id: &str) -> Option<&'static str> {
    match plan_id {
        "cpuquota-monthly" => Some(catalog::POSTPAID_CPU.id),
        "cpuquota-postpaid" => Some(catalog::CPU.id),
        _ => None,
    }
}

/// After a cancel or a switch: the order ended (200, 201), or nothing changed (402).
async fn assert_status(app: &TestApp, order: &OpenOrder, expected: &str) {
    let reply = app
        .get(
            &format!("/orders/{}?project={}", order.order_id, order.project),
            ADMIN,
        )
        .await;
    reply.expect(200, 0);
    let status = reply.data()["status"].as_str().unwrap();
    match expected {
        "open" => assert!(
            matches!(status, "consuming" | "ending"),
            "{order:?} refused but now {status}"
        ),
        _ => assert_eq!(status, expected, "{order:?}"),
    }
}

async fn simulated_year(app: TestApp, url: String) {
    let started = Instant::now();
    let mut rng = Rng::new(2026);
    let today = midnight(Utc::now().date_naive());
    let first_day = today - TimeDelta::days(DAYS + 1);
    let mut plan = planned_orders(&mut rng, first_day);
    let mut db = Db::connect(&url).unwrap();
    let mut tally = Tally::default();

    for n in 0..PROJECTS {
        let units = 500 + rng.below(2500);
        app.recharge(&project(n), &amount(units))
            .await
            .expect(200, 0);
    }

    let mut renewal_time = std::time::Duration::ZERO;
    let mut now = first_day;
    for day in 0..DAYS {
        now = first_day + TimeDelta::days(day) + TimeDelta::hours(12);
        for mut order in plan.remove(&day).unwrap_or_default() {
            if order.is_quota()
                && holds_open_quota(&mut db, &order.project, order.plan.region).unwrap()
            {
                // The project holds its one quota order of the region: it buys a volume.
                order.resource_name = Some(format!("res-{}", order.order_id));
                order.plan = catalog::VOLUME;
            }
            if open_order(&mut db, &order).unwrap() {
                tally.opened += 1;
            } else {
                tally.refused_opens += 1;
            }
        }
        for n in 0..PROJECTS {
            if rng.chance(20) {
                let units = 200 + rng.below(2800);
                app.recharge(&project(n), &amount(units))
                    .await
                    .expect(200, 0);
                tally.recharges += 1;
            }
        }
        if rng.chance(350) {
            let open = open_orders(&mut db).unwrap();
            if !open.is_empty() {
                let order = &open[rng.index(open.len())];
                let reply = app
                    .put(
                        &format!("/orders/{}", order.order_id),
                        ADMIN,
                        json!({"action": "cancel", "project": order.project}),
                    )
                    .await;
                // Always: a postpaid settlement the balance cannot cover is arrears.
                reply.expect(200, 0);
                let status = reply.status.as_u16();
                assert_status(&app, order, "ended").await;
                *tally.cancels.entry(status).or_default() += 1;
            }
        }
        if rng.chance(300) {
            let open: Vec<_> = open_orders(&mut db)
                .unwrap()
                .into_iter()
                .filter(|order| switch_target(&order.plan_id).is_some())
                .collect();
            if !open.is_empty() {
                let order = &open[rng.index(open.len())];
                let target = switch_target(&order.plan_id).unwrap();
                let reply = app
                    .post(
                        "/orders",
                        ADMIN,
                        json!({"project": order.project, "planId": target,
                               "replaces": order.order_id}),
                    )
                    .await;
                let status = reply.status.as_u16();
                // 402: the new prepaid charge is not covered once the refund is in (a
                // settlement never stops a switch), or the balance gives a new postpaid
                // order no cycle of credit.
                assert!(matches!(status, 201 | 402), "switch: {reply:?}");
                assert_status(&app, order, if status == 201 { "ended" } else { "open" }).await;
                *tally.switches.entry(status).or_default() += 1;
            }
        }
        let run = Instant::now();
        renew_once(&url, now);
        renewal_time += run.elapsed();
    }
    eprintln!(
        "simulated year: {tally:?}; {DAYS} renewal runs took {renewal_time:?}, the whole \
         year {:?}",
        started.elapsed()
    );

    let report = invariants::check(&mut db, now, &BTreeMap::new()).unwrap();
    eprintln!(
        "simulated year: {} projects, {} orders by status {:?}, {} rows",
        report.projects, report.orders, report.by_status, report.rows
    );
    report.assert_holds();

    let renewals = renew_rows(&mut db, PREPAID).unwrap();
    for row in &renewals {
        let plan = catalog::find(&row.plan_id).unwrap();
        let cycle = u32::try_from(row.consume_id).unwrap();
        assert_eq!(
            row.covered_until,
            cycle_end(row.start, plan.months, cycle),
            "{row:?} does not cover cycle #{cycle}"
        );
    }

    // The year exercised what it claims to.
    let rows = rows_per_order(&mut db).unwrap();
    assert!(tally.opened > 700, "{tally:?}");
    assert!(
        tally.cancels.get(&200).copied().unwrap_or(0) > 20,
        "{tally:?}"
    );
    assert!(
        tally.switches.get(&201).copied().unwrap_or(0) > 10,
        "{tally:?}"
    );
    assert!(rows.values().any(|&n| n >= 12), "no order renewed all year");
    assert!(
        renewals.iter().any(|row| on_a_clamping_day(row.start)),
        "no order anchored on the 29th-31st was renewed"
    );
    let ended_by_request = tally.cancels.get(&200).copied().unwrap_or(0)
        + tally.switches.get(&201).copied().unwrap_or(0);
    assert!(
        report.by_status.get(&15).copied().unwrap_or(0) > ended_by_request,
        "orders must also end unpaid, not only by cancel: {:?}",
        report.by_status
    );
    let reconciled = assert_reconciled(command(&url));
    eprintln!("simulated year: {reconciled}");
}

/// The server, with its own renewal job off, on the given database.
fn server(url: &str) -> Command {
    let mut serve = command(url);
    serve.env("SERVICEUSAGE__RENEWAL__ENABLED", "false");
    serve
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_year_of_renewals_keeps_the_ledger_balanced_on_sqlite() {
    let dir = SqliteDir::new();
    let url = dir.url();
    migrate(&url);
    let app = TestApp::spawn_command(server(&url), dir);
    simulated_year(app, url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_simulated_year_of_renewals_keeps_the_ledger_balanced() {
    let Some(database) = MysqlDatabase::create(
        "renewal_year::mysql_a_simulated_year_of_renewals_keeps_the_ledger_balanced",
    ) else {
        return;
    };
    let url = database.url();
    migrate(&url);
    let app = TestApp::spawn_command_mysql(server(&url), database);
    simulated_year(app, url).await;
}
