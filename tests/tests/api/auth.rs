//! Tokens and project membership: every endpoint but /healthz needs a valid bearer token,
//! and a member of one project cannot touch another's orders, balance or history.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, ALICE, CPU, DEMO};

/// What any authenticated caller may read: the catalog and the enumerations.
const OPEN_TO_ALL: [&str; 5] = [
    "/plans",
    "/order-states",
    "/order-types",
    "/resource-types",
    "/account-types",
];

/// Every business endpoint, with a body where it takes one; the lists also with every
/// filter, which must not widen what a caller sees.
fn endpoints(order_id: &str) -> Vec<(Method, String, Option<serde_json::Value>)> {
    let mut all: Vec<(Method, String, Option<serde_json::Value>)> = OPEN_TO_ALL
        .iter()
        .map(|path| (Method::GET, (*path).to_owned(), None))
        .collect();
    all.extend([
        (Method::GET, "/orders?project=demo".into(), None),
        (
            Method::GET,
            "/orders?project=demo&order_state=all&resource_type=cpuquota&order_type=new".into(),
            None,
        ),
        (
            Method::GET,
            "/orders?project=demo&order_state=all&search_word=c&start_time=2020-01-01T00:00:00Z\
             &offset=0&limit=5"
                .into(),
            None,
        ),
        (
            Method::POST,
            "/orders".into(),
            Some(json!({"project": "demo", "planId": CPU})),
        ),
        (
            Method::GET,
            format!("/orders/{order_id}?project=demo"),
            None,
        ),
        (
            Method::PUT,
            format!("/orders/{order_id}"),
            Some(json!({"action": "cancel", "project": "demo"})),
        ),
        (Method::GET, "/usages?project=demo".into(), None),
        (
            Method::GET,
            "/records?project=demo&datacenter=cn-north-1&offset=0".into(),
            None,
        ),
        (
            Method::GET,
            format!("/records/{order_id}?project=demo"),
            None,
        ),
        (Method::GET, "/balances/demo".into(), None),
        (Method::GET, "/balances/demo/recharges".into(), None),
        (
            Method::GET,
            "/balances/demo/recharges?start_time=2020-01-01T00:00:00Z&offset=0".into(),
            None,
        ),
        (
            Method::POST,
            "/balances/demo/recharges".into(),
            Some(json!({"amount": "5.00"})),
        ),
    ]);
    all
}

#[tokio::test]
async fn a_missing_wrong_or_malformed_token_is_401_and_changes_nothing() {
    let app = spawn_app().await;
    let order = app.create_order(DEMO, "demo", CPU).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    let before = app.snapshot("demo").await;
    let headers: [Option<&str>; 6] = [
        None,
        Some("Bearer wrong-token"),
        Some("Bearer"),
        Some("Basic ZGVtbzpkZW1v"),
        Some("demo-token"),
        Some("Bearer demo-token-and-more"),
    ];
    for (method, path, body) in endpoints(&id) {
        for header in headers {
            let mut request = app.request(method.clone(), &path, None);
            if let Some(value) = header {
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let reply = app.send(request).await;
            assert_eq!(
                (reply.status.as_u16(), reply.code()),
                (401, 3305),
                "{method} {path} with {header:?}: {reply:?}"
            );
        }
    }
    assert_eq!(app.snapshot("demo").await, before);
}

#[tokio::test]
async fn a_member_of_one_project_cannot_touch_another_projects_data() {
    let app = spawn_app().await;
    let order = app.create_order(DEMO, "demo", CPU).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    let before = app.snapshot("demo").await;
    for (method, path, body) in endpoints(&id) {
        if OPEN_TO_ALL.contains(&path.as_str()) {
            continue;
        }
        let mut request = app.request(method.clone(), &path, Some(ALICE));
        if let Some(body) = &body {
            request = request.json(body);
        }
        let reply = app.send(request).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (403, 3306),
            "{method} {path}: {reply:?}"
        );
    }
    assert_eq!(app.snapshot("demo").await, before);
}

#[tokio::test]
async fn an_order_id_of_another_project_is_not_found_in_ones_own() {
    let app = spawn_app().await;
    let order = app.create_order(DEMO, "demo", CPU).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    let before = app.snapshot("demo").await;
    app.get(&format!("/orders/{id}?project=alice-project"), ALICE)
        .await
        .expect(404, 3318);
    app.put(
        &format!("/orders/{id}"),
        ALICE,
        json!({"action": "cancel", "project": "alice-project"}),
    )
    .await
    .expect(404, 3318);
    app.get("/orders/no-such-order?project=demo", DEMO)
        .await
        .expect(404, 3318);
    assert_eq!(app.snapshot("demo").await, before);
    assert_eq!(
        app.get(&format!("/usages?project=alice-project&order={id}"), ALICE)
            .await
            .data()["total"],
        0
    );
}

#[tokio::test]
async fn only_admins_recharge() {
    let app = spawn_app().await;
    let before = app.snapshot("demo").await;
    app.post("/balances/demo/recharges", DEMO, json!({"amount": "5.00"}))
        .await
        .expect(403, 3306);
    app.post(
        "/balances/alice-project/recharges",
        ALICE,
        json!({"amount": "5.00"}),
    )
    .await
    .expect(403, 3306);
    assert_eq!(app.snapshot("demo").await, before);
    assert_eq!(app.balance("alice-project").await, "0.00");
}

#[tokio::test]
async fn an_admin_reads_every_projects_lists_and_records() {
    let app = spawn_app().await;
    let order = app.create_order(DEMO, "demo", CPU).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    for path in [
        "/orders?project=demo&order_state=all&resource_type=cpuquota".to_owned(),
        "/records?project=demo&offset=0".to_owned(),
        format!("/records/{id}?project=demo"),
        "/balances/demo/recharges?start_time=2020-01-01T00:00:00Z".to_owned(),
    ] {
        let reply = app.get(&path, crate::helpers::ADMIN).await;
        reply.expect(200, 0);
        let seen = reply.data().to_string();
        if !path.contains("recharges") {
            assert!(seen.contains(&id), "{path}: {seen}");
        }
    }
}
