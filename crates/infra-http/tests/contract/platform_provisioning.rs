//! Platform provisioning: quotas, volumes and service instances, created and released
//! with the admin token; reads retried, writes sent once.

use std::sync::Arc;
use std::time::Duration;

use domain::ports::Provisioning;
use domain::provisioning::Resource;
use domain::Error;
use infra_http::{PlanService, PlatformProvisioning, PlatformRegion, Secret};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use super::fixtures::*;

const QUOTA_PLAN: &str = "QUOTA-PLAN";
const VOLUME_PLAN: &str = "VOLUME-PLAN";
const BSI_PLAN: &str = "BSI-PLAN";
const QUOTA: &str = "/api/v1/namespaces/demo/resourcequotas/standard-quota";
const QUOTAS: &str = "/api/v1/namespaces/demo/resourcequotas";
const VOLUMES: &str = "/lapi/v1/namespaces/demo/volumes";
const INSTANCES: &str = "/oapi/v1/namespaces/demo/backingserviceinstances";

/// A plan service, the platform API and the volume service, each its own fake.
struct Platform {
    plans: MockServer,
    api: MockServer,
    volumes: MockServer,
    provisioning: PlatformProvisioning,
}

impl Platform {
    async fn start() -> Platform {
        let plans = MockServer::start().await;
        for (id, plan_type, spec1, spec2) in [
            (QUOTA_PLAN, "resources", "16 CPU Cores", "32 GB RAM"),
            (VOLUME_PLAN, "volume", "20 GB", ""),
            (BSI_PLAN, "bsi", "", ""),
        ] {
            Mock::given(method("GET"))
                .and(path(format!("/charge/v1/plans/{id}")))
                .respond_with(ResponseTemplate::new(200).set_body_raw(
                    envelope(&plan_json(id, plan_type, spec1, spec2, "10")),
                    "application/json",
                ))
                .mount(&plans)
                .await;
        }
        // Any other plan: the plan service's "not found".
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(r#"{"code":0,"msg":"OK"}"#, "application/json"),
            )
            .with_priority(10)
            .mount(&plans)
            .await;
        let api = MockServer::start().await;
        let volumes = MockServer::start().await;
        let plan_service = PlanService::new(
            vec![(north1(), plans.uri())],
            settings(),
            Duration::from_secs(60),
        )
        .unwrap();
        let provisioning = PlatformProvisioning::new(
            vec![PlatformRegion {
                region: north1(),
                api_url: api.uri(),
                volume_url: volumes.uri(),
                admin_token: Secret::new(ADMIN_TOKEN),
            }],
            Arc::new(plan_service),
            settings(),
        )
        .unwrap();
        Platform {
            plans,
            api,
            volumes,
            provisioning,
        }
    }

    async fn on_api(&self, verb: &str, at: &str, template: ResponseTemplate) {
        admin_request(verb, at)
            .respond_with(template)
            .mount(&self.api)
            .await;
    }

    async fn on_volumes(&self, verb: &str, at: &str, template: ResponseTemplate) {
        admin_request(verb, at)
            .respond_with(template)
            .mount(&self.volumes)
            .await;
    }

    /// The (method, path) of every request the platform API received.
    async fn api_calls(&self) -> Vec<(String, String)> {
        calls(&self.api).await
    }
}

/// A `verb` to `at`, whatever its headers.
fn request_to(verb: &str, at: &str) -> MockBuilder {
    Mock::given(method(verb)).and(path(at))
}

/// A `verb` to `at` sent with the admin token: what the adapter must send on either server.
fn admin_request(verb: &str, at: &str) -> MockBuilder {
    request_to(verb, at).and(header(
        "Authorization",
        format!("Bearer {ADMIN_TOKEN}").as_str(),
    ))
}

/// Mounts on `server` a `request` that must come exactly once, with `body`, and is
/// answered `status`: how a write, sent once, is checked.
async fn expect_once(
    server: &MockServer,
    request: MockBuilder,
    body: serde_json::Value,
    status: u16,
) {
    request
        .and(body_json(body))
        .respond_with(ResponseTemplate::new(status))
        .expect(1)
        .mount(server)
        .await;
}

async fn calls(server: &MockServer) -> Vec<(String, String)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned()))
        .collect()
}

fn call(verb: &str, at: &str) -> (String, String) {
    (verb.to_owned(), at.to_owned())
}

fn quota() -> Resource {
    resource(QUOTA_PLAN, "resources", None)
}

fn volume() -> Resource {
    resource(VOLUME_PLAN, "volume", Some("data-1"))
}

fn bsi() -> Resource {
    resource(BSI_PLAN, "bsi", Some("db-1"))
}

fn quota_body(cpu: &str, memory: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": { "name": "standard-quota", "namespace": "demo" },
        "spec": { "hard": {
            "limits.cpu": cpu, "requests.cpu": cpu,
            "limits.memory": memory, "requests.memory": memory,
        } }
    })
}

#[tokio::test]
async fn missing_quota_is_created_with_the_plans_sizes() {
    let platform = Platform::start().await;
    platform
        .on_api("GET", QUOTA, ResponseTemplate::new(404))
        .await;
    expect_once(
        &platform.api,
        request_to("POST", QUOTAS),
        quota_body("16", "32Gi"),
        201,
    )
    .await;
    platform.provisioning.provision(&quota()).await.unwrap();
}

#[tokio::test]
async fn existing_quota_is_replaced() {
    let platform = Platform::start().await;
    platform
        .on_api("GET", QUOTA, ResponseTemplate::new(200))
        .await;
    expect_once(
        &platform.api,
        request_to("PUT", QUOTA),
        quota_body("16", "32Gi"),
        200,
    )
    .await;
    platform.provisioning.provision(&quota()).await.unwrap();
}

#[tokio::test]
async fn released_quota_is_set_to_nothing_without_asking_the_plan() {
    let platform = Platform::start().await;
    platform
        .on_api("GET", QUOTA, ResponseTemplate::new(200))
        .await;
    expect_once(
        &platform.api,
        request_to("PUT", QUOTA),
        quota_body("0", "0Gi"),
        200,
    )
    .await;
    platform.provisioning.release(&quota()).await.unwrap();
    assert_eq!(requests(&platform.plans).await, 0);
}

#[tokio::test]
async fn quota_read_is_retried_but_its_write_is_not() {
    let platform = Platform::start().await;
    Mock::given(method("GET"))
        .and(path(QUOTA))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&platform.api)
        .await;
    platform
        .on_api("GET", QUOTA, ResponseTemplate::new(404))
        .await;
    platform
        .on_api("POST", QUOTAS, ResponseTemplate::new(500))
        .await;
    let result = platform.provisioning.provision(&quota()).await;
    assert!(
        matches!(result, Err(Error::DependencyUnavailable(_))),
        "{result:?}"
    );
    assert_eq!(
        platform.api_calls().await,
        vec![
            call("GET", QUOTA),
            call("GET", QUOTA),
            call("GET", QUOTA),
            call("POST", QUOTAS)
        ]
    );
}

#[tokio::test]
async fn refused_quota_is_provisioning_failed_without_the_token() {
    let platform = Platform::start().await;
    let echo = json!({"kind":"Status","message": format!("token {ADMIN_TOKEN} is forbidden")});
    platform
        .on_api("GET", QUOTA, ResponseTemplate::new(403).set_body_json(echo))
        .await;
    let error = platform.provisioning.provision(&quota()).await.unwrap_err();
    assert!(matches!(error, Error::ProvisioningFailed(_)), "{error:?}");
    let shown = error.to_string();
    assert!(shown.contains("ord-1") && shown.contains("403"), "{shown}");
    assert!(!shown.contains(ADMIN_TOKEN), "{shown}");
}

#[tokio::test]
async fn platform_timeout_is_unavailable() {
    let platform = Platform::start().await;
    platform
        .on_api("GET", QUOTA, ResponseTemplate::new(404).set_delay(TOO_SLOW))
        .await;
    let result = platform.provisioning.provision(&quota()).await;
    assert!(
        matches!(result, Err(Error::DependencyUnavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn slow_platform_within_the_timeout_is_fine() {
    let platform = Platform::start().await;
    platform
        .on_api("GET", QUOTA, ResponseTemplate::new(404).set_delay(SLOW))
        .await;
    platform
        .on_api("POST", QUOTAS, ResponseTemplate::new(201).set_delay(SLOW))
        .await;
    platform.provisioning.provision(&quota()).await.unwrap();
}

#[tokio::test]
async fn volume_is_created_through_the_volume_service() {
    let platform = Platform::start().await;
    expect_once(
        &platform.volumes,
        admin_request("POST", VOLUMES),
        json!({
            "name": "data-1",
            "namespace": "demo",
            "size": 20,
            "metadata": { "annotations": {
                "dadafoundry.io/create-by": "alice",
                "serviceusage.io/order": "ord-1",
            } },
        }),
        200,
    )
    .await;
    platform.provisioning.provision(&volume()).await.unwrap();
}

/// Whether an error is the expected one.
type ErrorCheck = fn(&Error) -> bool;

#[tokio::test]
async fn volume_answers_map_to_domain_errors() {
    let cases: [(u16, ErrorCheck); 4] = [
        (
            409,
            |e| matches!(e, Error::DuplicateResourceName(n) if n == "data-1"),
        ),
        (400, |e| matches!(e, Error::ProvisioningFailed(_))),
        (500, |e| matches!(e, Error::DependencyUnavailable(_))),
        (429, |e| matches!(e, Error::DependencyUnavailable(_))),
    ];
    for (status, expected) in cases {
        let platform = Platform::start().await;
        platform
            .on_volumes("POST", VOLUMES, ResponseTemplate::new(status))
            .await;
        let error = platform
            .provisioning
            .provision(&volume())
            .await
            .unwrap_err();
        assert!(expected(&error), "{status}: {error:?}");
        assert_eq!(
            requests(&platform.volumes).await,
            1,
            "{status}: not retried"
        );
    }
}

#[tokio::test]
async fn volume_release_deletes_it_and_gone_is_fine() {
    for status in [200, 404] {
        let platform = Platform::start().await;
        Mock::given(method("DELETE"))
            .and(path(format!("{VOLUMES}/data-1")))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&platform.volumes)
            .await;
        platform.provisioning.release(&volume()).await.unwrap();
    }
}

#[tokio::test]
async fn volume_release_failure_is_unavailable() {
    let platform = Platform::start().await;
    platform
        .on_volumes(
            "DELETE",
            &format!("{VOLUMES}/data-1"),
            ResponseTemplate::new(503),
        )
        .await;
    let result = platform.provisioning.release(&volume()).await;
    assert!(
        matches!(result, Err(Error::DependencyUnavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn service_instance_is_created_when_absent() {
    let platform = Platform::start().await;
    platform
        .on_api(
            "GET",
            &format!("{INSTANCES}/db-1"),
            ResponseTemplate::new(404),
        )
        .await;
    expect_once(
        &platform.api,
        request_to("POST", INSTANCES),
        json!({
            "kind": "BackingServiceInstance",
            "apiVersion": "v1",
            "metadata": { "name": "db-1" },
            "spec": { "provisioning": {
                "backingservice_name": "mysql",
                "backingservice_plan_guid": BSI_PLAN,
            } }
        }),
        201,
    )
    .await;
    platform.provisioning.provision(&bsi()).await.unwrap();
}

#[tokio::test]
async fn existing_service_instance_is_a_duplicate_name() {
    let platform = Platform::start().await;
    platform
        .on_api(
            "GET",
            &format!("{INSTANCES}/db-1"),
            ResponseTemplate::new(200),
        )
        .await;
    let result = platform.provisioning.provision(&bsi()).await;
    assert_eq!(result, Err(Error::DuplicateResourceName("db-1".into())));
    assert_eq!(
        platform.api_calls().await,
        vec![call("GET", &format!("{INSTANCES}/db-1"))]
    );
}

#[tokio::test]
async fn service_instance_release_deletes_it_and_gone_is_fine() {
    for status in [200, 404] {
        let platform = Platform::start().await;
        platform
            .on_api(
                "DELETE",
                &format!("{INSTANCES}/db-1"),
                ResponseTemplate::new(status),
            )
            .await;
        platform.provisioning.release(&bsi()).await.unwrap();
    }
}

#[tokio::test]
async fn region_without_provisioning_is_internal() {
    let platform = Platform::start().await;
    let mut elsewhere = volume();
    elsewhere.region = region("cn-north-2");
    let result = platform.provisioning.provision(&elsewhere).await;
    assert!(matches!(result, Err(Error::Internal(_))), "{result:?}");
}

#[tokio::test]
async fn unknown_plan_is_provisioning_failed() {
    let platform = Platform::start().await;
    let result = platform
        .provisioning
        .provision(&resource("NO-SUCH-PLAN", "volume", Some("data-1")))
        .await;
    assert!(
        matches!(result, Err(Error::ProvisioningFailed(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn named_kind_without_a_resource_name_is_provisioning_failed() {
    let platform = Platform::start().await;
    let result = platform
        .provisioning
        .provision(&resource(VOLUME_PLAN, "volume", None))
        .await;
    assert!(
        matches!(result, Err(Error::ProvisioningFailed(_))),
        "{result:?}"
    );
    assert!(calls(&platform.volumes).await.is_empty());
}
