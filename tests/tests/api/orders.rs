//! The order life cycle through the API, with the database state checked after each step.

use chrono::{DateTime, Months, Utc};
use serde_json::json;

use crate::helpers::{
    minor, spawn_app, spawn_app_mysql, TestApp, ADMIN, ALICE, BSI, CPU, DEMO, NORTH2, POSTPAID,
    VOLUME,
};

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap();
    assert!(text.ends_with('Z'), "{text} is not UTC with Z");
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn plans_are_listed_and_filtered_by_region() {
    let app = spawn_app().await;
    let all = app.get("/plans", DEMO).await;
    all.expect(200, 0);
    assert_eq!(all.data()["total"], 5);
    let north1 = app.get("/plans?region=cn-north-1", DEMO).await;
    let ids: Vec<_> = north1.data()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["planId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [CPU, VOLUME, BSI, POSTPAID]);
    let cpu = &north1.data()["results"][0];
    assert_eq!(cpu["price"], "99.00");
    assert_eq!(cpu["chargingMode"], "prepaid");
    assert_eq!(cpu["cycle"], "month");
    let north2 = app.get("/plans?region=cn-north-2", DEMO).await;
    assert_eq!(north2.data()["results"][0]["planId"], NORTH2);
    assert_eq!(
        app.get("/plans?region=nowhere", DEMO).await.data()["total"],
        0
    );
}

/// Create, read, list, usages, cancel: the walk-through of the README.
async fn prepaid_order_life_cycle(app: &TestApp) {
    assert_eq!(app.balance("demo").await, "1000.00");

    let created = app.create_order(DEMO, "demo", CPU).await;
    created.expect(201, 0);
    let order = created.data();
    let id = order["orderId"].as_str().unwrap().to_owned();
    assert_eq!(order["money"], "99.00");
    assert_eq!(order["status"], "consuming");
    // The order keeps its terms: its cycle, its unit price and who keeps its money.
    assert_eq!(order["cycle"], "month");
    assert_eq!(order["unitPrice"], "99.00");
    assert_eq!(order["moneyKeeper"], "ledger");
    assert_eq!(order["awaitingPayment"], false);
    assert_eq!(order["project"], "demo");
    assert_eq!(order["region"], "cn-north-1");
    assert_eq!(order["quantities"], 1);
    assert_eq!(order["creator"], "demo");
    assert!(order.get("endTime").is_none());
    let start = time(&order["startTime"]);
    assert_eq!(
        time(&order["deadlineTime"]),
        start.checked_add_months(Months::new(1)).unwrap()
    );
    assert_eq!(app.balance("demo").await, "901.00");

    let usages = app.get("/usages?project=demo", DEMO).await;
    usages.expect(200, 0);
    assert_eq!(usages.data()["total"], 1);
    let row = &usages.data()["results"][0];
    assert_eq!(row["orderId"], id.as_str());
    assert_eq!(row["consumeId"], 1);
    assert_eq!(row["kind"], "new");
    assert_eq!(row["money"], "99.00");
    assert_eq!(row["planId"], CPU);
    assert_eq!(row["deadlineTime"], order["deadlineTime"]);

    let fetched = app.get(&format!("/orders/{id}?project=demo"), DEMO).await;
    fetched.expect(200, 0);
    assert_eq!(fetched.data()["orderId"], id.as_str());
    assert_eq!(fetched.data()["startTime"], order["startTime"]);

    let cancelled = app
        .put(
            &format!("/orders/{id}"),
            DEMO,
            json!({"action": "cancel", "project": "demo"}),
        )
        .await;
    cancelled.expect(200, 0);
    assert_eq!(cancelled.data()["status"], "ended");
    let refunded = minor(&cancelled.data()["refunded"]);
    // Cancelled within seconds: nearly the whole month comes back, never more than was paid.
    assert!(
        refunded > 989_000 && refunded <= 990_000,
        "refunded {refunded}"
    );
    assert_eq!(
        minor(&app.balance("demo").await.into()),
        9_010_000 + refunded
    );

    let usages = app.get("/usages?project=demo", DEMO).await;
    assert_eq!(usages.data()["total"], 2);
    let end_row = &usages.data()["results"][0];
    assert_eq!(end_row["kind"], "end");
    assert_eq!(end_row["consumeId"], 2);
    assert_eq!(minor(&end_row["money"]), -refunded);

    let after = app.get(&format!("/orders/{id}?project=demo"), DEMO).await;
    assert_eq!(after.data()["status"], "ended");
    assert!(time(&after.data()["endTime"]) >= start);
    assert_eq!(
        app.get("/orders?project=demo", DEMO).await.data()["total"],
        0
    );
    assert_eq!(
        app.get("/orders?project=demo&status=ended", DEMO)
            .await
            .data()["total"],
        1
    );

    let again = app
        .put(
            &format!("/orders/{id}"),
            DEMO,
            json!({"action": "cancel", "project": "demo"}),
        )
        .await;
    again.expect(409, 3309);
    assert_eq!(
        minor(&app.balance("demo").await.into()),
        9_010_000 + refunded
    );
    app.assert_reconciled();
}

#[tokio::test]
async fn a_prepaid_order_is_charged_listed_and_refunded_on_cancel() {
    let app = spawn_app().await;
    prepaid_order_life_cycle(&app).await;
}

#[tokio::test]
async fn mysql_a_prepaid_order_is_charged_listed_and_refunded_on_cancel() {
    let Some(app) =
        spawn_app_mysql("orders::mysql_a_prepaid_order_is_charged_listed_and_refunded_on_cancel")
            .await
    else {
        return;
    };
    prepaid_order_life_cycle(&app).await;
}

#[tokio::test]
async fn orders_are_listed_by_status_and_region_page_by_page() {
    let app = spawn_app().await;
    // One quota order per region, and two volumes.
    app.create_order(DEMO, "demo", CPU).await.expect(201, 0);
    app.post(
        "/orders",
        DEMO,
        json!({"project": "demo", "planId": VOLUME, "quantities": 2, "parameters": {"resourceName": "data-1"}}),
    )
    .await
    .expect(201, 0);
    app.post(
        "/orders",
        DEMO,
        json!({"project": "demo", "planId": VOLUME, "parameters": {"resourceName": "data-2"}}),
    )
    .await
    .expect(201, 0);
    app.create_order(DEMO, "demo", NORTH2).await.expect(201, 0);

    let all = app.get("/orders?project=demo", DEMO).await;
    assert_eq!(all.data()["total"], 4);
    let first = app.get("/orders?project=demo&page=1&size=3", DEMO).await;
    let second = app.get("/orders?project=demo&page=2&size=3", DEMO).await;
    assert_eq!(first.data()["total"], 4);
    assert_eq!(first.data()["results"].as_array().unwrap().len(), 3);
    assert_eq!(second.data()["results"].as_array().unwrap().len(), 1);
    let beyond = app.get("/orders?project=demo&page=3&size=3", DEMO).await;
    assert_eq!(beyond.data()["results"].as_array().unwrap().len(), 0);

    let north2 = app
        .get("/orders?project=demo&region=cn-north-2", DEMO)
        .await;
    assert_eq!(north2.data()["total"], 1);
    assert_eq!(north2.data()["results"][0]["planId"], NORTH2);
    let named = app
        .get(
            "/orders?project=demo&region=cn-north-1&status=consuming",
            DEMO,
        )
        .await;
    assert_eq!(named.data()["total"], 3);
    let volume = named.data()["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["resourceName"] == "data-1")
        .unwrap();
    assert_eq!(volume["resourceName"], "data-1");
    assert_eq!(volume["quantities"], 2);
    assert_eq!(
        app.get("/orders?project=demo&status=ended", DEMO)
            .await
            .data()["total"],
        0
    );

    // 99.00 + 2 × 12.50 + 12.50 + 89.00
    assert_eq!(app.balance("demo").await, "774.50");
    assert_eq!(
        app.get("/usages?project=demo&region=cn-north-2", DEMO)
            .await
            .data()["total"],
        1
    );
    let one_order = volume["orderId"].as_str().unwrap();
    let usages = app
        .get(&format!("/usages?project=demo&order={one_order}"), DEMO)
        .await;
    assert_eq!(usages.data()["total"], 1);
    assert_eq!(usages.data()["results"][0]["money"], "25.00");
    let paged = app.get("/usages?project=demo&page=2&size=3", DEMO).await;
    assert_eq!(paged.data()["total"], 4);
    assert_eq!(paged.data()["results"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_dry_run_quotes_the_charge_and_writes_nothing() {
    let app = spawn_app().await;
    let before = app.snapshot("demo").await;
    for flag in ["1", "true"] {
        let quote = app
            .post(
                &format!("/orders?drytry={flag}"),
                DEMO,
                json!({"project": "demo", "planId": CPU, "quantities": 3}),
            )
            .await;
        quote.expect(200, 0);
        let data = quote.data();
        assert_eq!(data["money"], "297.00");
        assert_eq!(data["project"], "demo");
        assert_eq!(data["planId"], CPU);
        assert_eq!(data["region"], "cn-north-1");
        assert_eq!(data["quantities"], 3);
        assert_eq!(
            time(&data["deadlineTime"]),
            time(&data["startTime"])
                .checked_add_months(Months::new(1))
                .unwrap()
        );
        assert!(data.get("orderId").is_none());
    }
    let yearly = app
        .post(
            "/orders?drytry=1",
            DEMO,
            json!({"project": "demo", "planId": BSI, "parameters": {"resourceName": "db1"}}),
        )
        .await;
    yearly.expect(200, 0);
    assert_eq!(
        time(&yearly.data()["deadlineTime"]),
        time(&yearly.data()["startTime"])
            .checked_add_months(Months::new(12))
            .unwrap()
    );
    assert_eq!(app.snapshot("demo").await, before);
}

#[tokio::test]
async fn drytry_0_creates_a_real_order() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/orders?drytry=0",
            DEMO,
            json!({"project": "demo", "planId": CPU}),
        )
        .await;
    created.expect(201, 0);
    assert!(created.data()["orderId"].is_string());
    assert_eq!(app.balance("demo").await, "901.00");
}

#[tokio::test]
async fn a_postpaid_order_charges_nothing_up_front() {
    let app = spawn_app().await;
    let created = app.create_order(DEMO, "demo", POSTPAID).await;
    created.expect(201, 0);
    assert_eq!(created.data()["money"], "0.00");
    assert_eq!(created.data()["status"], "consuming");
    assert_eq!(app.balance("demo").await, "1000.00");
    assert_eq!(
        app.get("/usages?project=demo", DEMO).await.data()["total"],
        0
    );
    assert_eq!(
        app.get("/orders?project=demo", DEMO).await.data()["total"],
        1
    );
}

#[tokio::test]
async fn an_admin_acts_on_any_project() {
    let app = spawn_app().await;
    app.recharge("alice-project", "100.00").await.expect(200, 0);
    let created = app.create_order(ADMIN, "alice-project", CPU).await;
    created.expect(201, 0);
    assert_eq!(created.data()["creator"], "admin");
    let id = created.data()["orderId"].as_str().unwrap();
    app.get(&format!("/orders/{id}?project=alice-project"), ALICE)
        .await
        .expect(200, 0);
    assert_eq!(app.balance("alice-project").await, "1.00");
}

#[tokio::test]
async fn a_resource_name_is_free_again_once_its_order_ended() {
    let app = spawn_app().await;
    let body =
        json!({"project": "demo", "planId": VOLUME, "parameters": {"resourceName": "data-1"}});
    let first = app.post("/orders", DEMO, body.clone()).await;
    first.expect(201, 0);
    app.post("/orders", DEMO, body.clone())
        .await
        .expect(409, 3308);
    let id = first.data()["orderId"].as_str().unwrap();
    app.put(
        &format!("/orders/{id}"),
        DEMO,
        json!({"action": "cancel", "project": "demo"}),
    )
    .await
    .expect(200, 0);
    app.post("/orders", DEMO, body).await.expect(201, 0);
}

#[tokio::test]
async fn a_project_holds_one_open_quota_order_per_region() {
    let app = spawn_app().await;
    let first = app.create_order(DEMO, "demo", CPU).await;
    first.expect(201, 0);
    let before = app.snapshot("demo").await;
    // Another quota order in the region, prepaid or postpaid, is refused and costs nothing.
    for plan in [CPU, POSTPAID] {
        let second = app.create_order(DEMO, "demo", plan).await;
        second.expect(409, 3309);
        assert!(second.msg().contains("quota"), "{}", second.msg());
    }
    assert_eq!(app.snapshot("demo").await, before);
    // Another region is another quota.
    app.create_order(DEMO, "demo", NORTH2).await.expect(201, 0);
    // Once the first has ended, the region takes a quota order again.
    let id = first.data()["orderId"].as_str().unwrap();
    app.put(
        &format!("/orders/{id}"),
        DEMO,
        json!({"action": "cancel", "project": "demo"}),
    )
    .await
    .expect(200, 0);
    app.create_order(DEMO, "demo", CPU).await.expect(201, 0);
}
