//! Seed 001's read side through the real binary: the order list's filters, offset/limit,
//! the 51idc fields of a listed order, and the enumerations, on SQLite and MariaDB.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_mysql, TestApp, CPU, DEMO, NORTH2, VOLUME};

fn ids(reply: &Value) -> Vec<String> {
    reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_owned())
        .collect()
}

/// Five orders of demo: a quota order, two volumes (`pg-data` and `pgxlogs`: a resource
/// name cannot hold `_`, so `pg_` must find neither), the quota switched to the postpaid
/// plan (a new order that replaces it, which ends), and a quota in cn-north-2. Returns
/// the first quota order, its switch and the cn-north-2 order.
async fn seed(app: &TestApp) -> (String, String, String) {
    let cpu = app.create_order(DEMO, "demo", CPU).await;
    cpu.expect(201, 0);
    let cpu = cpu.data()["orderId"].as_str().unwrap().to_owned();
    for name in ["pg-data", "pgxlogs"] {
        app.post(
            "/orders",
            DEMO,
            json!({"project": "demo", "planId": VOLUME, "parameters": {"resourceName": name}}),
        )
        .await
        .expect(201, 0);
    }
    let switched = app
        .post(
            "/orders",
            DEMO,
            json!({"project": "demo", "planId": "cpuquota-postpaid", "replaces": cpu}),
        )
        .await;
    switched.expect(201, 0);
    let switched = switched.data()["orderId"].as_str().unwrap().to_owned();
    let north2 = app.create_order(DEMO, "demo", NORTH2).await;
    north2.expect(201, 0);
    (
        cpu,
        switched,
        north2.data()["orderId"].as_str().unwrap().to_owned(),
    )
}

async fn filters_narrow_the_list(app: &TestApp) {
    let (cpu, switched, north2) = seed(app).await;
    let list = |query: &str| {
        let path = format!("/orders?project=demo&{query}");
        async move {
            let reply = app.get(&path, DEMO).await;
            reply.expect(200, 0);
            reply.data().clone()
        }
    };

    let every = list("order_state=all").await;
    assert_eq!(every["total"], 5);
    assert_eq!(every["totalExact"], true);
    assert_eq!(list("status=all").await["total"], 5);
    // The switched-away quota order has ended; the default stays "consuming".
    assert_eq!(list("order_state=ended").await["total"], 1);
    assert_eq!(ids(&list("order_state=ended").await), [cpu.as_str()]);
    assert_eq!(list("").await["total"], 4);

    let switches = list("order_state=all&order_type=switch").await;
    assert_eq!(ids(&switches), [switched.as_str()]);
    assert_eq!(switches["results"][0]["orderType"], "switch");
    assert_eq!(list("order_state=all&order_type=new").await["total"], 4);

    let volumes = list("resource_type=volume").await;
    assert_eq!(volumes["total"], 2);
    for order in volumes["results"].as_array().unwrap() {
        assert_eq!(order["resourceType"], "volume");
        assert_eq!(order["orderName"], "10 GiB persistent volume, per month");
        assert_eq!(order["payWay"], "PREPAY");
        assert_eq!(order["productName"], VOLUME);
        assert_eq!(order["price"], "12.50");
    }
    assert_eq!(list("resource_type=bsi").await["total"], 0);
    assert_eq!(
        ids(&list("resource_type=cpuquota&region=cn-north-2").await),
        [north2.as_str()]
    );

    // A search word is a literal, case-sensitive prefix of the id, the name or the plan.
    let pg = list("search_word=pg-").await;
    assert_eq!(pg["total"], 1);
    assert_eq!(pg["results"][0]["resourceName"], "pg-data");
    assert_eq!(list("search_word=pg").await["total"], 2);
    assert_eq!(list("search_word=pg_").await["total"], 0);
    assert_eq!(list("search_word=PG").await["total"], 0);
    assert_eq!(list("search_word=%25").await["total"], 0);
    assert_eq!(list("search_word=%E6%95%B0%E6%8D%AE").await["total"], 0);
    assert_eq!(
        ids(&list(&format!("search_word={}&order_state=all", &switched[..8])).await),
        [switched.as_str()]
    );
    assert_eq!(
        list("search_word=cpuquota-monthly&order_state=all").await["total"],
        2,
        "the ended quota order and the cn-north-2 one"
    );

    // Creation time: start included, end excluded; everything was created just now.
    let created = every["results"][0]["createTime"]
        .as_str()
        .unwrap()
        .to_owned();
    let encoded = created.replace('+', "%2B");
    let from_newest = list(&format!("order_state=all&start_time={encoded}")).await;
    assert_eq!(ids(&from_newest), [north2.as_str()]);
    assert_eq!(
        list(&format!("order_state=all&end_time={encoded}")).await["total"],
        4
    );
    assert_eq!(
        list("order_state=all&start_time=2000-01-01T00:00:00Z&end_time=2001-01-01T00:00:00Z").await
            ["total"],
        0
    );
    assert_eq!(
        list("order_state=all&start_time=2000-01-01T08:00:00+08:00").await["total"],
        5,
        "a + read as a space is taken as the +"
    );

    // offset/limit: 10 by default, pages that neither overlap nor skip.
    let window = list("order_state=all&offset=0").await;
    assert_eq!(ids(&window), ids(&every));
    let mut paged = Vec::new();
    for offset in [0, 2, 4] {
        paged.extend(ids(&list(&format!(
            "order_state=all&offset={offset}&limit=2"
        ))
        .await));
    }
    assert_eq!(paged, ids(&every));
}

#[tokio::test]
async fn filters_narrow_the_order_list() {
    let app = spawn_app().await;
    filters_narrow_the_list(&app).await;
}

#[tokio::test]
async fn mysql_filters_narrow_the_order_list() {
    let Some(app) = spawn_app_mysql("order_filters::mysql_filters_narrow_the_order_list").await
    else {
        return;
    };
    filters_narrow_the_list(&app).await;
}

#[tokio::test]
async fn bad_filters_are_400_3307_naming_what_is_wrong() {
    let app = spawn_app().await;
    for (query, message) in [
        (
            "start_time=2026-12-08T00:00:00Z&end_time=2026-12-01T00:00:00Z",
            "end_time must not be before start_time",
        ),
        (
            "start_time=yesterday",
            "start_time must be an RFC 3339 time",
        ),
        ("end_time=2026-12-01", "end_time must be an RFC 3339 time"),
        (
            "order_type=renewal",
            "order_type must be one of new, switch",
        ),
        ("order_state=done", "order_state must be one of"),
        ("status=ended&order_state=ended", "give one of them"),
        ("resource_type=", "resource_type must be a plan type"),
        ("offset=-1", "offset must be a whole number"),
        ("limit=0", "limit must be a whole number from 1 to 1000"),
        ("limit=1001", "limit must be a whole number from 1 to 1000"),
        ("page=1&offset=0", "give one of them"),
        ("search_word=", "search_word must not be empty"),
        (
            &format!("search_word={}", "x".repeat(65)),
            "search_word must be at most 64 characters",
        ),
    ] {
        let reply = app
            .get(&format!("/orders?project=demo&{query}"), DEMO)
            .await;
        reply.expect(400, 3307);
        assert!(reply.msg().contains(message), "{query}: {}", reply.msg());
    }
}

#[tokio::test]
async fn enumerations_list_values_with_english_and_chinese_labels() {
    let app = spawn_app().await;
    let states = app.get("/order-states", DEMO).await;
    states.expect(200, 0);
    let values: Vec<&str> = states.data()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["pending", "consuming", "ending", "ended"]);
    // Every state listed is one the order list takes.
    for value in values {
        app.get(&format!("/orders?project=demo&order_state={value}"), DEMO)
            .await
            .expect(200, 0);
    }
    let types = app.get("/order-types", DEMO).await;
    assert_eq!(
        types.data()["results"],
        json!([{"value": "new", "en": "New purchase", "zh": "新购"},
               {"value": "switch", "en": "Plan switch", "zh": "变更"}])
    );
    let accounts = app.get("/account-types", DEMO).await;
    assert_eq!(
        accounts.data()["results"],
        json!([{"value": "admin", "en": "Main account", "zh": "主账号"},
               {"value": "sub", "en": "Sub-account", "zh": "子账号"}])
    );
    // Every account type listed is one the lists take.
    for value in ["admin", "sub"] {
        app.get(&format!("/orders?project=demo&account_type={value}"), DEMO)
            .await
            .expect(200, 0);
    }
    let resources = app.get("/resource-types", DEMO).await;
    let values: Vec<&str> = resources.data()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["bsi", "cpuquota", "volume"]);
    assert_eq!(resources.data()["results"][2]["zh"], "存储卷");
    let north2 = app.get("/resource-types?region=cn-north-2", DEMO).await;
    assert_eq!(
        north2.data()["results"],
        json!([{"value": "cpuquota",
        "en": "CPU and memory quota", "zh": "CPU与内存配额"}])
    );
    assert_eq!(
        app.get("/resource-types?region=nowhere", DEMO).await.data()["total"],
        0
    );
    app.get("/resource-types?region=", DEMO)
        .await
        .expect(400, 3307);
    for path in [
        "/order-states",
        "/order-types",
        "/resource-types",
        "/account-types",
    ] {
        let anonymous = app
            .send(app.request(reqwest::Method::GET, path, None))
            .await;
        assert_eq!(anonymous.status, 401, "{path}");
    }
}

/// Every row of `/usages` (order id and sequence number, amount), sorted.
async fn usage_rows(app: &TestApp) -> Vec<(String, String)> {
    let usages = app.get("/usages?project=demo&size=100", DEMO).await;
    let mut rows: Vec<(String, String)> = usages.data()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                format!("{}-{}", u["orderId"].as_str().unwrap(), u["consumeId"]),
                u["money"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

async fn records_hold_every_row_of_their_orders(app: &TestApp) {
    let (cpu, switched, north2) = seed(app).await;
    let records = app
        .get("/records?project=demo&offset=0&limit=100", DEMO)
        .await;
    records.expect(200, 0);
    let data = records.data();
    assert_eq!(data["total"], 5, "records are of orders in every state");
    let mut details: Vec<(String, String)> = Vec::new();
    for record in data["results"].as_array().unwrap() {
        let order_id = record["orderId"].as_str().unwrap();
        assert_eq!(record["datacenter"], record["region"]);
        for detail in record["priceDetails"].as_array().unwrap() {
            assert_eq!(detail["orderNumber"], order_id);
            assert_eq!(detail["datacenter"], record["region"]);
            assert_eq!(detail["consumeWay"], record["payWay"]);
            assert!(detail["recordTitle"]
                .as_str()
                .unwrap()
                .starts_with(record["orderName"].as_str().unwrap()));
            details.push((
                detail["recordId"].as_str().unwrap().to_owned(),
                detail["consumePrice"].as_str().unwrap().to_owned(),
            ));
        }
        // One record read alone is the same record.
        let alone = app
            .get(&format!("/records/{order_id}?project=demo"), DEMO)
            .await;
        alone.expect(200, 0);
        assert_eq!(alone.data(), record);
    }
    details.sort();
    assert_eq!(
        details,
        usage_rows(app).await,
        "the records hold every row once"
    );

    // The switched-away order was charged, then refunded when it ended.
    let ended = app.get(&format!("/records/{cpu}?project=demo"), DEMO).await;
    let kinds: Vec<&str> = ended.data()["priceDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["new", "end"]);
    assert_eq!(ended.data()["orderType"], "new");
    let switch = app
        .get(&format!("/records/{switched}?project=demo"), DEMO)
        .await;
    assert_eq!(switch.data()["orderType"], "switch");

    let north = app
        .get("/records?project=demo&datacenter=cn-north-2", DEMO)
        .await;
    assert_eq!(north.data()["total"], 1);
    assert_eq!(north.data()["results"][0]["orderId"], north2.as_str());
    assert_eq!(
        app.get("/records?project=demo&order_type=switch", DEMO)
            .await
            .data()["total"],
        1
    );
    app.get("/records?project=demo&datacenter=", DEMO)
        .await
        .expect(400, 3307);
    app.get("/records/no-such-order?project=demo", DEMO)
        .await
        .expect(404, 3318);
    app.get(
        &format!("/records/{cpu}?project=alice-project"),
        crate::helpers::ALICE,
    )
    .await
    .expect(404, 3318);
    app.get(
        &format!("/records/{cpu}?project=demo"),
        crate::helpers::ALICE,
    )
    .await
    .expect(403, 3306);
    app.get("/records?project=demo", crate::helpers::ALICE)
        .await
        .expect(403, 3306);
}

#[tokio::test]
async fn records_hold_every_row_of_their_orders_once() {
    let app = spawn_app().await;
    records_hold_every_row_of_their_orders(&app).await;
}

#[tokio::test]
async fn mysql_records_hold_every_row_of_their_orders_once() {
    let Some(app) =
        spawn_app_mysql("order_filters::mysql_records_hold_every_row_of_their_orders_once").await
    else {
        return;
    };
    records_hold_every_row_of_their_orders(&app).await;
}
