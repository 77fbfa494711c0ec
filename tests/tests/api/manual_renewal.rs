//! `PUT /orders/{id}` `{"action": "renew"}`: an order in its grace period, renewed at once
//! after a top-up instead of at the next run, paid on from where it stopped.

use blackbox_tests::calendar::{cycle_end, days_ago};
use blackbox_tests::catalog::CPU;
use blackbox_tests::db::Db;
use blackbox_tests::seed::{fund, open_order, Funding, Keeper, NewOrder};
use chrono::Utc;
use serde_json::{json, Value};

use crate::helpers::{command, minor, SqliteDir, TestApp, ADMIN};
use crate::renewal_runs::{migrate, renew_once};

const PROJECT: &str = "late-payer";

#[tokio::test]
async fn a_manual_renewal_after_a_top_up_in_the_grace_period_renews_at_once() {
    let dir = SqliteDir::new();
    let url = dir.url();
    migrate(&url);
    // Paid for one month, two days ago over; the project has nothing left.
    let order = NewOrder {
        order_id: "late-order".into(),
        project: PROJECT.into(),
        plan: CPU,
        quantities: 1,
        start: days_ago(33),
        resource_name: None,
        keeper: Keeper::LocalLedger,
    };
    let mut db = Db::connect(&url).unwrap();
    fund(
        &mut db,
        &[Funding {
            project: PROJECT.into(),
            balance: CPU.price,
            recharged: CPU.price,
        }],
        order.start,
    )
    .unwrap();
    assert!(open_order(&mut db, &order).unwrap());
    let mut serve = command(&url);
    serve.env("SERVICEUSAGE__RENEWAL__ENABLED", "false");
    let app = TestApp::spawn_command(serve, dir);

    // The renewal job found it unpaid: ending, in its grace period.
    renew_once(&url, Utc::now().naive_utc());
    let path = format!("/orders/{}", order.order_id);
    let renew = json!({"action": "renew", "project": PROJECT});
    assert_eq!(
        app.order(PROJECT, &order.order_id).await["status"],
        "ending"
    );

    // Asked before the top-up, it stays unpaid and charges nothing.
    let early = app.put(&path, ADMIN, renew.clone()).await;
    early.expect(200, 0);
    assert_eq!(early.data()["renewal"], "unpaid");
    assert_eq!(minor(&early.data()["charged"]), 0);
    assert_eq!(early.data()["status"], "ending");

    app.recharge(PROJECT, "99.00").await.expect(200, 0);
    let renewed = app.put(&path, ADMIN, renew.clone()).await;
    renewed.expect(200, 0);
    let data: &Value = renewed.data();
    assert_eq!(data["renewal"], "renewed");
    assert_eq!(data["charged"], "99.00");
    assert_eq!(data["status"], "consuming");
    // Paid on from the old deadline: no gap, no free days.
    let deadline = chrono::DateTime::parse_from_rfc3339(data["deadlineTime"].as_str().unwrap())
        .unwrap()
        .naive_utc();
    assert_eq!(deadline, cycle_end(order.start, 1, 2));
    assert_eq!(app.balance(PROJECT).await, "0.00");
    let usages = app
        .get(
            &format!("/usages?project={PROJECT}&order=late-order"),
            ADMIN,
        )
        .await;
    assert_eq!(usages.data()["total"], 2);
    let row = &usages.data()["results"][0];
    assert_eq!(
        (row["consumeId"].as_u64(), row["kind"].as_str()),
        (Some(2), Some("renew"))
    );

    // Once renewed, it is not due again.
    let again = app.put(&path, ADMIN, renew).await;
    again.expect(200, 0);
    assert_eq!(again.data()["renewal"], "not_due");
    assert_eq!(app.balance(PROJECT).await, "0.00");
    app.assert_reconciled();
}
