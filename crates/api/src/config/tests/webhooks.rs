//! `[[webhooks]]` and `[webhook_delivery]`.

use super::{error_of, load, VALID};

const HOOKS: &str = r#"
[[webhooks]]
name = "billing-events"
url = "https://hooks.example.com/serviceusage/"
secret = "hook-secret-1"
[[webhooks]]
name = "audit"
url = "http://audit.internal:9000/in"
secret_env = "AUDIT_HOOK_SECRET"
"#;

fn with(extra: &str) -> String {
    format!("{VALID}\n{extra}\n")
}

fn env() -> [(&'static str, &'static str); 1] {
    [("AUDIT_HOOK_SECRET", "hook-secret-2")]
}

#[test]
fn no_webhooks_by_default_and_20_attempts() {
    let settings = load("", &[]).unwrap();
    assert!(settings.webhooks.endpoints.is_empty());
    assert_eq!(settings.webhooks.max_attempts, 20);
}

#[test]
fn webhooks_map_name_url_and_secret_from_the_file_or_a_variable() {
    let settings = load(
        &with(&format!("{HOOKS}\n[webhook_delivery]\nmax_attempts = 5")),
        &env(),
    )
    .unwrap();
    let hooks = &settings.webhooks.endpoints;
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0].name, "billing-events");
    assert_eq!(hooks[0].url, "https://hooks.example.com/serviceusage");
    assert_eq!(hooks[0].secret.expose(), "hook-secret-1");
    assert_eq!(hooks[1].url, "http://audit.internal:9000/in");
    assert_eq!(hooks[1].secret.expose(), "hook-secret-2");
    assert_eq!(settings.webhooks.max_attempts, 5);
}

#[test]
fn bad_webhooks_name_the_key() {
    let cases = [
        (
            HOOKS.replacen("audit", "billing-events", 1),
            "webhooks[1].name",
        ),
        (HOOKS.replacen("\"audit\"", "\"\"", 1), "webhooks[1].name"),
        (
            HOOKS.replacen("\"audit\"", "\"a b\"", 1),
            "webhooks[1].name",
        ),
        (
            HOOKS.replacen("audit", &"a".repeat(65), 1),
            "webhooks[1].name",
        ),
        (
            HOOKS.replacen("https://hooks.example.com/serviceusage/", "hooks", 1),
            "webhooks[0].url",
        ),
        (
            HOOKS.replacen("secret = \"hook-secret-1\"", "secret = \" \"", 1),
            "webhooks[0].secret",
        ),
        (
            HOOKS.replacen("AUDIT_HOOK_SECRET", "NOWHERE", 1),
            "webhooks[1].secret_env",
        ),
    ];
    for (hooks, key) in cases {
        let error = error_of(&with(&hooks), &env());
        assert!(error.contains(key), "expected {key} in {error}");
    }
}

#[test]
fn max_attempts_is_from_1_to_100() {
    for bad in ["0", "101", "-3"] {
        let error = error_of(
            VALID,
            &[("SERVICEUSAGE__WEBHOOK_DELIVERY__MAX_ATTEMPTS", bad)],
        );
        assert!(
            error.contains("webhook_delivery.max_attempts"),
            "{bad}: {error}"
        );
    }
}

#[test]
fn debug_output_never_shows_a_webhook_secret() {
    let settings = load(&with(HOOKS), &env()).unwrap();
    let shown = format!("{settings:?}");
    assert!(!shown.contains("hook-secret"), "{shown}");
    assert!(shown.contains("billing-events"), "{shown}");
}
