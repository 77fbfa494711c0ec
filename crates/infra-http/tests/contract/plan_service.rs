//! The plan service: lookups, prices, errors, retries, caching and listing.

use std::time::Duration;

use domain::cycle::Cycle;
use domain::money::Money;
use domain::plan::ChargingMode;
use domain::ports::PlanCatalog;
use domain::Error;
use infra_http::{PlanService, PlanSpecification};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::fixtures::*;

const PLAN: &str = "6B0FA3E1-13F2-4C6B-9A3B-000000000001";

fn service(servers: &[(&str, &MockServer)]) -> PlanService {
    service_with_ttl(servers, Duration::from_secs(60))
}

fn service_with_ttl(servers: &[(&str, &MockServer)], ttl: Duration) -> PlanService {
    let regions = servers
        .iter()
        .map(|(name, server)| (region(name), server.uri()))
        .collect();
    PlanService::new(regions, settings(), ttl).unwrap()
}

fn json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

fn plan_answer(price: &str) -> ResponseTemplate {
    json(envelope(&plan_json(PLAN, "Volume", "16 GB", "", price)))
}

async fn serving(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/charge/v1/plans/{PLAN}")))
        .and(query_param("region", "cn-north-1"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

async fn get(answer: ResponseTemplate) -> Result<Option<domain::plan::Plan>, Error> {
    let server = serving(answer).await;
    service(&[("cn-north-1", &server)])
        .get(&plan_id(PLAN))
        .await
}

fn unavailable(result: Result<Option<domain::plan::Plan>, Error>) -> String {
    match result {
        Err(Error::PlanCatalogUnavailable(why)) => why,
        other => panic!("expected PlanCatalogUnavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn found_plan_is_converted_for_the_catalog() {
    let plan = get(plan_answer("12.5")).await.unwrap().unwrap();
    assert_eq!(plan.id, plan_id(PLAN));
    assert_eq!(plan.plan_type.as_str(), "volume");
    assert_eq!(plan.region, north1());
    assert_eq!(plan.mode, ChargingMode::Prepaid);
    assert_eq!(plan.price, Money::from_minor(125_000));
    assert_eq!(plan.cycle, Cycle::Month);
    assert!(plan.requires_resource_name);
    assert_eq!(plan.description, "Standard: 16 GB");
}

#[tokio::test]
async fn prices_convert_exactly() {
    let cases = [
        ("12.5", 125_000),
        ("0", 0),
        ("0.0001", 1),
        ("99999999.9999", 999_999_999_999),
        ("1e2", 1_000_000),
        (r#""12.5""#, 125_000),
    ];
    for (price, minor) in cases {
        let plan = get(plan_answer(price)).await.unwrap().unwrap();
        assert_eq!(plan.price, Money::from_minor(minor), "{price}");
    }
}

#[tokio::test]
async fn inexact_negative_or_non_numeric_prices_make_the_plan_malformed() {
    for price in ["1.00001", "-1", r#""NaN""#, r#""inf""#, "null", "1e400"] {
        let why = unavailable(get(plan_answer(price)).await);
        assert!(why.contains("malformed plan"), "{price}: {why}");
    }
}

#[tokio::test]
async fn plan_type_and_cycle_are_read_in_any_case() {
    let body = plan_json(PLAN, "BSI", "", "", "5").replace(r#""cycle":"M""#, r#""cycle":"Year""#);
    let plan = get(json(envelope(&body))).await.unwrap().unwrap();
    assert_eq!(plan.plan_type.as_str(), "bsi");
    assert_eq!(plan.cycle, Cycle::Year);
    assert!(plan.requires_resource_name);
}

#[tokio::test]
async fn quota_plans_need_no_resource_name() {
    let body = plan_json(PLAN, "resources", "16 CPU Cores", "32 GB RAM", "5");
    let plan = get(json(envelope(&body))).await.unwrap().unwrap();
    assert!(!plan.requires_resource_name);
    assert_eq!(plan.description, "Standard: 16 CPU Cores, 32 GB RAM");
}

#[tokio::test]
async fn unknown_cycle_makes_the_plan_malformed() {
    let body = plan_json(PLAN, "volume", "16 GB", "", "5").replace(r#""M""#, r#""week""#);
    let why = unavailable(get(json(envelope(&body))).await);
    assert!(why.contains("unknown plan cycle"), "{why}");
}

#[tokio::test]
async fn an_answer_about_another_plan_is_refused_but_case_is_not_a_difference() {
    let other = plan_json("ANOTHER-PLAN", "volume", "16 GB", "", "5");
    let why = unavailable(get(json(envelope(&other))).await);
    assert!(why.contains("answered plan ANOTHER-PLAN instead"), "{why}");

    let lowered = plan_json(&PLAN.to_ascii_lowercase(), "volume", "16 GB", "", "5");
    assert!(get(json(envelope(&lowered))).await.unwrap().is_some());
}

#[tokio::test]
async fn answer_without_data_is_not_found() {
    for body in [
        r#"{"code":0,"msg":"OK"}"#,
        r#"{"code":0,"msg":"OK","data":null}"#,
        r#"{"code":0,"msg":"OK","data":{"plan_id":""}}"#,
    ] {
        assert_eq!(get(json(body.to_owned())).await, Ok(None), "{body}");
    }
}

#[tokio::test]
async fn answered_region_is_overridden_by_the_asked_one() {
    let body = plan_json(PLAN, "volume", "16 GB", "", "5").replace("cn-north-1", "cn-north-9");
    let plan = get(json(envelope(&body))).await.unwrap().unwrap();
    assert_eq!(plan.region, north1());
}

#[tokio::test]
async fn client_error_is_catalog_unavailable() {
    let why = unavailable(get(ResponseTemplate::new(404)).await);
    assert!(why.contains("404"), "{why}");
}

#[tokio::test]
async fn envelope_error_code_is_catalog_unavailable() {
    let why = unavailable(get(json(r#"{"code":1311,"msg":"no such region"}"#.into())).await);
    assert!(why.contains("1311"), "{why}");
}

#[tokio::test]
async fn malformed_json_is_catalog_unavailable() {
    let why = unavailable(get(json("{not json".into())).await);
    assert!(why.contains("malformed answer"), "{why}");
}

#[tokio::test]
async fn server_error_is_retried_then_catalog_unavailable() {
    let server = serving(ResponseTemplate::new(500)).await;
    let result = service(&[("cn-north-1", &server)])
        .get(&plan_id(PLAN))
        .await;
    let why = unavailable(result);
    assert!(why.contains("500"), "{why}");
    assert_eq!(requests(&server).await, 1 + RETRIES as usize);
}

#[tokio::test]
async fn server_error_then_success_is_retried_into_the_plan() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(plan_answer("3"))
        .mount(&server)
        .await;
    let plan = service(&[("cn-north-1", &server)])
        .get(&plan_id(PLAN))
        .await
        .unwrap();
    assert!(plan.is_some());
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn timeout_is_catalog_unavailable() {
    let why = unavailable(get(plan_answer("3").set_delay(TOO_SLOW)).await);
    assert!(why.contains("timed out"), "{why}");
}

#[tokio::test]
async fn slow_answer_within_the_timeout_is_used() {
    let plan = get(plan_answer("3").set_delay(SLOW)).await.unwrap();
    assert!(plan.is_some());
}

#[tokio::test]
async fn unreachable_service_is_catalog_unavailable() {
    let service = PlanService::new(
        vec![(north1(), dead_url())],
        settings(),
        Duration::from_secs(60),
    )
    .unwrap();
    let why = unavailable(service.get(&plan_id(PLAN)).await);
    assert!(why.contains("connection failed"), "{why}");
}

#[tokio::test]
async fn found_plan_is_cached() {
    let server = serving(plan_answer("3")).await;
    let service = service(&[("cn-north-1", &server)]);
    let first = service.get(&plan_id(PLAN)).await.unwrap();
    let second = service.get(&plan_id(PLAN)).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn cached_plan_expires() {
    let server = serving(plan_answer("3")).await;
    let service = service_with_ttl(&[("cn-north-1", &server)], Duration::from_millis(50));
    service.get(&plan_id(PLAN)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    service.get(&plan_id(PLAN)).await.unwrap();
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn failures_and_misses_are_not_cached() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1 + RETRIES as u64)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(r#"{"code":0,"msg":"OK"}"#.into()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(plan_answer("3"))
        .mount(&server)
        .await;
    let service = service(&[("cn-north-1", &server)]);
    assert!(service.get(&plan_id(PLAN)).await.is_err());
    assert_eq!(service.get(&plan_id(PLAN)).await, Ok(None));
    assert!(service.get(&plan_id(PLAN)).await.unwrap().is_some());
}

#[tokio::test]
async fn regions_are_asked_in_order_and_the_first_found_wins() {
    let first = serving(json(r#"{"code":0,"msg":"OK"}"#.into())).await;
    let second = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("region", "cn-north-2"))
        .respond_with(plan_answer("7"))
        .mount(&second)
        .await;
    let service = service(&[("cn-north-1", &first), ("cn-north-2", &second)]);
    let plan = service.get(&plan_id(PLAN)).await.unwrap().unwrap();
    assert_eq!(plan.region, region("cn-north-2"));
    assert_eq!(plan.price, Money::from_minor(70_000));
    // The second lookup is served from the cache, without asking either region.
    service.get(&plan_id(PLAN)).await.unwrap();
    assert_eq!(requests(&first).await, 1);
    assert_eq!(requests(&second).await, 1);
}

#[tokio::test]
async fn specification_gives_the_raw_fields() {
    let server = serving(json(envelope(&plan_json(
        PLAN,
        "Resources",
        "16 CPU Cores",
        "32 GB RAM",
        "3",
    ))))
    .await;
    let service = service(&[("cn-north-1", &server)]);
    let spec = service
        .specification(&plan_id(PLAN), &north1())
        .await
        .unwrap();
    assert_eq!(
        spec,
        Some(PlanSpecification {
            plan_type: "resources".into(),
            specification1: "16 CPU Cores".into(),
            specification2: "32 GB RAM".into(),
            belong: "mysql".into(),
        })
    );
}

#[tokio::test]
async fn specification_of_an_unconfigured_region_is_internal() {
    let server = MockServer::start().await;
    let service = service(&[("cn-north-1", &server)]);
    let result = service
        .specification(&plan_id(PLAN), &region("cn-north-2"))
        .await;
    assert!(matches!(result, Err(Error::Internal(_))), "{result:?}");
}

fn page(ids: impl Iterator<Item = usize>, total: usize) -> ResponseTemplate {
    let plans: Vec<String> = ids
        .map(|n| plan_json(&format!("PLAN-{n}"), "volume", "1 GB", "", "1"))
        .collect();
    json(envelope(&format!(
        r#"{{"total":{total},"results":[{}]}}"#,
        plans.join(",")
    )))
}

async fn listing(server: &MockServer, region_name: &str, pages: Vec<ResponseTemplate>) {
    for (n, answer) in pages.into_iter().enumerate() {
        Mock::given(method("GET"))
            .and(path("/charge/v1/plans"))
            .and(query_param("region", region_name))
            .and(query_param("page", (n + 1).to_string()))
            .and(query_param("size", "100"))
            .respond_with(answer)
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn list_reads_pages_until_a_short_one() {
    let server = MockServer::start().await;
    listing(
        &server,
        "cn-north-1",
        vec![page(0..100, 101), page(100..101, 101)],
    )
    .await;
    let plans = service(&[("cn-north-1", &server)])
        .list(Some(north1()))
        .await
        .unwrap();
    assert_eq!(plans.len(), 101);
    assert_eq!(plans[100].id, plan_id("PLAN-100"));
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn list_stops_when_the_total_is_read() {
    let server = MockServer::start().await;
    listing(&server, "cn-north-1", vec![page(0..100, 100)]).await;
    let plans = service(&[("cn-north-1", &server)])
        .list(None)
        .await
        .unwrap();
    assert_eq!(plans.len(), 100);
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn list_of_every_region_asks_each() {
    let first = MockServer::start().await;
    let second = MockServer::start().await;
    listing(&first, "cn-north-1", vec![page(0..2, 2)]).await;
    listing(&second, "cn-north-2", vec![page(2..3, 1)]).await;
    let service = service(&[("cn-north-1", &first), ("cn-north-2", &second)]);
    let all = service.list(None).await.unwrap();
    let regions: Vec<_> = all.iter().map(|p| p.region.as_str().to_owned()).collect();
    assert_eq!(regions, ["cn-north-1", "cn-north-1", "cn-north-2"]);
    assert_eq!(
        service
            .list(Some(region("cn-north-2")))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(service
        .list(Some(region("cn-east-1")))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn list_leaves_out_a_malformed_plan() {
    let server = MockServer::start().await;
    let good = plan_json("GOOD", "volume", "1 GB", "", "1");
    let bad = plan_json("BAD", "volume", "1 GB", "", "1.00001");
    listing(
        &server,
        "cn-north-1",
        vec![json(envelope(&format!(
            r#"{{"total":2,"results":[{good},{bad}]}}"#
        )))],
    )
    .await;
    let plans = service(&[("cn-north-1", &server)])
        .list(None)
        .await
        .unwrap();
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].id, plan_id("GOOD"));
}

#[tokio::test]
async fn list_of_an_empty_catalog_with_null_results_is_empty() {
    let server = MockServer::start().await;
    listing(
        &server,
        "cn-north-1",
        vec![json(envelope(r#"{"total":0,"results":null}"#))],
    )
    .await;
    let plans = service(&[("cn-north-1", &server)])
        .list(None)
        .await
        .unwrap();
    assert!(plans.is_empty());
}

#[tokio::test]
async fn list_failure_is_catalog_unavailable() {
    let server = MockServer::start().await;
    listing(&server, "cn-north-1", vec![ResponseTemplate::new(502)]).await;
    let result = service(&[("cn-north-1", &server)]).list(None).await;
    assert!(
        matches!(result, Err(Error::PlanCatalogUnavailable(_))),
        "{result:?}"
    );
    assert_eq!(requests(&server).await, 1 + RETRIES as usize);
}

#[tokio::test]
async fn base_url_must_carry_a_scheme() {
    let result = PlanService::new(
        vec![(north1(), "plans.example.com".into())],
        settings(),
        Duration::from_secs(1),
    );
    assert!(matches!(result, Err(infra_http::BuildError::Url { .. })));
}
