//! `[platform]` and `[identity]`.

use std::time::Duration;

use domain::ids::UserName;
use infra_http::HttpSettings;

use super::{error_of, load, VALID};
use crate::config::{IdentitySettings, PlatformSettings};

fn with(section: &str) -> String {
    format!("{VALID}\n{section}\n")
}

#[test]
fn platform_defaults_are_2s_to_connect_10s_in_all_2_retries_and_a_minute_of_cache() {
    assert_eq!(
        load("", &[]).unwrap().platform,
        PlatformSettings {
            http: HttpSettings {
                connect_timeout: Duration::from_millis(2_000),
                timeout: Duration::from_millis(10_000),
                retries: 2,
            },
            plan_cache: Duration::from_secs(60),
            identity_cache: Duration::from_secs(60),
        }
    );
}

#[test]
fn the_platform_section_maps_every_key() {
    let settings = load(
        &with(
            "[platform]\nconnect_timeout_ms = 500\ntimeout_ms = 3000\nretries = 0\n\
             plan_cache_seconds = 0\nidentity_cache_seconds = 300",
        ),
        &[],
    )
    .unwrap();
    assert_eq!(
        settings.platform,
        PlatformSettings {
            http: HttpSettings {
                connect_timeout: Duration::from_millis(500),
                timeout: Duration::from_millis(3_000),
                retries: 0,
            },
            plan_cache: Duration::ZERO,
            identity_cache: Duration::from_secs(300),
        }
    );
}

#[test]
fn platform_numbers_out_of_bounds_name_the_key() {
    let cases = [
        ("CONNECT_TIMEOUT_MS", "0", "platform.connect_timeout_ms"),
        ("CONNECT_TIMEOUT_MS", "60001", "platform.connect_timeout_ms"),
        ("CONNECT_TIMEOUT_MS", "20000", "platform.connect_timeout_ms"),
        ("TIMEOUT_MS", "0", "platform.timeout_ms"),
        ("TIMEOUT_MS", "300001", "platform.timeout_ms"),
        ("RETRIES", "-1", "platform.retries"),
        ("RETRIES", "6", "platform.retries"),
        ("PLAN_CACHE_SECONDS", "-1", "platform.plan_cache_seconds"),
        (
            "IDENTITY_CACHE_SECONDS",
            "86401",
            "platform.identity_cache_seconds",
        ),
        ("TIMEOUT_MS", "soon", "platform.timeout_ms"),
    ];
    for (var, value, key) in cases {
        let error = error_of(VALID, &[(&format!("SERVICEUSAGE__PLATFORM__{var}"), value)]);
        assert!(error.contains(key), "{var}={value}: {error}");
    }
}

#[test]
fn identity_defaults_to_the_configured_users() {
    assert_eq!(load("", &[]).unwrap().identity, IdentitySettings::Config);
}

#[test]
fn platform_identity_takes_a_url_and_admins() {
    let settings = load(
        &with(
            "[identity]\nkind = \"platform\"\nurl = \"https://df.example.com/\"\n\
             admins = [\"root\", \"ops\", \"root\"]",
        ),
        &[],
    )
    .unwrap();
    assert_eq!(
        settings.identity,
        IdentitySettings::Platform {
            url: "https://df.example.com".into(),
            admins: vec![
                UserName::parse("root").unwrap(),
                UserName::parse("ops").unwrap()
            ],
        }
    );
}

#[test]
fn platform_identity_url_defaults_to_datafoundry_host_addr() {
    let settings = load(
        &with("[identity]\nkind = \"platform\""),
        &[("DATAFOUNDRY_HOST_ADDR", "df.example.com")],
    )
    .unwrap();
    assert_eq!(
        settings.identity,
        IdentitySettings::Platform {
            url: "https://df.example.com".into(),
            admins: Vec::new(),
        }
    );
}

#[test]
fn bad_identity_values_name_the_key() {
    let cases = [
        ("[identity]\nkind = \"ldap\"", "identity.kind"),
        ("[identity]\nkind = \"platform\"", "identity.url"),
        (
            "[identity]\nkind = \"platform\"\nurl = \"df.example.com\"",
            "identity.url",
        ),
        (
            "[identity]\nkind = \"platform\"\nurl = \"https://df\"\nadmins = [\"a b\"]",
            "identity.admins[0]",
        ),
    ];
    for (section, key) in cases {
        let error = error_of(&with(section), &[]);
        assert!(error.contains(key), "{section}: {error}");
    }
    let error = error_of(
        &with("[identity]\nkind = \"platform\""),
        &[("DATAFOUNDRY_HOST_ADDR", "ftp://df")],
    );
    assert!(error.contains("DATAFOUNDRY_HOST_ADDR"), "{error}");
}
