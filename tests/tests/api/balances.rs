//! Balances and recharges.

use serde_json::json;

use crate::helpers::{minor, spawn_app, ADMIN, ALICE, CPU, DEMO};

#[tokio::test]
async fn the_shipped_config_funds_the_demo_project_once() {
    let app = spawn_app().await;
    let balance = app.get("/balances/demo", DEMO).await;
    balance.expect(200, 0);
    assert_eq!(balance.data()["project"], "demo");
    assert_eq!(balance.data()["balance"], "1000.00");
    assert!(balance.data()["updatedAt"].is_string());
    let recharges = app.get("/balances/demo/recharges", DEMO).await;
    assert_eq!(recharges.data()["total"], 1);
    assert_eq!(recharges.data()["results"][0]["amount"], "1000.00");
}

#[tokio::test]
async fn a_restart_does_not_fund_the_demo_project_again() {
    let mut app = spawn_app().await;
    app.create_order(DEMO, "demo", CPU).await.expect(201, 0);
    app.restart();
    assert_eq!(app.balance("demo").await, "901.00");
    assert_eq!(
        app.get("/balances/demo/recharges", DEMO).await.data()["total"],
        1
    );
}

#[tokio::test]
async fn a_project_never_funded_has_zero_and_no_update_time() {
    let app = spawn_app().await;
    let balance = app.get("/balances/alice-project", ALICE).await;
    balance.expect(200, 0);
    assert_eq!(
        balance.data(),
        &json!({"project": "alice-project", "balance": "0.00", "owed": "0.00",
                "creditLimit": "0.00"})
    );
}

#[tokio::test]
async fn an_admin_recharge_credits_the_balance_and_is_listed_newest_first() {
    let app = spawn_app().await;
    let first = app
        .post(
            "/balances/alice-project/recharges",
            ADMIN,
            json!({"amount": "100.00", "comment": "welcome"}),
        )
        .await;
    first.expect(200, 0);
    let recharge = &first.data()["recharge"];
    assert_eq!(recharge["project"], "alice-project");
    assert_eq!(recharge["amount"], "100.00");
    assert_eq!(recharge["comment"], "welcome");
    assert_eq!(recharge["operator"], "admin");
    assert!(recharge["id"].is_i64() && recharge["time"].is_string());
    assert_eq!(first.data()["balance"]["balance"], "100.00");

    let second = app.recharge("alice-project", "0.0001").await;
    second.expect(200, 0);
    assert_eq!(minor(&second.data()["balance"]["balance"]), 1_000_001);

    let listed = app.get("/balances/alice-project/recharges", ALICE).await;
    listed.expect(200, 0);
    assert_eq!(listed.data()["total"], 2);
    assert_eq!(listed.data()["results"][0]["amount"], "0.0001");
    assert_eq!(listed.data()["results"][1]["amount"], "100.00");
    let paged = app
        .get("/balances/alice-project/recharges?page=2&size=1", ALICE)
        .await;
    assert_eq!(paged.data()["results"][0]["amount"], "100.00");
    assert_eq!(
        app.get("/balances/alice-project", ALICE).await.data()["balance"],
        "100.0001"
    );
}

/// 51idc's recharge record: a time range (start included, end excluded) and offset/limit.
#[tokio::test]
async fn recharges_are_listed_within_a_time_range_and_by_offset() {
    let app = spawn_app().await;
    for amount in ["1.00", "2.00", "3.00"] {
        app.recharge("alice-project", amount).await.expect(200, 0);
    }
    let all = app.get("/balances/alice-project/recharges", ALICE).await;
    let times: Vec<String> = all.data()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["time"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(times.len(), 3);
    let (newest, middle) = (&times[0], &times[1]);

    let from_middle = app
        .get(
            &format!("/balances/alice-project/recharges?start_time={middle}"),
            ALICE,
        )
        .await;
    from_middle.expect(200, 0);
    assert_eq!(from_middle.data()["total"], 2);
    assert_eq!(from_middle.data()["totalExact"], true);
    let before_newest = app
        .get(
            &format!("/balances/alice-project/recharges?start_time={middle}&end_time={newest}"),
            ALICE,
        )
        .await;
    assert_eq!(before_newest.data()["total"], 1);
    assert_eq!(before_newest.data()["results"][0]["amount"], "2.00");

    let window = app
        .get("/balances/alice-project/recharges?offset=1&limit=1", ALICE)
        .await;
    assert_eq!(window.data()["total"], 3);
    assert_eq!(window.data()["results"][0]["amount"], "2.00");

    for (query, message) in [
        (
            "start_time=2026-12-08T00:00:00Z&end_time=2026-12-01T00:00:00Z",
            "end_time must not be before start_time",
        ),
        ("end_time=tomorrow", "end_time must be an RFC 3339 time"),
        ("page=1&limit=5", "give one of them"),
        ("limit=0", "limit must be a whole number from 1 to 1000"),
    ] {
        let reply = app
            .get(&format!("/balances/alice-project/recharges?{query}"), ALICE)
            .await;
        reply.expect(400, 3307);
        assert!(reply.msg().contains(message), "{query}: {}", reply.msg());
    }
}
