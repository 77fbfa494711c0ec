//! `[platform]`: how every call to a platform service behaves (timeouts, retries, caches),
//! and `[identity]`: who resolves bearer tokens, the configured users or the platform.

use std::collections::HashSet;
use std::time::Duration;

use domain::ids::UserName;
use infra_http::HttpSettings;
use serde::Deserialize;

use super::env::{Deployment, PLATFORM_HOST};
use super::urls::http_url;
use super::{at, invalid, ConfigError};

/// Longest connect timeout: a platform that takes longer to accept is down.
const MAX_CONNECT_TIMEOUT_MS: i64 = 60_000;
/// Longest call: a request waiting on it holds a connection that long.
const MAX_TIMEOUT_MS: i64 = 300_000;
/// Most extra attempts of an idempotent call: more only delays the 503.
const MAX_RETRIES: i64 = 5;
/// Longest cache lifetime: a day, so a price change or a revoked membership is seen
/// within one.
const MAX_CACHE_SECONDS: i64 = 86_400;

/// The validated `[platform]` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformSettings {
    pub http: HttpSettings,
    /// How long the plan service's answers are reused; zero: never.
    pub plan_cache: Duration,
    /// How long a resolved token or a positive membership answer is reused; zero: never.
    pub identity_cache: Duration,
}

/// The validated `[identity]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySettings {
    /// The `[[users]]` of the configuration.
    Config,
    /// The platform resolves tokens (`GET {url}/oapi/v1/users/~`) and answers membership;
    /// `admins` may act on every project.
    Platform { url: String, admins: Vec<UserName> },
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub(super) struct RawPlatform {
    connect_timeout_ms: i64,
    timeout_ms: i64,
    retries: i64,
    plan_cache_seconds: i64,
    identity_cache_seconds: i64,
}

impl Default for RawPlatform {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 2_000,
            timeout_ms: 10_000,
            retries: 2,
            plan_cache_seconds: 60,
            identity_cache_seconds: 60,
        }
    }
}

/// `value` if it is in `range`, or an error naming `key`.
fn within(key: &str, value: i64, min: i64, max: i64) -> Result<u64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value.unsigned_abs())
    } else {
        Err(invalid(
            key,
            format!("must be from {min} to {max}, not {value}"),
        ))
    }
}

impl RawPlatform {
    pub(super) fn validate(self) -> Result<PlatformSettings, ConfigError> {
        let connect = within(
            "platform.connect_timeout_ms",
            self.connect_timeout_ms,
            1,
            MAX_CONNECT_TIMEOUT_MS,
        )?;
        let timeout = within("platform.timeout_ms", self.timeout_ms, 1, MAX_TIMEOUT_MS)?;
        if connect > timeout {
            return Err(invalid(
                "platform.connect_timeout_ms",
                format!("must not exceed platform.timeout_ms ({timeout})"),
            ));
        }
        let retries = within("platform.retries", self.retries, 0, MAX_RETRIES)?;
        let plan_cache = within(
            "platform.plan_cache_seconds",
            self.plan_cache_seconds,
            0,
            MAX_CACHE_SECONDS,
        )?;
        let identity_cache = within(
            "platform.identity_cache_seconds",
            self.identity_cache_seconds,
            0,
            MAX_CACHE_SECONDS,
        )?;
        Ok(PlatformSettings {
            http: HttpSettings {
                connect_timeout: Duration::from_millis(connect),
                timeout: Duration::from_millis(timeout),
                retries: u32::try_from(retries).map_err(|e| invalid("platform.retries", e))?,
            },
            plan_cache: Duration::from_secs(plan_cache),
            identity_cache: Duration::from_secs(identity_cache),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub(super) struct RawIdentity {
    kind: String,
    url: String,
    admins: Vec<String>,
}

impl Default for RawIdentity {
    fn default() -> Self {
        Self {
            kind: "config".into(),
            url: String::new(),
            admins: Vec::new(),
        }
    }
}

impl RawIdentity {
    pub(super) fn validate(self, deployment: &Deployment) -> Result<IdentitySettings, ConfigError> {
        match self.kind.trim().to_ascii_lowercase().as_str() {
            "config" => Ok(IdentitySettings::Config),
            "platform" => {
                let url = if self.url.trim().is_empty() {
                    let url = deployment.platform_url.as_deref().ok_or_else(|| {
                        invalid(
                            "identity.url",
                            format!("required with kind = \"platform\" (or set {PLATFORM_HOST})"),
                        )
                    })?;
                    http_url(&format!("identity.url (from {PLATFORM_HOST})"), url)?
                } else {
                    http_url("identity.url", &self.url)?
                };
                let mut seen = HashSet::new();
                let mut admins = Vec::with_capacity(self.admins.len());
                for (i, name) in self.admins.iter().enumerate() {
                    let key = format!("identity.admins[{i}]");
                    let name = at(&key, UserName::parse(name))?;
                    if seen.insert(name.clone()) {
                        admins.push(name);
                    }
                }
                Ok(IdentitySettings::Platform { url, admins })
            }
            other => Err(invalid(
                "identity.kind",
                format!("{other:?} is neither \"config\" nor \"platform\""),
            )),
        }
    }
}
