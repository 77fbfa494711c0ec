//! `[[regions]]`: adapters per region, service urls from the file or the deployment
//! variables, admin tokens.

use domain::ids::Region;

use super::{error_of, load, VALID};
use crate::config::{ChargingSource, PlanSource, ProvisioningSource, RegionSettings};

/// Everything remote in cn-north-1, everything embedded in cn-north-2.
const REGIONS: &str = r#"
[[regions]]
name = "cn-north-1"
plans = "remote"
charging = "remote"
provisioning = "remote"
plan_service = "http://plans.svc:8080/"
charge_service = "http://charge.svc:8090"
platform_url = "https://df.example.com:8443"
volume_service = "http://volumes.svc"
admin_token = "admin-secret-1"
[[regions]]
name = "cn-north-2"
"#;

fn with(regions: &str) -> String {
    format!("{VALID}\n{regions}\n")
}

fn region(name: &str) -> Region {
    Region::parse(name).unwrap()
}

#[test]
fn no_regions_by_default() {
    assert!(load("", &[]).unwrap().regions.is_empty());
}

#[test]
fn each_region_gets_its_adapters_and_a_listed_region_defaults_to_embedded() {
    let settings = load(&with(REGIONS), &[]).unwrap();
    let token = |s: &RegionSettings| match &s.charging {
        ChargingSource::Remote { admin_token, .. } => admin_token.clone(),
        ChargingSource::Ledger => panic!("not remote"),
    };
    let north1 = &settings.regions[0];
    assert_eq!(north1.name, region("cn-north-1"));
    assert_eq!(
        north1.plans,
        PlanSource::Remote {
            url: "http://plans.svc:8080".into()
        }
    );
    assert_eq!(
        north1.charging,
        ChargingSource::Remote {
            url: "http://charge.svc:8090".into(),
            admin_token: token(north1),
        }
    );
    assert_eq!(token(north1).expose(), "admin-secret-1");
    assert_eq!(
        north1.provisioning,
        ProvisioningSource::Remote {
            platform_url: "https://df.example.com:8443".into(),
            volume_service: "http://volumes.svc".into(),
            admin_token: token(north1),
        }
    );
    assert_eq!(north1.remote_plans(), Some("http://plans.svc:8080"));
    assert_eq!(
        settings.regions[1],
        RegionSettings {
            name: region("cn-north-2"),
            plans: PlanSource::Config,
            charging: ChargingSource::Ledger,
            provisioning: ProvisioningSource::Embedded,
        }
    );
}

#[test]
fn empty_urls_default_to_the_deployment_variables() {
    let regions = REGIONS
        .replacen("plan_service = \"http://plans.svc:8080/\"", "", 1)
        .replacen("charge_service = \"http://charge.svc:8090\"", "", 1)
        .replacen("platform_url = \"https://df.example.com:8443\"", "", 1);
    let settings = load(
        &with(&regions),
        &[
            ("PLAN_SERVICE_API_SERVER", "plan-env:8080"),
            ("CHARGE_SERVICE_API_SERVER", "charge-env:8090"),
            ("DATAFOUNDRY_HOST_ADDR", "df-env.example.com"),
        ],
    )
    .unwrap();
    let north1 = &settings.regions[0];
    assert_eq!(north1.remote_plans(), Some("http://plan-env:8080"));
    assert!(
        matches!(&north1.charging, ChargingSource::Remote { url, .. } if url == "http://charge-env:8090")
    );
    assert!(
        matches!(&north1.provisioning, ProvisioningSource::Remote { platform_url, .. }
            if platform_url == "https://df-env.example.com")
    );
}

#[test]
fn a_url_in_the_file_wins_over_the_deployment_variable() {
    let settings = load(
        &with(REGIONS),
        &[("PLAN_SERVICE_API_SERVER", "plan-env:8080")],
    )
    .unwrap();
    assert_eq!(
        settings.regions[0].remote_plans(),
        Some("http://plans.svc:8080")
    );
}

#[test]
fn the_admin_token_may_come_from_a_named_variable() {
    let regions = REGIONS.replacen(
        "admin_token = \"admin-secret-1\"",
        "admin_token_env = \"NORTH1_ADMIN_TOKEN\"",
        1,
    );
    let settings = load(&with(&regions), &[("NORTH1_ADMIN_TOKEN", "from-env")]).unwrap();
    assert!(
        matches!(&settings.regions[0].charging, ChargingSource::Remote { admin_token, .. }
            if admin_token.expose() == "from-env")
    );
}

#[test]
fn bad_regions_name_the_key() {
    let remove = |key: &str| {
        let line = REGIONS
            .lines()
            .find(|l| l.starts_with(&format!("{key} =")))
            .unwrap();
        REGIONS.replacen(line, "", 1)
    };
    let cases = [
        (
            REGIONS.replacen("cn-north-2", "cn-north-1", 1),
            "regions[1].name",
        ),
        (
            REGIONS.replacen("cn-north-2", "cn north", 1),
            "regions[1].name",
        ),
        (
            REGIONS.replacen("plans = \"remote\"", "plans = \"api\"", 1),
            "regions[0].plans",
        ),
        (
            REGIONS.replacen("charging = \"remote\"", "charging = \"store\"", 1),
            "regions[0].charging",
        ),
        (
            REGIONS.replacen("provisioning = \"remote\"", "provisioning = \"x\"", 1),
            "regions[0].provisioning",
        ),
        (remove("plan_service"), "regions[0].plan_service"),
        (remove("charge_service"), "regions[0].charge_service"),
        (remove("platform_url"), "regions[0].platform_url"),
        (remove("volume_service"), "regions[0].volume_service"),
        (remove("admin_token"), "regions[0].admin_token"),
        (
            REGIONS.replacen("http://plans.svc:8080/", "plans.svc", 1),
            "regions[0].plan_service",
        ),
        (
            REGIONS.replacen("http://charge.svc:8090", "ftp://charge", 1),
            "regions[0].charge_service",
        ),
        (
            REGIONS.replacen("https://df.example.com:8443", "https://u:p@df", 1),
            "regions[0].platform_url",
        ),
        (
            REGIONS.replacen("http://volumes.svc", "volumes", 1),
            "regions[0].volume_service",
        ),
    ];
    for (regions, key) in cases {
        let error = error_of(&with(&regions), &[]);
        assert!(error.contains(key), "expected {key} in {error}");
    }
}

#[test]
fn a_missing_url_mentions_the_variable_that_would_supply_it() {
    let regions = REGIONS.replacen("plan_service = \"http://plans.svc:8080/\"", "", 1);
    let error = error_of(&with(&regions), &[]);
    assert!(error.contains("PLAN_SERVICE_API_SERVER"), "{error}");
}

#[test]
fn a_bad_deployment_url_names_the_key_and_the_variable() {
    let regions = REGIONS.replacen("charge_service = \"http://charge.svc:8090\"", "", 1);
    let error = error_of(
        &with(&regions),
        &[("CHARGE_SERVICE_API_SERVER", "ftp://charge")],
    );
    assert!(
        error.contains("regions[0].charge_service") && error.contains("CHARGE_SERVICE_API_SERVER"),
        "{error}"
    );
}

#[test]
fn remote_provisioning_needs_remote_plans_in_the_region() {
    let regions = REGIONS.replacen("plans = \"remote\"", "plans = \"config\"", 1);
    let error = error_of(&with(&regions), &[]);
    assert!(error.contains("regions[0].provisioning"), "{error}");
    assert!(
        error.contains("plans = \\\"remote\\\"") || error.contains("plans = \"remote\""),
        "{error}"
    );
}

#[test]
fn remote_plans_alone_need_no_admin_token() {
    let regions = "[[regions]]\nname = \"cn-north-1\"\nplans = \"remote\"\n\
                   plan_service = \"http://plans.svc\"\n";
    assert!(load(&with(regions), &[]).is_ok());
}

#[test]
fn debug_output_never_shows_an_admin_token() {
    let settings = load(&with(REGIONS), &[]).unwrap();
    let shown = format!("{settings:?}");
    assert!(!shown.contains("admin-secret-1"), "{shown}");
    assert!(shown.contains("cn-north-1"), "{shown}");
}
