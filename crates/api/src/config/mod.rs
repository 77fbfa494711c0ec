//! Typed settings. Loaded once at start from `config/default.toml` (relative to the working
//! directory), then the files named by `SERVICEUSAGE_CONFIG` (a path list, like `PATH`: the
//! demo's `config/demo.toml` is layered that way), then `SERVICEUSAGE__SECTION__KEY`
//! environment variables, then the original service's deployment variables (see [`env`](mod@env));
//! then validated into domain types, so an invalid value stops the service at start with a
//! message naming its key instead of failing a request later.

mod demo;
pub mod env;
mod logging;
mod payments;
mod platform;
mod regions;
mod secrets;
mod urls;
mod webhooks;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chrono::TimeDelta;
use config::builder::DefaultState;
use config::{ConfigBuilder, Environment, File, Map};
use domain::account::SubAccounts;
use domain::cycle::{BusinessCalendar, Cycle};
use domain::ids::{PlanId, PlanType, ProjectId, Region, UserName};
use domain::ledger::MAX_RECHARGE;
use domain::plan::{ChargingMode, Plan};
use domain::policy::{BillingPolicy, RenewalSettings};
use domain::principal::Principal;
use domain::Money;
use infra_mysql::Timeouts;
use serde::Deserialize;

use self::env::{Deployment, Lookup};
pub use self::logging::{log_format, LogFormat, LOG_FORMAT};
pub use self::payments::PaymentSettings;
use self::payments::RawPayments;
pub use self::platform::{IdentitySettings, PlatformSettings};
use self::platform::{RawIdentity, RawPlatform};
use self::regions::{validate_regions, RawRegion};
pub use self::regions::{ChargingSource, PlanSource, ProvisioningSource, RegionSettings};
use self::webhooks::{validate_webhooks, RawWebhook, RawWebhookDelivery};
pub use self::webhooks::{WebhookEndpoint, WebhookSettings};

/// Read when present, relative to the working directory.
pub const DEFAULT_FILE: &str = "config/default.toml";
/// Names extra files whose keys override the default file: a path list (`:`-separated on
/// Unix), later files winning.
pub const OVERRIDE_FILE_VAR: &str = "SERVICEUSAGE_CONFIG";
const ENV_PREFIX: &str = "SERVICEUSAGE";
const ENV_SEPARATOR: &str = "__";
/// Upper bound on database connections: more only adds lock contention.
pub const MAX_POOL_SIZE: u32 = 256;
/// Upper bound on orders per renewal batch: one batch is one transaction holding its row
/// locks, and a larger one would hold them (and the claimed balances) too long.
pub const MAX_RENEWAL_BATCH: u32 = 10_000;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot load configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration: {key}: {reason}")]
    Invalid { key: String, reason: String },
}

fn invalid(key: impl Into<String>, reason: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.to_string(),
    }
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    /// Includes the renewal rules (`[renewal]` margin, grace, warning interval, batch size)
    /// and which regions' money their charge service keeps (from `[[regions]]`).
    pub billing: BillingPolicy,
    pub payments: PaymentSettings,
    pub renewal_job: RenewalJobSettings,
    pub plans: Vec<Plan>,
    pub users: Vec<StaticUser>,
    /// The embedded identity's main accounts and sub-accounts (`[[sub_accounts]]`).
    pub sub_accounts: SubAccounts,
    pub opening_balances: Vec<OpeningBalance>,
    pub platform: PlatformSettings,
    pub identity: IdentitySettings,
    /// The regions whose adapters are configured; every other region is embedded.
    pub regions: Vec<RegionSettings>,
    pub webhooks: WebhookSettings,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// How long a client has to send a request's head, and again its body: a slow or
    /// stalled client holds a connection no longer.
    pub request_timeout: Duration,
}

/// Upper bound on `server.request_timeout_seconds`: a longer one is a unit mistake.
pub const MAX_REQUEST_TIMEOUT_SECONDS: i64 = 300;

#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// May carry the password: shown only through [`redacted_url`].
    pub url: String,
    pub pool_size: u32,
    /// Whether the server applies pending migrations at start (`false` with
    /// `MYSQL_CONFIG_DONT_UPGRADE_TABLES=true`, for databases someone else migrates).
    pub migrate_at_start: bool,
    /// Whether renewal claims lock what they claim (`FOR UPDATE SKIP LOCKED`). Only saves
    /// work: correctness rests on guarded writes. `false` for databases that ignore or
    /// refuse row-lock skipping (TiDB, older Vitess).
    pub claim_locks: bool,
    /// How long a MySQL statement may run and wait for a row lock.
    pub timeouts: Timeouts,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redacted_url(&self.url))
            .field("pool_size", &self.pool_size)
            .field("migrate_at_start", &self.migrate_at_start)
            .field("claim_locks", &self.claim_locks)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

/// `mysql://user:secret@host/db` → `mysql://user:***@host/db`, for logs and `Debug`.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Some((credentials, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
        None => url.to_owned(),
    }
}

/// When the server's background renewal job runs (`[renewal]` enabled, interval_seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenewalJobSettings {
    pub enabled: bool,
    pub interval: Duration,
}

/// A user of the embedded identity adapter.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticUser {
    pub principal: Principal,
    pub token: String,
    pub projects: Vec<ProjectId>,
}

impl fmt::Debug for StaticUser {
    /// Tokens are credentials: they never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticUser")
            .field("principal", &self.principal)
            .field("token", &"<redacted>")
            .field("projects", &self.projects)
            .finish()
    }
}

/// Money a project gets once, the first time the service starts with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningBalance {
    pub project: ProjectId,
    pub amount: Money,
}

impl Settings {
    /// Loads the layers from the process environment and validates them.
    pub fn load() -> Result<Settings, ConfigError> {
        if Path::new(DEFAULT_FILE).exists() {
            log::info!("configuration: {DEFAULT_FILE}");
        } else {
            log::warn!("configuration: {DEFAULT_FILE} not found in the working directory");
        }
        for path in override_files() {
            log::info!("configuration: {}", path.display());
        }
        Self::from_builder(files(), None)
    }

    /// Adds the environment layers (`env` replaces the process environment in tests) and
    /// validates the result.
    fn from_builder(
        builder: ConfigBuilder<DefaultState>,
        env: Option<Map<String, String>>,
    ) -> Result<Settings, ConfigError> {
        let lookup = |name: &str| match &env {
            Some(map) => map.get(name).cloned(),
            None => self::env::process_env(name),
        };
        let deployment = Deployment::read(&lookup)?;
        let raw: RawSettings = builder
            .add_source(environment(env.clone()))
            .build()?
            .try_deserialize()?;
        raw.validate(&deployment, &lookup)
    }
}

/// The file layers: the default file when present, then the files `SERVICEUSAGE_CONFIG`
/// names in order (each must exist).
fn files() -> ConfigBuilder<DefaultState> {
    override_files().fold(
        config::Config::builder().add_source(File::from(Path::new(DEFAULT_FILE)).required(false)),
        |builder, path| builder.add_source(File::from(path).required(true)),
    )
}

/// The files of `SERVICEUSAGE_CONFIG`, a path list like `PATH`.
fn override_files() -> impl Iterator<Item = std::path::PathBuf> {
    std::env::var_os(OVERRIDE_FILE_VAR)
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
}

/// The `SERVICEUSAGE__SECTION__KEY` layer; `env` replaces the process environment in tests.
fn environment(env: Option<Map<String, String>>) -> Environment {
    Environment::with_prefix(ENV_PREFIX)
        .prefix_separator(ENV_SEPARATOR)
        .separator(ENV_SEPARATOR)
        .source(env)
}

/// An amount as written in the file: a decimal string. A TOML number is read too, only to
/// reject it with a clear message (a float cannot carry money exactly).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawAmount {
    Text(String),
    Number(f64),
}

impl RawAmount {
    fn parse(&self, key: &str) -> Result<Money, ConfigError> {
        match self {
            RawAmount::Text(text) => text.parse().map_err(|e| invalid(key, e)),
            RawAmount::Number(n) => Err(invalid(
                key,
                format!("write amounts as strings such as \"{n:.2}\", not numbers"),
            )),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawSettings {
    server: RawServer,
    database: RawDatabase,
    billing: RawBilling,
    renewal: RawRenewal,
    payments: RawPayments,
    plans: Vec<RawPlan>,
    users: Vec<RawUser>,
    sub_accounts: Vec<RawSubAccounts>,
    ledger: RawLedger,
    platform: RawPlatform,
    identity: RawIdentity,
    regions: Vec<RawRegion>,
    webhooks: Vec<RawWebhook>,
    webhook_delivery: RawWebhookDelivery,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawServer {
    bind: String,
    request_timeout_seconds: i64,
    allow_demo: bool,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            request_timeout_seconds: 10,
            allow_demo: false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawDatabase {
    url: String,
    pool_size: i64,
    claim_locks: bool,
    statement_timeout_seconds: f64,
    lock_wait_timeout_seconds: i64,
}

impl Default for RawDatabase {
    fn default() -> Self {
        let timeouts = Timeouts::default();
        Self {
            url: "sqlite://data/serviceusage.db".into(),
            pool_size: 8,
            claim_locks: true,
            statement_timeout_seconds: timeouts.statement.as_secs_f64(),
            lock_wait_timeout_seconds: i64::try_from(timeouts.lock_wait.as_secs())
                .unwrap_or(i64::MAX),
        }
    }
}

/// Upper bound on the MySQL statement and lock-wait timeouts: an hour is a unit mistake.
const MAX_DATABASE_TIMEOUT_SECONDS: i64 = 3_600;

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawBilling {
    time_zone: String,
    refund_on_cancel: bool,
    credit_limit: RawAmount,
}

impl Default for RawBilling {
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
            refund_on_cancel: true,
            credit_limit: RawAmount::Text("0".into()),
        }
    }
}

/// `[renewal]`. Numbers are read signed so that a negative value is reported as such.
#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawRenewal {
    margin_days: i64,
    grace_days: i64,
    warning_interval_hours: i64,
    batch_size: i64,
    interval_seconds: i64,
    enabled: bool,
}

impl Default for RawRenewal {
    fn default() -> Self {
        Self {
            margin_days: 7,
            grace_days: 7,
            warning_interval_hours: 24,
            batch_size: 500,
            interval_seconds: 60,
            enabled: true,
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawPlan {
    id: String,
    #[serde(rename = "type")]
    plan_type: String,
    region: String,
    mode: String,
    price: RawAmount,
    cycle: String,
    #[serde(default)]
    requires_resource_name: bool,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Deserialize)]
struct RawUser {
    name: String,
    token: String,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    projects: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawSubAccounts {
    main: String,
    #[serde(default)]
    subs: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawLedger {
    opening_balances: Vec<RawOpeningBalance>,
}

#[derive(Debug, Deserialize)]
struct RawOpeningBalance {
    project: String,
    amount: RawAmount,
}

/// Turns a domain parse error into one naming the configuration key.
fn at<T>(key: &str, result: domain::Result<T>) -> Result<T, ConfigError> {
    result.map_err(|e| match e {
        domain::Error::InvalidParameter(detail) => invalid(key, detail),
        other => invalid(key, other),
    })
}

impl RawSettings {
    fn validate(self, deployment: &Deployment, env: Lookup<'_>) -> Result<Settings, ConfigError> {
        let bind = self.server.bind.parse().map_err(|_| {
            invalid(
                "server.bind",
                format!(
                    "{:?} is not an address such as 127.0.0.1:8080",
                    self.server.bind
                ),
            )
        })?;
        let request_timeout = positive(
            "server.request_timeout_seconds",
            self.server.request_timeout_seconds,
            MAX_REQUEST_TIMEOUT_SECONDS,
        )?;
        let (renewal, renewal_job) = self.renewal.validate()?;
        let regions = validate_regions(self.regions, deployment, env)?;
        let mut billing = self.billing.validate(renewal)?;
        billing.charge_regions = regions
            .iter()
            .filter(|r| matches!(r.charging, ChargingSource::Remote { .. }))
            .map(|r| r.name.clone())
            .collect();
        let settings = Settings {
            server: ServerSettings {
                bind,
                request_timeout: Duration::from_secs(request_timeout.unsigned_abs()),
            },
            database: self.database.validate(deployment)?,
            billing,
            payments: self.payments.validate()?,
            renewal_job,
            plans: validate_plans(self.plans)?,
            users: validate_users(self.users)?,
            sub_accounts: validate_sub_accounts(self.sub_accounts)?,
            opening_balances: validate_openings(self.ledger.opening_balances)?,
            platform: self.platform.validate()?,
            identity: self.identity.validate(deployment)?,
            regions,
            webhooks: validate_webhooks(self.webhooks, self.webhook_delivery, env)?,
        };
        demo::check(&settings, self.server.allow_demo)?;
        Ok(settings)
    }
}

impl RawDatabase {
    fn validate(self, deployment: &Deployment) -> Result<DatabaseSettings, ConfigError> {
        let url = deployment.database_url.clone().unwrap_or(self.url);
        if !(url.starts_with("sqlite://") || url.starts_with("mysql://")) {
            return Err(invalid(
                "database.url",
                "must start with sqlite:// or mysql://",
            ));
        }
        let pool_size = u32::try_from(self.pool_size)
            .ok()
            .filter(|n| (1..=MAX_POOL_SIZE).contains(n))
            .ok_or_else(|| {
                invalid(
                    "database.pool_size",
                    format!("must be from 1 to {MAX_POOL_SIZE}, not {}", self.pool_size),
                )
            })?;
        let statement = self.statement_timeout_seconds;
        // NaN is in no range, so it is refused too.
        if !(0.0..=MAX_DATABASE_TIMEOUT_SECONDS as f64).contains(&statement) {
            return Err(invalid(
                "database.statement_timeout_seconds",
                format!(
                    "must be from 0 (no limit) to {MAX_DATABASE_TIMEOUT_SECONDS}, not {statement}"
                ),
            ));
        }
        let lock_wait = positive(
            "database.lock_wait_timeout_seconds",
            self.lock_wait_timeout_seconds,
            MAX_DATABASE_TIMEOUT_SECONDS,
        )?;
        Ok(DatabaseSettings {
            url,
            pool_size,
            migrate_at_start: !deployment.skip_migrations,
            claim_locks: self.claim_locks,
            timeouts: Timeouts {
                statement: Duration::from_secs_f64(statement),
                lock_wait: Duration::from_secs(lock_wait.unsigned_abs()),
            },
        })
    }
}

impl RawBilling {
    fn validate(self, renewal: RenewalSettings) -> Result<BillingPolicy, ConfigError> {
        let calendar = BusinessCalendar::from_name(&self.time_zone).map_err(|_| {
            invalid(
                "billing.time_zone",
                format!(
                    "{:?} is not an IANA time zone such as UTC or Asia/Shanghai",
                    self.time_zone
                ),
            )
        })?;
        let credit_limit = self.credit_limit.parse("billing.credit_limit")?;
        if credit_limit.is_negative() || credit_limit > MAX_RECHARGE {
            return Err(invalid(
                "billing.credit_limit",
                format!("must be from 0 to {MAX_RECHARGE}"),
            ));
        }
        Ok(BillingPolicy {
            calendar,
            refund_on_cancel: self.refund_on_cancel,
            renewal,
            credit_limit,
            charge_regions: Vec::new(),
        })
    }
}

/// A whole number of at least 1 and at most `max`, or an error naming `key`.
fn positive(key: &str, value: i64, max: i64) -> Result<i64, ConfigError> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(
            key,
            format!("must be from 1 to {max}, not {value}"),
        ))
    }
}

impl RawRenewal {
    /// Upper bounds keep the durations representable and catch unit mistakes (seconds
    /// written where days were meant): ten years of days, hours or seconds.
    const MAX_DAYS: i64 = 3_660;
    const MAX_HOURS: i64 = Self::MAX_DAYS * 24;
    const MAX_SECONDS: i64 = Self::MAX_HOURS * 3_600;

    fn validate(self) -> Result<(RenewalSettings, RenewalJobSettings), ConfigError> {
        let margin = positive("renewal.margin_days", self.margin_days, Self::MAX_DAYS)?;
        let grace = positive("renewal.grace_days", self.grace_days, Self::MAX_DAYS)?;
        let warning = positive(
            "renewal.warning_interval_hours",
            self.warning_interval_hours,
            Self::MAX_HOURS,
        )?;
        let batch_size = positive(
            "renewal.batch_size",
            self.batch_size,
            i64::from(MAX_RENEWAL_BATCH),
        )?;
        let interval = positive(
            "renewal.interval_seconds",
            self.interval_seconds,
            Self::MAX_SECONDS,
        )?;
        let settings = RenewalSettings {
            margin: TimeDelta::days(margin),
            grace: TimeDelta::days(grace),
            warning_interval: TimeDelta::hours(warning),
            batch_size: u32::try_from(batch_size).map_err(|e| invalid("renewal.batch_size", e))?,
        };
        let job = RenewalJobSettings {
            enabled: self.enabled,
            interval: Duration::from_secs(interval.unsigned_abs()),
        };
        Ok((settings, job))
    }
}

fn validate_plans(raw: Vec<RawPlan>) -> Result<Vec<Plan>, ConfigError> {
    let mut seen = HashSet::new();
    let mut plans = Vec::with_capacity(raw.len());
    for (i, plan) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("plans[{i}].{field}");
        let id = at(&key("id"), PlanId::parse(&plan.id))?;
        if !seen.insert(id.clone()) {
            return Err(invalid(key("id"), format!("duplicate plan id {id}")));
        }
        let price = plan.price.parse(&key("price"))?;
        if price.is_negative() {
            return Err(invalid(key("price"), "must not be negative"));
        }
        plans.push(Plan {
            id,
            plan_type: at(&key("type"), PlanType::parse(&plan.plan_type))?,
            region: at(&key("region"), Region::parse(&plan.region))?,
            mode: at(&key("mode"), ChargingMode::parse(&plan.mode))?,
            price,
            cycle: at(&key("cycle"), Cycle::parse(&plan.cycle))?,
            requires_resource_name: plan.requires_resource_name,
            description: plan.description,
        });
    }
    Ok(plans)
}

fn validate_users(raw: Vec<RawUser>) -> Result<Vec<StaticUser>, ConfigError> {
    let mut names = HashSet::new();
    let mut tokens = HashSet::new();
    let mut users = Vec::with_capacity(raw.len());
    for (i, user) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("users[{i}].{field}");
        let name = at(&key("name"), UserName::parse(&user.name))?;
        if !names.insert(name.clone()) {
            return Err(invalid(key("name"), format!("duplicate user name {name}")));
        }
        if user.token.trim().is_empty() {
            return Err(invalid(key("token"), "must not be empty"));
        }
        if user.token.chars().any(char::is_whitespace) {
            return Err(invalid(key("token"), "must not contain whitespace"));
        }
        // The token is a credential: the message names the user, never the token.
        if !tokens.insert(user.token.clone()) {
            return Err(invalid(
                key("token"),
                format!("{name} shares its token with another user"),
            ));
        }
        let projects = user
            .projects
            .iter()
            .enumerate()
            .map(|(j, p)| at(&key(&format!("projects[{j}]")), ProjectId::parse(p)))
            .collect::<Result<Vec<_>, _>>()?;
        users.push(StaticUser {
            principal: Principal {
                user: name,
                admin: user.admin,
                credential: None,
            },
            token: user.token,
            projects,
        });
    }
    Ok(users)
}

fn validate_sub_accounts(raw: Vec<RawSubAccounts>) -> Result<SubAccounts, ConfigError> {
    let families = raw
        .into_iter()
        .enumerate()
        .map(|(i, family)| {
            let key = |field: &str| format!("sub_accounts[{i}].{field}");
            let main = at(&key("main"), ProjectId::parse(&family.main))?;
            let subs = family
                .subs
                .iter()
                .enumerate()
                .map(|(j, sub)| at(&key(&format!("subs[{j}]")), ProjectId::parse(sub)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((main, subs))
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    at("sub_accounts", SubAccounts::new(families))
}

fn validate_openings(raw: Vec<RawOpeningBalance>) -> Result<Vec<OpeningBalance>, ConfigError> {
    let mut seen = HashSet::new();
    let mut openings = Vec::with_capacity(raw.len());
    for (i, opening) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("ledger.opening_balances[{i}].{field}");
        let project = at(&key("project"), ProjectId::parse(&opening.project))?;
        if !seen.insert(project.clone()) {
            return Err(invalid(
                key("project"),
                format!("{project} is funded twice"),
            ));
        }
        let amount = opening.amount.parse(&key("amount"))?;
        if !amount.is_positive() || amount > MAX_RECHARGE {
            return Err(invalid(
                key("amount"),
                format!("must be greater than 0 and at most {MAX_RECHARGE}"),
            ));
        }
        openings.push(OpeningBalance { project, amount });
    }
    Ok(openings)
}
