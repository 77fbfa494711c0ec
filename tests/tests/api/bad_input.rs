//! Bad input: every case gets a 4xx with the right code and leaves the database as it was.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, ADMIN, ALICE, CPU, DEMO, NORTH2, POSTPAID, VOLUME};

/// Sends each `(path, body)` as `POST` and expects `status`/`code`, with demo's and
/// alice's data unchanged afterwards.
async fn each_post_is_refused(
    app: &TestApp,
    token: &str,
    cases: &[(&str, serde_json::Value)],
    status: u16,
    code: i64,
) {
    let before = (
        app.snapshot("demo").await,
        app.snapshot("alice-project").await,
    );
    for (path, body) in cases {
        let reply = app.post(path, token, body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "POST {path} {body}: {reply:?}"
        );
    }
    assert_eq!(
        (
            app.snapshot("demo").await,
            app.snapshot("alice-project").await
        ),
        before
    );
}

#[tokio::test]
async fn malformed_json_and_empty_bodies_are_3302() {
    let app = spawn_app().await;
    let before = app.snapshot("demo").await;
    let json = Some("application/json");
    let cases: [(Method, &str, Option<&str>, &str); 8] = [
        (
            Method::POST,
            "/orders",
            json,
            r#"{"project": "demo", "planId": "#,
        ),
        (Method::POST, "/orders", json, ""),
        (Method::POST, "/orders", json, "not json"),
        (
            Method::POST,
            "/orders",
            json,
            r#"["demo", "cpuquota-monthly"]"#,
        ),
        (Method::PUT, "/orders/abc", json, "{"),
        (Method::POST, "/balances/demo/recharges", json, ""),
        (
            Method::POST,
            "/orders",
            Some("text/plain"),
            r#"{"project": "demo", "planId": "cpuquota-monthly"}"#,
        ),
        (
            Method::POST,
            "/orders",
            None,
            r#"{"project": "demo", "planId": "cpuquota-monthly"}"#,
        ),
    ];
    for (method, path, content_type, body) in cases {
        let reply = app
            .raw(method.clone(), path, ADMIN, content_type, body)
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, 3302),
            "{method} {path} {content_type:?} {body:?}: {reply:?}"
        );
    }
    assert_eq!(app.snapshot("demo").await, before);
}

#[tokio::test]
async fn wrong_json_types_are_3302_naming_the_field() {
    let app = spawn_app().await;
    let before = app.snapshot("demo").await;
    let cases = [
        (
            json!({"project": "demo", "planId": CPU, "quantities": "x"}),
            "quantities",
        ),
        (
            json!({"project": "demo", "planId": CPU, "quantities": 1.5}),
            "quantities",
        ),
        (json!({"project": 7, "planId": CPU}), "project"),
        (json!({"project": "demo", "planId": [CPU]}), "planId"),
        (
            json!({"project": "demo", "planId": VOLUME, "parameters": {"resourceName": 5}}),
            "parameters.resourceName",
        ),
        (
            json!({"project": "demo", "planId": CPU, "parameters": "x"}),
            "parameters",
        ),
    ];
    for (body, field) in cases {
        let reply = app.post("/orders", DEMO, body.clone()).await;
        reply.expect(400, 3302);
        assert!(reply.msg().contains(field), "{body}: {}", reply.msg());
    }
    let reply = app
        .put(
            "/orders/abc",
            DEMO,
            json!({"action": true, "project": "demo"}),
        )
        .await;
    reply.expect(400, 3302);
    assert!(reply.msg().contains("action"), "{}", reply.msg());
    assert_eq!(app.snapshot("demo").await, before);
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let app = spawn_app().await;
    app.post(
        "/orders",
        DEMO,
        json!({"project": "demo", "planId": CPU, "colour": "blue"}),
    )
    .await
    .expect(201, 0);
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = spawn_app().await;
    let before = app.snapshot("demo").await;
    let padding = "x".repeat(70 * 1024);
    let body = json!({"project": "demo", "planId": CPU, "padding": padding}).to_string();
    let reply = app
        .raw(
            Method::POST,
            "/orders",
            DEMO,
            Some("application/json"),
            body,
        )
        .await;
    reply.expect(413, 3302);
    let just_under = json!({"project": "demo", "planId": CPU, "padding": "x".repeat(60 * 1024)});
    app.post("/orders?drytry=1", DEMO, just_under)
        .await
        .expect(200, 0);
    assert_eq!(app.snapshot("demo").await, before);
}

#[tokio::test]
async fn an_unknown_or_missing_action_is_3307() {
    let app = spawn_app().await;
    let order = app.create_order(DEMO, "demo", CPU).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    let before = app.snapshot("demo").await;
    for body in [
        json!({"action": "refund", "project": "demo"}),
        json!({"action": "CANCEL", "project": "demo"}),
        json!({"action": "RENEW", "project": "demo"}),
        json!({"action": "", "project": "demo"}),
        json!({"project": "demo"}),
        json!({"action": "cancel"}),
    ] {
        let reply = app.put(&format!("/orders/{id}"), DEMO, body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, 3307),
            "{body}: {reply:?}"
        );
    }
    assert_eq!(app.snapshot("demo").await, before);
}

#[tokio::test]
async fn unknown_plans_and_plans_of_another_region_are_3307() {
    let app = spawn_app().await;
    each_post_is_refused(
        &app,
        DEMO,
        &[
            (
                "/orders",
                json!({"project": "demo", "planId": "no-such-plan"}),
            ),
            (
                "/orders",
                json!({"project": "demo", "planId": NORTH2, "region": "cn-north-1"}),
            ),
            (
                "/orders",
                json!({"project": "demo", "planId": CPU, "region": "cn-north-2"}),
            ),
            (
                "/orders?drytry=1",
                json!({"project": "demo", "planId": "no-such-plan"}),
            ),
            ("/orders", json!({"project": "demo"})),
            ("/orders", json!({"planId": CPU})),
        ],
        400,
        3307,
    )
    .await;
}

#[tokio::test]
async fn zero_negative_and_absurd_quantities_are_3307() {
    let app = spawn_app().await;
    let cases: Vec<_> = [-1, 0, 10_001, 4_294_967_297_i64]
        .into_iter()
        .map(|q| {
            (
                "/orders",
                json!({"project": "demo", "planId": CPU, "quantities": q}),
            )
        })
        .collect();
    each_post_is_refused(&app, DEMO, &cases, 400, 3307).await;
    each_post_is_refused(
        &app,
        DEMO,
        &[(
            "/orders",
            json!({"project": "demo", "planId": CPU, "quantities": "x"}),
        )],
        400,
        3302,
    )
    .await;
}

#[tokio::test]
async fn resource_names_are_required_where_needed_and_refused_elsewhere() {
    let app = spawn_app().await;
    each_post_is_refused(
        &app,
        DEMO,
        &[
            ("/orders", json!({"project": "demo", "planId": VOLUME})),
            ("/orders", json!({"project": "demo", "planId": VOLUME, "parameters": {}})),
            ("/orders", json!({"project": "demo", "planId": VOLUME, "parameters": {"resourceName": "Bad Name"}})),
            ("/orders", json!({"project": "demo", "planId": CPU, "parameters": {"resourceName": "cpu-1"}})),
        ],
        400,
        3307,
    )
    .await;
}

#[tokio::test]
async fn a_duplicated_resource_name_is_409_3308() {
    let app = spawn_app().await;
    let body =
        json!({"project": "demo", "planId": VOLUME, "parameters": {"resourceName": "data-1"}});
    app.post("/orders", DEMO, body.clone()).await.expect(201, 0);
    each_post_is_refused(&app, DEMO, &[("/orders", body)], 409, 3308).await;
}

#[tokio::test]
async fn drytry_other_than_0_1_true_false_is_3307() {
    let app = spawn_app().await;
    let body = json!({"project": "demo", "planId": CPU});
    each_post_is_refused(
        &app,
        DEMO,
        &[
            ("/orders?drytry=yes", body.clone()),
            ("/orders?drytry=2", body),
        ],
        400,
        3307,
    )
    .await;
}

#[tokio::test]
async fn page_0_and_size_101_are_3307() {
    let app = spawn_app().await;
    for path in [
        "/orders?project=demo&page=0",
        "/orders?project=demo&size=101",
        "/orders?project=demo&size=0",
        "/orders?project=demo&page=x",
        "/usages?project=demo&page=0",
        "/usages?project=demo&size=101",
        "/balances/demo/recharges?page=0",
        "/balances/demo/recharges?size=101",
        "/orders?project=demo&status=done",
    ] {
        let reply = app.get(path, DEMO).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, 3307),
            "{path}: {reply:?}"
        );
    }
    app.get("/orders?project=demo&page=1&size=100", DEMO)
        .await
        .expect(200, 0);
}

#[tokio::test]
async fn ids_with_spaces_or_10_kb_long_are_3307_in_paths_queries_and_bodies() {
    let app = spawn_app().await;
    let before = app.snapshot("demo").await;
    let long = "a".repeat(10 * 1024);
    let gets = [
        "/orders/a%20b?project=demo".to_owned(),
        format!("/orders/{long}?project=demo"),
        "/orders/abc?project=de%20mo".to_owned(),
        format!("/orders/abc?project={long}"),
        "/orders/abc".to_owned(),
        "/orders?project=de%20mo".to_owned(),
        format!("/orders?project={long}"),
        "/orders".to_owned(),
        "/orders?project=demo&region=cn%20north".to_owned(),
        format!("/orders?project=demo&region={long}"),
        "/usages?project=de%20mo".to_owned(),
        format!("/usages?project=demo&order={long}"),
        "/usages?project=demo&order=a%20b".to_owned(),
        "/usages".to_owned(),
        "/plans?region=cn%20north".to_owned(),
        "/balances/de%20mo".to_owned(),
        format!("/balances/{long}"),
        "/balances/de%20mo/recharges".to_owned(),
        format!("/balances/{long}/recharges"),
    ];
    for path in &gets {
        let reply = app.get(path, ADMIN).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, 3307),
            "GET {}: {reply:?}",
            &path[..path.len().min(80)]
        );
    }
    let cancel = json!({"action": "cancel", "project": "demo"});
    for path in ["/orders/a%20b".to_owned(), format!("/orders/{long}")] {
        app.put(&path, ADMIN, cancel.clone())
            .await
            .expect(400, 3307);
    }
    app.put(
        "/orders/abc",
        ADMIN,
        json!({"action": "cancel", "project": long.as_str()}),
    )
    .await
    .expect(400, 3307);
    each_post_is_refused(
        &app,
        ADMIN,
        &[
            ("/orders", json!({"project": "de mo", "planId": CPU})),
            ("/orders", json!({"project": long.as_str(), "planId": CPU})),
            ("/orders", json!({"project": "demo", "planId": "cpu quota"})),
            (
                "/orders",
                json!({"project": "demo", "planId": long.as_str()}),
            ),
            (
                "/orders",
                json!({"project": "demo", "planId": CPU, "region": long.as_str()}),
            ),
            ("/balances/de%20mo/recharges", json!({"amount": "1.00"})),
        ],
        400,
        3307,
    )
    .await;
    assert_eq!(app.snapshot("demo").await, before);
}

#[tokio::test]
async fn bad_recharge_amounts_are_refused() {
    let app = spawn_app().await;
    let path = "/balances/alice-project/recharges";
    each_post_is_refused(
        &app,
        ADMIN,
        &[
            (path, json!({"amount": "0"})),
            (path, json!({"amount": "0.00"})),
            (path, json!({"amount": "-5.00"})),
            (path, json!({"amount": "1.00001"})),
            (path, json!({"amount": "ten"})),
            (path, json!({"amount": "1e3"})),
            (path, json!({"amount": ""})),
            (path, json!({})),
            (path, json!({"amount": "1000000000.01"})),
            (path, json!({"amount": "5.00", "comment": "c".repeat(300)})),
        ],
        400,
        3307,
    )
    .await;
    let reply = app.post(path, ADMIN, json!({"amount": 100})).await;
    reply.expect(400, 3302);
    assert!(
        reply.msg().contains("amounts are decimal strings"),
        "{}",
        reply.msg()
    );
    assert_eq!(app.balance("alice-project").await, "0.00");
}

#[tokio::test]
async fn insufficient_balance_is_402_3316_and_writes_nothing() {
    let app = spawn_app().await;
    app.recharge("alice-project", "50.00").await.expect(200, 0);
    let before = app.snapshot("alice-project").await;
    let reply = app.create_order(ALICE, "alice-project", CPU).await;
    reply.expect(402, 3316);
    assert!(
        reply.msg().contains("99.00") && reply.msg().contains("50.00"),
        "{}",
        reply.msg()
    );
    let big = app
        .post(
            "/orders",
            DEMO,
            json!({"project": "demo", "planId": CPU, "quantities": 11}),
        )
        .await;
    big.expect(402, 3316);
    assert_eq!(app.snapshot("alice-project").await, before);
    assert_eq!(app.balance("alice-project").await, "50.00");
    assert_eq!(app.balance("demo").await, "1000.00");
    assert_eq!(
        app.get("/orders?project=demo", DEMO).await.data()["total"],
        0
    );
    // A postpaid order needs one cycle (120.00) of credit: the balance plus the credit
    // limit (0.00 by default).
    let postpaid = app.create_order(ALICE, "alice-project", POSTPAID).await;
    postpaid.expect(402, 3316);
    assert!(
        postpaid.msg().contains("120.00") && postpaid.msg().contains("50.00"),
        "{}",
        postpaid.msg()
    );
    assert_eq!(app.snapshot("alice-project").await, before);
    app.recharge("alice-project", "70.00").await.expect(200, 0);
    app.create_order(ALICE, "alice-project", POSTPAID)
        .await
        .expect(201, 0);
    // Opening it charged nothing.
    assert_eq!(app.balance("alice-project").await, "120.00");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_both_3303() {
    let app = spawn_app().await;
    for path in ["/nothing", "/orders/abc/extra", "/balances"] {
        app.get(path, DEMO).await.expect(404, 3303);
    }
    app.get("//usageapi/v2/orders", DEMO)
        .await
        .expect(404, 3303);
    app.get("//index.html", DEMO).await.expect(404, 3303);
    let wrong: [(Method, &str, &str); 7] = [
        (Method::DELETE, "/orders/abc", "GET, HEAD, PUT"),
        (Method::PUT, "/orders", "GET, HEAD, POST"),
        (Method::POST, "/plans", "GET, HEAD"),
        (Method::DELETE, "/balances/demo", "GET, HEAD"),
        (Method::PUT, "/balances/demo/recharges", "GET, HEAD, POST"),
        (Method::POST, "//healthz", "GET, HEAD"),
        (Method::PATCH, "//openapi.json", "GET, HEAD"),
    ];
    for (method, path, allow) in wrong {
        let reply = app
            .send(app.request(method.clone(), path, Some(DEMO)))
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (405, 3303),
            "{method} {path}: {reply:?}"
        );
        assert_eq!(
            reply.headers.get("allow").map(|v| v.to_str().unwrap()),
            Some(allow),
            "{method} {path}"
        );
    }
    let unknown = app.get("/nothing", DEMO).await;
    assert!(unknown.headers.get("allow").is_none(), "{unknown:?}");
}

/// `HEAD` answers what `GET` would, headers included, without the body.
#[tokio::test]
async fn head_is_served_wherever_get_is() {
    let app = spawn_app().await;
    for (path, token) in [
        ("//healthz", None),
        ("//", None),
        ("//openapi.json", None),
        ("//docs", None),
        ("/plans", Some(DEMO)),
        ("/orders?project=demo", Some(DEMO)),
        ("/balances/demo", Some(DEMO)),
        ("/orders?project=demo", None),
    ] {
        let get = app.request(Method::GET, path, token).send().await.unwrap();
        let head = app.request(Method::HEAD, path, token).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        for name in ["content-type", "content-length", "www-authenticate"] {
            assert_eq!(
                head.headers().get(name),
                get.headers().get(name),
                "{path} {name}"
            );
        }
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
        assert!(!get.bytes().await.unwrap().is_empty(), "{path}");
    }
}

/// An empty value is not an absent one: each is 400 / 3307 and nothing is written (a bare
/// `?drytry=` used to create and charge a real order, `"replaces": ""` a second order).
#[tokio::test]
async fn empty_and_null_values_are_3307_not_defaults() {
    let app = spawn_app().await;
    let order = app.create_order(DEMO, "demo", CPU).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    // Without the checks each of these would open (and charge) a volume order.
    let base =
        || json!({"project": "demo", "planId": VOLUME, "parameters": {"resourceName": "data-1"}});
    let with = |key: &str, value: serde_json::Value| {
        let mut body = base();
        body[key] = value;
        body
    };
    each_post_is_refused(
        &app,
        DEMO,
        &[
            ("/orders?drytry=", base()),
            ("/orders", with("replaces", json!(""))),
            ("/orders", with("region", json!(""))),
            ("/orders", with("quantities", json!(null))),
            ("/orders", with("region", json!(null))),
            ("/orders", with("replaces", json!(null))),
            ("/orders", with("parameters", json!(null))),
            ("/orders", with("parameters", json!({"resourceName": ""}))),
            ("/orders", with("parameters", json!({"resourceName": null}))),
        ],
        400,
        3307,
    )
    .await;
    each_post_is_refused(
        &app,
        ADMIN,
        &[(
            "/balances/alice-project/recharges",
            json!({"amount": "1.00", "comment": null}),
        )],
        400,
        3307,
    )
    .await;
    for path in [
        "/orders?project=demo&page=".to_owned(),
        "/orders?project=demo&size=".to_owned(),
        "/orders?project=demo&status=".to_owned(),
        "/orders?project=demo&region=".to_owned(),
        "/usages?project=demo&order=".to_owned(),
        "/usages?project=demo&region=".to_owned(),
        "/usages?project=demo&page=".to_owned(),
        "/notifications?project=demo&order=".to_owned(),
        "/notifications?project=demo&size=".to_owned(),
        "/balances/demo/recharges?page=".to_owned(),
        "/plans?region=".to_owned(),
        format!("/orders/{id}?project="),
    ] {
        let reply = app.get(&path, DEMO).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, 3307),
            "{path}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn a_page_beyond_the_largest_says_the_range() {
    let app = spawn_app().await;
    let reply = app.get("/orders?project=demo&page=99999999999", DEMO).await;
    reply.expect(400, 3307);
    assert_eq!(
        reply.msg(),
        "invalid parameters: page must be a whole number from 1 to 4294967295"
    );
}
