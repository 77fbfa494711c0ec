//! Postpaid usage is never forgiven: a cancel the balance cannot cover settles into
//! arrears (a negative balance, shown as `owed`), which the next recharge pays first; an
//! unpaid order ended after its grace period pays for what it used.

use blackbox_tests::calendar::days_ago;
use blackbox_tests::catalog::POSTPAID_CPU;
use blackbox_tests::db::Db;
use blackbox_tests::seed::{fund, open_order, Funding, Keeper, NewOrder};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use crate::helpers::{command, minor, SqliteDir, TestApp, ADMIN};
use crate::renewal_runs::{migrate, renew_once};

const PROJECT: &str = "in-arrears";

/// A migrated SQLite database with one postpaid order (120.00 a month) of [`PROJECT`]
/// started at `start`, never billed, the project holding `balance` ten-thousandths; and
/// the server on it, its own renewal job off.
fn postpaid_order(start: NaiveDateTime, balance: i64) -> (TestApp, String) {
    let dir = SqliteDir::new();
    let url = dir.url();
    migrate(&url);
    let order = NewOrder {
        order_id: "postpaid-order".into(),
        project: PROJECT.into(),
        plan: POSTPAID_CPU,
        quantities: 1,
        start,
        resource_name: None,
        keeper: Keeper::LocalLedger,
    };
    let mut db = Db::connect(&url).unwrap();
    fund(
        &mut db,
        &[Funding {
            project: PROJECT.into(),
            balance,
            recharged: balance,
        }],
        start,
    )
    .unwrap();
    assert!(open_order(&mut db, &order).unwrap());
    let mut serve = command(&url);
    serve.env("SERVICEUSAGE__RENEWAL__ENABLED", "false");
    (TestApp::spawn_command(serve, dir), order.order_id)
}

#[tokio::test]
async fn a_postpaid_cancel_the_balance_cannot_cover_settles_into_arrears() {
    // A month and a half of usage (about 180.00) against 150.00.
    let start = days_ago(45);
    let (app, id) = postpaid_order(start, 1_500_000);

    let cancelled = app
        .put(
            &format!("/orders/{id}"),
            ADMIN,
            json!({"action": "cancel", "project": PROJECT}),
        )
        .await;
    cancelled.expect(200, 0);
    assert_eq!(cancelled.data()["status"], "ended");
    let settled = minor(&cancelled.data()["settled"]);
    assert!(settled > 1_500_000, "{cancelled:?}");

    let balance = app.get(&format!("/balances/{PROJECT}"), ADMIN).await;
    balance.expect(200, 0);
    assert_eq!(minor(&balance.data()["balance"]), 1_500_000 - settled);
    assert_eq!(minor(&balance.data()["owed"]), settled - 1_500_000);
    assert_eq!(balance.data()["creditLimit"], "0.00");

    // The next recharge pays the arrears first.
    let recharged = app.recharge(PROJECT, "100.00").await;
    recharged.expect(200, 0);
    assert_eq!(
        minor(&recharged.data()["balance"]["balance"]),
        2_500_000 - settled
    );
    assert_eq!(minor(&recharged.data()["balance"]["owed"]), 0);
    app.assert_reconciled();
}

#[tokio::test]
async fn an_unpaid_postpaid_order_ended_after_its_grace_settles_its_usage() {
    let at = |month: u32, day: u32, hour: u32| {
        NaiveDate::from_ymd_opt(2027, month, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .unwrap()
    };
    // 120.00: the first month, and nothing more.
    let (app, id) = postpaid_order(at(1, 1, 0), 1_200_000);
    let url = app.database_url();

    renew_once(&url, at(2, 1, 12));
    assert_eq!(app.balance(PROJECT).await, "0.00");
    // February (Feb 1 → Mar 1) is not covered: ending, its grace until Mar 8.
    renew_once(&url, at(3, 1, 12));
    assert_eq!(app.order(PROJECT, &id).await["status"], "ending");
    renew_once(&url, at(3, 9, 0));
    let ended = app.order(PROJECT, &id).await;
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["endTime"], "2027-03-08T00:00:00.000000Z");

    // February in full, and March 1 → 8 of the next cycle (7 of 31 days of 120.00,
    // 27.096774… rounded down), then an end row of 0.00: settled into arrears.
    let usages = app
        .get(&format!("/usages?project={PROJECT}&order={id}"), ADMIN)
        .await;
    let mut rows: Vec<(u64, String, i64)> = usages.data()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["consumeId"].as_u64().unwrap(),
                row["kind"].as_str().unwrap().to_owned(),
                minor(&row["money"]),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            (1, "renew".to_owned(), 1_200_000),
            (2, "renew".to_owned(), 1_200_000),
            (3, "renew".to_owned(), 270_967),
            (4, "end".to_owned(), 0),
        ]
    );
    let balance = app.get(&format!("/balances/{PROJECT}"), ADMIN).await;
    assert_eq!(balance.data()["balance"], "-147.0967");
    assert_eq!(balance.data()["owed"], "147.0967");
    app.assert_reconciled();
}
