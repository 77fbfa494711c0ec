//! `[log] format` and `LOG_FORMAT`: how log lines are written. Read on its own, before the
//! logger starts and so before the rest of the configuration, so that every line — the
//! configuration's own included — comes out in one format. [`Settings`](super::Settings)
//! does not hold it.

use config::builder::DefaultState;
use config::{ConfigBuilder, Map};

use super::env::{process_env, Lookup};
use super::{environment, files, invalid, ConfigError};

/// The variable that names the format; it wins over every configuration layer.
pub const LOG_FORMAT: &str = "LOG_FORMAT";
const KEY: &str = "log.format";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per record, on stderr.
    #[default]
    Text,
    /// One JSON object per record and line, on stdout.
    Json,
}

impl LogFormat {
    /// `text` or `json`, in any case; an error naming `key` otherwise.
    fn parse(key: &str, value: &str) -> Result<LogFormat, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(invalid(key, format!("{value:?} is not text or json"))),
        }
    }
}

/// `LOG_FORMAT` when set (and not blank), else `log.format` of the configuration layers
/// (files, then `SERVICEUSAGE__LOG__FORMAT`), else text.
pub fn log_format() -> Result<LogFormat, ConfigError> {
    from_layers(files(), None)
}

/// [`log_format`] over `builder`'s files; `env` replaces the process environment in tests.
fn from_layers(
    builder: ConfigBuilder<DefaultState>,
    env: Option<Map<String, String>>,
) -> Result<LogFormat, ConfigError> {
    let lookup: Lookup<'_> = &|name| match &env {
        Some(map) => map.get(name).cloned(),
        None => process_env(name),
    };
    if let Some(value) = lookup(LOG_FORMAT).filter(|v| !v.trim().is_empty()) {
        return LogFormat::parse(LOG_FORMAT, &value);
    }
    let layers = builder.add_source(environment(env.clone())).build()?;
    match layers.get_string(KEY) {
        Ok(value) => LogFormat::parse(KEY, &value),
        Err(config::ConfigError::NotFound(_)) => Ok(LogFormat::Text),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use config::{File, FileFormat};

    use super::*;

    fn format(toml: &str, env: &[(&str, &str)]) -> Result<LogFormat, ConfigError> {
        let builder = config::Config::builder().add_source(File::from_str(toml, FileFormat::Toml));
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        from_layers(builder, Some(env))
    }

    #[test]
    fn text_unless_something_says_otherwise() {
        assert_eq!(format("", &[]).unwrap(), LogFormat::Text);
        assert_eq!(format("[log]\n", &[]).unwrap(), LogFormat::Text);
    }

    #[test]
    fn the_file_key_takes_either_format_in_any_case() {
        assert_eq!(
            format("[log]\nformat = \"json\"", &[]).unwrap(),
            LogFormat::Json
        );
        assert_eq!(
            format("[log]\nformat = \"Text\"", &[]).unwrap(),
            LogFormat::Text
        );
    }

    #[test]
    fn the_section_variable_wins_over_the_file() {
        let got = format(
            "[log]\nformat = \"text\"",
            &[("SERVICEUSAGE__LOG__FORMAT", "json")],
        );
        assert_eq!(got.unwrap(), LogFormat::Json);
    }

    #[test]
    fn log_format_wins_over_every_layer() {
        let got = format(
            "[log]\nformat = \"json\"",
            &[("SERVICEUSAGE__LOG__FORMAT", "json"), (LOG_FORMAT, "TEXT")],
        );
        assert_eq!(got.unwrap(), LogFormat::Text);
        let got = format("", &[(LOG_FORMAT, " json ")]);
        assert_eq!(got.unwrap(), LogFormat::Json);
    }

    #[test]
    fn a_blank_log_format_counts_as_unset() {
        let got = format("[log]\nformat = \"json\"", &[(LOG_FORMAT, "  ")]);
        assert_eq!(got.unwrap(), LogFormat::Json);
    }

    #[test]
    fn an_unknown_format_is_refused_naming_where_it_came_from() {
        let error = format("", &[(LOG_FORMAT, "yaml")]).unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid configuration: LOG_FORMAT: \"yaml\" is not text or json"
        );
        let error = format("[log]\nformat = \"logfmt\"", &[])
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "invalid configuration: log.format: \"logfmt\" is not text or json"
        );
    }
}
