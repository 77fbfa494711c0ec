//! What every answer carries whatever its status, and the JSON body of answers to requests
//! whose url or headers are too large.

use reqwest::Method;

use crate::helpers::{spawn_app, Reply, TestApp, DEMO};

#[track_caller]
fn assert_hardened(reply: &Reply) {
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{reply:?}"
    );
    assert_eq!(
        header("cache-control").as_deref(),
        Some("no-store"),
        "{reply:?}"
    );
}

async fn unauthenticated(app: &TestApp, method: Method, path: &str) -> Reply {
    app.send(app.request(method, path, None)).await
}

#[tokio::test]
async fn every_answer_says_nosniff_and_no_store() {
    let app = spawn_app().await;
    let replies = [
        (unauthenticated(&app, Method::GET, "//healthz").await, 200),
        (app.get("/plans", DEMO).await, 200),
        (app.get("/balances/demo", DEMO).await, 200),
        (unauthenticated(&app, Method::GET, "/plans").await, 401),
        (app.get("/balances/alice-project", DEMO).await, 403),
        (app.get("/orders/nope?project=demo", DEMO).await, 404),
        (app.get("/nowhere", DEMO).await, 404),
        (
            app.send(app.request(Method::DELETE, "/plans", Some(DEMO)))
                .await,
            405,
        ),
        (app.get("/orders?project=demo&page=0", DEMO).await, 400),
        (
            app.raw(Method::POST, "/orders", DEMO, Some("application/json"), "{")
                .await,
            400,
        ),
    ];
    for (reply, status) in &replies {
        assert_eq!(reply.status.as_u16(), *status, "{reply:?}");
        assert_hardened(reply);
    }
}

#[tokio::test]
async fn a_url_over_16_kib_is_400_3307_with_a_body() {
    let app = spawn_app().await;
    let long = "x".repeat(20_000);
    let reply = app
        .get(&format!("/orders?project=demo&filler={long}"), DEMO)
        .await;
    reply.expect(400, 3307);
    assert!(reply.msg().contains("16384 bytes"), "{reply:?}");
    assert_hardened(&reply);
    // Just under the limit the request is served as usual.
    let filler = "x".repeat(16_000);
    app.get(&format!("/orders?project=demo&filler={filler}"), DEMO)
        .await
        .expect(200, 0);
}

#[tokio::test]
async fn headers_over_32_kib_are_431_with_a_body() {
    let app = spawn_app().await;
    let big = "y".repeat(40_000);
    let reply = app
        .send(
            app.request(Method::GET, "/plans", Some(DEMO))
                .header("X-Filler", big),
        )
        .await;
    reply.expect(431, 3307);
    assert!(reply.msg().contains("32768 bytes"), "{reply:?}");
    assert_hardened(&reply);
}
