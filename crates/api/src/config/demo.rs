//! The public demo of `config/demo.toml`: users whose tokens everyone with the repository
//! knows, and money for the `demo` project. They are fine on a developer's machine and a
//! hole anywhere else, so where others could reach them — a MySQL database (a deployment),
//! or a listen address that is not a loopback one — the configuration is refused while any
//! of them is in it, unless `server.allow_demo` says the operator means it.

use super::{invalid, ConfigError, Settings};
use crate::config::IdentitySettings;

/// The tokens of `config/demo.toml` (a test keeps the two in step).
const DEMO_TOKENS: [&str; 5] = [
    "demo-token",
    "alice-token",
    "dev-token",
    "tester-token",
    "admin-token",
];
/// The projects `config/demo.toml` funds.
const DEMO_FUNDED: [&str; 1] = ["demo"];

/// Refuses the demo's users and opening balances where they would be public, unless
/// `allowed`; logs a warning when they are served publicly because allowed.
pub(super) fn check(settings: &Settings, allowed: bool) -> Result<(), ConfigError> {
    let Some(exposure) = exposure(settings) else {
        return Ok(());
    };
    let users = match settings.identity {
        IdentitySettings::Config => settings.users.as_slice(),
        // Configured users are not consulted: their tokens open nothing.
        IdentitySettings::Platform { .. } => &[],
    };
    let demo_user = users
        .iter()
        .position(|u| DEMO_TOKENS.contains(&u.token.as_str()))
        .map(|i| (format!("users[{i}].token"), "is a public demo token"));
    let demo_money = settings
        .opening_balances
        .iter()
        .position(|o| DEMO_FUNDED.contains(&o.project.as_str()))
        .map(|i| {
            (
                format!("ledger.opening_balances[{i}].project"),
                "funds the demo project",
            )
        });
    let Some((key, what)) = demo_user.or(demo_money) else {
        return Ok(());
    };
    if allowed {
        log::warn!("serving the public demo of config/demo.toml {exposure} (server.allow_demo)");
        return Ok(());
    }
    Err(invalid(
        key,
        format!(
            "{what} of config/demo.toml, refused {exposure}: configure users and balances \
             of your own, or set server.allow_demo = true to serve the demo anyway"
        ),
    ))
}

/// Where the service could be reached by others, in words; `None` on a developer's machine.
fn exposure(settings: &Settings) -> Option<String> {
    if settings.database.url.starts_with("mysql://") {
        Some("on a MySQL database".to_owned())
    } else if !settings.server.bind.ip().is_loopback() {
        Some(format!(
            "on {}, which is not a loopback address",
            settings.server.bind
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use config::File;

    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/");
        let builder = config::Config::builder()
            .add_source(File::from(Path::new(&format!("{dir}default.toml"))))
            .add_source(File::from(Path::new(&format!("{dir}demo.toml"))));
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_builder(builder, Some(env))
    }

    const MYSQL: (&str, &str) = ("SERVICEUSAGE__DATABASE__URL", "mysql://su@db/su");
    const ALLOW: (&str, &str) = ("SERVICEUSAGE__SERVER__ALLOW_DEMO", "true");

    #[test]
    fn the_demo_file_holds_exactly_the_tokens_and_funded_projects_known_here() {
        let settings = load(&[]).unwrap();
        let tokens: Vec<_> = settings.users.iter().map(|u| u.token.as_str()).collect();
        assert_eq!(tokens, DEMO_TOKENS);
        let funded: Vec<_> = settings
            .opening_balances
            .iter()
            .map(|o| o.project.as_str())
            .collect();
        assert_eq!(funded, DEMO_FUNDED);
    }

    #[test]
    fn the_demo_serves_on_sqlite_at_a_loopback_address() {
        for bind in ["127.0.0.1:8080", "[::1]:0"] {
            assert!(
                load(&[("SERVICEUSAGE__SERVER__BIND", bind)]).is_ok(),
                "{bind}"
            );
        }
    }

    #[test]
    fn the_demo_is_refused_on_mysql_naming_the_key_and_the_way_out() {
        let error = load(&[MYSQL]).unwrap_err().to_string();
        assert!(error.contains("users[0].token"), "{error}");
        assert!(error.contains("on a MySQL database"), "{error}");
        assert!(error.contains("server.allow_demo = true"), "{error}");
        assert!(!error.contains("demo-token"), "{error}");
    }

    #[test]
    fn the_demo_is_refused_on_an_address_others_reach() {
        let error = load(&[("SERVICEUSAGE__SERVER__BIND", "0.0.0.0:8080")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("0.0.0.0:8080"), "{error}");
    }

    #[test]
    fn any_one_demo_token_among_own_users_is_refused() {
        let builder = config::Config::builder().add_source(File::from_str(
            r#"
            [[users]]
            name = "ops"
            token = "a-long-random-token-of-our-own"
            [[users]]
            name = "boss"
            token = "admin-token"
            admin = true
            "#,
            config::FileFormat::Toml,
        ));
        let env = [MYSQL]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let error = Settings::from_builder(builder, Some(env))
            .unwrap_err()
            .to_string();
        assert!(error.contains("users[1].token"), "{error}");
    }

    #[test]
    fn the_demo_balance_alone_is_refused_too() {
        let error = load(&[
            MYSQL,
            ("SERVICEUSAGE__IDENTITY__KIND", "platform"),
            ("SERVICEUSAGE__IDENTITY__URL", "https://df.example.com"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("ledger.opening_balances[0].project"),
            "platform identity ignores the users, not the money: {error}"
        );
    }

    #[test]
    fn allow_demo_serves_it_anyway() {
        assert!(load(&[MYSQL, ALLOW]).is_ok());
        assert!(load(&[ALLOW, ("SERVICEUSAGE__SERVER__BIND", "0.0.0.0:8080")]).is_ok());
    }
}
