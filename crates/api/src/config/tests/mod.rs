//! Loading and validating whole configurations: the file layers, the environment layers
//! and the message of every refusal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use config::FileFormat;

use super::*;

mod deployment;
mod platform;
mod regions;
mod webhooks;

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
    token = "tok-demo-7f3a"
    projects = ["demo"]
    [[users]]
    name = "admin"
    token = "tok-admin-7f3a"
    admin = true
    [[ledger.opening_balances]]
    project = "acme"
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
            project: ProjectId::parse("acme").unwrap(),
            amount: Money::from_minor(10_000_000),
        }]
    );
}

#[test]
fn an_empty_file_gives_the_documented_defaults() {
    let settings = load("", &[]).unwrap();
    assert_eq!(settings.server.bind, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(settings.server.request_timeout, Duration::from_secs(10));
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
fn the_database_timeouts_default_to_30_and_5_seconds_and_are_bounded() {
    let timeouts = |env: &[(&str, &str)]| load(VALID, env).map(|s| s.database.timeouts);
    assert_eq!(
        timeouts(&[]).unwrap(),
        Timeouts {
            statement: Duration::from_secs(30),
            lock_wait: Duration::from_secs(5),
        }
    );
    assert_eq!(
        timeouts(&[
            ("SERVICEUSAGE__DATABASE__STATEMENT_TIMEOUT_SECONDS", "2.5"),
            ("SERVICEUSAGE__DATABASE__LOCK_WAIT_TIMEOUT_SECONDS", "1"),
        ])
        .unwrap(),
        Timeouts {
            statement: Duration::from_millis(2_500),
            lock_wait: Duration::from_secs(1),
        }
    );
    assert_eq!(
        timeouts(&[("SERVICEUSAGE__DATABASE__STATEMENT_TIMEOUT_SECONDS", "0")])
            .unwrap()
            .statement,
        Duration::ZERO
    );
    for (key, bad) in [
        ("STATEMENT_TIMEOUT_SECONDS", "-1"),
        ("STATEMENT_TIMEOUT_SECONDS", "3601"),
        ("STATEMENT_TIMEOUT_SECONDS", "NaN"),
        ("LOCK_WAIT_TIMEOUT_SECONDS", "0"),
        ("LOCK_WAIT_TIMEOUT_SECONDS", "3601"),
    ] {
        let error = timeouts(&[(&format!("SERVICEUSAGE__DATABASE__{key}"), bad)])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("database.{}", key.to_ascii_lowercase())),
            "{key}={bad}: {error}"
        );
    }
}

#[test]
fn the_request_timeout_is_1_to_300_seconds() {
    let timeout = |value: &str| {
        load(
            VALID,
            &[("SERVICEUSAGE__SERVER__REQUEST_TIMEOUT_SECONDS", value)],
        )
        .map(|s| s.server.request_timeout)
    };
    assert_eq!(timeout("1").unwrap(), Duration::from_secs(1));
    assert_eq!(timeout("300").unwrap(), Duration::from_secs(300));
    for bad in ["0", "301", "-5"] {
        let error = timeout(bad).unwrap_err().to_string();
        assert!(
            error.contains("server.request_timeout_seconds"),
            "{bad}: {error}"
        );
    }
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
            valid_with(r#"token = "tok-admin-7f3a""#, r#"token = "tok-demo-7f3a""#),
            "users[1].token",
        ),
        (
            valid_with(r#"token = "tok-admin-7f3a""#, r#"token = "  ""#),
            "users[1].token",
        ),
        (
            valid_with(r#"token = "tok-admin-7f3a""#, r#"token = "a b""#),
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
        &valid_with(r#"token = "tok-admin-7f3a""#, r#"token = "tok-demo-7f3a""#),
        &[],
    );
    assert!(!error.contains("tok-demo-7f3a"), "{error}");
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
    let error = error_of(&valid_with(r#"project = "acme""#, r#"project = """#), &[]);
    assert!(
        error.contains("ledger.opening_balances[0].project"),
        "{error}"
    );
}

#[test]
fn a_project_funded_twice_is_refused() {
    let toml =
        format!("{VALID}\n[[ledger.opening_balances]]\nproject = \"acme\"\namount = \"1.00\"\n");
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
    assert!(!printed.contains("tok-demo-7f3a") && !printed.contains("tok-admin-7f3a"));
}

#[test]
fn the_shipped_default_file_is_valid_and_has_no_user_and_no_money() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/default.toml");
    let builder = config::Config::builder().add_source(File::from(Path::new(path)));
    let settings = Settings::from_builder(builder, Some(Map::new())).unwrap();
    assert!(settings.plans.len() >= 5);
    assert!(settings.users.is_empty());
    assert!(settings.opening_balances.is_empty());
}

#[test]
fn the_demo_file_over_the_default_file_gives_the_demo_users_and_money() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/");
    let builder = config::Config::builder()
        .add_source(File::from(Path::new(&format!("{dir}default.toml"))))
        .add_source(File::from(Path::new(&format!("{dir}demo.toml"))));
    let settings = Settings::from_builder(builder, Some(Map::new())).unwrap();
    assert!(settings.plans.len() >= 5);
    assert_eq!(settings.users.len(), 5);
    assert!(settings.users.iter().any(|u| u.principal.admin));
    assert_eq!(settings.opening_balances.len(), 1);
    let demo = ProjectId::parse("demo").unwrap();
    let subs = settings.sub_accounts.sub_accounts(&demo);
    assert_eq!(subs.len(), 2);
    assert!(subs
        .iter()
        .all(|sub| settings.sub_accounts.main_account(sub) == Some(&demo)));
}

#[test]
fn sub_accounts_map_each_main_account_to_its_sub_accounts() {
    let toml = format!(
        "{VALID}\n[[sub_accounts]]\nmain = \"acme\"\nsubs = [\"acme-dev\", \"acme-test\"]\n"
    );
    let settings = load(&toml, &[]).unwrap();
    let project = |p: &str| ProjectId::parse(p).unwrap();
    assert_eq!(
        settings.sub_accounts.main_account(&project("acme-test")),
        Some(&project("acme"))
    );
    assert_eq!(
        settings.sub_accounts.sub_accounts(&project("acme")),
        [project("acme-dev"), project("acme-test")]
    );
    assert!(load(VALID, &[]).unwrap().sub_accounts == SubAccounts::default());
}

#[test]
fn bad_sub_accounts_name_the_key_and_the_rule() {
    let family =
        |main: &str, subs: &str| format!("[[sub_accounts]]\nmain = {main}\nsubs = {subs}\n");
    let cases = [
        (family(r#""a b""#, r#"["c"]"#), "sub_accounts[0].main"),
        (
            family(r#""a""#, r#"["c", "d e"]"#),
            "sub_accounts[0].subs[1]",
        ),
        (family(r#""a""#, r#"["a"]"#), "its own sub-account"),
        (
            family(r#""a""#, r#"["b"]"#) + &family(r#""b""#, r#"["c"]"#),
            "one level only",
        ),
        (
            family(r#""a""#, r#"["c"]"#) + &family(r#""b""#, r#"["c"]"#),
            "c is a sub-account of both a and b",
        ),
        ("[[sub_accounts]]\nsubs = [\"c\"]\n".to_owned(), "main"),
    ];
    for (extra, says) in cases {
        let error = error_of(&format!("{VALID}\n{extra}"), &[]);
        assert!(error.contains(says), "expected {says:?} in {error}");
    }
}

#[test]
fn redacted_urls_hide_only_the_password() {
    let cases = [
        (
            "mysql://su:pa55@db:3306/serviceusage",
            "mysql://su:***@db:3306/serviceusage",
        ),
        ("mysql://su:p@ss@db/x", "mysql://su:***@db/x"),
        ("mysql://root@db/x", "mysql://root@db/x"),
        ("sqlite://data/a@b:c.db", "sqlite://data/a@b:c.db"),
        ("not a url", "not a url"),
    ];
    for (url, shown) in cases {
        assert_eq!(redacted_url(url), shown, "{url}");
    }
}

#[test]
fn the_production_example_layered_over_the_default_file_is_valid_and_empties_the_demo() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/");
    let builder = config::Config::builder()
        .add_source(File::from(Path::new(&format!("{dir}default.toml"))))
        .add_source(File::from(Path::new(&format!(
            "{dir}production.example.toml"
        ))));
    let env = [
        ("PLAN_SERVICE_API_SERVER", "plan.svc:8080"),
        ("CHARGE_SERVICE_API_SERVER", "charge.svc:8090"),
        ("DATAFOUNDRY_HOST_ADDR", "df-cn-north-1.example.com:8443"),
        ("CN_NORTH_1_ADMIN_TOKEN", "t1"),
        ("CN_NORTH_2_ADMIN_TOKEN", "t2"),
        ("BILLING_EVENTS_HOOK_SECRET", "s"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let settings = Settings::from_builder(builder, Some(env)).unwrap();
    assert!(settings.users.is_empty() && settings.plans.is_empty());
    assert!(settings.opening_balances.is_empty());
    assert_eq!(settings.regions.len(), 2);
    assert_eq!(settings.webhooks.endpoints.len(), 1);
    assert!(matches!(
        settings.identity,
        IdentitySettings::Platform { .. }
    ));
}
