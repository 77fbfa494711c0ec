//! The original service's deployment variables (the seed's `oc new-app -e …` command), read
//! through a lookup function so tests hand in their own environment instead of the process's.
//!
//! - `ENV_NAME_MYSQL_ADDR`, `_PORT`, `_DATABASE`, `_USER`, `_PASSWORD` each hold the NAME of
//!   another variable holding the value (a bound MySQL service instance publishes its
//!   settings under names of its own); with `ENV_NAME_MYSQL_ADDR` set they make `database.url`.
//! - `PLAN_SERVICE_API_SERVER`, `CHARGE_SERVICE_API_SERVER`, `DATAFOUNDRY_HOST_ADDR`: the
//!   default plan service, charge service and platform API of every region (and the identity).
//! - `LOG_LEVEL`: the log filter unless `RUST_LOG` is set.
//! - `MYSQL_CONFIG_DONT_UPGRADE_TABLES`: skip migrations at start.

use std::fmt;

use super::{invalid, redacted_url, ConfigError};

/// Looks up an environment variable; `None` when it is not set.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment; a variable that is not valid UTF-8 counts as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub const MYSQL_ADDR: &str = "ENV_NAME_MYSQL_ADDR";
pub const MYSQL_PORT: &str = "ENV_NAME_MYSQL_PORT";
pub const MYSQL_DATABASE: &str = "ENV_NAME_MYSQL_DATABASE";
pub const MYSQL_USER: &str = "ENV_NAME_MYSQL_USER";
pub const MYSQL_PASSWORD: &str = "ENV_NAME_MYSQL_PASSWORD";
pub const PLAN_SERVICE: &str = "PLAN_SERVICE_API_SERVER";
pub const CHARGE_SERVICE: &str = "CHARGE_SERVICE_API_SERVER";
pub const PLATFORM_HOST: &str = "DATAFOUNDRY_HOST_ADDR";
pub const LOG_LEVEL: &str = "LOG_LEVEL";
pub const RUST_LOG: &str = "RUST_LOG";
pub const DONT_UPGRADE: &str = "MYSQL_CONFIG_DONT_UPGRADE_TABLES";
/// The configuration layer's own way to set the database url; it and `ENV_NAME_MYSQL_ADDR`
/// are two answers to one question, so setting both is refused rather than ranked.
const DATABASE_URL_VAR: &str = "SERVICEUSAGE__DATABASE__URL";
const DEFAULT_MYSQL_PORT: u16 = 3306;

/// What the deployment variables say.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Deployment {
    /// Built from `ENV_NAME_MYSQL_*` when `ENV_NAME_MYSQL_ADDR` is set.
    pub database_url: Option<String>,
    pub plan_service: Option<String>,
    pub charge_service: Option<String>,
    pub platform_url: Option<String>,
    /// `MYSQL_CONFIG_DONT_UPGRADE_TABLES` is true.
    pub skip_migrations: bool,
}

impl fmt::Debug for Deployment {
    /// The database url carries the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deployment")
            .field(
                "database_url",
                &self.database_url.as_deref().map(redacted_url),
            )
            .field("plan_service", &self.plan_service)
            .field("charge_service", &self.charge_service)
            .field("platform_url", &self.platform_url)
            .field("skip_migrations", &self.skip_migrations)
            .finish()
    }
}

impl Deployment {
    pub fn read(env: Lookup<'_>) -> Result<Deployment, ConfigError> {
        Ok(Deployment {
            database_url: mysql_url(env)?,
            // The original built these from a bare host[:port] with http://.
            plan_service: set(env, PLAN_SERVICE).map(|v| with_scheme(&v, "http")),
            charge_service: set(env, CHARGE_SERVICE).map(|v| with_scheme(&v, "http")),
            // The original prepended https:// to a bare platform host.
            platform_url: set(env, PLATFORM_HOST).map(|v| with_scheme(&v, "https")),
            skip_migrations: dont_upgrade(env)?,
        })
    }
}

/// A variable's value, `None` when unset or blank.
fn set(env: Lookup<'_>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `host[:port]` becomes `{scheme}://host[:port]`; a value with a scheme is kept as it is.
/// Trailing slashes go, since paths are appended to it.
fn with_scheme(value: &str, scheme: &str) -> String {
    let url = if value.contains("://") {
        value.to_owned()
    } else {
        format!("{scheme}://{value}")
    };
    url.trim_end_matches('/').to_owned()
}

/// The value of the variable that `indirect` names. `None` when `indirect` itself is unset;
/// an error naming both when the named variable is unset.
fn through(env: Lookup<'_>, indirect: &str) -> Result<Option<String>, ConfigError> {
    let Some(target) = set(env, indirect) else {
        return Ok(None);
    };
    match env(&target) {
        Some(value) => Ok(Some(value)),
        None => Err(invalid(
            indirect,
            format!("names the variable {target}, which is not set"),
        )),
    }
}

fn mysql_url(env: Lookup<'_>) -> Result<Option<String>, ConfigError> {
    let Some(addr) = through(env, MYSQL_ADDR)? else {
        let stray = [MYSQL_PORT, MYSQL_DATABASE, MYSQL_USER, MYSQL_PASSWORD]
            .into_iter()
            .find(|name| set(env, name).is_some());
        return match stray {
            Some(name) => Err(invalid(name, format!("is set but {MYSQL_ADDR} is not"))),
            None => Ok(None),
        };
    };
    if set(env, DATABASE_URL_VAR).is_some() {
        return Err(invalid(
            MYSQL_ADDR,
            format!("set either {MYSQL_ADDR} or {DATABASE_URL_VAR}, not both"),
        ));
    }
    let addr = addr.trim();
    if addr.is_empty() || addr.contains(['/', '@', '?', '#']) || addr.contains(char::is_whitespace)
    {
        return Err(invalid(
            MYSQL_ADDR,
            "the host must be a host name or address",
        ));
    }
    // An IPv6 address is bracketed in a url.
    let host = if addr.contains(':') && !addr.starts_with('[') {
        format!("[{addr}]")
    } else {
        addr.to_owned()
    };
    let port = match through(env, MYSQL_PORT)? {
        Some(port) => port
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| invalid(MYSQL_PORT, "the port must be a number from 1 to 65535"))?,
        None => DEFAULT_MYSQL_PORT,
    };
    let database = through(env, MYSQL_DATABASE)?
        .ok_or_else(|| invalid(MYSQL_DATABASE, format!("is required with {MYSQL_ADDR}")))?;
    // The driver does not percent-decode the database name, so it must need no encoding.
    let database = database.trim();
    if database.is_empty()
        || !database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
    {
        return Err(invalid(
            MYSQL_DATABASE,
            "the database name must be letters, digits, '_', '-' or '$'",
        ));
    }
    let user = through(env, MYSQL_USER)?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid(MYSQL_USER, format!("is required with {MYSQL_ADDR}")))?;
    let credentials = match through(env, MYSQL_PASSWORD)? {
        Some(password) => format!("{}:{}", encode(&user), encode(&password)),
        None => encode(&user),
    };
    Ok(Some(format!(
        "mysql://{credentials}@{host}:{port}/{database}"
    )))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so any user name or
/// password survives the url (the driver decodes them).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The original skipped upgrades only for `yes`, and its README showed `"false"` for "do
/// upgrade"; both spellings of both answers are accepted, anything else is refused.
fn dont_upgrade(env: Lookup<'_>) -> Result<bool, ConfigError> {
    match set(env, DONT_UPGRADE)
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("false" | "no" | "0") => Ok(false),
        Some("true" | "yes" | "1") => Ok(true),
        Some(_) => Err(invalid(DONT_UPGRADE, "must be true or false")),
    }
}

/// The log filter: `RUST_LOG` as it is when set (`env_logger` syntax); else `LOG_LEVEL`,
/// one of the original's levels; else `info`.
pub fn log_filter(env: Lookup<'_>) -> Result<String, ConfigError> {
    if let Some(filter) = set(env, RUST_LOG) {
        return Ok(filter);
    }
    let Some(level) = set(env, LOG_LEVEL) else {
        return Ok("info".to_owned());
    };
    let filter = match level.to_ascii_lowercase().as_str() {
        "all" | "any" | "trace" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warn" | "warning" => "warn",
        "error" | "fatal" => "error",
        "none" | "disabled" | "off" => "off",
        _ => {
            return Err(invalid(
                LOG_LEVEL,
                format!("{level:?} is not one of debug, info, warn, error (or trace, off)"),
            ))
        }
    };
    Ok(filter.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn read(pairs: &[(&str, &str)]) -> Result<Deployment, ConfigError> {
        Deployment::read(&env(pairs))
    }

    /// The seed's variables, with the values a bound MySQL instance publishes.
    const SEED: [(&str, &str); 10] = [
        (MYSQL_ADDR, "BSI_MYSQL_HOST"),
        (MYSQL_PORT, "BSI_MYSQL_PORT"),
        (MYSQL_DATABASE, "BSI_MYSQL_NAME"),
        (MYSQL_USER, "BSI_MYSQL_USERNAME"),
        (MYSQL_PASSWORD, "BSI_MYSQL_PASSWORD"),
        ("BSI_MYSQL_HOST", "10.1.2.3"),
        ("BSI_MYSQL_PORT", "3307"),
        ("BSI_MYSQL_NAME", "serviceusage"),
        ("BSI_MYSQL_USERNAME", "su"),
        ("BSI_MYSQL_PASSWORD", "pa55"),
    ];

    /// `SEED` with `changes` applied; an empty value unsets the variable.
    fn seed_with(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut pairs: Vec<_> = SEED
            .iter()
            .copied()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .collect();
        pairs.extend(changes.iter().filter(|(_, v)| !v.is_empty()));
        pairs
    }

    fn seed_error(changes: &[(&'static str, &'static str)]) -> String {
        read(&seed_with(changes)).unwrap_err().to_string()
    }

    #[test]
    fn nothing_set_changes_nothing() {
        assert_eq!(read(&[]).unwrap(), Deployment::default());
    }

    #[test]
    fn the_mysql_variables_name_the_variables_that_hold_the_values() {
        assert_eq!(
            read(&SEED).unwrap().database_url.as_deref(),
            Some("mysql://su:pa55@10.1.2.3:3307/serviceusage")
        );
    }

    #[test]
    fn user_and_password_are_percent_encoded() {
        let url = read(&seed_with(&[
            ("BSI_MYSQL_USERNAME", "me@corp"),
            ("BSI_MYSQL_PASSWORD", "p@ss:w/rd%?#é "),
        ]))
        .unwrap()
        .database_url
        .unwrap();
        assert_eq!(
            url,
            "mysql://me%40corp:p%40ss%3Aw%2Frd%25%3F%23%C3%A9%20@10.1.2.3:3307/serviceusage"
        );
    }

    #[test]
    fn an_unset_port_is_3306_and_an_unset_password_is_none() {
        let url = read(&seed_with(&[(MYSQL_PORT, ""), (MYSQL_PASSWORD, "")]))
            .unwrap()
            .database_url
            .unwrap();
        assert_eq!(url, "mysql://su@10.1.2.3:3306/serviceusage");
    }

    #[test]
    fn an_empty_password_is_kept_empty() {
        let mut pairs = seed_with(&[]);
        pairs.retain(|(k, _)| *k != "BSI_MYSQL_PASSWORD");
        pairs.push(("BSI_MYSQL_PASSWORD", ""));
        assert_eq!(
            read(&pairs).unwrap().database_url.as_deref(),
            Some("mysql://su:@10.1.2.3:3307/serviceusage")
        );
    }

    #[test]
    fn an_ipv6_host_is_bracketed() {
        let url = read(&seed_with(&[("BSI_MYSQL_HOST", "fd00::1")]))
            .unwrap()
            .database_url
            .unwrap();
        assert_eq!(url, "mysql://su:pa55@[fd00::1]:3307/serviceusage");
    }

    #[test]
    fn a_named_variable_that_is_not_set_is_reported_with_both_names() {
        for (indirect, target) in [
            (MYSQL_ADDR, "BSI_MYSQL_HOST"),
            (MYSQL_PORT, "BSI_MYSQL_PORT"),
            (MYSQL_DATABASE, "BSI_MYSQL_NAME"),
            (MYSQL_USER, "BSI_MYSQL_USERNAME"),
            (MYSQL_PASSWORD, "BSI_MYSQL_PASSWORD"),
        ] {
            let error = seed_error(&[(target, "")]);
            assert!(
                error.contains(indirect) && error.contains(target),
                "{indirect}: {error}"
            );
        }
    }

    #[test]
    fn database_and_user_are_required_with_the_address() {
        for name in [MYSQL_DATABASE, MYSQL_USER] {
            let error = seed_error(&[(name, "")]);
            assert!(error.contains(name), "{error}");
            assert!(error.contains("required"), "{error}");
        }
    }

    #[test]
    fn mysql_variables_without_the_address_are_refused() {
        let error = read(&[(MYSQL_USER, "BSI_MYSQL_USERNAME")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(MYSQL_USER) && error.contains(MYSQL_ADDR),
            "{error}"
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            ("BSI_MYSQL_PORT", "0", MYSQL_PORT),
            ("BSI_MYSQL_PORT", "65536", MYSQL_PORT),
            ("BSI_MYSQL_PORT", "mysql", MYSQL_PORT),
            ("BSI_MYSQL_HOST", "db/x", MYSQL_ADDR),
            ("BSI_MYSQL_HOST", "a b", MYSQL_ADDR),
            ("BSI_MYSQL_NAME", "my db", MYSQL_DATABASE),
            ("BSI_MYSQL_NAME", "db?x=1", MYSQL_DATABASE),
        ];
        for (target, value, name) in cases {
            let error = seed_error(&[(target, value)]);
            assert!(error.contains(name), "{value}: {error}");
        }
    }

    #[test]
    fn the_address_and_the_database_url_variable_together_are_refused() {
        let mut pairs = seed_with(&[]);
        pairs.push((DATABASE_URL_VAR, "mysql://root@127.0.0.1/x"));
        let error = read(&pairs).unwrap_err().to_string();
        assert!(
            error.contains(MYSQL_ADDR) && error.contains(DATABASE_URL_VAR),
            "{error}"
        );
    }

    #[test]
    fn errors_and_debug_never_show_the_password() {
        let deployment = read(&seed_with(&[("BSI_MYSQL_PASSWORD", "s3cr3t-pw")])).unwrap();
        let shown = format!("{deployment:?}");
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(shown.contains("10.1.2.3"), "{shown}");
        let error = seed_error(&[("BSI_MYSQL_PASSWORD", "s3cr3t-pw"), ("BSI_MYSQL_PORT", "x")]);
        assert!(!error.contains("s3cr3t-pw"), "{error}");
    }

    #[test]
    fn service_variables_get_a_scheme_when_they_have_none() {
        let deployment = read(&[
            (PLAN_SERVICE, "plans.svc:8080/"),
            (CHARGE_SERVICE, "https://charge.example.com/"),
            (PLATFORM_HOST, "df.example.com:8443"),
        ])
        .unwrap();
        assert_eq!(
            deployment.plan_service.as_deref(),
            Some("http://plans.svc:8080")
        );
        assert_eq!(
            deployment.charge_service.as_deref(),
            Some("https://charge.example.com")
        );
        assert_eq!(
            deployment.platform_url.as_deref(),
            Some("https://df.example.com:8443")
        );
    }

    #[test]
    fn blank_service_variables_count_as_unset() {
        let deployment = read(&[(PLAN_SERVICE, "  ")]).unwrap();
        assert_eq!(deployment.plan_service, None);
    }

    #[test]
    fn dont_upgrade_takes_true_or_false_in_the_originals_spellings() {
        for (value, skip) in [
            ("true", true),
            ("YES", true),
            ("1", true),
            ("false", false),
            ("no", false),
            ("0", false),
            ("", false),
        ] {
            let deployment = read(&[(DONT_UPGRADE, value)]).unwrap();
            assert_eq!(deployment.skip_migrations, skip, "{value}");
        }
        let error = read(&[(DONT_UPGRADE, "maybe")]).unwrap_err().to_string();
        assert!(error.contains(DONT_UPGRADE), "{error}");
    }

    #[test]
    fn log_level_maps_the_originals_levels_and_defaults_to_info() {
        let filter = |pairs: &[(&str, &str)]| log_filter(&env(pairs));
        assert_eq!(filter(&[]).unwrap(), "info");
        for (level, expected) in [
            ("debug", "debug"),
            ("INFO", "info"),
            ("warn", "warn"),
            ("warning", "warn"),
            ("error", "error"),
            ("fatal", "error"),
            ("all", "trace"),
            ("disabled", "off"),
        ] {
            assert_eq!(filter(&[(LOG_LEVEL, level)]).unwrap(), expected, "{level}");
        }
        let error = filter(&[(LOG_LEVEL, "loud")]).unwrap_err().to_string();
        assert!(error.contains(LOG_LEVEL), "{error}");
    }

    #[test]
    fn rust_log_wins_over_log_level() {
        let filter = log_filter(&env(&[(RUST_LOG, "warn,api=debug"), (LOG_LEVEL, "loud")]));
        assert_eq!(filter.unwrap(), "warn,api=debug");
    }
}
