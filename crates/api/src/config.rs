//! Typed settings. Loaded once at start from `config/default.toml` (relative to the working
//! directory), then the file named by `SERVICEUSAGE_CONFIG`, then `SERVICEUSAGE__SECTION__KEY`
//! environment variables; then validated into domain types, so an invalid value stops the
//! service at start with a message naming its key instead of failing a request later.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chrono::TimeDelta;
use config::builder::DefaultState;
use config::{ConfigBuilder, Environment, File, Map};
use domain::cycle::{BusinessCalendar, Cycle};
use domain::ids::{PlanId, PlanType, ProjectId, Region, UserName};
use domain::ledger::MAX_RECHARGE;
use domain::plan::{ChargingMode, Plan};
use domain::principal::Principal;
use domain::renewal::RenewalSettings;
use domain::usecases::BillingPolicy;
use domain::Money;
use serde::Deserialize;

/// Read when present, relative to the working directory.
pub const DEFAULT_FILE: &str = "config/default.toml";
/// Names an extra file whose keys override the default file.
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
    /// Includes the renewal rules (`[renewal]` margin, grace, warning interval, batch size).
    pub billing: BillingPolicy,
    pub renewal_job: RenewalJobSettings,
    pub plans: Vec<Plan>,
    pub users: Vec<StaticUser>,
    pub opening_balances: Vec<OpeningBalance>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    pub bind: SocketAddr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
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
        let override_file = std::env::var_os(OVERRIDE_FILE_VAR);
        let default_file = Path::new(DEFAULT_FILE);
        if default_file.exists() {
            log::info!("configuration: {DEFAULT_FILE}");
        } else {
            log::warn!("configuration: {DEFAULT_FILE} not found in the working directory");
        }
        let mut builder =
            config::Config::builder().add_source(File::from(default_file).required(false));
        if let Some(path) = &override_file {
            log::info!("configuration: {}", Path::new(path).display());
            builder = builder.add_source(File::from(Path::new(path)).required(true));
        }
        Self::from_builder(builder, None)
    }

    /// Adds the environment layer (`env` replaces the process environment in tests) and
    /// validates the result.
    fn from_builder(
        builder: ConfigBuilder<DefaultState>,
        env: Option<Map<String, String>>,
    ) -> Result<Settings, ConfigError> {
        let raw: RawSettings = builder
            .add_source(
                Environment::with_prefix(ENV_PREFIX)
                    .prefix_separator(ENV_SEPARATOR)
                    .separator(ENV_SEPARATOR)
                    .source(env),
            )
            .build()?
            .try_deserialize()?;
        raw.validate()
    }
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
    plans: Vec<RawPlan>,
    users: Vec<RawUser>,
    ledger: RawLedger,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawServer {
    bind: String,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawDatabase {
    url: String,
    pool_size: i64,
}

impl Default for RawDatabase {
    fn default() -> Self {
        Self {
            url: "sqlite://data/serviceusage.db".into(),
            pool_size: 8,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawBilling {
    time_zone: String,
    refund_on_cancel: bool,
}

impl Default for RawBilling {
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
            refund_on_cancel: true,
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
    fn validate(self) -> Result<Settings, ConfigError> {
        let bind = self.server.bind.parse().map_err(|_| {
            invalid(
                "server.bind",
                format!(
                    "{:?} is not an address such as 127.0.0.1:8080",
                    self.server.bind
                ),
            )
        })?;
        let (renewal, renewal_job) = self.renewal.validate()?;
        Ok(Settings {
            server: ServerSettings { bind },
            database: self.database.validate()?,
            billing: self.billing.validate(renewal)?,
            renewal_job,
            plans: validate_plans(self.plans)?,
            users: validate_users(self.users)?,
            opening_balances: validate_openings(self.ledger.opening_balances)?,
        })
    }
}

impl RawDatabase {
    fn validate(self) -> Result<DatabaseSettings, ConfigError> {
        if !(self.url.starts_with("sqlite://") || self.url.starts_with("mysql://")) {
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
        Ok(DatabaseSettings {
            url: self.url,
            pool_size,
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
        Ok(BillingPolicy {
            calendar,
            refund_on_cancel: self.refund_on_cancel,
            renewal,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use config::FileFormat;

    use super::*;

    const VALID: &str = r#"
        [server]
        bind = "127.0.0.1:0"
        [database]
        url = "sqlite://data/test.db"
        pool_size = 4
        [billing]
        time_zone = "Asia/Shanghai"
        refund_on_cancel = false
        [[plans]]
        id = "cpu-m"
        type = "CPUQuota"
        region = "cn-north-1"
        mode = "prepaid"
        price = "99.00"
        cycle = "month"
        [[plans]]
        id = "vol-m"
        type = "volume"
        region = "cn-north-1"
        mode = "postpaid"
        price = "12.5"
        cycle = "m"
        requires_resource_name = true
        [[users]]
        name = "demo"
        token = "demo-token"
        projects = ["demo"]
        [[users]]
        name = "admin"
        token = "admin-token"
        admin = true
        [[ledger.opening_balances]]
        project = "demo"
        amount = "1000.00"
    "#;

    fn load(toml: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let builder = config::Config::builder().add_source(File::from_str(toml, FileFormat::Toml));
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_builder(builder, Some(env))
    }

    fn error_of(toml: &str, env: &[(&str, &str)]) -> String {
        load(toml, env).unwrap_err().to_string()
    }

    /// `VALID` with the first occurrence of `from` replaced.
    fn valid_with(from: &str, to: &str) -> String {
        assert!(VALID.contains(from), "{from} not in VALID");
        VALID.replacen(from, to, 1)
    }

    #[test]
    fn a_valid_file_becomes_domain_types() {
        let settings = load(VALID, &[]).unwrap();
        assert_eq!(settings.server.bind, "127.0.0.1:0".parse().unwrap());
        assert_eq!(settings.database.pool_size, 4);
        assert_eq!(
            settings.billing.calendar,
            BusinessCalendar::from_name("Asia/Shanghai").unwrap()
        );
        assert!(!settings.billing.refund_on_cancel);
        assert_eq!(settings.plans.len(), 2);
        assert_eq!(settings.plans[0].plan_type.as_str(), "cpuquota");
        assert_eq!(settings.plans[0].price, Money::from_minor(990_000));
        assert_eq!(settings.plans[1].mode, ChargingMode::Postpaid);
        assert!(settings.plans[1].requires_resource_name);
        assert_eq!(
            settings.users[0].projects,
            vec![ProjectId::parse("demo").unwrap()]
        );
        assert!(settings.users[1].principal.admin);
        assert_eq!(
            settings.opening_balances,
            vec![OpeningBalance {
                project: ProjectId::parse("demo").unwrap(),
                amount: Money::from_minor(10_000_000),
            }]
        );
    }

    #[test]
    fn an_empty_file_gives_the_documented_defaults() {
        let settings = load("", &[]).unwrap();
        assert_eq!(settings.server.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(settings.database.url, "sqlite://data/serviceusage.db");
        assert_eq!(settings.database.pool_size, 8);
        assert_eq!(settings.billing, BillingPolicy::default());
        assert!(settings.plans.is_empty() && settings.users.is_empty());
    }

    #[test]
    fn environment_variables_override_the_file() {
        let settings = load(
            VALID,
            &[
                ("SERVICEUSAGE__SERVER__BIND", "0.0.0.0:9000"),
                (
                    "SERVICEUSAGE__DATABASE__URL",
                    "mysql://root@127.0.0.1:3306/su",
                ),
                ("SERVICEUSAGE__DATABASE__POOL_SIZE", "16"),
                ("SERVICEUSAGE__BILLING__REFUND_ON_CANCEL", "true"),
            ],
        )
        .unwrap();
        assert_eq!(settings.server.bind, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(settings.database.url, "mysql://root@127.0.0.1:3306/su");
        assert_eq!(settings.database.pool_size, 16);
        assert!(settings.billing.refund_on_cancel);
    }

    #[test]
    fn variables_without_the_double_separator_are_ignored() {
        let settings = load(VALID, &[("SERVICEUSAGE_CONFIG", "/nowhere.toml")]).unwrap();
        assert_eq!(settings.database.pool_size, 4);
    }

    #[test]
    fn a_bad_bind_address_names_server_bind() {
        let error = error_of(VALID, &[("SERVICEUSAGE__SERVER__BIND", "localhost")]);
        assert!(error.contains("server.bind"), "{error}");
    }

    #[test]
    fn pool_size_must_be_from_1_to_256() {
        for bad in ["0", "257", "-1"] {
            let error = error_of(VALID, &[("SERVICEUSAGE__DATABASE__POOL_SIZE", bad)]);
            assert!(error.contains("database.pool_size"), "{bad}: {error}");
        }
        for good in ["1", "256"] {
            assert!(load(VALID, &[("SERVICEUSAGE__DATABASE__POOL_SIZE", good)]).is_ok());
        }
    }

    #[test]
    fn a_non_numeric_pool_size_names_the_key() {
        let error = error_of(VALID, &[("SERVICEUSAGE__DATABASE__POOL_SIZE", "many")]);
        assert!(error.contains("database.pool_size"), "{error}");
    }

    #[test]
    fn database_url_needs_a_known_scheme() {
        let error = error_of(VALID, &[("SERVICEUSAGE__DATABASE__URL", "postgres://x/y")]);
        assert!(error.contains("database.url"), "{error}");
    }

    #[test]
    fn an_unknown_time_zone_names_billing_time_zone() {
        let error = error_of(
            VALID,
            &[("SERVICEUSAGE__BILLING__TIME_ZONE", "Mars/Olympus")],
        );
        assert!(error.contains("billing.time_zone"), "{error}");
    }

    #[test]
    fn bad_plan_fields_name_the_plan_and_field() {
        let cases = [
            (
                valid_with(r#"price = "99.00""#, r#"price = "9x""#),
                "plans[0].price",
            ),
            (
                valid_with(r#"price = "99.00""#, "price = 99.0"),
                "plans[0].price",
            ),
            (
                valid_with(r#"price = "99.00""#, r#"price = "-1""#),
                "plans[0].price",
            ),
            (
                valid_with(r#"price = "99.00""#, r#"price = "1.00001""#),
                "plans[0].price",
            ),
            (
                valid_with(r#"cycle = "month""#, r#"cycle = "week""#),
                "plans[0].cycle",
            ),
            (
                valid_with(r#"mode = "prepaid""#, r#"mode = "monthly""#),
                "plans[0].mode",
            ),
            (
                valid_with(r#"type = "CPUQuota""#, r#"type = "cpu quota""#),
                "plans[0].type",
            ),
            (
                valid_with(r#"region = "cn-north-1""#, r#"region = "cn north""#),
                "plans[0].region",
            ),
            (
                valid_with(r#"id = "vol-m""#, r#"id = "cpu-m""#),
                "plans[1].id",
            ),
        ];
        for (toml, key) in cases {
            let error = error_of(&toml, &[]);
            assert!(error.contains(key), "expected {key} in {error}");
        }
    }

    #[test]
    fn a_float_price_is_refused_with_a_hint_to_use_a_string() {
        let error = error_of(&valid_with(r#"price = "99.00""#, "price = 99.0"), &[]);
        assert!(error.contains("strings"), "{error}");
    }

    #[test]
    fn bad_users_name_the_user_and_field() {
        let cases = [
            (
                valid_with(r#"name = "admin""#, r#"name = "demo""#),
                "users[1].name",
            ),
            (
                valid_with(r#"token = "admin-token""#, r#"token = "demo-token""#),
                "users[1].token",
            ),
            (
                valid_with(r#"token = "admin-token""#, r#"token = "  ""#),
                "users[1].token",
            ),
            (
                valid_with(r#"token = "admin-token""#, r#"token = "a b""#),
                "users[1].token",
            ),
            (
                valid_with(r#"name = "demo""#, r#"name = "de mo""#),
                "users[0].name",
            ),
            (
                valid_with(r#"projects = ["demo"]"#, r#"projects = ["de mo"]"#),
                "users[0].projects[0]",
            ),
        ];
        for (toml, key) in cases {
            let error = error_of(&toml, &[]);
            assert!(error.contains(key), "expected {key} in {error}");
        }
    }

    #[test]
    fn a_shared_token_is_reported_without_printing_it() {
        let error = error_of(
            &valid_with(r#"token = "admin-token""#, r#"token = "demo-token""#),
            &[],
        );
        assert!(!error.contains("demo-token"), "{error}");
    }

    #[test]
    fn bad_opening_balances_name_the_key() {
        let cases = [
            r#"amount = "0""#,
            r#"amount = "-5.00""#,
            r#"amount = "ten""#,
            r#"amount = 1000"#,
            r#"amount = "1000000000.0001""#,
        ];
        for amount in cases {
            let error = error_of(&valid_with(r#"amount = "1000.00""#, amount), &[]);
            assert!(
                error.contains("ledger.opening_balances[0].amount"),
                "{amount}: {error}"
            );
        }
        let error = error_of(&valid_with(r#"project = "demo""#, r#"project = """#), &[]);
        assert!(
            error.contains("ledger.opening_balances[0].project"),
            "{error}"
        );
    }

    #[test]
    fn a_project_funded_twice_is_refused() {
        let toml = format!(
            "{VALID}\n[[ledger.opening_balances]]\nproject = \"demo\"\namount = \"1.00\"\n"
        );
        let error = error_of(&toml, &[]);
        assert!(
            error.contains("ledger.opening_balances[1].project"),
            "{error}"
        );
    }

    #[test]
    fn renewal_defaults_to_7_days_margin_and_grace_daily_warnings_500_a_batch_every_minute() {
        let settings = load("", &[]).unwrap();
        assert_eq!(settings.billing.renewal, RenewalSettings::default());
        assert_eq!(
            settings.renewal_job,
            RenewalJobSettings {
                enabled: true,
                interval: Duration::from_secs(60),
            }
        );
    }

    #[test]
    fn the_renewal_section_maps_into_the_policy_and_the_job() {
        let toml = format!(
            "{VALID}\n[renewal]\nmargin_days = 3\ngrace_days = 14\nwarning_interval_hours = 6\n\
             batch_size = 10000\ninterval_seconds = 5\nenabled = false\n"
        );
        let settings = load(&toml, &[]).unwrap();
        assert_eq!(
            settings.billing.renewal,
            RenewalSettings {
                margin: TimeDelta::days(3),
                grace: TimeDelta::days(14),
                warning_interval: TimeDelta::hours(6),
                batch_size: 10_000,
            }
        );
        assert_eq!(
            settings.renewal_job,
            RenewalJobSettings {
                enabled: false,
                interval: Duration::from_secs(5),
            }
        );
    }

    #[test]
    fn renewal_environment_variables_override_the_file() {
        let settings = load(
            VALID,
            &[
                ("SERVICEUSAGE__RENEWAL__GRACE_DAYS", "10"),
                ("SERVICEUSAGE__RENEWAL__ENABLED", "false"),
            ],
        )
        .unwrap();
        assert_eq!(settings.billing.renewal.grace, TimeDelta::days(10));
        assert!(!settings.renewal_job.enabled);
    }

    #[test]
    fn renewal_numbers_must_be_positive_and_in_range_naming_the_key() {
        let cases = [
            ("MARGIN_DAYS", "0", "renewal.margin_days"),
            ("GRACE_DAYS", "-1", "renewal.grace_days"),
            (
                "WARNING_INTERVAL_HOURS",
                "0",
                "renewal.warning_interval_hours",
            ),
            ("BATCH_SIZE", "0", "renewal.batch_size"),
            ("BATCH_SIZE", "10001", "renewal.batch_size"),
            ("INTERVAL_SECONDS", "0", "renewal.interval_seconds"),
            ("INTERVAL_SECONDS", "soon", "renewal.interval_seconds"),
            ("MARGIN_DAYS", "100000", "renewal.margin_days"),
        ];
        for (var, value, key) in cases {
            let error = error_of(VALID, &[(&format!("SERVICEUSAGE__RENEWAL__{var}"), value)]);
            assert!(error.contains(key), "{var}={value}: {error}");
        }
        for (var, value) in [("BATCH_SIZE", "1"), ("INTERVAL_SECONDS", "1")] {
            assert!(load(VALID, &[(&format!("SERVICEUSAGE__RENEWAL__{var}"), value)]).is_ok());
        }
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let settings = load(VALID, &[]).unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains("demo-token") && !printed.contains("admin-token"));
    }

    #[test]
    fn the_shipped_default_file_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/default.toml");
        let builder = config::Config::builder().add_source(File::from(Path::new(path)));
        let settings = Settings::from_builder(builder, Some(Map::new())).unwrap();
        assert!(settings.plans.len() >= 5);
        assert!(settings.users.iter().any(|u| u.principal.admin));
        assert_eq!(settings.opening_balances.len(), 1);
    }
}
