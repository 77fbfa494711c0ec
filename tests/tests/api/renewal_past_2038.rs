//! A yearly order renewed past January 2038 by `renew --once --now 2040-01-01T00:00:00Z`, on
//! SQLite and on MariaDB. A MariaDB TIMESTAMP ends at 2038-01-19 03:14:07 UTC; the service
//! must charge every due cycle and write the deadlines beyond it.

use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use crate::helpers::{command, minor, MysqlDatabase, SqliteDir, TestApp, ADMIN, BSI};
use crate::renewal_runs::{renew_once, summary};

const PROJECT: &str = "far-future";
/// The yearly plan's price in ten-thousandths (999.00).
const YEARLY_PRICE: i64 = 9_990_000;
/// The service's renewal margin (`renewal.margin_days` in config/default.toml).
const MARGIN: TimeDelta = TimeDelta::days(7);

fn time(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is no time"));
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn run_at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2040, 1, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .unwrap()
}

/// The first instant a MariaDB TIMESTAMP cannot hold.
fn timestamp_end() -> DateTime<Utc> {
    DateTime::from_timestamp(i64::from(i32::MAX) + 1, 0).unwrap()
}

/// Creates a yearly order now (real time), renews once at 2040-01-01 and checks that every
/// yearly cycle ending by then plus the margin was charged, once.
async fn a_yearly_order_renews_past_2038(app: TestApp) {
    app.recharge(PROJECT, "20000.00").await.expect(200, 0);
    let created = app
        .post(
            "/orders",
            ADMIN,
            json!({"project": PROJECT, "planId": BSI, "parameters": {"resourceName": "db-far"}}),
        )
        .await;
    created.expect(201, 0);
    let id = created.data()["orderId"].as_str().unwrap().to_owned();
    let start = time(&created.data()["startTime"]);
    // The business time zone is UTC: a year is twelve calendar months from the start.
    let year_end = |n: u32| start.checked_add_months(Months::new(12 * n)).unwrap();
    let due_by = run_at().and_utc() + MARGIN;
    let cycles = (1..).take_while(|&n| year_end(n) <= due_by).count();
    let cycles_u32 = u32::try_from(cycles).unwrap();
    assert!(
        year_end(cycles_u32 + 1) > timestamp_end(),
        "the test must cross 2038"
    );

    let stdout = renew_once(&app.database_url(), run_at());
    let line = summary(&stdout);
    assert!(
        line.contains(&format!("1 claimed, 1 renewed ({cycles} cycles")),
        "{line}"
    );
    assert!(
        line.contains(", 0 awaiting payment, 0 failed in "),
        "{line}"
    );
    // The ledger keeps this region's money: nothing for the settler, nothing to provision.
    assert!(
        stdout
            .lines()
            .any(|l| l == "payments: 0 taken, 0 declined, 0 owed, 0 unknown, 0 disputed, 0 paused"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l == "resource tasks: 0 done, 0 left for a later attempt"),
        "{stdout}"
    );

    let order = app
        .get(&format!("/orders/{id}?project={PROJECT}"), ADMIN)
        .await;
    order.expect(200, 0);
    assert_eq!(order.data()["status"], "consuming");
    assert_eq!(
        time(&order.data()["deadlineTime"]),
        year_end(cycles_u32 + 1),
        "paid until the end of the last cycle charged"
    );
    let usages = app
        .get(&format!("/usages?project={PROJECT}&order={id}"), ADMIN)
        .await;
    usages.expect(200, 0);
    assert_eq!(usages.data()["total"].as_u64(), Some(1 + cycles as u64));
    let balance = app.get(&format!("/balances/{PROJECT}"), ADMIN).await;
    assert_eq!(
        minor(&balance.expect(200, 0).data()["balance"]),
        200_000_000 - YEARLY_PRICE * (1 + cycles as i64)
    );

    // Nothing is left due: a second run at the same instant claims nothing.
    let again = renew_once(&app.database_url(), run_at());
    assert!(summary(&again).contains(" 0 claimed,"), "{again}");
    // Every cycle is paid by its payment, and the balance is what the recharge left.
    app.assert_reconciled();
}

/// The server, with its own renewal job off, on the given database.
fn server(url: &str) -> std::process::Command {
    let mut serve = command(url);
    serve.env("SERVICEUSAGE__RENEWAL__ENABLED", "false");
    serve
}

#[tokio::test]
async fn a_yearly_order_renews_past_2038_on_sqlite() {
    let dir = SqliteDir::new();
    let url = dir.url();
    let app = TestApp::spawn_command(server(&url), dir);
    a_yearly_order_renews_past_2038(app).await;
}

#[tokio::test]
async fn mysql_a_yearly_order_renews_past_2038() {
    let Some(database) =
        MysqlDatabase::create("renewal_past_2038::mysql_a_yearly_order_renews_past_2038")
    else {
        return;
    };
    let url = database.url();
    let app = TestApp::spawn_command_mysql(server(&url), database);
    a_yearly_order_renews_past_2038(app).await;
}
