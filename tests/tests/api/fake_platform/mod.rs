//! A fake platform for the black-box tests: the plan service, the charge service, the
//! platform API (identity, quotas, backing-service instances), the volume service and a
//! webhook receiver, each an in-process HTTP server on a free port. Every request any of
//! them receives goes into one [`Journal`], in arrival order, with the status answered.

mod amount;
mod charge_service;
mod cluster;
mod config;
mod contract;
mod identity;
mod journal;
mod plan_service;
mod platform_api;
mod quota;
mod server;
mod volume_service;
mod webhook_receiver;

pub use charge_service::{FakeChargeService, PaymentSeen, Taken, PAST_TIMEOUT};
pub use cluster::FakeCluster;
pub use config::{ServiceConfig, WebhookTarget, POSTPAID_PLAN};
pub use identity::FakeIdentity;
pub use journal::{Journal, Service};
pub use plan_service::{FakePlanService, RemotePlan};
pub use quota::Quota;
pub use server::Condition;
pub use volume_service::{FakeVolumeService, VolumeCall, CREATOR_ANNOTATION, ORDER_ANNOTATION};
pub use webhook_receiver::{Delivery, FakeWebhookReceiver};

use platform_api::FakePlatformApi;
use wiremock::MockServer;

/// The quota object the service keeps per project.
pub const QUOTA_NAME: &str = "standard-quota";

/// Every fake, running; the servers stop when this is dropped.
pub struct FakePlatform {
    pub journal: Journal,
    pub plans: FakePlanService,
    pub charge: FakeChargeService,
    pub identity: FakeIdentity,
    pub cluster: FakeCluster,
    pub volumes: FakeVolumeService,
    pub webhooks: FakeWebhookReceiver,
    plan_server: MockServer,
    charge_server: MockServer,
    platform_server: MockServer,
    volume_server: MockServer,
    webhook_server: MockServer,
}

impl FakePlatform {
    /// Starts every fake; `admin_token` is the only token the charge service, the volume
    /// service and the namespaced objects accept.
    pub async fn start(plans: Vec<RemotePlan>, admin_token: &str) -> Self {
        let journal = Journal::default();
        let plan_service = FakePlanService::new(plans);
        let charge = FakeChargeService::new(admin_token);
        let identity = FakeIdentity::default();
        let cluster = FakeCluster::new(admin_token);
        let volumes = FakeVolumeService::new(admin_token);
        let webhooks = FakeWebhookReceiver::default();
        let api = FakePlatformApi {
            identity: identity.clone(),
            cluster: cluster.clone(),
        };
        Self {
            plan_server: server::serve(plan_service.clone(), journal.clone()).await,
            charge_server: server::serve(charge.clone(), journal.clone()).await,
            platform_server: server::serve(api, journal.clone()).await,
            volume_server: server::serve(volumes.clone(), journal.clone()).await,
            webhook_server: server::serve(webhooks.clone(), journal.clone()).await,
            journal,
            plans: plan_service,
            charge,
            identity,
            cluster,
            volumes,
            webhooks,
        }
    }

    /// The service's configuration pointing at these fakes for `region`.
    pub fn config(&self, region: &str, admin_token: &str, admins: &[&str]) -> ServiceConfig {
        ServiceConfig {
            region: region.to_owned(),
            identity_url: self.platform_server.uri(),
            admins: admins.iter().map(|a| (*a).to_owned()).collect(),
            plan_service: self.plan_server.uri(),
            charge_service: self.charge_server.uri(),
            platform_url: self.platform_server.uri(),
            volume_service: self.volume_server.uri(),
            admin_token: admin_token.to_owned(),
            timeout_ms: 1000,
            webhook: None,
            postpaid_region: None,
        }
    }

    /// The receiver's URL for webhooks.
    pub fn webhook_url(&self) -> String {
        format!("{}/hooks/serviceusage", self.webhook_server.uri())
    }

    /// Every payment request, in arrival order.
    pub fn payments(&self) -> Vec<PaymentSeen> {
        self.journal
            .all()
            .iter()
            .filter_map(PaymentSeen::of)
            .collect()
    }

    /// Every volume create and delete, in arrival order.
    pub fn volume_calls(&self) -> Vec<VolumeCall> {
        self.journal
            .all()
            .iter()
            .filter_map(VolumeCall::of)
            .collect()
    }

    /// Every webhook delivery attempt, in arrival order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.journal.all().iter().filter_map(Delivery::of).collect()
    }

    /// The project's quota as last written, `None` if it was never created.
    pub fn quota(&self, namespace: &str) -> Option<Quota> {
        let object = self
            .cluster
            .object("api", namespace, "resourcequotas", QUOTA_NAME)?;
        Some(Quota::of(&object).unwrap_or_else(|| panic!("unreadable quota {object}")))
    }

    /// Every accepted write (POST or PUT) of the project's quota: arrival position and
    /// what it set.
    pub fn quota_writes(&self, namespace: &str) -> Vec<(usize, Quota)> {
        let collection = format!("/api/v1/namespaces/{namespace}/resourcequotas");
        self.journal
            .filter(|r| {
                r.service == Service::Platform
                    && r.status < 300
                    && ((r.method == "POST" && r.path == collection)
                        || (r.method == "PUT" && r.path == format!("{collection}/{QUOTA_NAME}")))
            })
            .iter()
            .map(|r| {
                let quota = Quota::of(&r.json()).unwrap_or_else(|| panic!("unreadable quota {r}"));
                (r.seq, quota)
            })
            .collect()
    }
}
