use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"code": 0, "msg": "OK"}));
}

/// `GET /`: name, version and where to go next, in the envelope, without a token.
#[tokio::test]
async fn the_index_names_the_service_and_links_its_reference() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"code": 0, "msg": "OK", "data": {
            "name": "serviceusage", "version": env!("CARGO_PKG_VERSION"),
            "links": {"docs": "/docs", "openapi": "/openapi.json", "health": "/healthz"}}})
    );
}

/// The contract is served without a token, and the reference page loads only files the
/// service serves itself: nothing from another host.
#[tokio::test]
async fn the_document_and_its_reference_page_are_served_offline() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/usageapi/v1/orders"]["post"].is_object());

    let page = reqwest::get(app.url("/docs")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    let sources: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with('/') || part.contains("://"))
        .collect();
    assert!(!sources.is_empty(), "{html}");
    for source in sources {
        assert!(
            !source.contains("://"),
            "{source} is fetched from elsewhere"
        );
        let asset = reqwest::get(app.url(source)).await.unwrap();
        assert_eq!(asset.status(), 200, "{source}");
    }
}
