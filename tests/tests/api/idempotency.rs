//! `Idempotency-Key` on the money-moving writes of the local ledger: the same key and the
//! same request get the first answer again (`Idempotent-Replayed: true`) and nothing is
//! done twice; the same key with another request is 409 / 3321; a malformed key is
//! 400 / 3307 and does nothing.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    minor, spawn_app, spawn_app_mysql, TestApp, ADMIN, ALICE, CPU, DEMO, DEV, VOLUME,
};

/// Keys the service must refuse: empty, a space (not visible), 256 characters.
fn malformed_keys() -> [String; 3] {
    [String::new(), "two words".into(), "k".repeat(256)]
}

#[tokio::test]
async fn a_recharge_retried_with_its_key_is_replayed_and_credited_once() {
    let app = spawn_app().await;
    let path = "/balances/alice-project/recharges";
    let body = json!({"amount": "10.00", "comment": "invoice 7"});
    let first = app
        .keyed(Method::POST, path, ADMIN, "recharge-7", body.clone())
        .await;
    first.expect(200, 0);
    assert!(!first.replayed());
    let again = app
        .keyed(Method::POST, path, ADMIN, "recharge-7", body.clone())
        .await;
    again.expect(200, 0);
    assert!(again.replayed(), "{:?}", again.headers);
    assert_eq!(again.body, first.body);
    assert_eq!(app.balance("alice-project").await, "10.00");

    // The same key for another amount is refused, and credits nothing.
    app.keyed(
        Method::POST,
        path,
        ADMIN,
        "recharge-7",
        json!({"amount": "20.00", "comment": "invoice 7"}),
    )
    .await
    .expect(409, 3321);
    for key in malformed_keys() {
        let reply = app
            .keyed(Method::POST, path, ADMIN, &key, body.clone())
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, 3307),
            "key {key:?}: {reply:?}"
        );
    }
    assert_eq!(app.balance("alice-project").await, "10.00");
    let listed = app.get(&format!("{path}?size=100"), ALICE).await;
    assert_eq!(listed.data()["total"], 1);
    app.assert_reconciled();
}

#[tokio::test]
async fn a_cancel_retried_with_its_key_is_replayed_and_refunds_once() {
    let app = spawn_app().await;
    let created = app.create_order(DEMO, "demo", CPU).await;
    created.expect(201, 0);
    let id = created.data()["orderId"].as_str().unwrap().to_owned();
    let path = format!("/orders/{id}");
    let cancel = json!({"action": "cancel", "project": "demo"});

    for key in malformed_keys() {
        let reply = app
            .keyed(Method::PUT, &path, DEMO, &key, cancel.clone())
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, 3307),
            "key {key:?}: {reply:?}"
        );
    }
    assert_eq!(app.balance("demo").await, "901.00");

    let first = app
        .keyed(Method::PUT, &path, DEMO, "cancel-1", cancel.clone())
        .await;
    first.expect(200, 0);
    let refunded = minor(&first.data()["refunded"]);
    assert!(refunded > 0, "{first:?}");
    let again = app
        .keyed(Method::PUT, &path, DEMO, "cancel-1", cancel.clone())
        .await;
    again.expect(200, 0);
    assert!(again.replayed());
    assert_eq!(again.body, first.body);
    assert_eq!(
        minor(&app.balance("demo").await.into()),
        9_010_000 + refunded
    );
    // Another request under the key is refused; without a key the order is simply ended.
    app.keyed(
        Method::PUT,
        &path,
        DEMO,
        "cancel-1",
        json!({"action": "renew", "project": "demo"}),
    )
    .await
    .expect(409, 3321);
    app.put(&path, DEMO, cancel).await.expect(409, 3309);
    let usages = app
        .get(&format!("/usages?project=demo&order={id}"), DEMO)
        .await;
    assert_eq!(usages.data()["total"], 2, "one end row");
    app.assert_reconciled();
}

async fn create_retried_with_its_key(app: TestApp) {
    let body = json!({"project": "demo", "planId": CPU});
    let first = app
        .keyed(Method::POST, "/orders", DEMO, "create-1", body.clone())
        .await;
    first.expect(201, 0);
    let again = app
        .keyed(Method::POST, "/orders", DEMO, "create-1", body.clone())
        .await;
    again.expect(201, 0);
    assert!(again.replayed());
    assert_eq!(again.data()["orderId"], first.data()["orderId"]);
    assert_eq!(again.body, first.body);
    assert_eq!(app.balance("demo").await, "901.00");
    let volume = json!({"project": "demo", "planId": VOLUME,
                        "parameters": {"resourceName": "data-1"}});
    app.keyed(Method::POST, "/orders", DEMO, "create-1", volume)
        .await
        .expect(409, 3321);
    assert_eq!(app.snapshot("demo").await.orders_by_status, [0, 1, 0, 0]);

    // Keys are the project's own: another project may use the same one.
    app.recharge("alice-project", "99.00").await.expect(200, 0);
    app.keyed(
        Method::POST,
        "/orders",
        ALICE,
        "create-1",
        json!({"project": "alice-project", "planId": CPU}),
    )
    .await
    .expect(201, 0);
    assert_eq!(app.balance("alice-project").await, "0.00");
    app.assert_reconciled();
}

#[tokio::test]
async fn a_create_retried_with_its_key_opens_one_order() {
    create_retried_with_its_key(spawn_app().await).await;
}

#[tokio::test]
async fn mysql_a_create_retried_with_its_key_opens_one_order() {
    if let Some(app) =
        spawn_app_mysql("idempotency::mysql_a_create_retried_with_its_key_opens_one_order").await
    {
        create_retried_with_its_key(app).await;
    }
}

/// A replay is an answer to a write: it goes only to a caller the write itself would
/// accept. Neither another project's member nor a main account's member (who may read a
/// sub-account, never write it) gets a keyed write's first answer by sending its key.
#[tokio::test]
async fn a_replay_answers_only_a_caller_the_write_itself_would_accept() {
    let app = spawn_app().await;
    let body = json!({"project": "demo", "planId": CPU});
    app.keyed(Method::POST, "/orders", DEMO, "create-9", body.clone())
        .await
        .expect(201, 0);
    app.keyed(Method::POST, "/orders", ALICE, "create-9", body)
        .await
        .expect(403, 3306);

    app.recharge("demo-dev", "100.00").await.expect(200, 0);
    let dev_body = json!({"project": "demo-dev", "planId": CPU});
    app.keyed(Method::POST, "/orders", DEV, "dev-1", dev_body.clone())
        .await
        .expect(201, 0);
    app.keyed(Method::POST, "/orders", DEMO, "dev-1", dev_body)
        .await
        .expect(403, 3306);

    let recharge = json!({"amount": "5.00"});
    let path = "/balances/demo-dev/recharges";
    app.keyed(Method::POST, path, ADMIN, "top-up-1", recharge.clone())
        .await
        .expect(200, 0);
    for caller in [DEMO, DEV] {
        app.keyed(Method::POST, path, caller, "top-up-1", recharge.clone())
            .await
            .expect(403, 3306);
    }
    assert_eq!(app.balance("demo-dev").await, "6.00");
}
