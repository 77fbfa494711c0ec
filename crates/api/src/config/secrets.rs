//! Secrets (admin tokens, webhook keys): written in a file as `key = "…"`, or named with
//! `key_env = "VARIABLE"` so a platform secret can reach the service as an environment
//! variable without a file. Either way they become [`Secret`], whose `Debug` redacts them.

use infra_http::Secret;

use super::env::Lookup;
use super::{invalid, ConfigError};

/// The secret of `key` (`value`) or of `key_env` (`variable` names where it is); `None`
/// when neither is set. Surrounding whitespace is dropped: a secret read from a file
/// often ends with a newline, and no token or key ends with a space.
pub(super) fn secret(
    key: &str,
    value: &str,
    variable: &str,
    env: Lookup<'_>,
) -> Result<Option<Secret>, ConfigError> {
    let env_key = format!("{key}_env");
    let (value, variable) = (value.trim(), variable.trim());
    match (value.is_empty(), variable.is_empty()) {
        (true, true) => Ok(None),
        (false, true) => Ok(Some(Secret::new(value))),
        (false, false) => Err(invalid(
            env_key,
            format!("set either {key} or {key}_env, not both"),
        )),
        (true, false) => match env(variable).map(|v| v.trim().to_owned()) {
            Some(secret) if !secret.is_empty() => Ok(Some(Secret::new(secret))),
            Some(_) => Err(invalid(
                env_key,
                format!("the variable {variable} is empty"),
            )),
            None => Err(invalid(
                env_key,
                format!("the variable {variable} is not set"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "ADMIN_TOKEN" => Some("tok-from-env\n".into()),
            "BLANK" => Some("  ".into()),
            _ => None,
        }
    }

    fn exposed(result: Result<Option<Secret>, ConfigError>) -> Option<String> {
        result.unwrap().map(|s| s.expose().to_owned())
    }

    #[test]
    fn a_secret_comes_from_the_file_or_the_named_variable() {
        assert_eq!(exposed(secret("k", " tok ", "", &env)), Some("tok".into()));
        assert_eq!(
            exposed(secret("k", "", "ADMIN_TOKEN", &env)),
            Some("tok-from-env".into())
        );
        assert_eq!(exposed(secret("k", "  ", "", &env)), None);
    }

    #[test]
    fn both_or_a_missing_or_empty_variable_name_the_env_key() {
        for (value, variable, words) in [
            ("tok", "ADMIN_TOKEN", "not both"),
            ("", "NOWHERE", "NOWHERE is not set"),
            ("", "BLANK", "BLANK is empty"),
        ] {
            let error = secret("regions[0].admin_token", value, variable, &env)
                .unwrap_err()
                .to_string();
            assert!(error.contains("regions[0].admin_token_env"), "{error}");
            assert!(error.contains(words), "{error}");
            assert!(!error.contains("tok-from-env"), "{error}");
        }
    }
}
