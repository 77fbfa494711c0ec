//! `[[webhooks]]`: receivers every notification is POSTed to, signed with their secret, and
//! `[webhook_delivery]`: how long a failing receiver is retried.

use std::collections::HashSet;

use infra_http::Secret;
use serde::Deserialize;

use super::env::Lookup;
use super::secrets::secret;
use super::urls::http_url;
use super::{invalid, ConfigError};

/// Longest endpoint name: the outbox stores it with each delivery.
const MAX_NAME_LEN: usize = 64;
/// Most attempts per delivery; with the back-off capped at an hour, 100 is four days.
const MAX_ATTEMPTS: i64 = 100;

/// Every receiver and the delivery rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    pub endpoints: Vec<WebhookEndpoint>,
    /// Attempts per delivery before it is given up (logged at error level).
    pub max_attempts: u32,
}

/// One receiver. The outbox names it by `name`, so renaming an endpoint orphans its
/// pending deliveries; changing its url or secret does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub name: String,
    pub url: String,
    pub secret: Secret,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawWebhook {
    name: String,
    url: String,
    secret: String,
    secret_env: String,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub(super) struct RawWebhookDelivery {
    max_attempts: i64,
}

impl Default for RawWebhookDelivery {
    fn default() -> Self {
        Self { max_attempts: 20 }
    }
}

pub(super) fn validate_webhooks(
    raw: Vec<RawWebhook>,
    delivery: RawWebhookDelivery,
    env: Lookup<'_>,
) -> Result<WebhookSettings, ConfigError> {
    let mut names = HashSet::new();
    let mut endpoints = Vec::with_capacity(raw.len());
    for (i, hook) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("webhooks[{i}].{field}");
        let name = hook.name.trim().to_owned();
        if name.is_empty()
            || name.len() > MAX_NAME_LEN
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                key("name"),
                format!("must be 1 to {MAX_NAME_LEN} letters, digits, '-', '_' or '.'"),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(invalid(
                key("name"),
                format!("webhook {name} is listed twice"),
            ));
        }
        let url = http_url(&key("url"), &hook.url)?;
        let secret = secret(&key("secret"), &hook.secret, &hook.secret_env, env)?
            .ok_or_else(|| invalid(key("secret"), "required: receivers check the signature"))?;
        endpoints.push(WebhookEndpoint { name, url, secret });
    }
    let max_attempts = if (1..=MAX_ATTEMPTS).contains(&delivery.max_attempts) {
        u32::try_from(delivery.max_attempts)
            .map_err(|e| invalid("webhook_delivery.max_attempts", e))?
    } else {
        return Err(invalid(
            "webhook_delivery.max_attempts",
            format!(
                "must be from 1 to {MAX_ATTEMPTS}, not {}",
                delivery.max_attempts
            ),
        ));
    };
    Ok(WebhookSettings {
        endpoints,
        max_attempts,
    })
}
