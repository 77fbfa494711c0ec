//! The document against the server: the routes actix really serves (read from its resource
//! map) and the methods each answers are exactly the document's paths and operations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use actix_web::dev::ServiceResponse;
use actix_web::http::{header, Method};
use actix_web::test::{call_service, init_service, read_body, read_body_json, TestRequest};
use actix_web::{web, App, HttpRequest, HttpResponse};
use domain::ports::MockStoreHealth;
use serde_json::Value;

use crate::routes::serve;
use crate::test_support::{app_state, MockPorts};

/// A route only these tests add, to read the resource map from inside the app.
const PROBE: &str = "/__routes";

/// Every method a client may try; `HEAD` is left to its own test.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// The app under test (a macro: `init_service`'s type cannot be named here).
macro_rules! app {
    () => {{
        let mut health = MockStoreHealth::new();
        health.expect_ping().returning(|| Ok(()));
        health.expect_schema_current().returning(|| Ok(true));
        // `/readyz` asks the settler's breakers, which read the clock.
        let mut ports = MockPorts::default();
        ports.clock.expect_now().returning(chrono::Utc::now);
        let state = app_state(ports, Arc::new(health));
        init_service(serve(App::new().app_data(state).route(
            PROBE,
            web::get().to(|req: HttpRequest| async move {
                HttpResponse::Ok().body(format!("{:?}", req.resource_map()))
            }),
        )))
        .await
    }};
}

/// The document the app serves.
macro_rules! document {
    ($app:expr) => {{
        let response =
            call_service(&$app, TestRequest::get().uri("/openapi.json").to_request()).await;
        assert_eq!(response.status(), 200);
        read_body_json::<Value, _>(response).await
    }};
}

/// The document's paths and the methods of each, upper case.
fn documented(document: &Value) -> BTreeMap<String, BTreeSet<String>> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| !matches!(key.as_str(), "parameters" | "summary" | "description"))
                .map(|method| method.to_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// The full patterns of the leaves of actix's resource map, from its `Debug` form (the map
/// has no public iterator): each node's pattern, its prefix's pattern before it.
fn served_patterns(debug: &str) -> BTreeSet<String> {
    fn walk(node: &str, prefix: &str, out: &mut BTreeSet<String>) {
        let pattern = quoted_after(node, "patterns: Single(").unwrap_or_default();
        let full = format!("{prefix}{pattern}");
        match top_level_nodes(node) {
            Some(children) => {
                for child in children {
                    walk(child, &full, out);
                }
            }
            None => {
                out.insert(full);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(debug, "", &mut out);
    out
}

/// The first string literal after `marker`.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let start = text.find(marker)? + marker.len();
    let rest = text[start..].strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

/// The children of the map node `node` (`nodes: Some([...])` at its own level), or `None`
/// for a leaf. String literals are skipped, since patterns and regexes hold brackets.
fn top_level_nodes(node: &str) -> Option<Vec<&str>> {
    let bytes = node.as_bytes();
    let (mut depth, mut in_string, mut i) = (0usize, false, 0usize);
    let mut list_start = None;
    let mut children = Vec::new();
    let mut child_start = None;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' | b'(' => {
                    depth += 1;
                    if list_start.is_some() && depth == 4 && child_start.is_none() {
                        child_start = Some(i);
                    }
                }
                b'}' | b']' | b')' => {
                    if list_start.is_some() && depth == 4 && b == b'}' {
                        if let Some(start) = child_start.take() {
                            children.push(&node[start..=i]);
                        }
                    }
                    depth -= 1;
                    if list_start.is_some() && depth == 1 {
                        return Some(children);
                    }
                }
                _ => {
                    if depth == 1 && node[i..].starts_with("nodes: ") {
                        if node[i..].starts_with("nodes: None") {
                            return None;
                        }
                        list_start = Some(i);
                    }
                }
            }
        }
        i += 1;
    }
    None
}

/// A concrete path for a pattern: each `{param}` filled with a value its parser accepts.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{file}", "swagger-ui.css")
        .replace("{orderId}", "o1")
        .replace("{project}", "demo")
}

/// Whether a route took the request: the default service answers 404 or 405 with 3303.
async fn routed(response: ServiceResponse) -> (bool, Option<String>) {
    let status = response.status().as_u16();
    let allow = response
        .headers()
        .get(header::ALLOW)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = read_body(response).await;
    let code = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|json| json["code"].as_u64());
    (!(matches!(status, 404 | 405) && code == Some(3303)), allow)
}

#[actix_web::test]
async fn the_served_paths_are_the_documented_paths() {
    let app = app!();
    let map = call_service(&app, TestRequest::get().uri(PROBE).to_request()).await;
    let debug = String::from_utf8(read_body(map).await.to_vec()).unwrap();
    let mut served = served_patterns(&debug);
    assert!(served.remove(PROBE), "the probe is not in {served:?}");
    let documented: BTreeSet<String> = documented(&document!(app)).into_keys().collect();
    assert_eq!(served, documented);
}

#[actix_web::test]
async fn each_documented_method_is_served_and_every_other_is_405_with_allow() {
    let app = app!();
    for (path, methods) in documented(&document!(app)) {
        let mut allowed: Vec<String> = methods.iter().cloned().collect();
        if methods.contains("GET") {
            allowed.push("HEAD".into());
        }
        allowed.sort();
        for method in METHODS {
            let request = TestRequest::default()
                .method(method.clone())
                .uri(&concrete(&path))
                .to_request();
            let (routed, allow) = routed(call_service(&app, request).await).await;
            let label = format!("{method} {path}");
            assert_eq!(routed, methods.contains(method.as_str()), "{label}");
            if !routed {
                assert_eq!(allow, Some(allowed.join(", ")), "{label}");
            }
        }
    }
}

#[actix_web::test]
async fn an_unknown_path_is_404_without_allow() {
    let app = app!();
    let response = call_service(
        &app,
        TestRequest::get().uri("/usageapi/v1/nope").to_request(),
    )
    .await;
    assert_eq!(response.status(), 404);
    assert!(response.headers().get(header::ALLOW).is_none());
}

#[actix_web::test]
async fn head_is_answered_where_get_is() {
    let app = app!();
    for path in [
        "/healthz",
        "/",
        "/openapi.json",
        "/docs",
        "/usageapi/v1/plans",
    ] {
        let get = call_service(&app, TestRequest::get().uri(path).to_request()).await;
        let head = call_service(
            &app,
            TestRequest::default()
                .method(Method::HEAD)
                .uri(path)
                .to_request(),
        )
        .await;
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(
            head.headers().get(header::CONTENT_TYPE),
            get.headers().get(header::CONTENT_TYPE),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn api_operations_need_the_bearer_and_the_front_door_does_not() {
    let app = app!();
    let document = document!(app);
    assert_eq!(
        document["components"]["securitySchemes"][super::BEARER],
        serde_json::json!({"type": "http", "scheme": "bearer"})
    );
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let bearer = operation["security"] == serde_json::json!([{super::BEARER: []}]);
            let public = operation.get("security").is_none();
            let under_api = path.starts_with(crate::routes::API_PREFIX);
            assert!(
                (under_api && bearer) || (!under_api && public),
                "{method} {path}: {}",
                operation["security"]
            );
            let statuses = operation["responses"].as_object().unwrap();
            assert_eq!(
                statuses.contains_key("401"),
                under_api,
                "{method} {path} documents 401 iff it needs a token"
            );
        }
    }
}

#[actix_web::test]
async fn operation_ids_are_unique_and_every_reference_resolves() {
    let app = app!();
    let document = document!(app);
    let mut ids = BTreeSet::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        }
    }
    fn references(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target.clone());
                }
                map.values().for_each(|v| references(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }
    let mut targets = Vec::new();
    references(&document, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').unwrap();
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
    for link in [
        "/paths/~1usageapi~1v1~1orders/post/responses/201/links/GetOrder",
        "/paths/~1usageapi~1v1~1orders/post/responses/201/links/CancelOrder",
        "/paths/~1usageapi~1v1~1orders/post/responses/201/links/ListUsages",
    ] {
        let target = document.pointer(link).unwrap()["operationId"]
            .as_str()
            .unwrap();
        assert!(ids.contains(target), "{link} names {target}");
    }
}

#[test]
fn the_route_map_parser_reads_nested_scopes() {
    let debug = r#"ResourceMap { pattern: ResourceDef { patterns: Single(""), is_prefix: true, pat_type: Static("[x]") }, named: {"a": ResourceMap { pattern: ResourceDef { patterns: Single("/named") }, named: {}, nodes: None }}, parent: RefCell { value: (Weak) }, nodes: Some([ResourceMap { pattern: ResourceDef { patterns: Single("/a/{id}"), pat_type: Dynamic(Regex("^/a/(?P<id>[^/]+)$")) }, named: {}, parent: RefCell { value: (Weak) }, nodes: None }, ResourceMap { pattern: ResourceDef { patterns: Single("/api") }, named: {}, parent: RefCell { value: (Weak) }, nodes: Some([ResourceMap { pattern: ResourceDef { patterns: Single("/b") }, named: {}, nodes: None }]) }]) }"#;
    assert_eq!(
        served_patterns(debug),
        BTreeSet::from(["/a/{id}".to_owned(), "/api/b".to_owned()])
    );
}
