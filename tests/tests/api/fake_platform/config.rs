//! The configuration file (`SERVICEUSAGE_CONFIG`) that points the service at the fakes:
//! platform identity, and one region whose plans, charging and provisioning are remote.

use std::fmt::Write;

/// Where the service sends its webhooks.
#[derive(Clone, Debug)]
pub struct WebhookTarget {
    pub name: String,
    pub url: String,
    pub secret: String,
}

/// The one plan of [`ServiceConfig::postpaid_region`]: 100.00 a month, billed after each
/// month, of a plan type with nothing to provision there.
pub const POSTPAID_PLAN: &str = "usage-postpaid";

/// Every value the file sets.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    pub region: String,
    pub identity_url: String,
    pub admins: Vec<String>,
    pub plan_service: String,
    pub charge_service: String,
    pub platform_url: String,
    pub volume_service: String,
    pub admin_token: String,
    /// Total and connect timeout of every platform call.
    pub timeout_ms: u64,
    pub webhook: Option<WebhookTarget>,
    /// A second region whose plans are the file's own ([`POSTPAID_PLAN`]) and whose money
    /// the same charge service keeps: the plan service knows only prepaid plans, so a
    /// postpaid order kept by a charge service lives here.
    pub postpaid_region: Option<String>,
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

impl ServiceConfig {
    pub fn toml(&self) -> String {
        let admins: Vec<String> = self.admins.iter().map(|a| quoted(a)).collect();
        let mut toml = format!(
            r#"
# Only `serviceusage renew --once` renews in these tests.
[renewal]
enabled = false

[platform]
connect_timeout_ms = {timeout}
timeout_ms = {timeout}
retries = 1
plan_cache_seconds = 60
identity_cache_seconds = 60

[identity]
kind = "platform"
url = {identity}
admins = [{admins}]

[[regions]]
name = {region}
plans = "remote"
charging = "remote"
provisioning = "remote"
plan_service = {plans}
charge_service = {charge}
platform_url = {platform}
volume_service = {volumes}
admin_token = {token}
"#,
            timeout = self.timeout_ms,
            identity = quoted(&self.identity_url),
            admins = admins.join(", "),
            region = quoted(&self.region),
            plans = quoted(&self.plan_service),
            charge = quoted(&self.charge_service),
            platform = quoted(&self.platform_url),
            volumes = quoted(&self.volume_service),
            token = quoted(&self.admin_token),
        );
        if let Some(region) = &self.postpaid_region {
            write!(
                toml,
                r#"
[[regions]]
name = {region}
plans = "config"
charging = "remote"
provisioning = "embedded"
charge_service = {charge}
admin_token = {token}

[[plans]]
id = {plan}
type = "usage"
region = {region}
mode = "postpaid"
price = "100.00"
cycle = "month"
description = "Metered usage, billed after each month"
"#,
                region = quoted(region),
                charge = quoted(&self.charge_service),
                token = quoted(&self.admin_token),
                plan = quoted(POSTPAID_PLAN),
            )
            .unwrap();
        }
        if let Some(webhook) = &self.webhook {
            write!(
                toml,
                r#"
[[webhooks]]
name = {name}
url = {url}
secret = {secret}

[webhook_delivery]
max_attempts = 20
"#,
                name = quoted(&webhook.name),
                url = quoted(&webhook.url),
                secret = quoted(&webhook.secret),
            )
            .unwrap();
        }
        toml
    }
}
