//! Settings, names and answers the contract tests share.

use std::time::Duration;

use domain::ids::{OrderId, PlanId, PlanType, ProjectId, Region, ResourceName, UserName};
use domain::provisioning::{Resource, ResourceKind};
use infra_http::HttpSettings;
use wiremock::MockServer;

/// The total timeout the fakes' delays are measured against.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// Longer than [`TIMEOUT`]: the client gives up first.
pub const TOO_SLOW: Duration = Duration::from_millis(1500);
/// Slow, but well within [`TIMEOUT`].
pub const SLOW: Duration = Duration::from_millis(200);
/// Extra attempts a GET gets.
pub const RETRIES: u32 = 2;

pub const ADMIN_TOKEN: &str = "admin-s3cret-token";
pub const USER_TOKEN: &str = "user-s3cret-token";

pub fn settings() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_millis(300),
        timeout: TIMEOUT,
        retries: RETRIES,
    }
}

pub fn region(name: &str) -> Region {
    Region::parse(name).unwrap()
}

pub fn north1() -> Region {
    region("cn-north-1")
}

pub fn plan_id(id: &str) -> PlanId {
    PlanId::parse(id).unwrap()
}

pub fn project(name: &str) -> ProjectId {
    ProjectId::parse(name).unwrap()
}

pub fn user(name: &str) -> UserName {
    UserName::parse(name).unwrap()
}

pub async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

/// A plan as the plan service sends it, the price given as JSON text.
pub fn plan_json(id: &str, plan_type: &str, spec1: &str, spec2: &str, price: &str) -> String {
    format!(
        r#"{{"id":7,"plan_id":"{id}","plan_name":"Standard","plan_type":"{plan_type}",
            "plan_level":1,"belong":"mysql","specification1":"{spec1}",
            "specification2":"{spec2}","price":{price},"cycle":"M","region":"cn-north-1",
            "status":"A"}}"#
    )
}

/// The plan service's envelope around `data` (JSON text).
pub fn envelope(data: &str) -> String {
    format!(r#"{{"code":0,"msg":"OK","data":{data}}}"#)
}

pub fn order_id(id: &str) -> OrderId {
    OrderId::parse(id).unwrap()
}

/// The resource order `ord-1` of `plan` provides in cn-north-1 for project `demo`,
/// created by alice; `plan_type` must provide one.
pub fn resource(plan: &str, plan_type: &str, name: Option<&str>) -> Resource {
    let plan_type = PlanType::parse(plan_type).unwrap();
    Resource {
        order_id: order_id("ord-1"),
        project: project("demo"),
        region: north1(),
        plan_id: plan_id(plan),
        kind: ResourceKind::of(&plan_type).unwrap(),
        plan_type,
        name: name.map(|n| ResourceName::parse(n).unwrap()),
        creator: user("alice"),
    }
}

/// The URL of a local port nothing listens on (a dropped `MockServer` goes back to
/// wiremock's pool and keeps listening, so it cannot stand for a dead service).
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}
